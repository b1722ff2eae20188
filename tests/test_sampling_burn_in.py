"""The one burn-in rule (thermopot.sampling.burn_in): every sampler's default resolves through it and reports
the burn-in it used; "mser" removes a start-up transient that biases the mean against exact enumeration
(Curie-Weiss N = 20 started all up at T = 1.5), and burn_in = 0, or the burn-in computed but not applied,
does not."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import warnings

import numpy as np
import pytest

import thermopot.sampling.chains as chains_module
from thermopot.cli import main
from thermopot.distributed.tasks import sample_task
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.knowledge import sampled_pipeline
from thermopot.knowledge.library import bound_states
from thermopot.knowledge.retrieval import basin_occupancy, pattern_frequencies
from thermopot.learning import Dataset, check_moments
from thermopot.models import curie_weiss, hopfield, random_pairwise, random_patterns, sk
from thermopot.sampling import Sampler, ShortRunWarning, parallel_tempering, sample
from thermopot.sampling.burn_in import BurnInWarning, mser_burn_in, resolve_burn_in, run_burn_in
from thermopot.solvers import seeds
from thermopot.solvers.seeds import state_overlap


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortRunWarning)
        yield


def test_the_rule():
    """None -> max(sweeps // 5, 100); an integer -> itself; "mser" -> the largest MSER window over the columns."""
    assert [resolve_burn_in(None, w) for w in (2, 100, 499, 500, 501, 1000, 2000)] == [100] * 5 + [200, 400]
    assert resolve_burn_in(0, 1000) == 0 and resolve_burn_in(np.int64(7), 10) == 7
    step = np.r_[np.ones(20), np.tile([0.01, -0.01], 40)]
    assert resolve_burn_in("mser", 100, series=step) == mser_burn_in(step) == 20
    both = np.stack([np.tile([0.01, -0.01], 50), np.r_[np.ones(30), np.tile([0.01, -0.01], 35)]], axis=1)
    assert resolve_burn_in("mser", 100, series=both) == 30
    for bad in (-1, 2.5, True, "auto"):
        with pytest.raises(ThermopotError, match="burn_in"):
            resolve_burn_in(bad, 100)
    with pytest.raises(ThermopotError, match="series"):
        resolve_burn_in("mser", 100)
    assert seeds.mser_burn_in is mser_burn_in  # still importable where docs/spin-glass.md names it


def test_mser_of_a_series_that_stops_moving():
    """Frozen chains (low T) give a constant mean energy: every MSER(d) is 0 and the window is 0, not wherever
    rounding puts the smallest of sum x^2 - (sum x)^2 / (n - d) (before: 100 of 200 for x = 3.3, 61 of 200 for
    -10.45, so run_burn_in could warn that a frozen series 'still drifts'); a transient that ends in a constant
    series is cut exactly where it ends."""
    for value in (3.3, -10.45, -190.3, 0.1, -7.7):
        for n in (10, 40, 200):
            assert mser_burn_in(np.full(n, value)) == 0
    assert mser_burn_in(np.r_[-5.0, -7.0, -9.9, np.full(97, -10.45)]) == 3
    done = [0]

    def trace(k):
        done[0] += k
        return np.full(k, 3.3)

    with warnings.catch_warnings():
        warnings.simplefilter("error", BurnInWarning)
        assert run_burn_in("mser", 4000, run=None, trace=trace) == done[0] == 200  # the first block


def test_sequential_mser_stops_once_the_transient_is_in_the_first_half():
    """run_burn_in("mser") on a traced exponential transient x_t = exp(-t / 8) (+ 1e-4 alternation; MSER cuts
    where the decay reaches the noise, t = 73): it runs blocks of max(10, W // 20) = 50 sweeps and stops at the
    first n with MSER(n) < n // 2, n = 150; a series that keeps
    drifting runs out of sweeps with a BurnInWarning. An integer or None runs that many sweeps."""
    t = np.arange(2000)
    x = np.exp(-t / 8.0) + 1e-4 * (-1.0) ** t
    done = [0]

    def trace(k):
        done[0] += k
        return x[done[0] - k: done[0]]  # the x bound when called

    used = run_burn_in("mser", 1000, run=None, trace=trace)
    expect = next(n for n in range(50, 2001, 50) if mser_burn_in(x[:n]) < n // 2)
    assert used == done[0] == expect == 150
    done[0], x = 0, -t.astype(float)  # a steady drift: MSER always at the bound n // 2
    with pytest.warns(BurnInWarning, match="drifts"):
        assert run_burn_in("mser", 100, run=None, trace=trace) == done[0] == 100
    ran = []
    assert run_burn_in(None, 1000, run=ran.append, trace=None) == 200 and ran == [200]
    assert run_burn_in(0, 1000, run=ran.append, trace=None) == 0 and ran == [200]


# -- every caller's default goes through the rule and is reported --------------------------------------------

def test_sample_reports_the_default_and_the_given_burn_in():
    model = sk(6, seed=0)
    for sweeps in (50, 600):
        res = sample(model, 1.0, chains=4, sweeps=sweeps, seed=0)
        assert res.burn_in == resolve_burn_in(None, sweeps) == max(sweeps // 5, 100)
        assert res.to_dict()["burn_in"] == res.burn_in
    assert sample(model, 1.0, chains=4, sweeps=50, burn_in=7, seed=0).burn_in == 7
    sparse = sample(model, 1.0, chains=4, sweeps=2000, record_every=100, burn_in="mser", seed=0)
    assert sparse.burn_in % 100 == 0 and 100 <= sparse.burn_in <= 2000  # blocks of 2000 // 20, every sweep traced
    sampler = Sampler(model, 1.0)  # the default is exactly init, 100 unrecorded sweeps, the recorded ones
    state = sampler.run(sampler.init(chains=4, seed=0), 100, record=False)
    same = sampler.result(sampler.run(state, 50))
    assert sample(model, 1.0, chains=4, sweeps=50, seed=0).energy == same.energy


def test_sample_task_and_cli_report_the_burn_in(capsys):
    assert sample_task("sk:n=6,seed=0", 1.0, chains=4, sweeps=50)["burn_in"] == 100
    assert main(["sample", "sk:n=6,seed=0", "--T", "1", "--chains", "4", "--sweeps", "600", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["burn_in"] == 120
    assert main(["sample", "sk:n=6,seed=0", "--T", "1", "--chains", "4", "--sweeps", "200", "--burn-in", "mser",
                 "--json"]) == 0
    mser = json.loads(capsys.readouterr().out)["burn_in"]
    assert 10 <= mser <= 200 and mser % 10 == 0  # whole blocks of max(10, 200 // 20) sweeps
    assert main(["sample", "sk:n=6,seed=0", "--T", "1", "--burn-in", "soon"]) == 2
    assert "integer >= 0 or 'mser'" in capsys.readouterr().err


def test_parallel_tempering_reports_the_burn_in():
    model, ladder = sk(6, seed=0), [0.8, 1.2]
    assert parallel_tempering(model, ladder, chains=4, sweeps=50, seed=0, progress=False).burn_in == 100
    assert parallel_tempering(model, ladder, chains=4, sweeps=1000, seed=0, progress=False).burn_in == 200
    run = parallel_tempering(model, ladder, chains=4, sweeps=200, burn_in="mser", seed=0, progress=False)
    assert 10 <= run.burn_in <= 200 and run.to_dict()["burn_in"] == run.burn_in


@pytest.fixture(scope="module")
def library():
    xi = random_patterns(10, 2, seed=1)
    return bound_states(xi, model=hopfield(xi), T=0.3, tap=False)


def test_retrieval_reports_the_burn_in(library):
    freq = pattern_frequencies(library.model, library.states[:2], 1.0, chains=4, sweeps=50, seed=3)
    occ = basin_occupancy(library, 1.0, chains=4, sweeps=600, seed=3)
    assert (freq.burn_in, occ.burn_in) == (100, 120)
    assert pattern_frequencies(library.model, library.states[:2], 1.0, chains=4, sweeps=50, burn_in=3,
                               seed=3).burn_in == 3


def test_pipeline_chain_samples_burn_in_by_the_rule():
    """ceil(60 / 8) = 8 recorded sweeps per chain: the rule gives 100 sweeps of burn-in (the former fixed value),
    the same states as 100 unrecorded sweeps then one record per sweep."""
    model = random_pairwise(8, seed=2)
    drawn = sampled_pipeline._chain_samples(model, 1.0, 60, 8, 5, None)
    sampler = Sampler(model, 1.0)
    state = sampler.run(sampler.init(chains=8, seed=5), resolve_burn_in(None, math.ceil(60 / 8)), record=False)
    rows = []
    for _ in range(8):
        state = sampler.run(state, 1, record=False)
        rows.append(state.spins.astype(np.int8))
    np.testing.assert_array_equal(drawn, np.concatenate(rows)[:60])


def test_pipeline_frequencies_and_occupancy_burn_in_by_the_rule(library):
    """The sampled pipeline's pattern-frequency and basin-occupancy chains (formerly W // 10 and W // 5 of
    their own): the rule's burn-in for their sweeps, reported in their records (max(W // 5, 100): 100 for
    W = 300, 160 for W = 800)."""
    s = dataclasses.replace(sampled_pipeline.SAMPLED_QUICK, chains=4, frequency_sweeps=300, occupancy_chains=4,
                            occupancy_sweeps=800)
    patterns = Dataset(library.states[:2])
    freq = sampled_pipeline._frequencies(library.model, patterns, s, 0, None)
    k = library.states.shape[0]  # what _occupancy reads of a SampledBoundStates
    sampled = types.SimpleNamespace(states=library.states, weight=np.full(k, 1.0 / k), T=1.0)
    occ = sampled_pipeline._occupancy(library.model, sampled, s, 0, None)
    assert (freq["burn_in"], occ["burn_in"]) == (100, 160)


@pytest.mark.parametrize("tempering", [None, [1.0, 1.5]])
def test_check_moments_reports_the_burn_in(tempering):
    model = random_pairwise(5, seed=1)
    data = np.where(np.random.default_rng(0).random((200, 5)) < 0.5, 1, -1)
    check = check_moments(model, data, chains=4, sweeps=600, tempering=tempering, seed=0)
    assert check.burn_in == 120 and check.to_dict()["burn_in"] == 120
    assert check_moments(model, data, chains=4, sweeps=50, burn_in=0, tempering=tempering, seed=0).burn_in == 0
    assert check_moments(model, data, chains=4, sweeps=200, burn_in="mser", tempering=tempering,
                         seed=0).burn_in >= 10


def test_state_overlap_resolves_through_the_rule():
    """Its default "mser" is the window of its own chain-averaged overlap, checked against MSER written out
    here by its definition (argmin over d <= n // 2 of sum_{t >= d} (x_t - xbar_d)^2 / (n - d)^2, each d
    summed directly); None is the sampling default."""
    model = curie_weiss(20, 1.0, 0.05)
    m = np.full(20, 0.2)
    res = state_overlap(model, 1.0, m=m, chains=8, sweeps=60, seed=0)
    x = np.asarray(res.overlap, dtype=np.float64).reshape(len(res.overlap), -1).mean(axis=1)
    n = x.size
    mser = [np.sum((x[d:] - x[d:].mean()) ** 2) / (n - d) ** 2 for d in range(n // 2 + 1)]
    assert res.burn_in == int(np.argmin(mser))
    assert state_overlap(model, 1.0, m=m, chains=8, sweeps=200, burn_in=None, seed=0).burn_in == 100
    with pytest.raises(ThermopotError, match="burn_in"):
        state_overlap(model, 1.0, m=m, chains=8, sweeps=60, burn_in=None)  # 100 sweeps would leave none


# -- "mser" against enumeration --------------------------------------------------------------------------------

N, T, H = 20, 1.5, 0.05


def _z(res) -> float:
    exact = thermodynamics(curie_weiss(N, 1.0, H), T, progress=False).energy
    return (res.energy - exact) / res.energy_stderr


def _transient_run(burn_in):
    """1024 chains started all up (energy -9.5 against the exact -2.1) at T = 1.5, 40 recorded sweeps."""
    return sample(curie_weiss(N, 1.0, H), T, chains=1024, sweeps=40, burn_in=burn_in, initial=np.ones(N), seed=4)


def test_mser_removes_the_start_up_bias_that_no_burn_in_keeps():
    """From all up the energy relaxes over a few sweeps: averaged from the first sweep the mean energy is many
    standard errors below the exact one (z = -4.5), after the MSER burn-in (two blocks of 10 sweeps) it agrees
    (z = 0.7)."""
    none, mser = _transient_run(0), _transient_run("mser")
    assert none.burn_in == 0 and _z(none) < -3
    assert 10 <= mser.burn_in < 40 and abs(_z(mser)) < 3


def test_the_check_fails_when_the_burn_in_is_computed_but_not_applied(monkeypatch):
    """A plausible mistake: the burn-in run and reported, but the recorded sweeps start from the initial state."""
    real = chains_module.burn_in_state

    def not_applied(sampler, state, burn_in, **options):
        return state, real(sampler, state, burn_in, **options)[1]

    monkeypatch.setattr(chains_module, "burn_in_state", not_applied)
    wrong = _transient_run("mser")
    assert 10 <= wrong.burn_in < 40 and _z(wrong) < -3


@pytest.mark.parametrize("generator", [None, "philox"])
def test_mser_tracing_leaves_the_chains_as_plain_sweeps_do(generator):
    """The traced "mser" burn-in (one sweep per call, energies read after each) with record_every = 7 and
    correlations: the recorded run is bit-identical to the one after an integer burn-in of the same length
    (the tracing neither records nor disturbs the chains' random stream)."""
    model = sk(12, seed=3)
    options = dict(chains=8, sweeps=700, record_every=7, correlations=True, seed=1, generator=generator)
    mser = sample(model, 0.8, burn_in="mser", **options)
    plain = sample(model, 0.8, burn_in=mser.burn_in, **options)
    assert mser.burn_in % 35 == 0 and mser.sweeps == plain.sweeps == 700  # blocks of max(10, 700 // 20) = 35
    assert mser.energy == plain.energy and np.array_equal(mser.correlation, plain.correlation)
    assert np.array_equal(mser.magnetization, plain.magnetization)
