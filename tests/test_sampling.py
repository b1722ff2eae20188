"""Sampling: stationary averages against exact enumeration (z-scores with the sampler's own error
bars), single-update transition kernels and detailed balance, escape and hitting times against closed
forms and exact linear solves, reproducibility, checkpoint/resume, bad input."""

import json
import math
import warnings

import numpy as np
import pytest

from thermopot.backend import to_numpy
from thermopot.errors import SizeError, ThermopotError
from thermopot.exact import thermodynamics
from thermopot.models import MultiSpinModel, random_multispin, random_pairwise
from thermopot.report import to_json
from thermopot.sampling import (Sampler, ShortRunWarning, first_passage, integrated_time, load_state, sample,
                                save_state)
from thermopot.cli import main
from thermopot.sampling.statistics import BatchMeans
from thermopot.states import all_states, spins_to_index

Z_MAX = 4.0
METHODS = ["heat-bath", "metropolis"]
SCANS = ["sequential", "random"]


def flip_probability(method, dE, T):
    return 1.0 / (1.0 + np.exp(dE / T)) if method == "heat-bath" else np.minimum(1.0, np.exp(-dE / T))


def site_kernels(model, T, method):
    """Exact single-update transition matrices P_k (N, 2^N, 2^N) for an update of site k."""
    n = model.n
    e = np.asarray(model.energy(all_states(n)))
    idx = np.arange(2**n)
    P = np.zeros((n, 2**n, 2**n))
    for k in range(n):
        j = idx ^ (1 << k)
        p = flip_probability(method, e[j] - e, T)
        P[k, idx, j] = p
        P[k, idx, idx] = 1.0 - p
    return P, e


def assert_z(name, estimate, exact, stderr):
    z = (np.asarray(estimate) - np.asarray(exact)) / np.asarray(stderr)
    assert np.all(np.isfinite(z)), f"{name}: non-finite z-scores {z}"
    assert np.abs(z).max() < Z_MAX, f"{name}: max |z| = {np.abs(z).max():.2f} (z = {np.round(z, 2)})"


# -- stationary averages ---------------------------------------------------------------------------

@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["pairwise", "multispin"])
def test_stationary_averages_match_enumeration(kind, method, scan, backend):
    if kind == "pairwise":
        model, sweeps = random_pairwise(11, seed=1), 1500
    else:
        model, sweeps = random_multispin(10, order=3, seed=2, scale=0.15), 1000
    T = 1.0
    th = thermodynamics(model, T)
    res = sample(model, T, chains=64, sweeps=sweeps, method=method, scan=scan, seed=7,
                 correlations=True, backend=backend)
    iu = np.triu_indices(model.n, 1)
    assert_z("magnetization", res.magnetization, th.magnetization, res.magnetization_stderr)
    assert_z("correlation", res.correlation[iu], th.correlation[iu], res.correlation_stderr[iu])
    assert_z("energy", res.energy, th.energy, res.energy_stderr)
    assert res.sweeps == sweeps and res.chains == 64 and 0 < res.flip_rate < 1
    assert 0.4 < res.tau_int["energy"] < 50 and res.tau_int_chains["energy"].shape == (64,)


# -- single-update kernel and detailed balance -----------------------------------------------------

