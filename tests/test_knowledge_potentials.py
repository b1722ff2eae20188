"""Knowledge potentials on the data: Phi (one minimum, exact ML), G over the reduced pairwise family
(several minima at low T, one at high T), G over the full simplex (one minimum, p_full)."""

import json

import numpy as np
import pytest

from thermopot.backend import get_namespace
from thermopot.datasets import random_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.knowledge._reduced_objectives import ReducedG, pairwise_features
from thermopot.knowledge.description import describe
from thermopot.knowledge.reduced_potentials import (
    full_potential_minima,
    minima_counts,
    phi_minima,
    reduced_potential_minima,
)
from thermopot.knowledge.potentials import (boltzmann_weights, gibbs_G, gibbs_G_gradient, kl_divergence,
                                          shannon_entropy)

#: three patterns of 8 spins, pairwise Hamming distances 4, 4, 4 (well separated)
SEPARATED = np.array([[1] * 8, [1, 1, 1, 1, -1, -1, -1, -1], [-1, -1, 1, 1, -1, -1, 1, 1]])


@pytest.fixture(scope="module")
def separated():
    return describe(SEPARATED, eps=1.0)  # Delta = 8, T* = 8 / log(253 / 3) = 1.80


def test_pairwise_features_give_the_ising_energy():
    xp = get_namespace("numpy")
    X = pairwise_features(4, xp)
    rng = np.random.default_rng(0)
    h, J = rng.normal(size=4), np.triu(rng.normal(size=(4, 4)), 1)
    s = X[:, :4]
    theta = np.concatenate([h, J[np.triu_indices(4, 1)]])
    np.testing.assert_allclose(-X @ theta, -s @ h - np.einsum("bk,kl,bl->b", s, J, s), rtol=1e-14)


def test_reduced_G_gradient_and_hessian_by_finite_differences(separated):
    xp = get_namespace("numpy")
    g = ReducedG(separated.energy_table, 1.3, xp, pairwise_features(8, xp))
    theta = np.random.default_rng(1).normal(0, 0.7, 36)
    value, grad = g.value_grad(theta)
    p = g.peak(theta)[2]
    assert value == pytest.approx(gibbs_G(p, separated.energy_table, 1.3), abs=1e-13)
    step = 1e-6
    eye = np.eye(36)
    fd = np.array([(g.value_grad(theta + step * e)[0] - g.value_grad(theta - step * e)[0]) / (2 * step) for e in eye])
    np.testing.assert_allclose(grad, fd, atol=1e-8)
    fd_h = np.array([(g.value_grad(theta + step * e)[1] - g.value_grad(theta - step * e)[1]) / (2 * step) for e in eye])
    np.testing.assert_allclose(g.hessian(theta), fd_h, atol=1e-7)


@pytest.mark.parametrize("T", [1.0, 2.5])
def test_phi_has_one_minimum_equal_to_exact_ml(backend, T):
    weights = np.random.default_rng(3).uniform(0.5, 2.0, 20)
    data = random_patterns_dataset(5, 20, weights=weights, seed=2)
    r = phi_minima(data, T, starts=5, seed=1, backend=backend)
    assert r.count == 1 and r.rejected == 0
    assert r.ml_difference <= 1e-5 * T  # minimiser = T theta_ML
    assert r.end_spread <= 1e-6  # every start ends there
    assert r.hessian_min_eig[0] > 0 and r.gradient_max[0] <= 1e-7
    w = weights / weights.sum()
    assert r.entropy_bound == pytest.approx(T * shannon_entropy(w), rel=1e-14)
    assert r.Phi[0] > r.entropy_bound  # T KL(w || p_theta) > 0: 20 patterns are not a pairwise Boltzmann law
    # the Minima convention: every start that converged (max |gradient| <= tol; an L-BFGS run may stop just
    # above it, at the minimum all the same: end_spread above) ended at the one minimum
    assert r.starts == 5 and r.kind.tolist() == ["minimum"] and r.seed == 1 and r.backend == backend
    assert r.converged.sum() >= 3 and f"{r.converged.sum()} of 5 starts" in r.message and r.objective is r.Phi
    np.testing.assert_array_equal(r.start_point, np.where(r.converged, 0, -1))
    assert r.basin_fraction.tolist() == [r.converged.mean()]


