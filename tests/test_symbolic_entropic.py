"""Symbolic entropic loss (theory-entropic.md sec. 2): closed forms for quadratic losses, the noise part
against per-sample gradients and exact batch enumeration, the second-order potential or its absence,
the backward-error algebra by Taylor expansion of the flow, and the one-step error slopes."""

import itertools

import numpy as np
import pytest
import sympy as sp

from thermopot.errors import ThermopotError
from thermopot.report import to_json
from thermopot.symbolic import entropic as ent

u, w, x, y = sp.symbols("u w x y", real=True)
a, b, c = sp.symbols("a b c", real=True)
ETA, S = ent.ETA, ent.BATCH

TOY_DATA = [{x: 1, y: 1}, {x: 2, y: 0.5}, {x: -1, y: 0.3}]
TOY = (u * w * x - y) ** 2 / 2
QUARTIC = a**4 / 4 + a * b**2 / 2 + b**2 - a  # not quadratic, no symmetry


def toy():
    return ent.entropic_loss(TOY, [u, w], TOY_DATA)


def zero(expr):
    return sp.expand(expr) == 0


# ---------------------------------------------------------------- quadratic losses: closed forms

A = sp.Matrix([[1, 2], [3, -1], [0, 1]])
B = sp.Matrix([1, 0, 2])
THETA = sp.Matrix([a, b])
RESID = A * THETA - B


def test_quadratic_phi1_gradient_hessian():
    r = ent.entropic_loss((RESID.T * RESID)[0] / 2, [a, b])
    g = A.T * RESID
    assert r.hessian == A.T * A
    assert (r.gradient - g).expand().is_zero_matrix
    assert zero(r.phi1 - (g.T * g)[0] / 4)
    assert zero(r.total - r.loss - ETA * (g.T * g)[0] / 4)
    assert r.noise is None and r.n_points is None


