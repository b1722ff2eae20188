"""The claim table (thermopot.knowledge.claims, ``thermopot knowledge --claims``) at tiny sizes: every row
has its fields and an allowed verdict, the verdict rule, bad input, and injected mistakes that change a
verdict (exact independent sampling in place of chains, the gap left out)."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from thermopot.claim_figures import draw_claims
from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.knowledge import claims
from thermopot.learning.exact_sampling import sample_exact
from thermopot.states import spins_to_index

cm = importlib.import_module("thermopot.knowledge.claims")

SAMPLED_TINY = cm.dataclasses.replace(cm.SAMPLED_QUICK, em_iterations=2, ais_chains=64, ais_steps=200,
                                      em_ais_chains=32, em_ais_steps=100, max_components=4)
TINY = cm.ClaimSizes(grid=(0.7, 6.0), planted_n=(6, 8, 10), planted_copies=30, passage_chains=8,
                     passage_updates=20_000, rare_factors=(1.0, 0.1, 0.01), rare_chains=32, pcd_steps=100,
                     pcd_chains=16, em_iterations=3, uniform_states=2000, sampled=SAMPLED_TINY)
VERDICTS = {cm.SUPPORTED, cm.NOT_SUPPORTED, cm.INCONCLUSIVE, cm.SKIPPED}


def test_the_function_is_exported_under_the_module_name():
    assert claims is cm.claims


def test_verdict_rule():
    assert cm._verdict(1.0, 0.1) == cm.SUPPORTED
    assert cm._verdict(-1.0, 0.1) == cm.NOT_SUPPORTED
    assert cm._verdict(0.1, 0.1) == cm.INCONCLUSIVE
    assert cm._verdict(float("nan"), 0.1) == cm.INCONCLUSIVE


def test_unknown_claim_is_refused():
    with pytest.raises(ThermopotError, match="unknown claim C99"):
        claims("clusters", only="C99", sizes=TINY)


def test_too_small_for_a_held_out_split_is_skipped_with_the_reason():
    data = np.array([[1, -1, 1, -1], [-1, 1, -1, 1]], dtype=np.int8)
    row = claims(data, only="C10", sizes=TINY).rows[0]
    assert row.verdict == cm.SKIPPED and "too small for a held-out split" in row.note


def test_rows_have_the_fields_and_figures(tmp_path):
    table = draw_claims(claims("clusters", only="C5,C6-C7,C8", sizes=TINY), tmp_path)
    assert [r.id for r in table.rows] == ["C5", "C6-C7", "C8"]
    for row in table.rows:
        d = row.to_dict()
        for key in ("id", "claim", "experiment", "measured", "reference", "verdict", "figure"):
            assert key in d
        assert row.verdict in VERDICTS and "value" in row.measured and row.reference
        assert row.figure and (tmp_path / f"claim-{row.id}.png").exists()
    json.dumps(table.to_dict())
    c5 = table.rows[0].measured
    # the gap of each planted set is the difference of two means: recompute the weighted slope from the rows
    # by NumPy's least squares (weights 1/error), not by the module's own _slope
    slope = np.polyfit(np.array(c5["n"], float), np.array(c5["gap"]), 1, w=1 / np.array(c5["gap_error"]))[0]
    assert c5["value"] == pytest.approx(slope, rel=1e-9)
    c8 = table.rows[2].measured
    w = np.array(c8["weights"])
    np.testing.assert_allclose(c8["exact_rate"], 1 - (1 - w) ** c8["sweeps"])
    assert c8["value"] is not None or c8["reason"]


def test_access_with_exact_sampling_in_place_of_chains_finds_no_threshold(monkeypatch):
    """The mistake: chains replaced by exact independent samples (one per sweep). Then nothing limits access
    and the claim is no longer supported."""
    real = cm.claim_access(TINY, 0)

    class Exact:
        def __init__(self, hits):
            self.hits = hits

    def exact_passage(model, T, initial, *, targets, max_updates, chains, seed):
        sweeps = max_updates // model.n
        goal = set(spins_to_index(targets).tolist())
        hits = 0
        for c in range(chains):
            draws = spins_to_index(sample_exact(model, sweeps, T=T, seed=seed + c)).tolist()
            hits += any(i in goal for i in draws)
        return Exact(hits)

    monkeypatch.setattr(cm, "first_passage", exact_passage)
    mistaken = cm.claim_access(TINY, 0)
    assert mistaken.measured["value"] is None and mistaken.verdict != cm.SUPPORTED
    assert real.measured["weights"] == mistaken.measured["weights"]


def test_gap_left_out_is_not_supported(monkeypatch):
    """The mistake: the non-represented states scored with the training patterns' energies (no gap)."""
    models = {(n, r): cm.fit(cm._planted(n, TINY, 0)[0], "exact", l2=r).model for n in TINY.planted_n
              for r in TINY.ridges[1:]}
    data = cm._planted(8, TINY, 0)[0]
    assert cm.claim_gap(data, "planted", TINY, 0, models).verdict == cm.SUPPORTED
    monkeypatch.setattr(cm, "_gap", lambda model, patterns, rng, uniform: (0.0, 0.1))
    assert cm.claim_gap(data, "planted", TINY, 0, models).verdict == cm.INCONCLUSIVE


