"""Deep linear networks and the Platonic kernel (thermopot.entropic.deep_linear, .platonic): gradients and
Hessians against finite differences, the exact discrete charge identity, closed forms of K*, and the
noise-balance condition that makes K* stationary."""

import math

import numpy as np
import pytest

from thermopot.backend import get_namespace, to_numpy
from thermopot.entropic.deep_linear import (DeepLinear, population_hessian_vector_product, population_gradients,
                                            population_hessian, population_loss, population_top_eigenvalue)
from thermopot.entropic.platonic import (check_covariance, kernel_cosine, noise_balance_matrix, platonic_kernel,
                                         psd_power)
from thermopot.entropic.sgd import LinearTeacher, SGDError, sgd_step


def spd(rng, n, low=0.3, high=2.0):
    """A random symmetric positive definite n x n matrix with eigenvalues in [low, high]."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * rng.uniform(low, high, n)) @ q.T


def deep_case(seed=0, runs=3, backend="numpy"):
    """A depth-3 net with a non-square view M_I (5 x 3) and output map M_O (2 x 4), its parameters, a teacher."""
    rng = np.random.default_rng(seed)
    net = DeepLinear(rng.standard_normal((5, 3)), [4, 6], rng.standard_normal((2, 4)))
    teacher = LinearTeacher(rng.standard_normal((2, 3)), spd(rng, 2), spd(rng, 3))
    return net, net.init(rng, runs, backend=backend), teacher, rng


def central_difference(f, flat, h):
    """d f / d flat[:, j] for every j by central differences; f maps (B, P) -> (B,) or (B, Q)."""
    cols = []
    for j in range(flat.shape[1]):
        up, down = flat.copy(), flat.copy()
        up[:, j] += h
        down[:, j] -= h
        cols.append((f(up) - f(down)) / (2 * h))
    return np.stack(cols, axis=-1)


def test_gradients_match_finite_differences():
    net, params, teacher, rng = deep_case()
    xp = get_namespace("numpy")
    x, y = teacher.draw(rng, 3, 7, xp)
    analytic = to_numpy(net.flatten(net.gradients(params, x, y)))
    numeric = central_difference(lambda f: to_numpy(net.loss(net.unflatten(f), x, y)), to_numpy(net.flatten(params)),
                                 1e-6)
    assert np.max(np.abs(analytic - numeric)) < 1e-7 * max(1.0, np.max(np.abs(analytic)))
    # the batch loss is the mean of (1/2)|A x - y|^2 with A = M_O W3 W2 W1 M_I
    A = net.m_out @ params["W3"] @ params["W2"] @ params["W1"] @ net.m_in
    direct = 0.5 * np.mean(np.sum((np.einsum("bij,bsj->bsi", A, x) - y) ** 2, axis=-1), axis=-1)
    np.testing.assert_allclose(to_numpy(net.loss(params, x, y)), direct, rtol=1e-13)


def test_population_gradient_and_hessian_match_finite_differences():
    net, params, teacher, _ = deep_case(1)
    flat = to_numpy(net.flatten(params))
    grad = to_numpy(net.flatten(population_gradients(net, params, teacher)))
    numeric = central_difference(lambda f: population_loss(net, net.unflatten(f), teacher), flat, 1e-6)
    assert np.max(np.abs(grad - numeric)) < 1e-7 * max(1.0, np.max(np.abs(grad)))
    H = population_hessian(net, params, teacher)
    H_fd = central_difference(lambda f: to_numpy(net.flatten(population_gradients(net, net.unflatten(f), teacher))),
                              flat, 1e-5)
    assert np.max(np.abs(H - H_fd)) < 1e-7 * np.max(np.abs(H))
    # the exact Hessian-vector product is symmetric before symmetrisation: u.Hv = v.Hu
    u, v = (np.random.default_rng(5).standard_normal(flat.shape) for _ in range(2))
    hv = to_numpy(net.flatten(population_hessian_vector_product(net, params, teacher, net.unflatten(v))))
    hu = to_numpy(net.flatten(population_hessian_vector_product(net, params, teacher, net.unflatten(u))))
    np.testing.assert_allclose(np.sum(u * hv, axis=1), np.sum(v * hu, axis=1), rtol=1e-12)


def test_top_eigenvalue_dense_power_and_closed_form():
    net, params, teacher, _ = deep_case(2)
    dense = population_top_eigenvalue(net, params, teacher, method="dense")
    np.testing.assert_allclose(dense, np.linalg.eigvalsh(population_hessian(net, params, teacher))[:, -1])
    # power iteration finds the largest-modulus eigenvalue; at a minimum of a scalar two-layer net it is the
    # top one: L = (a/2)(w2 w1 - v)^2 has H = a [[w1^2, w1 w2], [w1 w2, w2^2]] at w2 w1 = v, top a (w1^2 + w2^2)
    scalar = DeepLinear(np.eye(1), [1], np.eye(1))
    a, v = 1.7, 0.8
    w1 = np.array([0.5, 1.0, 2.0])
    point = {"W1": w1.reshape(3, 1, 1), "W2": (v / w1).reshape(3, 1, 1)}
    toy = LinearTeacher(np.array([[v]]), 0.3, np.array([[a]]))
    expected = a * (w1**2 + (v / w1) ** 2)
    np.testing.assert_allclose(population_top_eigenvalue(scalar, point, toy, method="dense"), expected, rtol=1e-12)
    np.testing.assert_allclose(population_top_eigenvalue(scalar, point, toy, method="power", iterations=200), expected,
                               rtol=1e-10)
    # with learning rates: the top eigenvalue of Lambda^(1/2) H Lambda^(1/2); one rate eta scales it by eta, and
    # layer-wise rates on the scalar net give a (eta_1 w2^2 + eta_2 w1^2) (H = a u u^T, u = dA/d(w1, w2) = (w2, w1))
    np.testing.assert_allclose(population_top_eigenvalue(scalar, point, toy, lr=0.1), 0.1 * expected, rtol=1e-12)
    rates = {"W1": 0.1, "W2": 0.4}
    layered = a * (0.1 * (v / w1) ** 2 + 0.4 * w1**2)
    for method in ("dense", "power"):
        np.testing.assert_allclose(population_top_eigenvalue(scalar, point, toy, method=method, lr=rates), layered,
                                   rtol=1e-10)
    # the deep case (not at a minimum): power iteration returns the eigenvalue of largest modulus
    lam = np.linalg.eigvalsh(population_hessian(net, params, teacher))
    top_mod = np.where(np.abs(lam[:, 0]) > lam[:, -1], lam[:, 0], lam[:, -1])
    power = population_top_eigenvalue(net, params, teacher, method="power", iterations=3000)
    np.testing.assert_allclose(power, top_mod, rtol=1e-6)


def test_discrete_charge_identity_to_machine_precision(backend):
    xp = get_namespace(backend)
    net, params, teacher, rng = deep_case(3, runs=4, backend=backend)
    eta = np.array([0.002, 0.005, 0.01, 0.02])
    for _ in range(20):
        x, y = teacher.draw(rng, 4, 5, xp)
        new, g = sgd_step(net, params, x, y, eta)
        before, after, inc = net.charges(params), net.charges(new), net.charge_increments(g)
        for d0, d1, dd in zip(before, after, inc):
            scale = max(np.max(np.abs(d0)), np.max(np.abs(d1)), 1.0)
            assert np.max(np.abs(d1 - d0 - eta[:, None, None] ** 2 * dd)) < 1e-13 * scale
            assert np.max(np.abs(d1 - d0)) > 1e-9  # the charges do move: the identity is not 0 = 0
        params = new
    # layer-wise rates: W_i W_i^T / eta_i - W_{i+1}^T W_{i+1} / eta_{i+1} changes by eta_i g g^T - eta_{i+1} g^T g
    rates = {"W1": 0.01, "W2": np.array([0.002, 0.005, 0.01, 0.02]), "W3": 0.015}
    x, y = teacher.draw(rng, 4, 5, xp)
    new, g = sgd_step(net, params, x, y, rates)
    for d0, d1, dd in zip(net.charges(params, rates), net.charges(new, rates), net.charge_increments(g, rates)):
        assert np.max(np.abs(d1 - d0 - dd)) < 1e-13 * max(np.max(np.abs(d0)), 1.0)


def test_platonic_kernel_closed_forms():
    rng = np.random.default_rng(6)
    V = rng.standard_normal((3, 3))
    # Sigma_x = I, Sigma_e = s^2 I: B = (V V^T)^{1/2} / s and K* = s V^T (V V^T)^{-1/2} V = s (V^T V)^{1/2}
    s = 0.7
    np.testing.assert_allclose(noise_balance_matrix(V, np.eye(3), s**2 * np.eye(3)), psd_power(V @ V.T, 0.5) / s,
                               atol=1e-12)
    np.testing.assert_allclose(platonic_kernel(V, np.eye(3), s**2 * np.eye(3)), s * psd_power(V.T @ V, 0.5),
                               atol=1e-12)
    # all diagonal: K a K = v^2 e gives K = diag(|v| sqrt(e / a))
    v, a, e = np.array([2.0, -0.5, 1.0]), np.array([1.5, 0.4, 2.0]), np.array([0.3, 2.0, 1.0])
    np.testing.assert_allclose(platonic_kernel(np.diag(v), np.diag(a), np.diag(e)), np.diag(np.abs(v) * np.sqrt(e / a)),
                               atol=1e-14)
    # general (d_out < d_in too): B Sigma_e B = V Sigma_x V^T and K* Sigma_x K* = V^T Sigma_e V
    for d_out, d_in in ((3, 3), (2, 4)):
        V, sx, se = rng.standard_normal((d_out, d_in)), spd(rng, d_in), spd(rng, d_out)
        B, K = noise_balance_matrix(V, sx, se), platonic_kernel(V, sx, se)
        np.testing.assert_allclose(B @ se @ B, V @ sx @ V.T, atol=1e-12)
        np.testing.assert_allclose(K @ sx @ K, V.T @ se @ V, atol=1e-12)
        assert np.all(np.linalg.eigvalsh(B) > 0) and np.allclose(K, K.T)
        # K* is unchanged by an orthogonal transform of the labels, changed by a non-orthogonal one
        Q, _ = np.linalg.qr(rng.standard_normal((d_out, d_out)))
        np.testing.assert_allclose(platonic_kernel(Q @ V, sx, Q @ se @ Q.T), K, atol=1e-12)
        T = Q @ np.diag(np.linspace(0.4, 2.5, d_out))
        assert kernel_cosine(platonic_kernel(T @ V, sx, T @ se @ T.T), K) < 0.999


def test_kernel_cosine_values():
    rng = np.random.default_rng(7)
    K = platonic_kernel(rng.standard_normal((3, 3)), spd(rng, 3), spd(rng, 3))
    assert kernel_cosine(K, K) == pytest.approx(1.0, abs=1e-15)
    other = spd(rng, 3)
    assert kernel_cosine(3.5 * K, other) == pytest.approx(float(kernel_cosine(K, other)), rel=1e-14)
    assert kernel_cosine(np.diag([1.0, 0.0]), np.diag([0.0, 1.0])) == 0.0
    assert kernel_cosine(np.eye(2), np.diag([1.0, 0.0])) == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    stacked = kernel_cosine(np.stack([K, 2 * K, other]), K)
    np.testing.assert_allclose(stacked, [1.0, 1.0, kernel_cosine(other, K)], rtol=1e-14)


def test_platonic_kernel_is_the_noise_balance_of_a_two_layer_net():
    """At the point W_1 M_I = P, P^T P = c K*, W_2 = V P^{-1} (c from the traces), the exact expected charge
    increment E[g_1 g_1^T - g_2^T g_2] at the minimum (residual = -noise) vanishes; at another point of the
    same valley it does not. Expectations by an exact cubature: x and eps from point sets with the exact
    second moments (the increment only involves second moments of x and of eps, which are independent)."""
    rng = np.random.default_rng(8)
    d = 3
    V, sx, se = rng.standard_normal((d, d)), spd(rng, d), spd(rng, d)
    view = np.eye(d) + 0.4 * rng.standard_normal((d, d))
    net = DeepLinear(view, [d], np.eye(d))
    points_x = math.sqrt(d) * np.concatenate([psd_power(sx, 0.5), -psd_power(sx, 0.5)])  # rows, second moment sx
    points_e = math.sqrt(d) * np.concatenate([psd_power(se, 0.5), -psd_power(se, 0.5)])
    x = np.repeat(points_x, len(points_e), axis=0)[:, None, :]
    y = x @ V.T + np.tile(points_e, (len(points_x), 1))[:, None, :]
    runs = x.shape[0]
    c = math.sqrt(np.trace(view.T @ view @ sx) / np.trace(se))
    for K, balanced in ((c * platonic_kernel(V, sx, se), True), (c * platonic_kernel(V, sx, np.eye(d)), False)):
        P = psd_power(K, 0.5)
        params = {"W1": np.repeat((P @ np.linalg.inv(view))[None], runs, 0),
                  "W2": np.repeat((V @ np.linalg.inv(P))[None], runs, 0)}
        np.testing.assert_allclose(net.end_to_end(params)[0], V, atol=1e-12)
        mean_increment = net.charge_increments(net.gradients(params, x, y))[0].mean(axis=0)
        np.testing.assert_allclose(net.layer_kernels(params)[0, 0], K, atol=1e-12)
        if balanced:
            assert np.max(np.abs(mean_increment)) < 1e-12
        else:
            assert np.max(np.abs(mean_increment)) > 1e-2


def test_bad_input_raises():
    rng = np.random.default_rng(9)
    V = rng.standard_normal((2, 3))
    with pytest.raises(SGDError, match="positive definite"):
        platonic_kernel(V, np.diag([1.0, -0.5, 1.0]), np.eye(2))
    with pytest.raises(SGDError, match="symmetric"):
        check_covariance(np.array([[1.0, 0.5], [0.0, 1.0]]), "Sigma_e")
    with pytest.raises(SGDError, match="3 x 3"):
        platonic_kernel(V, np.eye(2), np.eye(2))
    with pytest.raises(SGDError, match="NaN"):
        platonic_kernel(V * np.nan, np.eye(3), np.eye(2))
    with pytest.raises(SGDError, match="singular"):
        platonic_kernel(np.ones((2, 3)), np.eye(3), np.eye(2))
    with pytest.raises(SGDError, match="do not match"):
        kernel_cosine(np.eye(2), np.eye(3))
    with pytest.raises(SGDError, match="widths"):
        DeepLinear(np.eye(3), [4, 0], np.eye(2))
    with pytest.raises(SGDError, match="widths"):
        DeepLinear(np.eye(3), [2.5], np.eye(2))
    with pytest.raises(SGDError, match="M_I"):
        DeepLinear(np.ones(3), [4], np.eye(2))
    net, params, teacher, _ = deep_case(10)
    bad = dict(params, W2=params["W2"][:, :3])
    with pytest.raises(SGDError, match="W2"):
        net.gradients(bad, np.zeros((3, 2, 3)), np.zeros((3, 2, 2)))
    with pytest.raises(SGDError, match="a batch must be x"):
        net.gradients(params, np.zeros((3, 2, 4)), np.zeros((3, 2, 2)))
    with pytest.raises(SGDError, match="teacher maps"):
        population_loss(net, params, LinearTeacher(np.eye(3), 0.1))
    with pytest.raises(SGDError, match="Hessian method"):
        population_top_eigenvalue(net, params, teacher, method="lanczos")
    with pytest.raises(SGDError, match="learning rate"):
        net.charges(params, -0.1)
    with pytest.raises(SGDError, match="learning rate"):
        population_top_eigenvalue(net, params, teacher, lr=0.0)
    with pytest.raises(SGDError, match="iterations"):
        population_top_eigenvalue(net, params, teacher, method="power", iterations=0)
    with pytest.raises(SGDError, match="runs"):
        net.init(rng, 0)