def _check_minima(r, d, T):
    """Each reported minimum: zero gradient, positive-definite Hessian, G = G(p_theta) >= A."""
    xp = get_namespace("numpy")
    g = ReducedG(d.energy_table, T, xp, pairwise_features(d.n, xp))
    p_full = boltzmann_weights(d.energy_table, T)
    for k, theta in enumerate(r.points):
        value, grad = g.value_grad(theta)
        eig = np.linalg.eigvalsh(g.hessian(theta))
        assert eig[0] > 1e-9 * eig[-1]
        assert np.abs(grad).max() <= 1e-7 * np.sqrt(eig[0] * T)  # Newton decrement tiny
        p = g.peak(theta)[2]
        assert value == pytest.approx(r.G[k], abs=1e-12)
        assert r.G[k] == pytest.approx(gibbs_G(p, d.energy_table, T), abs=1e-12)
        assert r.kl[k] == pytest.approx(kl_divergence(p, p_full), abs=1e-10)
        assert r.G[k] > r.A


def test_low_T_several_minima_high_T_one(separated):
    low = reduced_potential_minima(separated, 1.0, starts=3, pattern_starts=3, seed=1)
    assert low.count > 1
    np.testing.assert_array_equal(low.retrieved, [0, 1, 2])  # a library minimum on every pattern
    assert low.continuum == 0
    _check_minima(low, separated, 1.0)
    high = reduced_potential_minima(separated, 5.0, starts=3, seed=1)
    assert high.count == 1 and high.continuum == 1 and high.library == 0
    assert low.library + low.continuum == low.count
    _check_minima(high, separated, 5.0)
    assert high.library_weight[0] < separated.garbage_weight(5.0)  # mostly garbage above T* = 1.80
    assert json.loads(json.dumps(high.to_dict()))["count"] == 1


def test_pattern_start_reaches_its_pattern_minimum(separated):
    """At T = 1 each pattern has a library minimum peaked on it alone (p_theta(xi^mu) > 0.95): the start
    placed on pattern mu must end there on any machine, not in a mixture minimum chosen by rounding
    (L-BFGS's first line search used to leap out of the flat basin). Random starts are not needed."""
    r = reduced_potential_minima(separated, 1.0, starts=1, pattern_starts=3, seed=0)
    single = r.peak_weight > 0.95
    np.testing.assert_array_equal(np.sort(r.pattern[single]), [0, 1, 2])
    _check_minima(r, separated, 1.0)
    # start_point follows the sort by G: start 1 + i (the pattern start of the i-th most weighted pattern)
    # ends at the minimum peaked on that pattern
    order = np.argsort(-separated.weights, kind="stable")
    assert r.starts == 4 and (r.start_point >= 0).sum() == r.starts - r.plateaus == r.basin_count.sum()
    for i, mu in enumerate(order):
        assert r.pattern[r.start_point[1 + i]] == mu and r.peak_weight[r.start_point[1 + i]] > 0.95


def test_pattern_start_basin_is_robust_to_perturbations(separated):
    """The polish from a pattern start perturbed by 1e-6 (far above any BLAS rounding difference) still
    ends on that pattern's minimum."""
    from thermopot.solvers.local import trust_region_polish as polish
    from thermopot.learning.result import pack

    xp = get_namespace("numpy")
    g = ReducedG(separated.energy_table, 1.0, xp, pairwise_features(8, xp))
    rng = np.random.default_rng(0)
    for mu in range(3):
        theta0 = pack(0.5 * separated.depths[mu] * separated.patterns[mu].astype(float), np.zeros((8, 8)))
        for _ in range(2):
            start = theta0 + rng.normal(0.0, 1e-6, theta0.size)
            theta, value, _, _, _, status = polish(g.value_grad, g.hessian, start, rel_eig=1e-9,
                                                   tol=1e-12 * (abs(g.value_grad(start)[0]) + 1.0), gtol=1e-8)
            p = g.peak(theta)[2][separated.indices]
            assert status == "minimum" and np.argmax(p) == mu and p[mu] > 0.95


