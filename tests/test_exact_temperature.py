"""Exact enumeration at every temperature (issue 16 item 4): T from 1e-60 to 1e300, degenerate ground
states, tiles of every size, against a brute-force log-sum-exp reference in mpmath (50 digits).

The models have dyadic couplings, so float64 evaluates every energy exactly and the reference is the
truth (degenerate ground states are exactly degenerate)."""

import functools
import math

import mpmath
import numpy as np
import pytest

from thermopot.errors import ThermopotError
from thermopot.exact import restricted_free_energies, thermodynamics
from thermopot.models import MultiSpinModel, PairwiseModel, curie_weiss, ring
from thermopot.states import all_states


def _pm_one_glass(n, seed):
    """A +-J spin glass (h = 0): frustrated, ground states degenerate at least twice (s -> -s)."""
    J = np.triu(np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, n)), 1)
    return PairwiseModel(np.zeros(n), J + J.T)


def _quarter_multispin(n, seed):
    """Multi-spin couplings on multiples of 1/4 (odd orders included, so no spin-flip symmetry)."""
    rng = np.random.default_rng(seed)
    subsets = rng.random((12, n)) < 0.3
    subsets[:, 0] |= ~subsets.any(axis=1)
    return MultiSpinModel.from_terms(subsets, rng.integers(-4, 5, 12) / 4.0)


MODELS = {
    "curie-weiss8": curie_weiss(8),
    "pm-glass9": _pm_one_glass(9, seed=5),
    "antiferro-ring8": ring(8, j=-1.0),
    "multispin7": _quarter_multispin(7, seed=2),
}
TEMPERATURES = [1e-60, 1e-16, 1e-9, 0.37, 1.0, 3.0, 1e9, 1e150, 1e300]


@functools.cache
def reference(name, T, labelled=False):
    """Brute force in mpmath: log Z, F, U, S, C, m, <s s^T> and chi by log-sum-exp over all states of
    MODELS[name] (and, when ``labelled``, F_a, U_a, m_a and weight_a for the labels i mod 3)."""
    mpmath.mp.dps = 50
    model = MODELS[name]
    labels = np.arange(2**model.n) % 3 if labelled else None
    s = all_states(model.n).astype(float)
    e = [mpmath.mpf(float(x)) for x in np.asarray(model.energy(s))]
    e0, beta = min(e), 1 / mpmath.mpf(T)
    w = [mpmath.exp(-beta * (x - e0)) for x in e]
    z = mpmath.fsum(w)
    u = e0 + mpmath.fsum(wi * (x - e0) for wi, x in zip(w, e)) / z
    p = np.array([float(wi / z) for wi in w])
    mag = [mpmath.fsum(wi * sk for wi, sk in zip(w, s[:, k])) / z for k in range(model.n)]
    centred = s - np.array([float(mk) for mk in mag])
    out = {"log_z": float(mpmath.log(z) - beta * e0), "free_energy": float(e0 - mpmath.log(z) / beta),
           "energy": float(u), "entropy": float(mpmath.log(z) + beta * (u - e0)),
           "heat_capacity": float(mpmath.fsum(wi * (beta * (x - u)) ** 2 for wi, x in zip(w, e)) / z),
           "magnetization": np.array([float(mk) for mk in mag]), "correlation": (s * p[:, None]).T @ s,
           "connected": (centred * p[:, None]).T @ centred}
    if labels is not None:
        rows = [np.flatnonzero(labels == a) for a in np.unique(labels)]
        za = [mpmath.fsum(w[i] for i in r) for r in rows]
        out.update(label_free_energy=np.array([float(e0 - mpmath.log(zz) / beta) for zz in za]),
                   label_energy=np.array([float(mpmath.fsum(w[i] * e[i] for i in r) / zz)
                                          for r, zz in zip(rows, za)]),
                   label_weight=np.array([float(zz / z) for zz in za]),
                   label_magnetization=np.array([(s[r].T @ np.array([float(w[i] / zz) for i in r]))
                                                 for r, zz in zip(rows, za)]))
    return out


def _scale(model):
    return max(1.0, float(np.abs(model.walsh_terms()[1]).sum()))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("block_size", [None, 8, 2])