def test_exact_gap_keeps_the_users_data_beyond_n16():
    """The user's data enter C5 at any N: beyond N = 16 with a pseudo-likelihood fit and uniformly drawn
    non-represented states (they were silently left out of the exact table before)."""
    models = {(n, r): cm.fit(cm._planted(n, TINY, 0)[0], "exact", l2=r).model for n in TINY.planted_n
              for r in TINY.ridges[1:]}
    data, _ = cm.noisy_patterns_dataset(18, 3, 30, 0.1, seed=4)
    row = cm.claim_gap(data, "mine", TINY, 0, models)
    entry = row.measured["datasets"]["mine"]
    assert entry["n"] == 18 and entry["fit"] == "pseudo"
    model = cm.fit(data, "pseudo", l2=1e-3).model
    patterns = data.unique().samples
    e = np.asarray(model.energy(patterns.astype(float)))
    expected = -e.sum() / (2.0**18 - len(e)) - e.mean()  # pairwise energies average to 0 over all states
    assert abs(entry["gap"] - expected) < 4 * entry["error"]


def test_cli_claims_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cm, "QUICK_SIZES", TINY)
    monkeypatch.setattr(cm, "CLAIMS", ("C8",))
    assert main(["knowledge", "--claims", "--dataset", "clusters", "--json", "--claims-out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in out["rows"]] == ["C8"] and out["rows"][0]["figure"].endswith("claim-C8.png")
    # --method reaches the claims: sampled cannot run C8 (it needs the 2^N states) and says why
    assert main(["knowledge", "--claims", "--dataset", "clusters", "--method", "sampled", "--json",
                 "--claims-out", str(tmp_path)]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["id"] == "C8" and row["verdict"] == cm.INCONCLUSIVE and cm.NEEDS_ENUMERATION["C8"] in row["note"]


def test_uniform_state_gap_against_the_closed_form_mean():
    """Beyond N = 16 the non-represented states are drawn uniformly. A pairwise energy has zero mean over all
    2^N states, so their mean energy is -sum_patterns E / (2^N - M): the gap is that minus the patterns' mean."""
    data = cm._planted(30, TINY, 0)[0]
    model = cm.fit(data, "pseudo", l2=1e-3).model
    patterns = data.unique().samples
    e = np.asarray(model.energy(patterns.astype(float)))
    expected = -e.sum() / (2.0**30 - len(e)) - e.mean()
    gap, se = cm._gap(model, patterns, np.random.default_rng(1), 20_000)
    assert abs(gap - expected) < 4 * se and se < 0.05 * abs(expected)


def test_sampled_method_runs_the_gap_beyond_enumeration_and_says_why_the_rest_is_not_run(tmp_path):
    sizes = cm.dataclasses.replace(TINY, sampled_n=(16, 24, 32), uniform_states=4000)
    data, _ = cm.noisy_patterns_dataset(40, 3, 30, 0.1, seed=4)
    table = draw_claims(claims(data, method="auto", sizes=sizes), tmp_path)  # N = 40: auto is sampled
    assert [r.figure is not None for r in table.rows] == [r.id in ("C5", "C10") for r in table.rows]
    assert table.method == "sampled" and [r.id for r in table.rows] == list(cm.CLAIMS)
    c5 = table.rows[1]
    assert c5.measured["n"] == [16, 24, 32] and c5.measured["datasets"]["Dataset"]["n"] == 40
    assert c5.measured["datasets"]["Dataset"]["fit"] == "pseudo" and c5.verdict in VERDICTS - {cm.SKIPPED}
    for row in table.rows:
        if row.id in cm.NEEDS_ENUMERATION:
            assert row.verdict == cm.INCONCLUSIVE and cm.NEEDS_ENUMERATION[row.id] in row.note
    assert set(cm.CLAIMS) - set(cm.NEEDS_ENUMERATION) == {"C5", "C10"}
    assert table.rows[-1].verdict != cm.SUPPORTED and table.rows[-1].measured["models"][cm.REMEDY]["parameters"]
    json.dumps(table.to_dict())
    with pytest.raises(ThermopotError, match="unknown claims method 'mcmc'"):
        claims(data, method="mcmc", sizes=sizes)


def test_remedy_against_baselines_of_the_same_size():
    """C10 on the 12-spin clusters: the higher-order model has exactly the remedy's parameter count, the RBM and
    the independent-site mixture at least as many; every gain is the difference of the reported held-out means
    and the value is the gain over the strongest baseline."""
    row = claims("clusters", only="C10", sizes=TINY).rows[0]
    m = row.measured
    models, budget = m["models"], m["models"][cm.REMEDY]["parameters"]
    names = set(models) - {cm.REMEDY}
    assert len(names) == 4 and set(m["gains"]) == names
    walsh = next(k for k in names if "order" in k)
    rbm = next(k for k in names if "hidden units" in k)
    site = next(k for k in names if "independent-site" in k)
    assert models[walsh]["parameters"] == budget and models[rbm]["parameters"] >= budget
    assert models[site]["parameters"] >= budget and models["one pairwise model"]["parameters"] == 12 + 66
    for k in names:
        gain = models[cm.REMEDY]["held_out_log_likelihood"] - models[k]["held_out_log_likelihood"]
        assert m["gains"][k]["gain"] == pytest.approx(gain)
    assert m["value"] == min(g["gain"] for g in m["gains"].values()) and m["strongest"] in names
    assert all(0.0 <= r["pattern_coverage"] <= 1.0 and r["pattern_coverage_error"] >= 0.0 for r in models.values())
    assert row.verdict in VERDICTS - {cm.SKIPPED}


def test_remedy_scored_on_its_training_data_is_caught(monkeypatch):
    """The mistake: the mixture scored on the samples it was fitted to (the baselines on the held-out half).
    Its K-fold parameters then look like a gain: the value rises by many standard errors."""
    real = claims("clusters", only="C10", sizes=TINY).rows[0].measured
    fit_mixture = cm.fit_mixture

    class OnTrainingData:
        def __init__(self, mixture, train):
            self.k, self._mixture, self._train = mixture.k, mixture, train

        def log_prob(self, samples):
            return self._mixture.log_prob(self._train[:len(samples)])

    def on_training_data(train, *a, **kw):
        result = fit_mixture(train, *a, **kw)
        return cm.dataclasses.replace(result, mixture=OnTrainingData(result.mixture, train))

    monkeypatch.setattr(cm, "fit_mixture", on_training_data)
    mistaken = claims("clusters", only="C10", sizes=TINY).rows[0].measured
    assert mistaken["value"] > real["value"] + 4 * real["error"]


def test_sampled_remedy_scores_agree_with_enumeration(monkeypatch):
    """C10 with method="sampled" on 12-spin data: each pairwise model's AIS log Z, replaced by the exact one
    (enumeration, independent of AIS), moves its held-out score by less than 4 of the row's errors; without
    the RBM and higher-order baselines the verdict is never "supported"."""
    data = cm.resolve_data("clusters")[1]
    sizes = cm.dataclasses.replace(TINY, sampled=SAMPLED_TINY)
    sampled = cm.claim_remedy_sampled(data, sizes, 0)
    from thermopot.exact import thermodynamics

    real = cm.log_partition

    def exact_log_z(model, T, **kw):
        return cm.dataclasses.replace(real(model, T, **kw), log_z=float(thermodynamics(model, T).log_z),
                                      log_z_stderr=0.0)

    monkeypatch.setattr(cm, "log_partition", exact_log_z)
    exact = cm.claim_remedy_sampled(data, sizes, 0)
    for name in (cm.REMEDY, "one pairwise model"):
        a, b = sampled.measured["models"][name], exact.measured["models"][name]
        assert abs(a["held_out_log_likelihood"] - b["held_out_log_likelihood"]) < 4 * a["error"]
    assert sampled.verdict != cm.SUPPORTED and "need the 2^N states" in sampled.note
    assert len(sampled.measured["gains"]) == 2


def test_pattern_coverage_against_drawn_samples():
    """The expected coverage 1 - (1 - p)^S against the fraction covered by S samples actually drawn from a
    known distribution (exact log p of a random pairwise model at N = 6), over many repetitions."""
    from thermopot.models import random_pairwise
    from thermopot.states import all_states

    model = random_pairwise(6, seed=3)
    states = all_states(6).astype(float)
    e = np.asarray(model.energy(states))
    log_p = -e - np.logaddexp.reduce(-e)
    rng = np.random.default_rng(0)
    test_idx = rng.choice(64, size=40, p=np.exp(log_p))
    test = states[test_idx]
    expected, error = cm.pattern_coverage(log_p[test_idx], test, 30)
    distinct = np.unique(test_idx)
    drawn = [np.isin(distinct, rng.choice(64, size=30, p=np.exp(log_p))).mean() for _ in range(4000)]
    assert 0.0 < expected < 1.0 and error > 0.0
    assert abs(np.mean(drawn) - expected) < 4 * np.std(drawn) / np.sqrt(len(drawn))
    wrong, _ = cm.pattern_coverage(log_p[test_idx], test, 3)  # a plausible mistake: the wrong sample count
    assert abs(np.mean(drawn) - wrong) > 10 * np.std(drawn) / np.sqrt(len(drawn))


def test_sampled_remedy_pruned_to_the_single_model_scores_as_the_single_model(monkeypatch):
    """When the sampled EM leaves one component, its mixture is the single model itself (sampled_mixture
    returns ``single``): C10's remedy row must then equal the one pairwise model's, gain exactly 0, not the
    difference of two AIS runs of the same model (seeds seed + 100 and seed + 101)."""
    data = cm.resolve_data("clusters")[1]
    sizes = cm.dataclasses.replace(TINY, sampled=SAMPLED_TINY)
    inner = cm.sampled_mixture

    def to_one(train, labels, single, settings, **kw):  # what sampled_mixture returns when one is left
        return cm.dataclasses.replace(inner(train, labels, single, settings, **kw), models=(single,),
                                      weights=np.ones(1))

    monkeypatch.setattr(cm, "sampled_mixture", to_one)
    row = cm.claim_remedy_sampled(data, sizes, 0)
    models = row.measured["models"]
    assert row.measured["k"] == 1 and row.measured["gains"]["one pairwise model"] == {"gain": 0.0, "error": 0.0}
    assert models[cm.REMEDY]["held_out_log_likelihood"] == models["one pairwise model"]["held_out_log_likelihood"]
