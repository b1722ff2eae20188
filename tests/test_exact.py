import math

import numpy as np
import pytest
from scipy.special import comb

from conftest import brute_force
from thermopot.errors import SizeError, ThermopotError
from thermopot.exact import check_size, gibbs_potential, restricted_free_energies, thermodynamics
from thermopot.models import (MultiSpinModel, PairwiseModel, curie_weiss, random_multispin, random_pairwise,
                              ring, sk)

MODELS = {
    "pairwise9": random_pairwise(9, seed=1, h_std=0.7, j_std=0.8),
    "sk7-field": sk(7, seed=2, h=0.2),
    "multispin8": random_multispin(8, order=4, seed=3),
    "single-spin": PairwiseModel([0.4], [[0.0]]),
    "dense-table8": MultiSpinModel.from_energy_table(np.random.default_rng(0).normal(size=2**8)),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("T", [0.3, 1.7])
@pytest.mark.parametrize("block_size", [None, 8, 1])
def test_against_brute_force(name, T, block_size, backend):
    model = MODELS[name]
    th = thermodynamics(model, T, block_size=block_size, backend=backend)
    ref = brute_force(model, T)
    assert th.log_z == pytest.approx(ref["log_z"], abs=1e-10)
    assert th.energy == pytest.approx(ref["energy"], abs=1e-10)
    assert th.heat_capacity == pytest.approx(ref["heat_capacity"], abs=1e-9)
    np.testing.assert_allclose(th.magnetization, ref["magnetization"], atol=1e-11)
    np.testing.assert_allclose(th.correlation, ref["correlation"], atol=1e-11)
    assert th.backend == backend


def test_observables(backend):
    model = MODELS["pairwise9"]
    obs = {"first_two": lambda s: s[:, :2], "energy_sq": lambda s: model.energy(s) ** 2,
           "parity": lambda s: s[:, 0] * s[:, 3] * s[:, 8]}
    th = thermodynamics(model, 0.9, observables=obs, backend=backend, block_size=64)
    ref = brute_force(model, 0.9)
    s, p = ref["states"], ref["p"]
    np.testing.assert_allclose(th.observables["first_two"], ref["magnetization"][:2], atol=1e-12)
    assert th.observables["energy_sq"] == pytest.approx(p @ ref["energies"] ** 2, rel=1e-12)
    assert th.observables["parity"] == pytest.approx(p @ (s[:, 0] * s[:, 3] * s[:, 8]), abs=1e-12)


def test_independent_spins_closed_form():
    h = np.random.default_rng(4).normal(size=10)
    for T in (0.2, 1.0, 5.0):
        th = thermodynamics(PairwiseModel(h, np.zeros((10, 10))), T)
        assert th.log_z == pytest.approx(np.sum(np.log(2 * np.cosh(h / T))), rel=1e-13)
        np.testing.assert_allclose(th.magnetization, np.tanh(h / T), atol=1e-13)
        np.testing.assert_allclose(th.connected, np.diag(1 - np.tanh(h / T) ** 2), atol=1e-13)


@pytest.mark.parametrize("n, j, h, T", [(12, 1.0, 0.0, 0.7), (15, 1.3, 0.05, 1.1), (20, 1.0, -0.2, 0.4)])
def test_curie_weiss_closed_form(n, j, h, T):
    """Sum over M = sum s with binomial multiplicities: E = -(j/2N)(M^2 - N) - h M."""
    M = n - 2 * np.arange(n + 1)
    log_w = np.log(comb(n, np.arange(n + 1))) + ((j / (2 * n)) * (M**2 - n) + h * M) / T
    log_z = np.logaddexp.reduce(log_w)
    p = np.exp(log_w - log_z)
    th = thermodynamics(curie_weiss(n, j=j, h=h), T)
    assert th.log_z == pytest.approx(log_z, rel=1e-13)
    np.testing.assert_allclose(th.magnetization, np.full(n, p @ M / n), atol=1e-12)
    energy = -(j / (2 * n)) * (M**2 - n) - h * M
    assert th.energy == pytest.approx(p @ energy, rel=1e-12)


@pytest.mark.parametrize("n, j, h, T", [(10, 1.0, 0.0, 1.0), (13, -0.7, 0.3, 0.6)])
def test_ring_transfer_matrix(n, j, h, T):
    spins = np.array([1.0, -1.0])
    tm = np.exp((j * np.outer(spins, spins) + h * (spins[:, None] + spins[None, :]) / 2) / T)
    assert thermodynamics(ring(n, j=j, h=h), T).log_z == pytest.approx(
        math.log(np.trace(np.linalg.matrix_power(tm, n))), rel=1e-13)


def test_identities():
    model = random_pairwise(10, seed=8)
    T, dT = 0.8, 1e-4
    th = thermodynamics(model, T)
    assert th.free_energy == pytest.approx(th.energy - T * th.entropy, rel=1e-13)
    up, down = thermodynamics(model, T + dT), thermodynamics(model, T - dT)
    assert (up.free_energy - down.free_energy) / (2 * dT) == pytest.approx(-th.entropy, rel=1e-7)
    assert (up.energy - down.energy) / (2 * dT) == pytest.approx(th.heat_capacity, rel=1e-6)
    dh = 1e-5
    response = np.array([(thermodynamics(model.with_fields(dh * e), T).magnetization
                          - thermodynamics(model.with_fields(-dh * e), T).magnetization) / (2 * dh)
                         for e in np.eye(10)])
    np.testing.assert_allclose(response, th.connected / T, atol=1e-7)


def test_spin_flip_symmetry_at_zero_field():
    model = sk(11, seed=9)
    th = thermodynamics(model, 0.5)
    np.testing.assert_allclose(th.magnetization, 0.0, atol=1e-14)
    h = np.random.default_rng(1).normal(size=11)
    assert thermodynamics(model.with_fields(h), 0.5).log_z == pytest.approx(
        thermodynamics(model.with_fields(-h), 0.5).log_z, rel=1e-14)


def test_low_temperature_large_couplings_do_not_overflow():
    model = PairwiseModel(np.zeros(12), 1e3 * sk(12, seed=5).J)
    T = 0.01
    th = thermodynamics(model, T)
    e0 = brute_force(model, 1.0)["energies"].min()
    assert np.isfinite(th.log_z)
    assert th.log_z == pytest.approx(-e0 / T + math.log(2), rel=1e-14)  # two ground states (s, -s)
    assert th.entropy == pytest.approx(math.log(2), abs=1e-6)
    assert th.heat_capacity == pytest.approx(0.0, abs=1e-12)
    assert th.energy == pytest.approx(e0, rel=1e-14)


def test_high_temperature_limit():
    th = thermodynamics(sk(10, seed=1), 1e8)
    assert th.log_z == pytest.approx(10 * math.log(2), rel=1e-7)
    assert th.entropy == pytest.approx(10 * math.log(2), rel=1e-7)


def test_gibbs_potential_minimum_is_the_free_energy(backend):
    model = sk(8, seed=0, h=0.1)
    T = 0.8
    th = thermodynamics(model, T)
    g = gibbs_potential(model, th.magnetization, T, backend=backend)
    assert g.converged and g.free_energy == pytest.approx(th.free_energy, abs=1e-12)
    np.testing.assert_allclose(g.field, 0.0, atol=1e-9)
    np.testing.assert_allclose(g.hessian, T * np.linalg.inv(th.connected), rtol=1e-8)
    rng = np.random.default_rng(2)
    others = gibbs_potential(model, rng.uniform(-0.9, 0.9, (5, 8)), T)
    assert np.all(others.free_energy > th.free_energy)


def test_gibbs_potential_gradient_hessian_and_fields():
    model = random_pairwise(6, seed=4)
    T = 1.3
    m = np.random.default_rng(3).uniform(-0.8, 0.8, 6)
    g = gibbs_potential(model, m, T)
    eps = 1e-5
    grad = [(gibbs_potential(model, m + eps * e, T).free_energy - gibbs_potential(model, m - eps * e, T).free_energy)
            / (2 * eps) for e in np.eye(6)]
    np.testing.assert_allclose(g.field, grad, atol=1e-7)
    hess = [(gibbs_potential(model, m + eps * e, T).field - gibbs_potential(model, m - eps * e, T).field)
            / (2 * eps) for e in np.eye(6)]
    np.testing.assert_allclose(g.hessian, hess, atol=1e-5)
    assert np.linalg.eigvalsh(g.hessian).min() > 0  # convex
    h = np.random.default_rng(5).normal(size=6)
    shifted = gibbs_potential(model.with_fields(h), m, T)
    assert shifted.free_energy == pytest.approx(g.free_energy - h @ m, abs=1e-11)
    batch = gibbs_potential(model, np.stack([m, -m]), T)
    assert batch.free_energy[0] == pytest.approx(g.free_energy, abs=1e-12)
    assert batch.free_energy.shape == (2,) and batch.converged.all()


def test_gibbs_potential_independent_spins_closed_form():
    """For J = 0: G(m) = T sum [(1+m)/2 log((1+m)/2) + (1-m)/2 log((1-m)/2)] - h.m."""
    h = np.array([0.3, -0.5, 0.0])
    m = np.array([0.2, -0.7, 0.95])
    T = 0.6
    g = gibbs_potential(PairwiseModel(h, np.zeros((3, 3))), m, T)
    entropy_term = T * np.sum((1 + m) / 2 * np.log((1 + m) / 2) + (1 - m) / 2 * np.log((1 - m) / 2))
    assert g.free_energy == pytest.approx(entropy_term - h @ m, abs=1e-12)


@pytest.mark.parametrize("bad", [np.full(4, 1.0), np.full(4, np.nan), np.zeros(3), np.zeros((2, 2, 4))])
def test_gibbs_potential_bad_m(bad):
    with pytest.raises(ThermopotError):
        gibbs_potential(sk(4, seed=0), bad, 1.0)


def test_restricted_free_energies_against_brute_force(backend):
    model = random_multispin(9, order=3, seed=6)
    T = 0.7
    labels = np.random.default_rng(0).integers(10, 15, size=2**9)
    r = restricted_free_energies(model, T, labels, backend=backend, block_size=64)
    ref = brute_force(model, T)
    np.testing.assert_array_equal(r.labels, np.arange(10, 15))
    for a, label in enumerate(r.labels):
        sel = labels == label
        lz = np.logaddexp.reduce(-ref["energies"][sel] / T)
        p = np.exp(-ref["energies"][sel] / T - lz)
        assert r.log_z[a] == pytest.approx(lz, abs=1e-11)
        assert r.energy[a] == pytest.approx(p @ ref["energies"][sel], abs=1e-11)
        np.testing.assert_allclose(r.magnetization[a], ref["states"][sel].T @ p, atol=1e-11)
        assert r.size[a] == sel.sum()
    assert r.weight.sum() == pytest.approx(1.0, abs=1e-13)
    assert np.logaddexp.reduce(r.log_z) == pytest.approx(ref["log_z"], abs=1e-11)


def test_restricted_free_energy_of_a_high_basin_at_low_temperature():
    """A basin far above the global minimum keeps its exact F_a = E_min,a - T log(degeneracy)."""
    model = PairwiseModel(np.zeros(8), 50.0 * sk(8, seed=2).J)
    e = brute_force(model, 1.0)["energies"]
    labels = (np.arange(256) >= 128).astype(np.int64)
    r = restricted_free_energies(model, 0.01, labels)
    for a in (0, 1):
        emin = e[labels == a].min()
        deg = np.sum(np.isclose(e[labels == a], emin, rtol=0, atol=1e-9))
        assert r.free_energy[a] == pytest.approx(emin - 0.01 * math.log(deg), abs=1e-9)


def test_size_guard_refuses_with_memory_and_time():
    with pytest.raises(SizeError, match=r"N=60 spins .* memory .*(years|days)"):
        check_size(60)
    with pytest.raises(SizeError, match="N <= 62"):
        check_size(70)
    with pytest.raises(SizeError, match="limit"):
        thermodynamics(sk(48, seed=0), 1.0)
    with pytest.raises(SizeError, match="limit"):
        check_size(30, max_seconds=1.0)
    memory, seconds = check_size(16)
    assert 0 < memory < 1e9 and 0 < seconds < 1


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf"), "warm"])
def test_bad_temperature(T):
    with pytest.raises(ThermopotError, match="temperature"):
        thermodynamics(sk(4, seed=0), T)


def test_model_specs_and_bad_block_size():
    assert thermodynamics("curie-weiss:n=6,j=1", 1.0).n == 6
    with pytest.raises(ThermopotError, match="block_size"):
        thermodynamics(sk(4, seed=0), 1.0, block_size=-3)
    with pytest.raises(ThermopotError, match="labels"):
        restricted_free_energies(sk(4, seed=0), 1.0, np.zeros(15, dtype=int))


def test_gibbs_potential_at_low_temperature():
    """At T = 0.01 the susceptibility underflows at the naive start; the damped, capped Newton step
    still reaches G(0) = -T log 2 for one spin in a field, and G(<s>) = F for a random model."""
    g = gibbs_potential(PairwiseModel([0.7], [[0.0]]), [0.0], 0.01)
    assert g.converged and g.free_energy == pytest.approx(-0.01 * math.log(2), abs=1e-12)
    assert g.field[0] == pytest.approx(-0.7, abs=1e-9)
    model = random_pairwise(4, seed=2)
    # lowest temperatures at which every exact m_k is representable inside (-1, 1): 1 - |m_4| = 6.9e-12 and
    # 8.4e-15; at T = 0.05 it is about 1e-23, so the correctly rounded m_4 is -1.0, on the face, where G is
    # infinite (an earlier tile order rounded it to -1 + 2.2e-16 by chance)
    for T in (0.1, 0.08):
        th = thermodynamics(model, T)
        assert gibbs_potential(model, th.magnetization, T).free_energy == pytest.approx(th.free_energy, abs=1e-10)
