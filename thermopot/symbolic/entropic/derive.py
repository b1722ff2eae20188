"""Derivations for the symbolic entropic loss: gradients, the SGD noise trace, the second-order
backward-error field, its curl, and its potential when one exists.

Notation: theta the parameters, L_gamma = L + gamma |theta|^2 the loss that the step descends,
g = grad L_gamma, H = its Hessian, P the (symmetric) preconditioner, step theta <- theta - eta P g.
Backward error analysis of explicit Euler on theta' = f = -P g (time eta per step) gives the modified
field f + eta f_2 + eta^2 f_3 + ..., f_2 = -(1/2) f'f, f_3 = (1/3) f'f'f + (1/12) f''(f,f):
    f_2 = -(1/2) P H P g = -P grad((1/4) g^T P g),
    f_3 = -P w,  w = (1/3) H P H P g + (1/12) D^3L[Pg, Pg]
                   = (1/12) grad(g^T P H P g) + (1/6) H P H P g,
so the second-order flow is -P grad phi_2 exactly when w is a gradient (its Jacobian is symmetric).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .inputs import Data

#: random points (seeded) at which a non-polynomial curl or potential is checked
CHECK_POINTS = 4
#: a curl entry larger than this (relative to the field's size) at a point proves that it is non-zero
CHECK_TOL = 1e-9


def tidy(expr: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Expanded form for a polynomial in the parameters (exact cancellation); other expressions as
    they are (``sp.simplify`` on the large derived expressions takes minutes)."""
    expr = sp.sympify(expr)
    return sp.expand(expr) if expr.is_polynomial(*params) else expr


def tidy_matrix(M: sp.Matrix, params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    return M.applyfunc(lambda e: tidy(e, params))


def gradient(f: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    """grad f as an n x 1 matrix."""
    return sp.Matrix([sp.diff(f, p) for p in params])


def quadratic_form(v: sp.Matrix, M: sp.Matrix) -> sp.Expr:
    """v^T M v."""
    return (v.T * M * v)[0, 0]


def population_loss(loss: sp.Expr, data: Data | None) -> sp.Expr:
    """L = sum_i w_i l(x_i, theta) (the loss itself when no data are given)."""
    if data is None:
        return loss
    return sum(w * loss.subs(sub) for w, sub in zip(data.weights, data.substitutions()))


def noise_trace(loss: sp.Expr, data: Data, params: tuple[sp.Symbol, ...], P: sp.Matrix) -> sp.Expr:
    """Tr(P Sigma), Sigma = E[grad l grad l^T] - grad L grad L^T the per-sample gradient covariance:
    sum_i w_i (grad l_i)^T P grad l_i - (grad L)^T P grad L."""
    grad_l = gradient(loss, params)
    grads = [grad_l.subs(sub) for sub in data.substitutions()]
    mean = sum((w * G for w, G in zip(data.weights, grads)), sp.zeros(len(params), 1))
    second = sum(w * quadratic_form(G, P) for w, G in zip(data.weights, grads))
    return tidy(second - quadratic_form(mean, P), params)


def third_derivative_term(H: sp.Matrix, v: sp.Matrix, params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    """D^3L[v, v]: component k is sum_ij d^3 L / (d theta_k d theta_i d theta_j) v_i v_j."""
    return sp.Matrix([quadratic_form(v, H.diff(p)) for p in params])


def second_order_field(g: sp.Matrix, H: sp.Matrix, P: sp.Matrix,
                       params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    """w = (1/3) H P H P g + (1/12) D^3L[Pg, Pg] (so that f_3 = -P w)."""
    Pg = P * g
    w = H * P * H * Pg / 3 + third_derivative_term(H, Pg, params) / 12
    return tidy_matrix(w, params)


def curl(w: sp.Matrix, params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    """(J - J^T) / 2 with J = dw/dtheta: zero exactly when w is a gradient (simply connected domain)."""
    J = w.jacobian(list(params))
    return tidy_matrix((J - J.T) / 2, params)


def size_at_points(M: sp.Matrix, ref: sp.Matrix, params: tuple[sp.Symbol, ...],
                   seed: int = 0) -> tuple[float, dict]:
    """The largest max|M| / (1 + max|ref|) over a few seeded random points (parameters uniform in
    [-1.5, 1.5], other symbols such as eta uniform in [0.5, 1.5]), and the point where it is reached;
    (inf, {}) when no point gives a finite value (every point outside the expressions' domain), so that
    nothing is accepted as verified there."""
    rng = np.random.default_rng(seed)
    others = sorted((M.free_symbols | ref.free_symbols) - set(params), key=str)
    variables = list(params) + others
    f_m = sp.lambdify([variables], M, modules="numpy")
    f_ref = sp.lambdify([variables], ref, modules="numpy")
    finite = []
    for _ in range(CHECK_POINTS):
        point = np.concatenate([rng.uniform(-1.5, 1.5, len(params)), rng.uniform(0.5, 1.5, len(others))])
        with np.errstate(all="ignore"):
            size = np.abs(np.asarray(f_m(point), dtype=float)).max()
            scale = 1.0 + np.abs(np.asarray(f_ref(point), dtype=float)).max()
        if np.isfinite(size) and np.isfinite(scale):
            finite.append((size / scale, point))
    if not finite:
        return np.inf, {}
    best, point = max(finite, key=lambda pair: pair[0])
    return float(best), dict(zip(variables, point.tolist()))


def proven_zero(M: sp.Matrix) -> bool:
    """Every entry of M simplifies to 0 (``sp.simplify``; only for matrices known to be numerically 0)."""
    return all(sp.simplify(e) == 0 for e in M)


def potential(w: sp.Matrix, g: sp.Matrix, H: sp.Matrix, P: sp.Matrix,
              params: tuple[sp.Symbol, ...]) -> tuple[sp.Expr | None, str]:
    """(phi_2, reason) with grad phi_2 = w, for a curl-free w: the quadratic-loss closed form
    (1/6) g^T P H P g plus the coordinate-wise integral of what is left. A polynomial result is
    checked exactly, another at random points; phi_2 is None (and the reason says why) when SymPy
    cannot integrate in closed form or the check fails or cannot be made (no random point in the
    domain)."""
    phi = tidy(quadratic_form(P * g, H) / 6, params)
    for k, p in enumerate(params):  # afterwards d phi / d theta_j = w_j for j <= k (w curl-free)
        rest = tidy(w[k] - sp.diff(phi, p), params)
        if rest != 0:
            piece = sp.integrate(rest, p)
            if piece.has(sp.Integral):
                return None, "the second-order field is curl-free, but SymPy found no closed-form potential"
            phi = tidy(phi + piece, params)
    residual = tidy_matrix(gradient(phi, params) - w, params)
    if residual.is_zero_matrix:
        return phi, "the second-order field is a gradient: its Jacobian is symmetric"
    if phi.is_polynomial(*params):
        return None, "the second-order field is curl-free, but the integrated potential does not reproduce it"
    size, _ = size_at_points(residual, w, params)
    if size <= CHECK_TOL:
        return phi, ("the second-order field is a gradient: its Jacobian is symmetric (the potential's gradient "
                     f"matches it to {CHECK_TOL:g} at random points)")
    if not np.isfinite(size):
        return None, ("undecided: the second-order field is curl-free, but no random point lies in the domain "
                      "of the integrated potential, so its gradient could not be checked against the field")
    return None, (f"undecided: the gradient of the integrated potential differs from the second-order field by "
                  f"{size:.3g} (relative) at random points")