@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("method", METHODS)
def test_single_update_kernel_and_detailed_balance(method, scan):
    model = random_multispin(3, order=3, seed=4, scale=0.7)  # all 7 subsets: fields, pairs, triple
    T, B, n = 1.0, 2000, 3
    P, e = site_kernels(model, T, method)
    pi = np.exp(-(e - e.min()) / T)
    pi /= pi.sum()
    flows = pi[None, :, None] * P
    np.testing.assert_allclose(flows, np.transpose(flows, (0, 2, 1)), atol=1e-15)  # exact DB per site
    np.testing.assert_allclose(pi @ P.mean(axis=0), pi, atol=1e-15)  # pi is stationary

    sampler = Sampler(model, T, method=method, scan=scan)
    state = sampler.run(sampler.init(chains=B, seed=11), 30, record=False)
    idx = np.asarray(spins_to_index(state.spins))
    counts = np.zeros((B, n, 2**n, 2**n), dtype=np.int64)
    rows = np.arange(B)

    def hook(t, k, flip, new):
        nonlocal idx
        k = np.broadcast_to(to_numpy(k), (B,))  # the hook gets the backend's arrays
        nxt = idx ^ (to_numpy(flip).astype(np.int64) << k)
        np.add.at(counts, (rows, k, idx, nxt), 1)
        idx = nxt

    sampler.run(state, 100, record=False, hook=hook)
    total = counts.sum(axis=0)
    assert total.sum() == B * n * 100
    # empirical P_k(i -> i with k flipped) against the exact kernel: a binomial z-score per (k, i)
    i = np.arange(2**n)
    for k in range(n):
        visits = total[k].sum(axis=1)
        p = P[k, i, i ^ (1 << k)]
        p_emp = total[k, i, i ^ (1 << k)] / visits
        sure = p == 1.0  # Metropolis downhill moves: always accepted
        assert np.all(p_emp[sure] == 1.0)
        assert_z(f"P_{k}", p_emp[~sure], p[~sure], np.sqrt(p * (1 - p) / visits)[~sure])
    # stationary flows through every edge are symmetric (detailed balance), chain by chain
    for k in range(n):
        j = i ^ (1 << k)
        net = counts[:, k, i, j] - counts[:, k, j, i]  # (B, 2^n)
        assert_z(f"net flow via site {k}", net.mean(axis=0), 0.0, net.std(axis=0, ddof=1) / math.sqrt(B))


# -- escape and hitting times ----------------------------------------------------------------------

def golf_course(n, depth):
    """One state (index 0, all +1) at energy -depth, every other state at 0."""
    e = np.zeros(2**n)
    e[0] = -depth
    return MultiSpinModel.from_energy_table(e)


@pytest.mark.parametrize("method,scan,depth", [("heat-bath", "random", 3.0), ("heat-bath", "sequential", 3.0),
                                                ("heat-bath", "random", 5.0), ("metropolis", "random", 3.0)])
def test_golf_course_escape_time(method, scan, depth):
    """Every update in the well proposes a flip costing Delta, accepted with p = 1/(1 + e^{Delta/T})
    (heat bath) or e^{-Delta/T} (Metropolis), whichever site is visited: the escape time, counted in
    single-spin updates including the one that leaves, is geometric with mean 1/p = 1 + e^{Delta/T}."""
    n, T, B = 6, 1.0, 3000
    p = flip_probability(method, depth, T)
    res = first_passage(golf_course(n, depth), T, np.ones(n), chains=B, threshold=1.0,
                        max_updates=100_000, method=method, scan=scan, seed=3)
    assert res.hits == B and not res.censored.any()
    expected = 1.0 + math.exp(depth / T) if method == "heat-bath" else math.exp(depth / T)
    assert_z("mean escape time", res.mean, expected, res.stderr)
    assert res.mean_censored == res.mean
    frac1 = np.mean(res.times == 1)  # P(escape at the first update) = p
    assert_z("P(t = 1)", frac1, p, math.sqrt(p * (1 - p) / B))


def test_escape_time_censoring():
    n, depth, T, B, budget = 6, 3.0, 1.0, 3000, 10
    p = flip_probability("heat-bath", depth, T)
    res = first_passage(golf_course(n, depth), T, np.ones(n), chains=B, threshold=1.0,
                        max_updates=budget, seed=5)
    q = (1 - p) ** budget  # P(no escape within the budget)
    assert_z("censored fraction", res.censored.mean(), q, math.sqrt(q * (1 - q) / B))
    assert np.all(res.times[res.censored] == budget) and np.all(res.times[~res.censored] <= budget)
    assert res.mean_censored > res.mean


@pytest.mark.parametrize("method", METHODS)
def test_hitting_time_matches_exact_linear_solve(method):
    """Random scan: the update kernel is P = mean_k P_k; the mean hitting time h of the target solves
    (I - Q) h = 1 on the other states (Q: P restricted to them)."""
    model, T, B = random_pairwise(4, seed=5), 1.5, 2000
    target = 2**4 - 1
    P, _ = site_kernels(model, T, method)
    Q = np.delete(np.delete(P.mean(axis=0), target, 0), target, 1)
    h = np.linalg.solve(np.eye(len(Q)) - Q, np.ones(len(Q)))
    res = first_passage(model, T, np.ones(4), chains=B, targets=-np.ones(4), max_updates=200_000,
                        method=method, scan="random", seed=9)
    assert res.hits == B
    assert_z("mean hitting time", res.mean, h[0], res.stderr)
    start = first_passage(model, T, -np.ones(4), chains=3, targets=-np.ones(4), max_updates=10, seed=0)
    assert np.all(start.times == 0)