def test_reduced_minima_backend_independent(gpu_backend, separated):
    ref = reduced_potential_minima(separated, 2.5, starts=3, seed=2, backend="numpy")
    r = reduced_potential_minima(separated, 2.5, starts=3, seed=2, backend=gpu_backend)
    assert r.count == ref.count
    np.testing.assert_allclose(r.G, ref.G, atol=1e-10)
    np.testing.assert_allclose(r.points, ref.points, atol=1e-5)


@pytest.mark.parametrize("T", [0.5, 2.0, 10.0])
def test_full_simplex_has_one_minimum_at_boltzmann(backend, T):
    data = random_patterns_dataset(6, 5, weights=0.6, seed=4)
    d = describe(data, eps=0.9)
    gtol = 1e-7
    r = full_potential_minima(d, T, starts=6, seed=0, gtol=gtol, backend=backend)
    assert r.count == 1 and r.converged.shape == (6,) and r.converged.all()
    assert r.stationarity[0] <= gtol
    # bounds of L-BFGS on sqrt(x) stopped at gtol (Hessian 4 T): G - A <= 2^N gtol^2 / (8 T),
    # |x_s - p_s| <= sqrt(p_s) gtol / (2 T) (+ rounding)
    assert -1e-13 <= r.G[0] - r.A <= 2**6 * gtol**2 / (8 * T) + 1e-13
    assert r.kl[0] * T <= 2**6 * gtol**2 / (8 * T) + 1e-13
    assert r.weight_error <= gtol / (2 * T)
    p = boltzmann_weights(d.energy_table, T)
    assert r.hessian_min_eig_bound[0] == pytest.approx(T / p.max(), rel=1e-6)
    assert np.abs(r.points[0] - p).max() <= gtol / (2 * T) and r.basin_fraction.tolist() == [1.0]
    assert "points" not in r.to_dict() and r.to_dict()["count"] == 1  # 2^N weights per minimum left out


def test_full_simplex_on_the_digits():
    """2^16 states, weights from 0.0087 down to 6e-11: every start converges to p_full, G = A."""
    from thermopot.datasets import load_digits

    d = describe(load_digits().dataset)
    r = full_potential_minima(d, 1.0, starts=4, seed=0)
    assert r.count == 1 and r.converged.all()
    assert abs(r.G[0] - r.A) <= 1e-9 * max(1.0, abs(r.A))
    assert r.weight_error <= 1e-8 and r.kl[0] <= 1e-10


def test_simplex_minimiser_finds_every_minimum_of_a_nonconvex_function():
    """The minimiser is generic: f(x) = T sum x log x - (a/2) sum x^2 on 3 states with a = 6 > 3 T has a
    minimum near each vertex, x = (q, (1 - q)/2, (1 - q)/2) up to permutation, with
    T log q - a q = T log((1 - q)/2) - a (1 - q)/2; the uniform point is a maximum."""
    from scipy.optimize import brentq

    from thermopot.solvers.simplex import minimise_on_simplex
    from thermopot.solvers.dedup import TOTAL_VARIATION, group_rows

    T, a = 1.0, 6.0

    def objective(x):
        return float(T * np.sum(x * np.log(x)) - 0.5 * a * np.sum(x * x)), T * (np.log(x) + 1) - a * x

    q = brentq(lambda q: T * np.log(q) - a * q - T * np.log((1 - q) / 2) + a * (1 - q) / 2, 0.5, 1 - 1e-12)
    rng = np.random.default_rng(1)
    ends = [minimise_on_simplex(objective, np.exp(rng.normal(0, 1, 3)), gtol=1e-8, max_iter=500)
            for _ in range(12)]
    assert all(e.converged for e in ends)
    found = [ends[i].x for i in group_rows(np.array([e.x for e in ends]), 1e-6, TOTAL_VARIATION)[0]]
    assert len(found) == 3
    assert sorted(int(np.argmax(x)) for x in found) == [0, 1, 2]
    for x in found:
        np.testing.assert_allclose(np.sort(x), [(1 - q) / 2, (1 - q) / 2, q], atol=1e-8)


