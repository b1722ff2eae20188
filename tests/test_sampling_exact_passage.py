"""The exact mean first-passage time (thermopot.sampling.exact_passage) against closed forms, a dense
solve of the phase-resolved chain, and the sampler's own escape times."""

import math

import numpy as np
import pytest

from thermopot.errors import SizeError, ThermopotError
from thermopot.models import MultiSpinModel, random_pairwise
from thermopot.sampling import METHODS, SCANS, first_passage
from thermopot.sampling.exact_passage import exact_first_passage
from thermopot.states import all_states

Z_MAX = 4.0


def flip(method, de, T):
    return 1.0 / (1.0 + np.exp(de / T)) if method == "heat-bath" else np.minimum(1.0, np.exp(-de / T))


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("h,T", [(1.0, 0.5), (0.3, 2.0), (-0.7, 1.0)])
def test_single_spin_in_a_field_is_geometric(method, scan, h, T):
    """One spin, E = -h s, started at +1: every update flips it with p = p(2h), so the escape time is
    geometric with mean 1/p (heat bath 1 + e^{2h/T}; Metropolis max(1, e^{2h/T}))."""
    model = MultiSpinModel.from_energy_table(np.array([-h, h]))
    expected = 1.0 + math.exp(2 * h / T) if method == "heat-bath" else max(1.0, math.exp(2 * h / T))
    for kw in ({"threshold": 1.0}, {"targets": -np.ones(1)}):
        res = exact_first_passage(model, T, np.ones(1), method=method, scan=scan, **kw)
        assert res.mean == pytest.approx(expected, rel=1e-12)
        assert res.sweeps == res.mean and res.states == 1


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("method", METHODS)
def test_golf_course(method, scan):
    """Issue 5's golf course (one state at -Delta, the rest at 0): 1 + e^{Delta/T} per heat-bath update,
    e^{Delta/T} per Metropolis update, whatever the scan."""
    n, depth, T = 6, 3.0, 0.8
    e = np.zeros(2**n)
    e[0] = -depth
    res = exact_first_passage(MultiSpinModel.from_energy_table(e), T, np.ones(n), threshold=1.0,
                              method=method, scan=scan)
    expected = 1.0 + math.exp(depth / T) if method == "heat-bath" else math.exp(depth / T)
    assert res.mean == pytest.approx(expected, rel=1e-10)
    assert res.residual < 1e-12


def dense_reference(model, T, start, escaped, method, scan):
    """Mean updates to the escape set, by a dense solve over (phase, state): the sequential chain has
    tau[k, s] = 1 + sum_{s' not escaped} P_k[s, s'] tau[k + 1 mod N, s']; the random scan one phase with
    P = mean_k P_k. P_k built from the energies of all states, independently of the module."""
    n = model.n
    e = np.asarray(model.energy(all_states(n)), dtype=float)
    idx = np.arange(2**n)
    P = np.zeros((n, 2**n, 2**n))
    for k in range(n):
        p = flip(method, e[idx ^ (1 << k)] - e, T)
        P[k, idx, idx ^ (1 << k)] = p
        P[k, idx, idx] = 1 - p
    keep = ~escaped
    if scan == "random":
        Q = P.mean(axis=0)[np.ix_(keep, keep)]
        tau = np.linalg.solve(np.eye(len(Q)) - Q, np.ones(len(Q)))
        return tau[np.count_nonzero(keep[:start])]
    m = int(keep.sum())
    A = np.eye(n * m)
    for k in range(n):
        j = (k + 1) % n
        A[k * m:(k + 1) * m, j * m:(j + 1) * m] -= P[k][np.ix_(keep, keep)]
    tau = np.linalg.solve(A, np.ones(n * m))
    return tau[np.count_nonzero(keep[:start])]  # phase 0


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [4, 5, 6])
def test_sparse_solve_matches_dense_solve(n, method, scan):
    model, T = random_pairwise(n, seed=n), 0.7
    states = all_states(n)
    start = 5
    s0 = states[start]
    overlap = states @ s0 / n
    res = exact_first_passage(model, T, s0, threshold=0.5, method=method, scan=scan, rtol=1e-12)
    assert res.mean == pytest.approx(dense_reference(model, T, start, overlap < 0.5, method, scan), rel=1e-9)
    targets = states[[0, 2**n - 1]]
    hit = np.zeros(2**n, dtype=bool)
    hit[[0, 2**n - 1]] = True
    res = exact_first_passage(model, T, s0, targets=targets, method=method, scan=scan, rtol=1e-12)
    assert res.mean == pytest.approx(dense_reference(model, T, start, hit, method, scan), rel=1e-9)
    assert res.mean > 2  # at least the Hamming distance 2 from state 5 to state 0