def test_quadratic_from_per_sample_data():
    """l = (1/2)(a x1 + b x2 - y)^2 on the rows of (A, B): L is the mean, 1/3 of (1/2)|A theta - B|^2."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    rows = [list(A.row(i)) + [B[i]] for i in range(3)]
    r = ent.entropic_loss((a * x1 + b * x2 - y) ** 2 / 2, [a, b], rows, data_symbols=[x1, x2, y])
    g = A.T * RESID / 3
    assert zero(r.loss - (RESID.T * RESID)[0] / 6)
    assert zero(r.phi1 - (g.T * g)[0] / 4)


def test_quadratic_phi2_closed_form():
    r = ent.entropic_loss((RESID.T * RESID)[0] / 2, [a, b])
    g, H = A.T * RESID, A.T * A
    assert r.curl.is_zero_matrix
    assert r.phi2 is not None and "gradient" in r.phi2_reason
    assert zero(r.phi2 - (g.T * H * g)[0] / 6)
    # field_2 = -(1/3) H^2 g - (1/12) D^3L[g, g] with D^3L = 0, and it is -grad phi2
    assert (r.field2 + H * H * g / 3).expand().is_zero_matrix
    assert (r.field2 + sp.Matrix([sp.diff(r.phi2, p) for p in (a, b)])).expand().is_zero_matrix


def test_quadratic_with_preconditioner():
    """theta <- theta - eta P g: phi1 = (1/4) g^T P g, matrix term (1/4) g^T Lambda g,
    phi2 = (1/6) g^T P H P g, flow -P grad F."""
    P = sp.diag(1, 3)
    r = ent.entropic_loss((RESID.T * RESID)[0] / 2, [a, b], preconditioner=P)
    g, H = A.T * RESID, A.T * A
    assert zero(r.phi1 - (g.T * P * g)[0] / 4)
    assert zero(r.matrix_term - (g.T * (ETA * P) * g)[0] / 4)
    assert zero(r.phi2 - (g.T * P * H * P * g)[0] / 6)
    grad_F = sp.Matrix([sp.diff(r.total, p) for p in (a, b)])
    assert (r.flow + P * grad_F).expand().is_zero_matrix
    # the order-2 modified field is -P grad of the modified loss L + eta phi1 + eta^2 phi2
    phi = r.modified_loss(2)
    assert zero(phi - r.loss - ETA * r.phi1 - ETA**2 * r.phi2)
    grad_phi = sp.Matrix([sp.diff(phi, p) for p in (a, b)])
    assert (r.modified_field(2) + P * grad_phi).expand().is_zero_matrix


def test_one_parameter_potential_exists():
    """In one dimension every field is a gradient: phi2' = (1/3) L''^2 L' + (1/12) L''' L'^2."""
    L = c**4 / 4 + c**2
    r = ent.entropic_loss(L, [c])
    d1, d2, d3 = (sp.diff(L, c, k) for k in (1, 2, 3))
    assert r.phi2 is not None
    assert zero(sp.diff(r.phi2, c) - d2**2 * d1 / 3 - d3 * d1**2 / 12)


# ---------------------------------------------------------------- weight decay and the total

def test_weight_decay_total():
    """F = L_gamma + (eta/4)|grad L_gamma|^2 + noise, L_gamma = L + gamma |theta|^2."""
    gamma = sp.Symbol("gamma", positive=True)
    r = ent.entropic_loss(TOY, [u, w], TOY_DATA, gamma=gamma)
    L_gamma = r.loss + gamma * (u**2 + w**2)
    grad = sp.Matrix([sp.diff(L_gamma, p) for p in (u, w)])
    assert zero(r.total - L_gamma - ETA * (grad.T * grad)[0] / 4 - r.noise)
    r0 = toy()  # gamma = 0: the short form L + (eta/4)|grad L|^2 + (eta/(4S)) Tr Sigma
    grad0 = sp.Matrix([sp.diff(r0.loss, p) for p in (u, w)])
    assert zero(r0.total - r0.loss - ETA * (grad0.T * grad0)[0] / 4 - ETA * r0.sigma_trace / (4 * S))


# ---------------------------------------------------------------- the noise part

def per_sample_gradients(theta, xs, ys):
    """grad of (1/2)(u w x - y)^2: ((u w x - y) w x, (u w x - y) u x), one row per point."""
    uu, ww = theta
    r = uu * ww * xs - ys
    return np.stack([r * ww * xs, r * uu * xs], axis=1)


def test_noise_matches_per_sample_covariance():
    rng = np.random.default_rng(3)
    xs, ys, wts = rng.normal(size=7), rng.normal(size=7), rng.uniform(0.5, 2.0, size=7)
    data = [{x: float(xi), y: float(yi)} for xi, yi in zip(xs, ys)]
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    r = ent.entropic_loss(TOY, [u, w], data, weights=wts, preconditioner=sp.Matrix(P))
    f = r.functions(eta=0.3, S=5)
    p = wts / wts.sum()
    for theta in rng.normal(size=(3, 2)):
        G = per_sample_gradients(theta, xs, ys)
        mean = p @ G
        sigma = (G * p[:, None]).T @ G - np.outer(mean, mean)
        np.testing.assert_allclose(f.noise(theta), 0.3 / (4 * 5) * np.trace(P @ sigma), rtol=1e-12)
        np.testing.assert_allclose(f.gradient(theta), mean, rtol=1e-12)
        np.testing.assert_allclose(f.phi1(theta), mean @ P @ mean / 4, rtol=1e-12)


@pytest.mark.parametrize("replacement", [True, False])
def test_noise_is_the_batch_average(replacement):
    """(eta/4) E_B g_B^T g_B = (eta/4)|g|^2 + noise, E_B over every batch of S = 2 of 4 points (ordered
    pairs with replacement, subsets without)."""
    xs, ys = np.array([1.0, 2.0, -1.0, 0.5]), np.array([1.0, 0.5, 0.3, -0.7])
    data = [{x: float(xi), y: float(yi)} for xi, yi in zip(xs, ys)]
    r = ent.entropic_loss(TOY, [u, w], data, batch_size=2, replacement=replacement)
    f = r.functions(eta=0.2)
    theta = np.array([0.6, -1.1])
    G = per_sample_gradients(theta, xs, ys)
    batches = (itertools.product(range(4), repeat=2) if replacement
               else itertools.combinations(range(4), 2))
    mean_sq = np.mean([np.sum(G[list(B)].mean(axis=0) ** 2) for B in batches])
    np.testing.assert_allclose(f.phi1(theta) + f.noise(theta) / 0.2, mean_sq / 4, rtol=1e-12)


def test_full_batch_without_replacement_has_no_noise():
    r = ent.entropic_loss(TOY, [u, w], TOY_DATA, batch_size=3, replacement=False)
    assert r.noise == 0


# ---------------------------------------------------------------- second order: no potential

def test_toy_second_order_has_no_potential():
    r = toy()
    assert r.phi2 is None and r.phi2_reason.startswith("no potential exists")
    point = {u: 0.7, w: -1.3}
    curl = np.array(r.curl.subs(point).evalf(), dtype=float)
    assert abs(curl[0, 1]) > 1e-2 and curl[0, 1] == -curl[1, 0]
    # the same antisymmetric part from a finite-difference Jacobian of w = -field2 (P = I)
    field = sp.lambdify([[u, w]], -r.field2, modules="numpy")
    h, theta = 1e-5, np.array([0.7, -1.3])
    J = np.stack([(field(theta + h * e) - field(theta - h * e)).ravel() / (2 * h) for e in np.eye(2)],
                 axis=1)
    np.testing.assert_allclose((J - J.T) / 2, curl, atol=1e-7)


def test_field2_formula_on_toy():
    """field_2 = -(1/3) H^2 g - (1/12) D^3L[g, g] = -(1/12) grad(g^T H g) - (1/6) H^2 g."""
    r = toy()
    g, H = r.gradient, r.hessian
    d3 = sp.Matrix([(g.T * H.diff(p) * g)[0] for p in (u, w)])
    assert (r.field2 + H * H * g / 3 + d3 / 12).expand().is_zero_matrix
    grad_gHg = sp.Matrix([sp.diff((g.T * H * g)[0], p) for p in (u, w)])
    assert (r.field2 + grad_gHg / 12 + H * H * g / 6).expand().is_zero_matrix


# ---------------------------------------------------------------- BEA by Taylor expansion

def flow_taylor(field, params, eta, degree):
    """Taylor series in eta of the flow of ``field`` run for time eta: sum_k eta^k/k! (L_F^k id)."""
    theta = sp.Matrix(params)
    term, total = theta, theta
    for k in range(1, degree + 1):
        term = term.jacobian(list(params)) * field
        total = total + eta**k / sp.factorial(k) * term
    return total


@pytest.mark.parametrize("loss,params", [(QUARTIC, (a, b)), (TOY, (u, w))], ids=["quartic", "toy"])
def test_bea_by_taylor_expansion(loss, params):
    """The order-2 modified flow for time eta matches theta - eta g through eta^3; the order-1 flow
    already misses at eta^3."""
    r = ent.entropic_loss(loss, params) if loss is QUARTIC else toy()
    step = sp.Matrix(params) - ETA * r.gradient
    for order, good in ((2, 3), (1, 2)):
        series = flow_taylor(r.modified_field(order), params, ETA, 3)
        diff = (series - step).applyfunc(lambda e: sp.expand(e))
        for k in range(good + 1):
            assert diff.applyfunc(lambda e: e.coeff(ETA, k)).is_zero_matrix
        if good < 3:
            assert not diff.applyfunc(lambda e: e.coeff(ETA, 3)).is_zero_matrix


# ---------------------------------------------------------------- one-step error slopes

ETAS = np.geomspace(0.01, 0.08, 6)


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("case", ["toy", "quartic"])
def test_one_step_slopes(case, order):
    if case == "toy":
        r, theta0 = toy(), [0.5, 1.0]
    else:
        r, theta0 = ent.entropic_loss(QUARTIC, [a, b]), [0.8, -0.6]
    res = ent.one_step_error(r, theta0, ETAS, order)
    assert res.expected_slope == order + 2
    assert abs(res.slope - (order + 2)) < 0.2
    assert np.all(np.diff(res.errors) > 0)


@pytest.mark.parametrize("order", [1, 2])
def test_one_step_slopes_with_preconditioner_and_decay(order):
    gamma = sp.Symbol("gamma", positive=True)
    r = ent.entropic_loss(QUARTIC, [a, b], preconditioner=sp.diag(1, 2.5), gamma=gamma)
    res = ent.one_step_error(r, [0.8, -0.6], ETAS, order, gamma=0.3)
    assert abs(res.slope - (order + 2)) < 0.2


def test_one_step_from_expression():
    res = ent.one_step_error(QUARTIC, [0.8, -0.6], ETAS, 1, params=[a, b])
    assert abs(res.slope - 3) < 0.2
    assert to_json(res.to_dict())


# ---------------------------------------------------------------- numeric functions, output

def test_functions_match_expressions():
    r = ent.entropic_loss(TOY, [u, w], TOY_DATA, gamma=0.1)
    f = r.functions(eta=0.05, S=2)
    theta = np.array([0.4, -0.9])
    sub = {u: theta[0], w: theta[1], ETA: 0.05, S: 2}
    for name in ("loss", "phi1", "noise", "total"):
        assert getattr(f, name)(theta) == pytest.approx(float(getattr(r, name).subs(sub)), rel=1e-13)
    for name in ("gradient", "flow", "hessian"):
        expected = np.array(getattr(r, name).subs(sub).evalf(), dtype=float).reshape(
            getattr(f, name)(theta).shape)
        np.testing.assert_allclose(getattr(f, name)(theta), expected, rtol=1e-13)


def test_functions_on_a_batch():
    """theta of shape (..., n): each entry as for one point; a constant Hessian is broadcast."""
    r = ent.entropic_loss((RESID.T * RESID)[0] / 2, [a, b])
    f = r.functions(eta=0.1)
    thetas = np.random.default_rng(0).normal(size=(4, 3, 2))
    assert f.hessian(thetas).shape == (4, 3, 2, 2)
    np.testing.assert_array_equal(f.hessian(thetas)[2, 1], np.array(A.T * A, dtype=float))
    for name in ("loss", "phi1", "total", "gradient", "flow"):
        batch = getattr(f, name)(thetas)
        single = np.array([[getattr(f, name)(t) for t in row] for row in thetas])
        np.testing.assert_allclose(batch, single, rtol=1e-14)


def test_latex_and_to_dict():
    r = toy()
    tex = r.latex()
    assert set(tex) == {"L", "phi1", "noise", "F"}  # no phi2: it does not exist
    assert r"\eta" in tex["F"]
    d = r.to_dict()
    assert d["phi2"] is None and d["phi2_reason"] == r.phi2_reason
    assert to_json(d)
    q = ent.entropic_loss((RESID.T * RESID)[0] / 2, [a, b])
    assert "phi2" in q.latex()


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs,message", [
    ({"loss": "u*w"}, "must be a scalar SymPy expression"),
    ({"loss": sp.Matrix([u])}, "must be a scalar SymPy expression"),
    ({"loss": TOY + sp.Symbol("z")}, "neither parameters nor data symbols: z"),
    ({"params": [u, w, u]}, "duplicates: u"),
    ({"params": [u, "w"]}, "not a symbol"),
    ({"eta": 0}, "learning rate eta must be > 0"),
    ({"eta": -0.1}, "learning rate eta must be > 0"),
    ({"batch_size": 0}, "batch size S must be >= 1"),
    ({"batch_size": 1.5}, "batch size S must be an integer"),
    ({"batch_size": 4, "replacement": False}, "larger than the 3 data points"),
    ({"weights": [1, 2, 3], "replacement": False}, "without replacement needs equal data weights"),
    ({"weights": [1, -2, 3]}, "weights must all be > 0"),
    ({"weights": [1, 2]}, "2 data weights for 3 data points"),
    ({"gamma": -1}, "weight decay gamma must be >= 0"),
    ({"preconditioner": sp.Matrix([[1, 2], [0, 1]])}, "must be symmetric"),
    ({"preconditioner": sp.diag(1, -1)}, "positive definite"),
    ({"preconditioner": sp.eye(3)}, "must be 2 x 2"),
    ({"data": [{x: 1, y: float("nan")}]}, "must be finite"),
    ({"data": [{x: 1, y: 1}, {x: 2}]}, "data point 1 has symbols"),
    ({"data": []}, "at least one data point"),
])
def test_bad_input(kwargs, message):
    args = {"loss": TOY, "params": [u, w], "data": TOY_DATA, **kwargs}
    with pytest.raises(ThermopotError, match=message) as info:
        ent.entropic_loss(args.pop("loss"), args.pop("params"), args.pop("data"), **args)
    assert isinstance(info.value, ent.EntropicInputError)


def test_bad_numeric_input():
    r = toy()
    with pytest.raises(ent.EntropicInputError, match="give a value for S"):
        r.functions(eta=0.1)
    with pytest.raises(ent.EntropicInputError, match="eta must be > 0"):
        r.functions(eta=-0.1, S=2)
    with pytest.raises(ent.EntropicInputError, match="no symbol named T"):
        r.functions(eta=0.1, S=2, T=1.0)
    with pytest.raises(ent.EntropicInputError, match="theta must have 2 entries"):
        r.functions(eta=0.1, S=2).loss([1.0])
    with pytest.raises(ent.EntropicInputError, match="order must be 0, 1 or 2"):
        ent.one_step_error(r, [0.5, 1.0], ETAS, 3)
    with pytest.raises(ent.EntropicInputError, match="no second-order modified loss: no potential"):
        r.modified_loss(2)
    with pytest.raises(ent.EntropicInputError, match="etas must be > 0"):
        ent.one_step_error(r, [0.5, 1.0], [0.1, -0.1], 1)


# ---------------------------------------------------------------- non-polynomial losses

def gradient_mismatch(r, point):
    """max |grad phi2 + field2| at a point (P = I: field2 = -grad phi2 when phi2 exists)."""
    grad = sp.Matrix([sp.diff(r.phi2, p) for p in r.params])
    return float(max(abs(v) for v in (grad + r.field2).subs(point).evalf()))


def test_logistic_one_parameter_potential():
    r = ent.entropic_loss(sp.log(1 + sp.exp(-y * a * x)), [a], [{x: 1, y: 1}, {x: 2, y: -1}])
    assert r.phi2 is not None
    for v in (-0.7, 0.4, 1.3):
        assert gradient_mismatch(r, {a: v}) < 1e-12


def test_non_polynomial_curl_free_field():
    """L = cos(a) sin(b): the curl does not cancel on expansion, SymPy proves it zero, and the
    potential found has gradient -field2."""
    r = ent.entropic_loss(sp.cos(a) * sp.sin(b), [a, b])
    assert r.phi2 is not None
    assert gradient_mismatch(r, {a: 0.3, b: -1.1}) < 1e-12


def test_logistic_two_parameters_has_no_potential():
    data = [{x: 1, y: 1}, {x: 2, y: -1}, {x: -1, y: 1}]
    r = ent.entropic_loss(sp.log(1 + sp.exp(-y * (a * x + b))), [a, b], data)
    assert r.phi2 is None and r.phi2_reason.startswith("no potential exists")
    assert abs(float(r.curl.subs({a: 0.3, b: 0.7}).evalf()[0, 1])) > 1e-6


def test_points_outside_the_domain_leave_the_potential_undecided():
    """Random check points are drawn in [-1.5, 1.5]: for a * log(a - 2) none lies in the domain, so the
    integrated potential cannot be verified and is refused as undecided; for a * log(a + 2) it is checked
    there and accepted. Same for a curl that does not cancel on expansion."""
    from thermopot.symbolic.entropic import derive as der

    assert der.size_at_points(sp.Matrix([sp.log(a - 2)]), sp.Matrix([a]), (a,)) == (np.inf, {})
    size, point = der.size_at_points(sp.Matrix([sp.log(a + 2)]), sp.Matrix([0]), (a,))
    assert set(point) == {a} and size == pytest.approx(abs(np.log(point[a] + 2)), rel=1e-12)
    ok = ent.entropic_loss(a * sp.log(a + 2), [a])
    assert ok.phi2 is not None and gradient_mismatch(ok, {a: 0.4}) < 1e-12
    out = ent.entropic_loss(a * sp.log(a - 2), [a])
    assert out.phi2 is None and out.phi2_reason.startswith("undecided") and "domain" in out.phi2_reason
    two = ent.entropic_loss(sp.log(a - 2) * sp.log(b - 2), [a, b])
    assert not two.curl.is_zero_matrix
    assert two.phi2 is None and two.phi2_reason.startswith("undecided") and "domain" in two.phi2_reason
