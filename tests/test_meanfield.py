"""Numeric Plefka/TAP potentials against exact enumeration, finite differences and closed forms."""

import numpy as np
import pytest

from thermopot.backend import get_namespace, gpu_available, to_numpy
from thermopot.errors import ThermopotError
from thermopot.exact import gibbs_potential
from thermopot.meanfield import (gibbs_free_energy, gibbs_gradient, gibbs_hessian, mean_field, plefka_margin,
                                 plefka_valid)
from thermopot.models import MultiSpinModel, PairwiseModel, random_multispin, random_pairwise, sk

TEMPS = (8.0, 16.0, 32.0)


def _residuals(model, m, temps, orders):
    """|beta G_k(m) - beta G_exact(m)| for each T (rows) and order k (columns)."""
    out = np.empty((len(temps), len(orders)))
    for a, T in enumerate(temps):
        exact = gibbs_potential(model, m, T, tol=1e-13).value
        for b, k in enumerate(orders):
            out[a, b] = abs(gibbs_free_energy(model, m, T, k) - exact) / T
    return out


# Points where a leading coefficient happens to nearly vanish (e.g. n=5, seed=0 at order 4) need smaller
# beta to show the asymptotic slope; these seeds are generic at T = 8, 16, 32.
@pytest.mark.parametrize("n, seed", [(5, 3), (6, 4), (8, 3)])
def test_residual_shrinks_as_beta_to_the_order_plus_one(n, seed):
    model = random_pairwise(n, seed=seed, h_std=0.5)
    m = np.random.default_rng(seed).uniform(-0.6, 0.6, n)
    orders = (1, 2, 3, 4)
    res = _residuals(model, m, TEMPS, orders)
    log_beta = np.log(1 / np.array(TEMPS))
    for b, k in enumerate(orders):
        slope = np.polyfit(log_beta, np.log(res[:, b]), 1)[0]
        assert abs(slope - (k + 1)) < 0.3, (k, slope, res[:, b])
    assert np.all(np.diff(res[0]) < 0), res[0]  # at one beta the residual decreases with the order


def test_orders_five_and_six_also_converge():
    model = random_pairwise(6, seed=2)
    m = np.random.default_rng(2).uniform(-0.5, 0.5, 6)
    temps = (4.0, 8.0, 16.0)
    res = _residuals(model, m, temps, (5, 6))
    log_beta = np.log(1 / np.array(temps))
    for b, k in enumerate((5, 6)):
        assert abs(np.polyfit(log_beta, np.log(res[:, b]), 1)[0] - (k + 1)) < 0.4


def test_order_two_gradient_is_the_tap_equation():
    """dG_2/dm_k = T atanh m_k - h_k - sum_l J_kl m_l + beta m_k sum_l J_kl^2 (1 - m_l^2) (theory.md)."""
    model = random_pairwise(7, seed=4)
    T = 1.3
    M = np.random.default_rng(4).uniform(-0.8, 0.8, (6, 7))
    want = (T * np.arctanh(M) - model.h - M @ model.J + M * ((1 - M**2) @ (model.J**2)) / T)
    np.testing.assert_allclose(gibbs_gradient(model, M, T, 2), want, atol=1e-12)
    # a fixed point of the TAP iteration is a stationary point of G_2
    m = np.zeros(7)
    for _ in range(2000):
        m = 0.5 * m + 0.5 * np.tanh((model.h + model.J @ m - m * ((model.J**2) @ (1 - m**2)) / T) / T)
    assert np.abs(gibbs_gradient(model, m, T, 2)).max() < 1e-10


