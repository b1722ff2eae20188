"""thermopot.entropic: the SGD engine, the networks and the measurements (theory-entropic.md sections 1-4).

Exact identities are checked to rounding, gradients against central finite differences, the engine
against itself (seeds, vectorisation over runs, equivariance) and against closed forms."""

import numpy as np
import pytest

from thermopot.backend import get_namespace, to_numpy
from thermopot.entropic import (FiniteData, LinearTeacher, ReluNet, ScalarToy, SGDError, TwoLayerLinear, charge,
                                expected_batch_gradient_norms, gradient_flow, gradient_norms, hessian_vector_product,
                                per_sample_gradients, run_sgd, sgd_step, squared_norm,
                                top_hessian_eigenvalue)
from thermopot.errors import ThermopotError

NETWORKS = [pytest.param(ScalarToy(3), id="toy"), pytest.param(TwoLayerLinear(4, 3, 2), id="linear"),
            pytest.param(ReluNet(4, 5, 2), id="relu")]


def dims(net):
    return (1, 1) if isinstance(net, ScalarToy) else (net.d_in, net.d_out)


def setup(net, B=5, S=7, seed=0, xp=None):
    """Random parameters and a random batch (x, y) for ``net``."""
    xp = xp or get_namespace("numpy")
    rng = np.random.default_rng(seed)
    params = net.init(rng, B, backend=xp) if not isinstance(net, ScalarToy) else \
        net.init(rng, B, u=1.3, w=0.6, scale=0.5, backend=xp)
    d_in, d_out = dims(net)
    x = xp.asarray(rng.standard_normal((B, S, d_in)))
    y = xp.asarray(rng.standard_normal((B, S, d_out)))
    return params, x, y