def test_every_temperature_against_log_sum_exp_reference(name, block_size):
    model = MODELS[name]
    scale = _scale(model)
    for T in TEMPERATURES:
        th = thermodynamics(model, T, block_size=block_size)
        ref = reference(name, T)
        where = f"{name} T={T:g} block={block_size}"
        assert th.log_z == pytest.approx(ref["log_z"], rel=1e-13, abs=1e-12), where
        assert th.free_energy == pytest.approx(ref["free_energy"], rel=1e-13, abs=1e-12 * scale), where
        assert th.energy == pytest.approx(ref["energy"], abs=1e-12 * scale), where
        assert th.entropy == pytest.approx(ref["entropy"], abs=1e-11), where
        assert th.heat_capacity == pytest.approx(ref["heat_capacity"], rel=1e-9, abs=1e-11), where
        np.testing.assert_allclose(th.magnetization, ref["magnetization"], atol=1e-12, err_msg=where)
        np.testing.assert_allclose(th.correlation, ref["correlation"], atol=1e-12, err_msg=where)
        np.testing.assert_allclose(th.connected, ref["connected"], atol=1e-12, err_msg=where)
        assert np.abs(th.correlation).max() <= 1.0, where


@pytest.mark.parametrize("name", ["curie-weiss8", "pm-glass9"])
def test_ground_state_limit_counts_the_degenerate_states(name):
    """At T = 1e-60: S = log(number of ground states), U = E0, C = 0, m and <s s^T> the ground-state means."""
    model = MODELS[name]
    s = all_states(model.n).astype(float)
    e = np.asarray(model.energy(s))
    ground = s[e == e.min()]
    th = thermodynamics(model, 1e-60, block_size=4)
    assert th.entropy == pytest.approx(math.log(len(ground)), abs=1e-14)
    assert th.energy == e.min() and th.heat_capacity == 0.0
    np.testing.assert_allclose(th.magnetization, ground.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(th.correlation, ground.T @ ground / len(ground), atol=1e-15)


def test_curie_weiss_24_at_low_temperature_is_exact():
    """The issue's case: U = -11.5 exactly (was -11.4999945), S = log 2, correlations never above 1."""
    th = thermodynamics(curie_weiss(24), 1e-9)
    assert th.energy == pytest.approx(-11.5, abs=1e-13)
    assert th.entropy == pytest.approx(math.log(2), abs=1e-13)
    small = thermodynamics(curie_weiss(12), 1e-9, block_size=4)
    assert np.abs(small.correlation).max() <= 1.0 and small.entropy == pytest.approx(math.log(2), abs=1e-13)


@pytest.mark.parametrize("power", [-150, 520, 1000])
def test_energy_scale_is_exact_at_any_magnitude(power):
    """Couplings and T times 2^power (exact in float64): F, U scale by 2^power; S, C, m, <s s^T> do not
    (C was NaN for |E| >= 1e154)."""
    model, T = MODELS["pm-glass9"], 0.8
    factor = 2.0**power
    big = PairwiseModel(model.h * factor, model.J * factor)
    base, th = thermodynamics(model, T), thermodynamics(big, T * factor, block_size=16)
    assert th.free_energy == pytest.approx(base.free_energy * factor, rel=1e-13)
    assert th.energy == pytest.approx(base.energy * factor, rel=1e-13)
    for key in ("log_z", "entropy", "heat_capacity"):
        assert getattr(th, key) == pytest.approx(getattr(base, key), rel=1e-12), key
    np.testing.assert_allclose(th.correlation, base.correlation, atol=1e-13)


def test_reduced_energy_beyond_float64_is_refused():
    model = PairwiseModel(np.zeros(3), np.full((3, 3), 1e250) - np.diag([1e250] * 3))
    with pytest.raises(ThermopotError, match="reduced energy scale"):
        thermodynamics(model, 1e-60)


def test_connected_correlations_near_the_faces_of_the_cube():
    """Independent spins in strong fields: chi_kk = 1 / cosh^2(beta h_k) down to 1e-13 with full relative
    precision (<s_k^2> - m_k^2 kept only 3 digits)."""
    h = np.array([15.0, -12.0, 9.0, 0.5])
    th = thermodynamics(PairwiseModel(h, np.zeros((4, 4))), 1.0)
    np.testing.assert_allclose(np.diag(th.connected), 1.0 / np.cosh(h) ** 2, rtol=1e-12)
    np.testing.assert_allclose(th.connected - np.diag(np.diag(th.connected)), 0.0, atol=1e-17)


@pytest.mark.parametrize("block_size", [None, 8, 2])
@pytest.mark.parametrize("T", [1e-60, 1e-9, 0.5, 1e9, 1e300])
def test_restricted_free_energies_at_every_temperature(T, block_size):
    model = MODELS["pm-glass9"]
    labels = np.arange(2**model.n) % 3
    r = restricted_free_energies(model, T, labels, block_size=block_size)
    ref = reference("pm-glass9", T, labelled=True)
    scale = _scale(model)
    np.testing.assert_allclose(r.free_energy, ref["label_free_energy"], rtol=1e-13, atol=1e-12 * scale)
    np.testing.assert_allclose(r.energy, ref["label_energy"], atol=1e-12 * scale)
    np.testing.assert_allclose(r.weight, ref["label_weight"], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(r.magnetization, ref["label_magnetization"], atol=1e-12)