def test_full_minima_count_what_the_minimiser_finds(monkeypatch):
    """full_potential_minima reads G only through gibbs_G / gibbs_G_gradient: with a non-convex term added
    (-(a/2) sum x^2, a = 40 on 4 states) it finds a minimum near each of the 4 states, not p_full."""
    import thermopot.knowledge.reduced_potentials as rp

    a = 40.0
    monkeypatch.setattr(rp, "gibbs_G", lambda x, E, T: gibbs_G(x, E, T) - 0.5 * a * float(np.sum(x * x)))
    monkeypatch.setattr(rp, "gibbs_G_gradient", lambda x, E, T: gibbs_G_gradient(x, E, T) - a * x)
    d = describe(np.array([[1, 1], [1, -1]]), eps=0.5)  # 4 states, energies within 1.1 of each other
    r = full_potential_minima(d, 1.0, starts=16, seed=0)
    assert r.count == 4 and r.converged.sum() >= 4
    assert r.weight_error > 0.5 and (r.kl > 1.0).all()
    assert sorted(np.argmax(r.points, axis=1).tolist()) == [0, 1, 2, 3]  # one minimum near each state
    assert (r.basin_count >= 1).all() and r.basin_count.sum() <= r.converged.sum()


def test_minima_counts_curves(separated):
    c = minima_counts(separated, [1.0, 5.0], m_values=[2, 3], m_temperature=1.0, starts=2, pattern_starts=3,
                      seed=1)
    assert c.counts.shape == (2,) and c.counts_m.shape == (2,)
    assert c.counts[1] == 1 and c.continuum[1] == 1 and c.retrieved[0] >= 2
    np.testing.assert_array_equal(c.retrieved_m, [2, 3])  # every pattern retrieved at low T
    assert c.t_star == separated.t_star
    assert json.loads(json.dumps(c.to_dict()))["m_values"] == [2, 3]


def test_bad_input(separated):
    with pytest.raises(ThermopotError, match="temperature"):
        reduced_potential_minima(separated, 0.0)
    with pytest.raises(ThermopotError, match="starts"):
        reduced_potential_minima(separated, 1.0, starts=0)
    with pytest.raises(ThermopotError, match="pattern_starts"):
        reduced_potential_minima(separated, 1.0, pattern_starts=4)
    with pytest.raises(ThermopotError, match="KnowledgeDescription"):
        reduced_potential_minima(SEPARATED, 1.0)
    with pytest.raises(ThermopotError, match="gtol"):
        full_potential_minima(separated, 1.0, gtol=0.0)
    with pytest.raises(ThermopotError, match="dedup"):
        full_potential_minima(separated, 1.0, dedup=-1.0)
    with pytest.raises(ThermopotError, match="temperature"):
        phi_minima(SEPARATED, -1.0)
    with pytest.raises(ThermopotError, match="m_values"):
        minima_counts(separated, [1.0], m_values=[1], m_temperature=1.0)
    with pytest.raises(ThermopotError, match="m_temperature"):
        minima_counts(separated, [1.0], m_values=[2])


def test_polish_falls_back_when_the_exact_trust_region_solver_fails(monkeypatch):
    """SciPy's trust-exact can raise inside its subproblem solver on a nearly singular Hessian: polish then
    takes the Krylov trust region and still finds the minimum of a convex quadratic."""
    import scipy.optimize

    from thermopot.solvers import local as ro

    real = scipy.optimize.minimize

    def flaky(*args, method=None, **kwargs):
        if method == "trust-exact":
            raise UnboundLocalError("cannot access local variable 'p'")
        return real(*args, method=method, **kwargs)

    monkeypatch.setattr(ro, "minimize", flaky)
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -1.0])
    theta, value, grad, eig, decrement, status = ro.trust_region_polish(
        lambda t: (0.5 * t @ A @ t - b @ t, A @ t - b), lambda t: A, np.zeros(2), rel_eig=1e-9, tol=1e-20, gtol=1e-10)
    assert status == "minimum"
    assert np.allclose(theta, np.linalg.solve(A, b), atol=1e-10)
