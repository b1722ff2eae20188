"""The knowledge pipeline end to end (small sizes) and ``thermopot knowledge``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import SizeError, ThermopotError
from thermopot.knowledge import pipeline
from thermopot.knowledge.pipeline import Settings, run_knowledge
from thermopot.learning import Dataset

#: the fields of `thermopot knowledge --json` fixed by the issue
FIELDS = ("n", "patterns", "gap", "T_star", "phi_minima", "full_potential_minima", "reduced_potential_minima",
          "training_minima", "spurious_minima", "kl_single", "kl_mixture", "coverage_single", "coverage_mixture",
          "rare_weight_threshold")

TINY = Settings(reduced_starts=1, reduced_pattern_starts=1, potential_starts=2, temperatures=(0.7, 6.0),
                m_values=(2, 3), counts_starts=1, counts_pattern_starts=3, chains=32, sweeps=50,
                trap_temperatures=(0.3, 0.2), trap_chains=8, trap_updates=20_000, trap_sizes=(6, 8), trap_size_chains=8,
                frequency_sweeps=200, occupancy_chains=8, occupancy_sweeps=50,
                rare_factors=(1.0, 0.1, 0.01), samples=500, em_iterations=2)


@pytest.fixture(scope="module")
def run():
    return run_knowledge("clusters", settings=TINY, progress=False)


def test_summary_holds_every_field_with_consistent_values(run):
    s = run.summary()
    for field in FIELDS:
        assert field in s
    data = run.data.unique()
    assert s["n"] == 12 and s["patterns"] == data.size == run.description.m
    assert s["gap"] == pytest.approx(12.0)  # eps N with eps = 1
    m = s["patterns"]
    assert s["T_star"] == pytest.approx(s["gap"] / np.log((2**12 - m) / m), rel=1e-12)
    assert s["phi_minima"] == 1 and s["full_potential_minima"] == 1
    assert s["training_minima"] + s["spurious_minima"] == run.library.count
    assert 0 <= s["kl_mixture"] <= s["kl_single"]
    assert 0 < s["coverage_single"] <= s["coverage_mixture"] <= 1
    assert set(run.seconds) >= {"description", "phi", "library", "remedy", "total"}
    json.dumps(run.to_dict(), allow_nan=False)  # strict JSON (Result.to_dict writes NaN as a string)


def test_every_training_minimum_is_one_of_the_cluster_centres_or_a_data_pattern(run):
    lib = run.library
    patterns = {tuple(p) for p in run.data.unique().samples}
    for state, training in zip(lib.states, lib.is_training):
        assert (tuple(state) in patterns) == bool(training)


def test_cli_json_has_the_issue_fields(monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "QUICK", TINY)
    assert main(["knowledge", "--dataset", "clusters", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for field in FIELDS:
        assert field in out
    assert out["n"] == 12 and out["phi_minima"] == 1 and out["quick"] is True


def test_a_user_npz_data_set_runs(tmp_path, monkeypatch, capsys):
    data, _ = noisy_patterns_dataset(8, 3, 60, 0.15, seed=4)
    path = tmp_path / "clusters.npz"
    np.savez(path, samples=data.samples)
    monkeypatch.setattr(pipeline, "QUICK", TINY)
    assert main(["knowledge", "--dataset", str(path), "--json"]) == 0  # the quick sizes are the default
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 8 and out["class_coverage_single"] is None  # no labels in a plain .npz


@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_cli_no_em_prune_keeps_every_class_component(tmp_path, monkeypatch, capsys, method):
    """Four labelled clusters of N = 12, one of them 5 samples: the minimum-message-length rule drops its
    component (5 < d_k / 2 ~ 39, d_k ~ N (N + 1) / 2 + 1), so the remedy has K = 3 by default and keeps all
    K = 4 classes with --no-em-prune (run_knowledge(em_prune=False)), on both paths."""
    from test_knowledge_sampled_pipeline import SMALL

    data, labels = noisy_patterns_dataset(12, 4, 100, 0.08, seed=1)
    labels = np.asarray(labels)
    rows = np.concatenate([np.flatnonzero(labels != 3), np.flatnonzero(labels == 3)[:5]])
    path = tmp_path / "small_class.npz"
    np.savez(path, samples=data.samples[rows], labels=labels[rows])
    monkeypatch.setattr(pipeline, "QUICK", TINY)
    monkeypatch.setattr(pipeline, "SAMPLED_QUICK", SMALL)
    found = {}
    for flags in ([], ["--no-em-prune"]):
        assert main(["knowledge", str(path), "--method", method, "--json", *flags]) == 0
        out = json.loads(capsys.readouterr().out)
        found[bool(flags)] = (out["mixture_components"],
                              any("1 of 4 mixture components dropped" in w for w in out["warnings"]))
    assert found == {False: (3, True), True: (4, False)}
    with pytest.raises(ThermopotError, match="em_prune must be True or False"):
        run_knowledge(str(path), settings=TINY, em_prune="no", progress=False)


def test_too_many_spins_are_refused_naming_what_needs_enumeration():
    data = Dataset(np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(50, 21)), np.ones(50))
    with pytest.raises(SizeError, match="N <= 20.*Not computed: full description"):
        run_knowledge(data, settings=TINY, progress=False)


def test_bad_data_sets_are_refused(capsys):
    with pytest.raises(ThermopotError, match="unknown data set"):
        run_knowledge("no-such-data", settings=TINY, progress=False)
    constant = Dataset(np.ones((5, 6), np.int8), np.ones(5))
    with pytest.raises(ThermopotError, match="constant|one distinct"):
        run_knowledge(constant, settings=TINY, progress=False)
    assert main(["knowledge", "--dataset", "no-such-data", "--json"]) == 2
    assert "unknown data set" in capsys.readouterr().err
    assert main(["knowledge", "--quick", "--full"]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_quick_validation_on_the_digits_passes(tmp_path):
    """The whole pipeline on the bundled digits in its quick mode, every check against its independent reference
    (the remedy and rare-pattern claims are measured by the claim table, tests/test_knowledge_claims.py)."""
    from thermopot.validation import run_validations

    checks = run_validations(quick=True, out=tmp_path, only="knowledge", progress=False)
    failed = [c.name for c in checks if not c.passed]
    assert len(checks) >= 12 and not failed, failed
    names = " ".join(c.name for c in checks)
    for claim in ("Walsh couplings", "Krawtchouk", "garbage at T*", "Phi over the pairwise couplings has one minimum",
                  "G over the full simplex has one minimum", "several reduced-G minima below T*",
                  "one reduced-G minimum far above T*", "bound states = single-flip minima", "ergodicity broken",
                  "Arrhenius", "escape time"):
        assert claim in names, claim
    figures = {p.name for p in (tmp_path / "figures").glob("knowledge-*.png")}
    assert figures == {f"knowledge-{n}.png" for n in ("bound-states", "description", "escape-time", "potential-minima",
                                                         "retrieval")}