# -- estimators ------------------------------------------------------------------------------------

def test_integrated_time_of_ar1():
    """AR(1) x_t = a x_{t-1} + noise: rho(t) = a^t, tau_int = 1/2 + a / (1 - a)."""
    rng = np.random.default_rng(0)
    a, n, B = 0.8, 20000, 8
    x = np.zeros((n, B))
    noise = rng.normal(size=(n, B))
    for t in range(1, n):
        x[t] = a * x[t - 1] + noise[t]
    per_chain, pooled = integrated_time(x)
    exact = 0.5 + a / (1 - a)
    assert abs(pooled / exact - 1) < 0.1 and np.all(np.abs(per_chain / exact - 1) < 0.3)
    acc = BatchMeans((B, 1), np)
    for t in range(n):
        acc.add(x[t][:, None])
    assert abs(float(acc.tau()[0]) / exact - 1) < 0.25
    assert acc.nbatches >= acc.max_batches


# -- reproducibility and checkpoints ---------------------------------------------------------------

def _strip(d):
    """The JSON text of a result without its wall time (NaN compares equal as text)."""
    return to_json({k: v for k, v in d.items() if k != "seconds"})


@pytest.mark.parametrize("scan", SCANS)
def test_same_seed_same_result(scan):
    model = random_pairwise(12, seed=2)
    a = sample(model, 1.2, chains=8, sweeps=50, scan=scan, seed=123).to_dict()
    b = sample(model, 1.2, chains=8, sweeps=50, scan=scan, seed=123).to_dict()
    c = sample(model, 1.2, chains=8, sweeps=50, scan=scan, seed=124).to_dict()
    assert _strip(a) == _strip(b)
    assert a["magnetization"] != c["magnetization"]


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("kind", ["pairwise", "multispin"])
def test_checkpoint_resume_is_bit_identical(kind, scan, tmp_path):
    model = random_pairwise(40, seed=3) if kind == "pairwise" else random_multispin(8, seed=3)
    sampler = Sampler(model, 0.8, scan=scan, method="metropolis", correlations=True)
    burnt = sampler.run(sampler.init(chains=6, seed=5), 5, record=False)
    whole = sampler.run(burnt, 75)
    part = sampler.run(burnt, 40)  # crosses the field refresh at 64
    save_state(tmp_path / "run.npz", sampler, part)
    loaded, state = load_state(tmp_path / "run.npz")
    resumed = loaded.run(state, 35)
    assert np.array_equal(whole.spins, resumed.spins)
    assert np.array_equal(to_numpy(whole.cache), to_numpy(resumed.cache))
    assert _strip(sampler.result(whole).to_dict()) == _strip(loaded.result(resumed).to_dict())


def test_incremental_fields_stay_exact():
    model = random_pairwise(50, seed=4)
    sampler = Sampler(model, 0.7)
    state = sampler.run(sampler.init(chains=5, seed=1), 63, record=False)
    np.testing.assert_allclose(to_numpy(state.cache), to_numpy(model.local_fields(state.spins)), atol=1e-11)
    np.testing.assert_allclose(sampler.energies(state), np.asarray(model.energy(state.spins)), atol=1e-10)
    m = random_multispin(9, seed=4)
    sampler = Sampler(m, 0.7, scan="random")
    state = sampler.run(sampler.init(chains=5, seed=1), 20, record=False)
    np.testing.assert_allclose(sampler.energies(state), np.asarray(m.energy(state.spins)), atol=1e-12)


# -- command and bad input -------------------------------------------------------------------------