def test_naive_mean_field_and_second_order_closed_forms():
    model = random_pairwise(6, seed=5)
    T, m = 0.9, np.random.default_rng(5).uniform(-0.9, 0.9, 6)
    entropy = -np.sum((1 + m) / 2 * np.log((1 + m) / 2) + (1 - m) / 2 * np.log((1 - m) / 2))
    g1 = -model.h @ m - 0.5 * m @ model.J @ m - T * entropy
    onsager = 0.25 / T * np.sum(model.J**2 * np.outer(1 - m**2, 1 - m**2))
    assert gibbs_free_energy(model, m, T, 1) == pytest.approx(g1, rel=1e-13)
    assert gibbs_free_energy(model, m, T, 2) == pytest.approx(g1 - onsager, rel=1e-13)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_gradient_and_hessian_against_finite_differences(order):
    model = random_pairwise(6, seed=6)
    pot = mean_field(model, 1.1, order)
    M = np.random.default_rng(6).uniform(-0.7, 0.7, (4, 6))
    eps = 1e-5
    fd = np.stack([(pot.value(M + eps * e) - pot.value(M - eps * e)) / (2 * eps) for e in np.eye(6)], axis=1)
    fdh = np.stack([(pot.gradient(M + eps * e) - pot.gradient(M - eps * e)) / (2 * eps) for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(pot.gradient(M), fd, atol=1e-8)
    np.testing.assert_allclose(pot.hessian(M), fdh, atol=1e-7)
    G, g = pot.value_and_gradient(M)
    np.testing.assert_allclose(G, pot.value(M), rtol=1e-14)
    np.testing.assert_allclose(g, pot.gradient(M), rtol=1e-14)


@pytest.mark.parametrize("order", [2, 4])
def test_batched_and_single_evaluation_agree(order):
    model = random_pairwise(8, seed=7)
    M = np.random.default_rng(7).uniform(-0.7, 0.7, (5, 8))
    G, g, H = (gibbs_free_energy(model, M, 0.8, order), gibbs_gradient(model, M, 0.8, order),
               gibbs_hessian(model, M, 0.8, order))
    assert G.shape == (5,) and g.shape == (5, 8) and H.shape == (5, 8, 8)
    for b in range(5):
        assert isinstance(gibbs_free_energy(model, M[b], 0.8, order), float)
        np.testing.assert_allclose(gibbs_free_energy(model, M[b], 0.8, order), G[b], rtol=1e-13)
        np.testing.assert_allclose(gibbs_gradient(model, M[b], 0.8, order), g[b], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(gibbs_hessian(model, M[b], 0.8, order), H[b], rtol=1e-12, atol=1e-13)


def test_multispin_naive_mean_field():
    model = random_multispin(6, order=3, seed=0)
    T = 0.7
    M = np.random.default_rng(8).uniform(-0.8, 0.8, (3, 6))
    energy = np.array([-sum(c * np.prod(x[row]) for row, c in zip(model.subsets, model.couplings)) for x in M])
    entropy = -np.sum((1 + M) / 2 * np.log((1 + M) / 2) + (1 - M) / 2 * np.log((1 - M) / 2), axis=1)
    np.testing.assert_allclose(gibbs_free_energy(model, M, T, 1), energy - T * entropy, rtol=1e-13)
    pot = mean_field(model, T, 1)
    eps = 1e-5
    fdh = np.stack([(pot.gradient(M + eps * e) - pot.gradient(M - eps * e)) / (2 * eps) for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(pot.hessian(M), fdh, atol=1e-7)
    with pytest.raises(ThermopotError, match="order 1"):
        mean_field(model, T, 2)


def test_pairwise_multispin_model_is_treated_as_pairwise():
    pair = random_pairwise(5, seed=9)
    k, l = np.triu_indices(5, 1)
    subsets = np.zeros((5 + len(k), 5), dtype=bool)
    subsets[np.arange(5), np.arange(5)] = True
    subsets[5 + np.arange(len(k)), k] = subsets[5 + np.arange(len(k)), l] = True
    multi = MultiSpinModel(subsets, np.concatenate([pair.h, pair.J[k, l]]))
    m = np.random.default_rng(9).uniform(-0.5, 0.5, 5)
    assert gibbs_free_energy(multi, m, 2.0, 3) == pytest.approx(gibbs_free_energy(pair, m, 2.0, 3), rel=1e-13)


def test_plefka_condition():
    model = random_pairwise(6, seed=10)
    M = np.random.default_rng(10).uniform(-0.9, 0.9, (4, 6))
    T = 0.6
    q = 1 - M**2
    want = np.min(1 - q * (q @ model.J**2) / T**2, axis=1)
    np.testing.assert_allclose(plefka_margin(model, M, T), want, rtol=1e-13)
    np.testing.assert_array_equal(plefka_valid(model, M, T), want > 0)
    strong = PairwiseModel(np.zeros(4), 3.0 * (np.ones((4, 4)) - np.eye(4)))
    assert plefka_valid(strong, np.zeros(4), 50.0) is True
    assert plefka_valid(strong, np.zeros(4), 1.0) is False


@pytest.mark.parametrize("bad, match", [
    (dict(order=0), "order"), (dict(order=99), "order"),
    (dict(m=np.full(5, 1.0)), r"\(-1, 1\)"), (dict(m=np.full(5, -1.2)), r"\(-1, 1\)"),
    (dict(m=np.zeros(4)), "shape"), (dict(m=np.zeros((2, 3, 5))), "shape"),
    (dict(m=np.array([0.1, np.nan, 0, 0, 0])), "NaN"), (dict(T=0.0), "temperature"),
])
def test_bad_input(bad, match):
    args = dict(model=random_pairwise(5, seed=11), m=np.zeros(5), T=1.0, order=2)
    args.update(bad)
    with pytest.raises(ThermopotError, match=match):
        gibbs_free_energy(args["model"], args["m"], args["T"], args["order"])


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a usable GPU")
@pytest.mark.parametrize("order", [2, 4])
def test_numpy_and_cupy_agree(order):
    model = random_pairwise(12, seed=12)
    M = np.random.default_rng(12).uniform(-0.7, 0.7, (9, 12))
    cp = get_namespace("cupy")
    cpu, gpu = mean_field(model, 0.9, order, backend="numpy"), mean_field(model, 0.9, order, backend="cupy")
    Mg = cp.asarray(M)
    np.testing.assert_allclose(to_numpy(gpu.value(Mg)), cpu.value(M), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(gpu.gradient(Mg)), cpu.gradient(M), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gpu.hessian(Mg)), cpu.hessian(M), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(gibbs_free_energy(model, Mg, 0.9, order), cpu.value(M), rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_interaction_part_is_g_plus_t_times_the_entropy(order):
    """R = G + T S_0, dR = dG - T atanh(m), d2R = d2G - diag(T / (1 - m^2)) (solvers use R)."""
    T = 0.7
    pot = mean_field(sk(8, seed=0, h=0.2), T, order)
    m = np.random.default_rng(0).uniform(-0.9, 0.9, (4, 8))
    s0 = -np.sum((1 + m) / 2 * np.log((1 + m) / 2) + (1 - m) / 2 * np.log((1 - m) / 2), axis=1)
    np.testing.assert_allclose(pot.interaction(m)[0], pot.value(m) + T * s0, atol=1e-12)
    np.testing.assert_allclose(pot.interaction(m, gradient=True)[1], pot.gradient(m) - T * np.arctanh(m), atol=1e-12)
    hess = pot.hessian(m) - np.stack([np.diag(T / (1 - row**2)) for row in m])
    np.testing.assert_allclose(pot.interaction(m, hessian=True)[1], hess, atol=1e-12)


def test_shipped_programs_equal_a_fresh_compilation():
    """The JSON programs that spare SymPy at run time are exactly what the compiler makes now."""
    import json

    from thermopot.meanfield.program import PROGRAMS_FILE, program_from_dict
    from thermopot.meanfield.compiler import compile_program
    from thermopot.symbolic.orders import MAX_ORDER

    stored = json.loads(PROGRAMS_FILE.read_text())
    assert sorted(map(int, stored)) == list(range(1, MAX_ORDER + 1))
    for order in range(1, MAX_ORDER + 1):
        assert program_from_dict(stored[str(order)]) == compile_program(order)


def test_numeric_code_does_not_import_sympy():
    import subprocess
    import sys

    code = "import sys, thermopot.meanfield, thermopot.solvers; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
