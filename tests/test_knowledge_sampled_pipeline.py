"""The sampled knowledge pipeline (``run_knowledge(data, method="sampled")``, ``thermopot knowledge DATA
--method ...``) against enumeration of its own fitted model at N = 12, its JSON against the exact one, and
its bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import SizeError, ThermopotError
from thermopot.exact import thermodynamics
from thermopot.knowledge import pipeline
from thermopot.knowledge.pipeline import run_knowledge
from thermopot.knowledge.sampled_pipeline import SampledSettings
from thermopot.landscape import local_minima
from thermopot.learning import Dataset
from thermopot.sampling.tempering import LowSwapRateWarning

from test_knowledge_pipeline import TINY

SMALL = SampledSettings(pcd_steps=300, pcd_chains=64, ais_chains=128, ais_steps=200, ladder=8, ladder_sweeps=300,
                        chains=32, sweeps=50, frequency_sweeps=50, occupancy_chains=8, occupancy_sweeps=50,
                        rare_factors=(1.0, 0.1, 0.01), samples=300, em_iterations=2, em_ais_chains=32,
                        em_ais_steps=50, holdout=0.0, T_trapped=min(TINY.trap_temperatures))


@pytest.fixture(scope="module")
def sampled():
    return run_knowledge("clusters", method="sampled", settings=SMALL, progress=False)


def test_sampled_rows_match_enumeration_of_the_same_model(sampled):
    """log Z (AIS and TI), KL(data || model) and every heavy bound state's F_a of the sampled run against
    the exact values of the model it fitted (N = 12: enumerable), within 4 of their standard errors."""
    s = sampled.summary()
    model, T = sampled.model, s["T"]
    exact = thermodynamics(model, T, progress=False)
    assert abs(s["log_z"] - exact.log_z) < 4 * s["log_z_stderr"]
    assert abs(s["log_z_ti"] - exact.log_z) < 4 * s["log_z_ti_stderr"]
    unique = sampled.train.unique()
    w = unique.probabilities
    log_p = -np.asarray(model.energy(unique.samples.astype(float))) / T - exact.log_z
    kl = float(w @ (np.log(w) - log_p))
    assert abs(s["kl_single"] - kl) < 4 * s["kl_single_stderr"] + 1e-12
    land = local_minima(model, T=T)
    weight = np.exp(-(land.free_energy - exact.free_energy) / T)
    found = {tuple(b["state"]): b for b in s["bound_states"]}
    for a in np.flatnonzero(weight > 1e-3):
        b = found[tuple(int(v) for v in land.states[a])]
        assert abs(b["free_energy"] - land.free_energy[a]) < 4 * b["free_energy_stderr"]
    assert s["training_minima"] >= 4  # the four planted centres are stable training patterns
    assert s["method"] == "sampled" and s["dropped_columns"] == []


@pytest.fixture(scope="module")
def exact_summary():
    return run_knowledge("clusters", settings=TINY, progress=False).summary()


def test_every_exact_row_is_in_the_sampled_json(sampled, exact_summary):
    exact = exact_summary
    s = sampled.summary()
    assert set(exact) <= set(s)
    for key in ("kl_single", "kl_mixture", "retrieval_training_fraction", "single_chain_tv", "log_z"):
        assert s[f"{key}_stderr"] > 0
    for b in s["bound_states"] + exact["bound_states"]:
        assert set(b) >= {"state", "free_energy", "free_energy_stderr", "weight", "training",
                          "nearest_pattern_distance"}
    # the exact pipeline's bound states are its library's strict minima; log Z is its enumeration
    assert len(exact["bound_states"]) == exact["training_minima"] + exact["spurious_minima"]
    assert exact["method"] == "exact" and exact["log_z_stderr"] == 0.0
    json.dumps(sampled.to_dict())


def _key_paths(value, prefix: str = "") -> set[str]:
    """Every key path of a JSON value: dict keys joined by '.', list elements merged as '[]'."""
    if isinstance(value, dict):
        return set().union(*({f"{prefix}{k}"} | _key_paths(v, f"{prefix}{k}.") for k, v in value.items()))
    if isinstance(value, list):
        return set().union(set(), *(_key_paths(v, prefix[:-1] + "[]." if prefix else "[].") for v in value))
    return set()


def test_every_nested_exact_row_is_in_the_sampled_json_but_the_escape_times(sampled, exact_summary):
    """Every key path of the exact JSON (rows, the bound states' fields, nested maps such as the basin TV at
    each temperature) is in the sampled one, except the data-independent escape times against N (null on
    the sampled path, its reason in ``not_computed``). A row dropped from the sampled JSON, or a new exact row
    without a sampled counterpart, fails here."""
    exact = json.loads(json.dumps(exact_summary, default=str))
    s = json.loads(json.dumps(sampled.summary(), default=str))
    assert _key_paths(exact) - _key_paths(s) == {f"escape_time_vs_n.{k}" for k in exact["escape_time_vs_n"]}
    assert s["escape_time_vs_n"] is None and "escape_time_vs_n" in s["not_computed"]
    temperatures = {str(s["T"]), str(min(TINY.trap_temperatures))}
    assert set(s["basin_tv_single_chain_stderr"]) == set(s["basin_tv_single_chain"]) == temperatures


def test_trapped_basin_occupancy_matches_the_exact_pipelines_on_the_same_model(sampled):
    """The single-chain basin TV at the trapping temperature (the exact pipeline's second
    ``basin_tv_single_chain`` entry, min(trap_temperatures): 0.15 by default, 0.2 in these settings) against ``basin_occupancy`` on the exact library of the model the
    sampled run fitted (N = 12): the same chains (same sampler, seed and burn-in), the exact basin weights as
    the reference."""
    from thermopot.knowledge.library import bound_states
    from thermopot.knowledge.retrieval import basin_occupancy

    s, T = sampled.settings, sampled.settings.T_trapped
    assert SampledSettings().T_trapped == min(pipeline.QUICK.trap_temperatures) == min(pipeline.FULL.trap_temperatures)
    row = sampled.steps["occupancy_trapped"]
    exact = basin_occupancy(bound_states(model=sampled.model, T=T, tap=False), T, chains=s.occupancy_chains,
                            sweeps=s.occupancy_sweeps, seed=0)
    assert row["T"] == T and row["burn_in"] == exact.burn_in
    se = math.hypot(row["tv_chain_stderr"], float(exact.tv_chain.std(ddof=1)) / math.sqrt(exact.tv_chain.size))
    assert abs(row["tv_chain_mean"] - float(exact.tv_chain.mean())) < 4 * se
    # the same chains: each chain's TV moves only by the reference (tempering P_a against exact Z_a / Z),
    # seed 0: by 0.003-0.014; with the T_fit library as the reference (a plausible mistake) the mean is 0.30
    assert np.abs(np.asarray(row["tv_chain"]) - exact.tv_chain).max() < 0.05
    assert float(exact.tv_chain.mean()) > 0.3  # trapped: far from the basin weights


def test_auto_is_exact_up_to_20_and_sampled_beyond(monkeypatch):
    calls = []
    monkeypatch.setattr(pipeline, "run_sampled", lambda name, data, labels, **kw: calls.append(data.n) or "sampled")
    wide = Dataset(np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(60, 21)), np.ones(60))
    assert run_knowledge(wide, method="auto", progress=False) == "sampled" and calls == [21]
    with pytest.raises(SizeError, match="N <= 20.*method='sampled'"):
        run_knowledge(wide, method="exact", settings=TINY, progress=False)


def test_constant_columns_are_dropped_and_reported_or_refused(monkeypatch):
    data, _ = noisy_patterns_dataset(8, 3, 60, 0.15, seed=4)
    samples = np.concatenate([data.samples, np.ones((data.size, 1), np.int8), data.samples[:, :1]], axis=1)
    samples[:, 8] = 1
    seen = []
    monkeypatch.setattr(pipeline, "run_sampled", lambda name, d, labels, **kw: seen.append((d, kw)) or "ok")
    with pytest.warns(UserWarning, match=r"dropped 1 constant column\(s\) \[8\]; N = 9 remain"):
        run_knowledge(samples, method="sampled", progress=False)
    d, kw = seen[0]
    assert d.n == 9 and kw["dropped_columns"] == (8,)
    np.testing.assert_array_equal(d.samples[:, :8], data.samples)
    with pytest.raises(ThermopotError, match=r"1 constant column\(s\) \[8\]"):
        run_knowledge(samples, method="sampled", constant_columns="refuse", progress=False)


def test_too_few_samples_for_a_held_out_split():
    data, _ = noisy_patterns_dataset(8, 2, 20, 0.1, seed=1)
    with pytest.raises(ThermopotError, match="too few samples for a held-out split: 40 samples.*8 held out"):
        run_knowledge(data, method="sampled", settings=SMALL, holdout=0.2, progress=False)
    with pytest.raises(ThermopotError, match="holdout must be a share"):
        run_knowledge(data, method="sampled", settings=SMALL, holdout=1.5, progress=False)


def test_a_ladder_that_does_not_mix_warns_with_the_pair():
    """Two temperatures far apart on a sharply bound model: swaps are (almost) never accepted."""
    data, _ = noisy_patterns_dataset(12, 2, 50, 0.02, seed=3)
    settings = SampledSettings(**{**SMALL.__dict__, "ladder": 2, "ladder_sweeps": 50, "fit_method": "pseudo"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_knowledge(data, method="sampled", settings=settings, progress=False)
    low = [w for w in caught if issubclass(w.category, LowSwapRateWarning)]
    assert low and "between T = 1 and T = " in str(low[0].message)
    assert run.library.swap_rate[0] < 0.05


def test_cli_knowledge_npz_with_labels(tmp_path, monkeypatch, capsys):
    data, labels = noisy_patterns_dataset(8, 3, 60, 0.15, seed=4)
    path = tmp_path / "clusters.npz"
    np.savez(path, samples=data.samples, labels=labels)
    monkeypatch.setattr(pipeline, "SAMPLED_QUICK", SampledSettings(**{**SMALL.__dict__, "holdout": 0.2}))
    assert main(["knowledge", str(path), "--method", "sampled", "--T", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "sampled" and out["n"] == 8 and out["mixture_components"] == 3
    assert out["class_coverage_single"] is not None and out["log_likelihood_heldout"] < 0
    assert out["bound_states"] and out["log_z_stderr"] > 0
    np.savez(path, samples=data.samples, labels=labels[:-1])
    assert main(["knowledge", str(path), "--method", "sampled"]) == 2
    assert "labels must hold one class per data row: shape (180,), got (179,)" in capsys.readouterr().err


def test_cli_exact_refuses_wide_data_with_the_advice(tmp_path, capsys):
    path = tmp_path / "wide.npz"
    np.savez(path, samples=np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(60, 24)))
    assert main(["knowledge", str(path), "--method", "exact"]) == 2
    err = capsys.readouterr().err
    assert "N = 24" in err and "--method sampled" in err
    assert main(["knowledge", str(path), "--method", "magic"]) == 2


def test_frequencies_of_chains_that_meet_no_pattern_are_not_a_number():
    """Chains held at s = -1 by strong fields never visit the all-up pattern: no chain has frequencies, so the
    one-chain TV is None (not a NaN mean with a RuntimeWarning), like the pooled TV; where chains do visit
    (fields reversed), both are numbers and the one-chain TV of 4 chains has an error bar."""
    from thermopot.knowledge.sampled_pipeline import _frequencies
    from thermopot.models import PairwiseModel

    n = 30
    patterns = Dataset(np.ones((1, n), dtype=np.int8))
    for sign, visited in ((-1.0, False), (1.0, True)):
        model = PairwiseModel(np.full(n, 5.0 * sign), np.zeros((n, n)))
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = _frequencies(model, patterns, SampledSettings(**{**SMALL.__dict__, "chains": 4}), 0, None)
        assert (out["single_chain_tv"] is not None) is visited and (out["pooled_tv"] is not None) is visited
        if visited:  # one pattern: every visiting chain's frequencies are exactly the reference
            assert out["single_chain_tv"] == 0.0 and out["single_chain_tv_stderr"] == 0.0
        else:
            assert out["single_chain_tv_stderr"] is None and out["pattern_mass"] == 0.0