def test_sample_command_fields(capsys):
    argv = ["sample", "random:n=8,seed=1", "--T", "1", "--chains", "4", "--sweeps", "40", "--seed", "2"]
    assert main(argv + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("magnetization", "magnetization_stderr", "energy", "energy_stderr", "tau_int", "seconds"):
        assert key in data
    assert len(data["magnetization"]) == 8 and data["chains"] == 4 and data["sweeps"] == 40
    assert main(argv) == 0 and "energy U" in capsys.readouterr().out


def test_short_run_warning_is_in_the_result():
    """A run shorter than 50 autocorrelation times carries its warning in the result (and its JSON)."""
    with pytest.warns(ShortRunWarning) as caught:
        res = sample("curie-weiss:n=12", 0.9, chains=2, sweeps=20, seed=0)
    assert res.warnings == (str(caught[0].message),) and res.to_dict()["short_run"] is True


def test_memory_check_refuses_with_the_amount():
    with pytest.raises(SizeError, match=r"10000000000 chains of N = 6 spins needs about [0-9.]+ [TP]iB"):
        Sampler(random_pairwise(6, seed=0), 1.0).init(chains=10**10)
    with pytest.raises(SizeError, match=r"for 1200000000 sweeps recording 1000000000"):  # burn-in 10^9 // 5
        sample(random_pairwise(6, seed=0), 1.0, chains=1000, sweeps=10**9)


def test_error_bar_of_a_series_too_short_for_tau_is_nan():
    from thermopot.sampling.statistics import mean_stderr
    assert np.isnan(mean_stderr(np.array([1.0, 2.0, 3.0, 4.0]))[1])  # tau estimate 0: no error bar
    x = np.random.default_rng(0).normal(size=(2000, 8))  # white noise: stderr 1 / sqrt(16000)
    assert abs(mean_stderr(x)[1] * np.sqrt(16000) - 1) < 0.1


def test_short_run_error_bars_without_warnings():
    """A run too short for an autocorrelation time raises no numerical warning (only the ShortRunWarning
    that says the run is short); the value of such an error bar (NaN when tau cannot be estimated, the
    white-noise 1 / sqrt(n) otherwise) is asserted by test_error_bar_of_a_series_too_short_for_tau_is_nan."""
    from thermopot.sampling import ShortRunWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ShortRunWarning)
        sample(random_pairwise(2, seed=1), 1.0, chains=1, sweeps=10, seed=1, correlations=True)


def _result_after(sampler, *, sweeps):
    """The result of two chains after ``sweeps`` recorded sweeps."""
    return sampler.result(sampler.run(sampler.init(chains=2), sweeps))


@pytest.mark.parametrize("call,match", [
    (lambda m: sample(m, 0.0), "temperature"),
    (lambda m: sample(m, -1.0), "temperature"),
    (lambda m: sample(m, float("nan")), "temperature"),
    (lambda m: sample(m, 1.0, chains=0), "chains"),
    (lambda m: sample(m, 1.0, sweeps=1), "sweeps"),
    (lambda m: sample(m, 1.0, method="glauber"), "method"),
    (lambda m: sample(m, 1.0, scan="zigzag"), "scan"),
    (lambda m: Sampler(m, 1.0).init(initial=np.ones(5)), "shape"),
    (lambda m: Sampler(m, 1.0).init(initial=np.zeros((3, 6))), r"\+1 and -1"),
    (lambda m: Sampler(m, 1.0).init(chains=2, initial=np.ones((3, 6))), "chains"),
    (lambda m: Sampler(m, 1.0, record_every=0), "record_every"),
    (lambda m: _result_after(Sampler(m, 1.0), sweeps=1), "2 recorded samples"),
    (lambda m: first_passage(m, 1.0, np.ones(6), max_updates=10), "exactly one"),
    (lambda m: first_passage(m, 1.0, np.ones(6), threshold=2.0, max_updates=10), "overlap"),
    (lambda m: first_passage(m, 1.0, np.ones(6), targets=np.ones(5), max_updates=10), "targets"),
    (lambda m: first_passage(m, 1.0, np.ones(6), threshold=0.5, max_updates=0), "max_updates"),
    (lambda m: load_state("/nonexistent/checkpoint.npz"), "checkpoint"),
])
def test_bad_input(call, match):
    with pytest.raises(ThermopotError, match=match):
        call(random_pairwise(6, seed=0))


@pytest.mark.gpu
@pytest.mark.parametrize("rng", ["pcg64", "philox"])
def test_cupy_matches_numpy(rng):
    model = random_multispin(8, seed=6)
    a, b = (Sampler(model, 1.0, scan="random", generator=rng, backend=name) for name in ("numpy", "cupy"))
    assert np.array_equal(a.run(a.init(chains=16, seed=3), 20).spins, b.run(b.init(chains=16, seed=3), 20).spins)
