"""nMF and TAP minima started from the training patterns and matched to the bound states: on the sampled
path (matched to the states found by descent and tempering) against the exact library (matched to the
enumerated landscape minima) at N = 16 (digits) and N = 20 (planted), the unmatched report, and the
sampled pipeline's JSON rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import load_digits, noisy_patterns_dataset
from thermopot.errors import SizeError, ThermopotError
from thermopot.knowledge.library import bound_states
from thermopot.knowledge.mean_field_match import matched_minima, pattern_starts
from thermopot.knowledge import pipeline
from thermopot.knowledge.pipeline import run_knowledge
from thermopot.knowledge.sampled_library import sampled_bound_states
from thermopot.knowledge.sampled_pipeline import MEAN_FIELD_METHODS, _mean_field
from thermopot.learning import fit
from thermopot.models import hopfield, random_patterns

from test_knowledge_sampled_pipeline import SMALL

T_LOW = 0.5  # below T = 1 the pseudo-likelihood models of both sets have several nMF and TAP minima


def _single_flip_stable(model, state) -> bool:
    """Every single flip raises the energy: s_k (h_k + sum_l J_kl s_l) > 0 for all k."""
    s = state.astype(np.float64)
    return bool((s * (model.h + model.J @ s) > 0).all())


@pytest.mark.parametrize("case", ["digits N=16", "planted N=20"])
def test_sampled_minima_and_matches_equal_the_exact_library(case):
    data = (load_digits(16).dataset if case.startswith("digits")
            else noisy_patterns_dataset(20, 4, 150, 0.06, seed=5)[0])
    model = fit(data.unique(), "pseudo", l2=1e-3).model
    patterns = data.unique().samples
    lib = sampled_bound_states(model, data, T_LOW, chains=16, sweeps=300, seed=0)
    found = _mean_field(model, patterns, lib, T_LOW, None)
    matched = 0
    for method, res in found.items():
        exact = bound_states(data, model=model, T=T_LOW, tap_method=method, tap_init=pattern_starts(patterns))
        assert res.starts == len(patterns) and res.count == exact.tap_count > 0
        np.testing.assert_allclose(res.m, exact.tap_m, atol=1e-12)
        np.testing.assert_allclose(res.free_energies, exact.tap_free_energies, atol=1e-12)
        assert res.matched == exact.tap_matched
        for i in range(res.count):
            signs = np.where(res.m[i] > 0, 1, -1)
            if exact.tap_match[i] >= 0:  # the same landscape minimum, found without enumeration
                np.testing.assert_array_equal(lib.states[res.match[i]], exact.states[exact.tap_match[i]])
                np.testing.assert_array_equal(lib.states[res.match[i]], signs)
                assert _single_flip_stable(model, signs) and res.distance[i] == 0
            else:
                assert res.match[i] == -1 and i in res.unmatched
                overlap = lib.states @ res.m[i] / model.n
                assert res.nearest[i] == overlap.argmax()
                assert res.distance[i] == (signs != lib.states[res.nearest[i]]).sum() >= 1
        matched += res.matched
    assert matched >= 3  # the test compares real matches, not only empty lists


def test_a_minimum_of_no_bound_state_is_reported_unmatched():
    """Three stored patterns of a Hopfield model at T = 0.3 are TAP and nMF minima; offered only the first
    as a bound state, the other two minima are unmatched, nearest to it at their Hamming distance."""
    xi = random_patterns(15, 3, seed=3).astype(np.int8)
    for method in MEAN_FIELD_METHODS:
        res = matched_minima(hopfield(xi), 0.3, states=xi[:1], method=method, init=pattern_starts(xi))
        signs = np.where(res.m > 0, 1, -1)
        rows = [int(np.flatnonzero((signs == p).all(axis=1))[0]) for p in xi]  # each pattern is a minimum
        assert res.match[rows[0]] == 0 and res.distance[rows[0]] == 0
        assert sorted(res.unmatched.tolist()) == sorted(rows[1:]) and res.matched == res.count - 2
        for k in (1, 2):
            assert res.match[rows[k]] == -1 and res.nearest[rows[k]] == 0
            assert res.distance[rows[k]] == (xi[k] != xi[0]).sum()
        assert matched_minima(hopfield(xi), 0.3, states=xi, method=method, init=pattern_starts(xi)).unmatched.size == 0
        none = matched_minima(hopfield(xi), 0.3, states=xi[:0], method=method, init=pattern_starts(xi))
        assert none.count == res.count and none.matched == 0 and (none.nearest == -1).all()
        out = res.to_dict()  # the result convention: strict JSON
        assert json.loads(json.dumps(out, allow_nan=False)) == out and out["matched"] == res.matched


def test_the_pipeline_step_honours_the_solvers_time_limit(monkeypatch):
    """The sampled pipeline's mean-field step runs under find_minima's own guard (no limit of its own):
    refused at once, naming find_minima, under a limit below the estimate; run under the default hour."""
    xi = random_patterns(15, 3, seed=3).astype(np.int8)

    class Library:
        states = xi
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "1e-6")
    with pytest.raises(SizeError, match="find_minima with 3 starts of N=15 spins"):
        _mean_field(hopfield(xi), xi, Library, 0.3, None)
    monkeypatch.delenv("THERMOPOT_MAX_SECONDS")
    found = _mean_field(hopfield(xi), xi, Library, 0.3, None)
    assert all(res.matched == 3 for res in found.values())


def test_pattern_starts_refuse_a_scale_outside_the_open_interval():
    with pytest.raises(ThermopotError, match="start scale"):
        pattern_starts(np.ones((2, 3)), 1.0)


def test_sampled_pipeline_json_has_the_matched_minima():
    """The rows of the sampled pipeline (planted clusters N = 12): the exact library's names (tap_count,
    tap_matched, tap) plus starts and unmatched, for TAP and nMF; each match points at the bound state equal
    to sign(m), as the exact library of the same model matches it."""
    run = run_knowledge("clusters", method="sampled", settings=SMALL, progress=False)
    s = run.summary()
    patterns = run.train.unique().samples
    states = np.array([b["state"] for b in s["bound_states"]])
    for method, prefix in MEAN_FIELD_METHODS.items():
        rows = s[prefix]
        assert s[f"{prefix}_starts"] == len(patterns) and s[f"{prefix}_count"] == len(rows) > 0
        assert s[f"{prefix}_matched"] == sum(r["match"] >= 0 for r in rows)
        assert s[f"{prefix}_unmatched"] == [i for i, r in enumerate(rows) if r["match"] < 0]
        exact = bound_states(run.train, model=run.model, T=s["T"], tap_method=method,
                             tap_init=pattern_starts(patterns))
        assert s[f"{prefix}_count"] == exact.tap_count
        for r, row in zip(rows, exact.tap_match):
            assert (r["match"] >= 0) == (row >= 0)
            if r["match"] >= 0:
                np.testing.assert_array_equal(states[r["match"]], np.where(np.array(r["m"]) > 0, 1, -1))
            if row >= 0:
                np.testing.assert_array_equal(states[r["match"]], exact.states[row])
    assert run.to_dict()["steps"]["mean_field"]["tap2"]["count"] == s["tap_count"]


def test_cli_text_names_the_matched_minima(monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "SAMPLED_QUICK", SMALL)
    assert main(["knowledge", "--dataset", "clusters", "--method", "sampled"]) == 0
    text = capsys.readouterr().out
    assert main(["knowledge", "--dataset", "clusters", "--method", "sampled", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (f"{s['nmf_count']} / {s['tap_count']} minima from {s['tap_starts']} starts, "
            f"{s['nmf_matched']} / {s['tap_matched']} on a bound state") in text