@pytest.mark.parametrize("scan", SCANS)
def test_sampled_escape_times_agree(scan):
    """The sampler's mean escape time (i.i.d. chains: stderr = std / sqrt(B)) within 4 stderr of the
    exact one, in single-spin updates."""
    model, T, n = random_pairwise(8, seed=2), 0.6, 8
    s0 = np.ones(n)
    exact = exact_first_passage(model, T, s0, threshold=0.5, scan=scan)
    fp = first_passage(model, T, s0, threshold=0.5, chains=2000, max_updates=10**6, scan=scan, seed=4)
    assert fp.hits == 2000
    assert abs(fp.mean - exact.mean) < Z_MAX * fp.stderr, (fp.mean, fp.stderr, exact.mean)


def test_start_already_escaped_and_bad_input():
    model = random_pairwise(5, seed=0)
    s0 = np.ones(5)
    assert exact_first_passage(model, 1.0, s0, targets=s0).mean == 0.0
    with pytest.raises(ThermopotError, match="exactly one"):
        exact_first_passage(model, 1.0, s0)
    with pytest.raises(ThermopotError, match="exactly one"):
        exact_first_passage(model, 1.0, s0, threshold=0.5, targets=s0)
    with pytest.raises(ThermopotError, match="initial"):
        exact_first_passage(model, 1.0, np.ones(4), threshold=0.5)
    with pytest.raises(ThermopotError, match="threshold"):
        exact_first_passage(model, 1.0, s0, threshold=1.5)
    with pytest.raises(ThermopotError, match="method"):
        exact_first_passage(model, 1.0, s0, threshold=0.5, method="glauber")
    with pytest.raises(SizeError, match="N <= 20"):
        exact_first_passage(random_pairwise(21, seed=0), 1.0, np.ones(21), threshold=0.5)
    with pytest.raises(SizeError, match="max_seconds"):
        exact_first_passage(random_pairwise(12, seed=0), 1.0, np.ones(12), targets=-np.ones(12),
                            max_seconds=1e-3)


@pytest.mark.parametrize("scan", SCANS)
def test_underflowing_flip_refused(scan):
    """At a temperature where leaving the well has probability 0 in float64, the time is infinite."""
    e = np.zeros(2**3)
    e[0] = -1.0
    with pytest.raises(ThermopotError, match="did not converge|infinite"):
        exact_first_passage(MultiSpinModel.from_energy_table(e), 1e-3, np.ones(3), threshold=1.0, scan=scan)


@pytest.mark.parametrize("scan", SCANS)
def test_backward_error_within_rtol_at_n16(scan):
    """The overlap-1/2 ball of N = 16 (2517 states): the solve meets its backward error (GMRES once stopped
    on its 2-norm residual with a backward error of 1.9e-10 > 1e-10 here, before the sqrt(|A|) factor)."""
    res = exact_first_passage(random_pairwise(16, seed=1), 0.5, np.ones(16), threshold=0.5, scan=scan)
    assert res.states == 2517 and res.residual <= 1e-10 and res.mean > 1