@pytest.mark.parametrize("net", NETWORKS)
def test_gradients_match_finite_differences(net):
    params, x, y = setup(net)
    g = net.gradients(params, x, y)
    h = 1e-6
    for k, p in params.items():
        flat = p.reshape(p.shape[0], -1)
        for j in range(flat.shape[1]):
            plus = {n: v.copy() for n, v in params.items()}
            minus = {n: v.copy() for n, v in params.items()}
            plus[k].reshape(p.shape[0], -1)[:, j] += h
            minus[k].reshape(p.shape[0], -1)[:, j] -= h
            fd = (net.loss(plus, x, y) - net.loss(minus, x, y)) / (2 * h)
            np.testing.assert_allclose(g[k].reshape(p.shape[0], -1)[:, j], fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("net", NETWORKS)
def test_per_sample_gradients_average_to_batch_gradient(net):
    params, x, y = setup(net, S=9)
    per = per_sample_gradients(net, params, x, y)
    batch = net.gradients(params, x, y)
    for k in batch:
        np.testing.assert_allclose(per[k].mean(axis=1), batch[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("per_neuron", [False, True])
def test_noether_identity_single_step(backend, net, per_neuron):
    """Delta(|u|^2 - |w|^2 - |b|^2) = eta^2 (|g_u|^2 - |g_w|^2 - |g_b|^2), per layer and per unit."""
    xp = get_namespace(backend)
    params, x, y = setup(net, seed=1, xp=xp)
    eta = xp.asarray(np.linspace(0.01, 0.3, 5))
    new, g = sgd_step(net, params, x, y, eta)
    c0, c1 = charge(net, params, per_neuron=per_neuron), charge(net, new, per_neuron=per_neuron)
    gn = gradient_norms(net, g, per_neuron=per_neuron)
    e = eta.reshape((-1,) + (1,) * (c0.ndim - 1))
    residual = to_numpy(c1 - c0 - e**2 * (gn["outer"] - gn["inner"]))
    size = to_numpy(e**2 * (gn["outer"] + gn["inner"]))
    assert np.abs(size).max() > 1e-3  # the identity is not trivially 0 = 0
    assert np.abs(residual).max() < 1e-13 * to_numpy(squared_norm(net, params, per_neuron=per_neuron)).max()


@pytest.mark.parametrize("net", NETWORKS)
def test_noether_identity_layerwise_rates_and_weight_decay(net):
    params, x, y = setup(net, seed=2)
    rates = {k: np.linspace(0.02, 0.2, 5) * (1 + i) for i, k in enumerate(net.param_names)}
    new, g = sgd_step(net, params, x, y, rates)
    c0, c1 = charge(net, params, lr=rates), charge(net, new, lr=rates)
    gn = gradient_norms(net, {k: g[k] * np.sqrt(rates[k]).reshape((-1,) + (1,) * (g[k].ndim - 1)) for k in g})
    np.testing.assert_allclose(c1 - c0, gn["outer"] - gn["inner"], rtol=0,
                               atol=1e-13 * squared_norm(net, params).max() / 0.02)
    eta, gamma = 0.1, 0.07
    new, g = sgd_step(net, params, x, y, eta, weight_decay=gamma)
    gn = gradient_norms(net, g)
    predicted = (1 - 2 * eta * gamma) ** 2 * charge(net, params) + eta**2 * (gn["outer"] - gn["inner"])
    np.testing.assert_allclose(charge(net, new), predicted, rtol=0, atol=1e-13 * squared_norm(net, params).max())


def test_rescaling_charge_definition():
    net = ReluNet(2, 3, 1)
    params, _, _ = setup(net, B=2)
    per = charge(net, params, per_neuron=True)
    expected = (params["u"] ** 2).sum(axis=1) - (params["w"] ** 2).sum(axis=2) - params["b"] ** 2
    np.testing.assert_allclose(per, expected, rtol=1e-14)
    np.testing.assert_allclose(charge(net, params), per.sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("net", [NETWORKS[1], NETWORKS[2]])
def test_step_is_equivariant_under_hidden_permutation(net):
    params, x, y = setup(net, seed=3)
    perm = np.random.default_rng(0).permutation(net.hidden)
    P = {k: np.take(v, perm, axis=net.hidden_axes[k]) for k, v in params.items()}
    new, _ = sgd_step(net, params, x, y, 0.1, weight_decay=0.01)
    new_p, _ = sgd_step(net, P, x, y, 0.1, weight_decay=0.01)
    for k in new:
        np.testing.assert_allclose(np.take(new[k], perm, axis=net.hidden_axes[k]), new_p[k], rtol=0, atol=1e-15)


def test_step_is_equivariant_under_rotation_of_linear_hidden_space():
    net = TwoLayerLinear(4, 3, 2)
    params, x, y = setup(net, seed=4)
    O = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))[0]
    R = {"u": params["u"] @ O.T, "w": O @ params["w"]}
    new, _ = sgd_step(net, params, x, y, 0.1)
    new_r, _ = sgd_step(net, R, x, y, 0.1)
    np.testing.assert_allclose(new["u"] @ O.T, new_r["u"], atol=1e-14)
    np.testing.assert_allclose(O @ new["w"], new_r["w"], atol=1e-14)


def test_toy_hessian_exact_and_power_iteration():
    net = ScalarToy(2)
    params, x, y = setup(net, seed=5)
    H = net.hessian(params, x, y)
    v = {"u": np.random.default_rng(2).standard_normal((5, 2)), "w": np.random.default_rng(3).standard_normal((5, 2))}
    hv = hessian_vector_product(net, params, x, y, v)
    exact = np.einsum("bij,bj->bi", H, np.concatenate([v["u"], v["w"]], axis=1))
    np.testing.assert_allclose(np.concatenate([hv["u"], hv["w"]], axis=1), exact, rtol=1e-7, atol=1e-8)
    eig = np.linalg.eigvalsh(H)
    top = np.where(np.abs(eig[:, -1]) >= np.abs(eig[:, 0]), eig[:, -1], eig[:, 0])
    np.testing.assert_allclose(top_hessian_eigenvalue(net, params, x, y, iterations=300), top, rtol=1e-6)


def test_expected_batch_gradient_norms_closed_form():
    """Toy with y = a0 x + sigma e: g_u = m w, E m = delta, Var m_s = 2 delta^2 + sigma^2 per sample,
    so E|g_S,u|^2 = |w|^2 (delta^2 + (2 delta^2 + sigma^2)/S) (E x^4 = 3)."""
    net, sigma, S = ScalarToy(1), 0.7, 3
    params = {"u": np.array([[1.2], [0.5]]), "w": np.array([[0.9], [1.5]])}
    teacher = LinearTeacher([[1.0]], noise=sigma)
    x, y = teacher.draw(np.random.default_rng(0), 2, 400_000, get_namespace("numpy"))
    est = expected_batch_gradient_norms(net, params, x, y, S)
    delta = (params["u"] * params["w"])[:, 0] - 1.0
    m2 = delta**2 + (2 * delta**2 + sigma**2) / S
    np.testing.assert_allclose(est["outer"], params["w"][:, 0] ** 2 * m2, rtol=0.02)
    np.testing.assert_allclose(est["inner"], params["u"][:, 0] ** 2 * m2, rtol=0.02)
    # S = 1: exactly the mean per-sample squared norm
    one = expected_batch_gradient_norms(net, params, x[:, :50], y[:, :50], 1)
    per = per_sample_gradients(net, params, x[:, :50], y[:, :50])
    np.testing.assert_allclose(one["outer"], (per["u"] ** 2).sum(axis=2).mean(axis=1), rtol=1e-12)


def test_linear_teacher_moments():
    V = np.array([[1.0, -0.5], [0.3, 2.0], [0.0, 1.0]])
    sx = np.array([[2.0, 0.5], [0.5, 1.0]])
    se = np.diag([0.5, 1.0, 0.2])
    t = LinearTeacher(V, noise=se, input_cov=sx)
    x, y = t.draw(np.random.default_rng(1), 4, 50_000, get_namespace("numpy"))
    x, y = x.reshape(-1, 2), y.reshape(-1, 3)
    np.testing.assert_allclose(x.T @ x / len(x), sx, atol=0.03)
    e = y - x @ V.T
    np.testing.assert_allclose(e.T @ e / len(e), se, atol=0.02)
    np.testing.assert_allclose(t.noise_covariance, se, atol=1e-14)


def test_finite_data_draws_members_with_replacement():
    rng = np.random.default_rng(2)
    data = FiniteData(rng.standard_normal((5, 2)), rng.standard_normal((5, 1)))
    x, y = data.draw(np.random.default_rng(3), 3, 5, get_namespace("numpy"))
    assert x.shape == (3, 5, 2) and y.shape == (3, 5, 1)
    rows = [np.flatnonzero((data.x == xi).all(axis=1)) for xi in x.reshape(-1, 2)]
    assert all(len(r) == 1 for r in rows)
    assert np.allclose(y.reshape(-1, 1), data.y[[r[0] for r in rows]])


def test_run_sgd_reproducible_and_records():
    net = ReluNet(3, 4, 1)
    params, _, _ = setup(net, B=3)
    teacher = LinearTeacher(np.ones((1, 3)), noise=0.5)
    rec = lambda p, t: {"C": charge(net, p), "loss_u": p["u"]}  # noqa: E731
    a = run_sgd(net, params, teacher, lr=0.05, batch_size=2, steps=20, seed=4, record=rec, record_every=5)
    b = run_sgd(net, params, teacher, lr=0.05, batch_size=2, steps=20, seed=4, record=rec, record_every=5)
    c = run_sgd(net, params, teacher, lr=0.05, batch_size=2, steps=20, seed=5)
    assert list(a.steps) == [0, 5, 10, 15, 20]
    assert a.records["C"].shape == (5, 3) and a.records["loss_u"].shape == (5, 3, 1, 4)
    np.testing.assert_array_equal(a.records["loss_u"][-1], a.params["u"])
    for k in params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.allclose(a.params["u"], c.params["u"])


def test_vectorised_runs_equal_separate_runs():
    net = TwoLayerLinear(3, 2, 2)
    params, _, _ = setup(net, B=4)
    teacher = LinearTeacher(np.ones((2, 3)), noise=0.5)
    lrs = np.array([0.01, 0.02, 0.05, 0.1])
    together = run_sgd(net, params, teacher, lr=lrs, batch_size=3, steps=30, seed=[10, 11, 12, 13])
    for b in range(4):
        alone = run_sgd(net, {k: v[b:b + 1] for k, v in params.items()}, teacher, lr=lrs[b], batch_size=3, steps=30,
                        seed=[10 + b])
        for k in params:
            np.testing.assert_allclose(together.params[k][b], alone.params[k][0], rtol=1e-13, atol=1e-15)


def test_full_batch_gd_is_euler_flow_and_rk4_conserves_charge():
    net = TwoLayerLinear(3, 2, 2)
    params, _, _ = setup(net, B=2)
    data = FiniteData.sample(LinearTeacher(np.ones((2, 3)), noise=0.5), 16, np.random.default_rng(0))
    gd = run_sgd(net, params, data, lr=0.05, steps=40, full_batch=True)
    euler = gradient_flow(net, params, data, time=2.0, dt=0.05, method="euler")
    for k in params:
        np.testing.assert_allclose(gd.params[k], euler.params[k], rtol=1e-14)
    rec = lambda p, t: {"C": charge(net, p)}  # noqa: E731
    drift = [np.abs(np.diff(gradient_flow(net, params, data, time=1.0, dt=dt, record=rec,
                                          record_every=int(round(1 / dt))).records["C"], axis=0)).max()
             for dt in (0.04, 0.02)]
    assert drift[0] < 1e-5 * squared_norm(net, params).max()
    assert 8 < drift[0] / drift[1] < 32  # O(dt^4)


def test_gradient_flow_time_must_be_a_whole_number_of_steps():
    net = TwoLayerLinear(3, 2, 2)
    params, _, _ = setup(net, B=2)
    data = FiniteData.sample(LinearTeacher(np.ones((2, 3)), noise=0.5), 8, np.random.default_rng(0))
    for time, dt in ((1.0, 0.3), (0.04, 0.1), (1.0, 0.1 * (1 + 1e-6))):
        with pytest.raises(SGDError, match=rf"time={time!r} is .* x dt={dt!r}"):
            gradient_flow(net, params, data, time=time, dt=dt)
    flow = gradient_flow(net, params, data, time=0.3, dt=0.1, method="euler", record=lambda p, t: {"u": p["u"]})
    assert list(flow.steps) == [0, 1, 2, 3] and np.allclose(flow.time, [0.0, 0.1, 0.2, 0.3])
    gd = run_sgd(net, params, data, lr=0.1, steps=3, full_batch=True)
    np.testing.assert_allclose(flow.params["u"], gd.params["u"], rtol=1e-14)


def test_divergence_raises_naming_the_step():
    """Full-batch GD on the scalar toy with the one sample x = 1, y = 0 at eta = 1: from u = w the update is
    u' = u - u^3, so u = 2 -> -6 -> 210 -> ... overflows at the step where u - u^3 does; run 1 (u = w = 0)
    stays finite and is not named."""
    net = ScalarToy(1)
    data = FiniteData(np.ones((1, 1)), np.zeros((1, 1)))
    params = {"u": np.array([[2.0], [0.0]]), "w": np.array([[2.0], [0.0]])}
    u, step = np.float64(2.0), 0
    with np.errstate(over="ignore", invalid="ignore"):
        while np.isfinite(u):
            u, step = u - u**3, step + 1
        with pytest.raises(SGDError, match=rf"parameter 'u' became non-finite at step {step} \(runs \[0\]\)"):
            run_sgd(net, params, data, lr=1.0, steps=step + 5, full_batch=True)
        run_sgd(net, params, data, lr=1.0, steps=step - 1, full_batch=True)   # one step earlier: all finite
        with pytest.raises(SGDError, match=rf"became non-finite at step {step}\b"):
            gradient_flow(net, params, data, time=step + 5, dt=1.0, method="euler")


def test_bad_input_raises():
    net = ReluNet(3, 4, 1)
    params, x, y = setup(net, B=2, S=3)
    teacher = LinearTeacher(np.ones((1, 3)), noise=0.5)
    small = FiniteData(np.ones((4, 3)), np.ones((4, 1)))
    common = dict(batch_size=2, steps=3)
    for lr in (0.0, -0.1, np.nan, [0.1, 0.1, 0.1], {"u": 0.1, "w": 0.1}):
        with pytest.raises(SGDError):
            run_sgd(net, params, teacher, lr=lr, **common)
    with pytest.raises(SGDError, match="larger than the finite data"):
        run_sgd(net, params, small, lr=0.1, batch_size=5, steps=2)
    with pytest.raises(SGDError, match="full_batch"):
        run_sgd(net, params, teacher, lr=0.1, steps=2, full_batch=True)
    with pytest.raises(SGDError, match="steps"):
        run_sgd(net, params, teacher, lr=0.1, batch_size=2, steps=0)
    with pytest.raises(SGDError, match="weight decay"):
        run_sgd(net, params, teacher, lr=0.1, weight_decay=-1.0, **common)
    with pytest.raises(SGDError, match="one seed per run"):
        run_sgd(net, params, teacher, lr=0.1, seed=[1, 2, 3], **common)
    with pytest.raises(SGDError, match="exactly"):
        run_sgd(net, {"u": params["u"], "w": params["w"]}, teacher, lr=0.1, **common)
    with pytest.raises(SGDError, match="leading run axis"):
        run_sgd(net, {**params, "b": params["b"][:1]}, teacher, lr=0.1, **common)
    with pytest.raises(SGDError, match="non-finite"):
        run_sgd(net, {**params, "b": params["b"] * np.nan}, teacher, lr=0.1, **common)
    with pytest.raises(SGDError, match="a batch must be x"):
        net.gradients(params, x[..., :2], y)
    with pytest.raises(SGDError, match="a batch must be x"):
        run_sgd(net, params, LinearTeacher(np.ones((1, 2))), lr=0.1, **common)
    with pytest.raises(SGDError, match="semi-definite"):
        LinearTeacher(np.ones((2, 2)), noise=-np.eye(2))
    with pytest.raises(SGDError, match="method"):
        gradient_flow(net, params, small, time=1.0, dt=0.1, method="leapfrog")
    with pytest.raises(SGDError, match="batch size"):
        run_sgd(net, params, teacher, lr=0.1, batch_size=2.5, steps=2)
    with pytest.raises(SGDError, match="runs"):
        net.init(np.random.default_rng(0), 0)
    with pytest.raises(SGDError, match="eps"):
        hessian_vector_product(net, params, x, y, params, eps=0.0)
    with pytest.raises(SGDError, match="iterations"):
        top_hessian_eigenvalue(net, params, x, y, iterations=0)
    with pytest.raises(SGDError, match="batch size"):
        expected_batch_gradient_norms(net, params, x, y, 0)
    assert issubclass(SGDError, ThermopotError)


@pytest.mark.parametrize("net", NETWORKS)
def test_squared_norm_and_charge_closed_forms(net):
    """|theta|^2 and C summed directly from the arrays; per unit they add up to the layer values."""
    params, _, _ = setup(net, seed=6)
    outer = sum(np.sum(params[k].reshape(5, -1) ** 2, axis=1) for k in net.outer)
    inner = sum(np.sum(params[k].reshape(5, -1) ** 2, axis=1) for k in net.inner)
    np.testing.assert_allclose(squared_norm(net, params), outer + inner, rtol=1e-14)
    np.testing.assert_allclose(charge(net, params), outer - inner, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(squared_norm(net, params, per_neuron=True).sum(axis=1), outer + inner, rtol=1e-14)
    np.testing.assert_allclose(charge(net, params, per_neuron=True).sum(axis=1), outer - inner, rtol=1e-12,
                               atol=1e-14)
