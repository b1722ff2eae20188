"""Entropic loss of (S)GD by backward error analysis, derived symbolically (theory-entropic.md sec. 2).

Input: a per-sample loss l(x, theta) as a SymPy expression of declared parameter symbols theta and
data symbols x, with the data as a finite weighted list of points (E_x is the weighted mean), or the
population loss L directly. The step is

    theta <- theta - eta P (g_B + 2 gamma theta),      Lambda = eta P  (P = I for plain SGD),

P a symmetric preconditioner (diagonal or block: layer-wise rates, preconditioned methods). With
L_gamma = L + gamma |theta|^2, g = grad L_gamma and H its Hessian, everything below is derived::

    phi_1  = (1/4) g^T P g                               (= (1/4)|g|^2; GD part, std)
    noise  = (1/4) Tr(Lambda Cov(g_B)) = (eta / (4 S)) Tr(P Sigma),
             Sigma = E[grad l grad l^T] - grad L grad L^T  (with replacement; without, the factor
             1/S becomes (N - S) / (S (N - 1)) for N equally weighted points)
    F      = L_gamma + eta phi_1 + noise                 (= L + gamma|theta|^2 + (eta/4)|g|^2 +
                                                           (eta/(4S)) Tr Sigma; matrix form
                                                           (1/4) g^T Lambda g = eta phi_1)
    flow   theta' = -P grad F, run for time eta per step.

With weight decay g is the gradient of L_gamma, so phi_1 holds the O(eta gamma) cross terms that the
short form L + gamma|theta|^2 + (eta/4)|grad L|^2 drops; the two agree when gamma = 0.

Second order (explicit Euler, f = -P g): the GD step is, to O(eta^4), the flow for time eta of::

    theta' = -P g - eta (1/2) P H P g + eta^2 field_2,
    field_2 = -P w,  w = (1/3) H P H P g + (1/12) D^3L[Pg, Pg] = (1/12) grad(g^T P H P g) + (1/6) H P H P g

(P = I: field_2 = -(1/3) H^2 g - (1/12) D^3L[g, g]). It is -P grad phi_2 exactly when the Jacobian of w
is symmetric; ``curl`` holds its antisymmetric part. Then ``phi2`` is the potential (for a quadratic loss
phi_2 = (1/6) g^T P H P g); otherwise ``phi2`` is None and ``phi2_reason`` says why.

The deterministic part is exact for full-batch GD; the noise part is the batch average to first order.
:func:`one_step_error` checks the orders numerically: the error of the order-k flow after one step
shrinks as eta^(k+2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from . import derive as der
from . import inputs as inp
from .inputs import BATCH, ETA, EntropicInputError
from .lambdify import EntropicFunctions, OneStepError, bind_functions, flow_step_error

__all__ = ["entropic_loss", "EntropicLoss", "EntropicFunctions", "one_step_error", "OneStepError",
           "EntropicInputError", "ETA", "BATCH"]


@dataclass(frozen=True)
class EntropicLoss:
    """The entropic loss of one (loss, data, step rule): SymPy expressions in the parameters (and in
    eta, S, gamma and the preconditioner's symbols where those were left symbolic)."""

    params: tuple[sp.Symbol, ...]
    eta: sp.Expr  #: learning rate (Lambda = eta P)
    batch_size: sp.Expr  #: S
    gamma: sp.Expr  #: weight decay
    preconditioner: sp.Matrix  #: P (identity for plain SGD)
    replacement: bool  #: batches drawn with replacement
    n_points: int | None  #: number of data points (None: population loss given)
    loss: sp.Expr  #: L = E_x l
    regularized: sp.Expr  #: L_gamma = L + gamma |theta|^2
    gradient: sp.Matrix  #: g = grad L_gamma (n x 1)
    hessian: sp.Matrix  #: H = Hessian of L_gamma (n x n)
    phi1: sp.Expr  #: (1/4) g^T P g
    matrix_term: sp.Expr  #: (1/4) g^T Lambda g = eta phi1
    sigma_trace: sp.Expr | None  #: Tr(P Sigma) (None without data)
    noise: sp.Expr | None  #: (1/4) Tr(Lambda Cov(g_B)) (None without data)
    total: sp.Expr  #: F = L_gamma + eta phi1 + noise
    flow: sp.Matrix  #: -P grad F (time eta per step)
    field2: sp.Matrix  #: second-order field -P w (GD part)
    curl: sp.Matrix  #: antisymmetric part of the Jacobian of w
    phi2: sp.Expr | None  #: potential of w (grad phi2 = w) or None
    phi2_reason: str  #: why phi2 exists, or why it is None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def rate_matrix(self) -> sp.Matrix:
        """Lambda = eta P."""
        return self.eta * self.preconditioner

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """Symbols other than the parameters (eta, S, gamma, preconditioner entries), sorted by name:
        :meth:`functions` needs a value for each."""
        exprs = [self.gradient, self.hessian, self.total, self.flow, self.field2]
        free = set().union(*(e.free_symbols for e in exprs))
        return tuple(sorted(free - set(self.params), key=str))

    def modified_field(self, order: int) -> sp.Matrix:
        """The deterministic (GD) modified field to ``order`` in eta: order 0 -P g; order 1
        -P grad(L_gamma + eta phi_1) = -P g - (eta/2) P H P g; order 2 adds eta^2 field_2."""
        if order not in (0, 1, 2):
            raise EntropicInputError(f"order must be 0, 1 or 2, got {order!r}")
        P, g = self.preconditioner, self.gradient
        f = -P * g
        if order >= 1:
            f = f - self.eta * P * self.hessian * P * g / 2
        if order >= 2:
            f = f + self.eta**2 * self.field2
        return f

    def modified_loss(self, order: int) -> sp.Expr:
        """The GD modified loss phi_eta to ``order`` in eta (no noise part): L_gamma, + eta phi_1,
        + eta^2 phi_2; its flow -P grad phi_eta is :meth:`modified_field` when phi_2 exists."""
        if order not in (0, 1, 2):
            raise EntropicInputError(f"order must be 0, 1 or 2, got {order!r}")
        if order == 2 and self.phi2 is None:
            raise EntropicInputError(f"no second-order modified loss: {self.phi2_reason}")
        terms = (self.regularized, self.eta * self.phi1,
                 self.eta**2 * self.phi2 if order == 2 else 0)
        return sum(terms[:order + 1])

    def functions(self, **values: float) -> EntropicFunctions:
        """NumPy functions of theta (lambdified once, then cached) for L, g, H, phi_1, the noise part, F
        and the flow, with every symbol of :attr:`symbols` bound to a number given by its name
        (e.g. ``functions(eta=0.1, S=4)``)."""
        return bind_functions(self, values)

    def latex(self) -> dict[str, str]:
        """LaTeX of L, phi_1, the noise part, F and phi_2 (those that exist)."""
        out = {"L": self.loss, "phi1": self.phi1, "noise": self.noise, "F": self.total,
               "phi2": self.phi2}
        return {k: sp.latex(v) for k, v in out.items() if v is not None}

    def to_dict(self) -> dict:
        """JSON-ready: expressions as strings."""
        def text(x: Any) -> Any:
            return None if x is None else str(x.tolist() if isinstance(x, sp.MatrixBase) else x)

        return {"params": [str(p) for p in self.params], "eta": str(self.eta),
                "batch_size": str(self.batch_size), "gamma": str(self.gamma),
                "preconditioner": text(self.preconditioner), "replacement": self.replacement,
                "n_points": self.n_points, "loss": text(self.loss), "gradient": text(self.gradient),
                "hessian": text(self.hessian), "phi1": text(self.phi1),
                "sigma_trace": text(self.sigma_trace), "noise": text(self.noise),
                "total": text(self.total), "flow": text(self.flow), "field2": text(self.field2),
                "curl": text(self.curl),
                "phi2": text(self.phi2), "phi2_reason": self.phi2_reason}


def entropic_loss(loss: sp.Expr, params: Sequence[sp.Symbol] | sp.Symbol, data: Sequence | None = None,
                  *, data_symbols: Sequence[sp.Symbol] | None = None, weights: Sequence | None = None,
                  eta: Any = ETA, batch_size: Any = BATCH, gamma: Any = 0,
                  preconditioner: Any = None, replacement: bool = True) -> EntropicLoss:
    """Derive L, g, H, phi_1 = (1/4) g^T P g, the noise part (eta / (4 S)) Tr(P Sigma), F, the flow
    -P grad F, the second-order field and its potential phi_2 (or why none exists) for the step
    theta <- theta - eta P (g_B + 2 gamma theta).

    ``loss`` is the per-sample loss l when ``data`` is given (points as mappings {symbol: value} or
    rows ordered like ``data_symbols``; ``weights`` default equal), else the population loss L (no
    noise part). ``eta``, ``batch_size`` and ``gamma`` may be numbers or SymPy symbols."""
    params = inp.symbols(params, "parameters")
    if not params:
        raise EntropicInputError("at least one parameter is needed")
    if data is None:
        if data_symbols is not None or weights is not None:
            raise EntropicInputError("data_symbols and weights need data")
        dataset = None
        loss = inp.loss_expression(loss, set(params), "population loss")
    else:
        dataset = inp.data_set(data, data_symbols, weights)
        clash = set(dataset.symbols) & set(params)
        if clash:
            raise EntropicInputError(f"symbols both parameter and data: {', '.join(map(str, clash))}")
        loss = inp.loss_expression(loss, set(params) | set(dataset.symbols), "per-sample loss")
    eta = inp.learning_rate(eta)
    S = inp.batch_size(batch_size, dataset, replacement)
    gamma = inp.weight_decay(gamma)
    P = inp.preconditioner(preconditioner, len(params))

    L = der.tidy(der.population_loss(loss, dataset), params)
    L_gamma = der.tidy(L + gamma * sum(p**2 for p in params), params)
    g = der.tidy_matrix(der.gradient(L_gamma, params), params)
    H = der.tidy_matrix(sp.hessian(L_gamma, params), params)
    phi1 = der.tidy(der.quadratic_form(g, P) / 4, params)
    if dataset is None:
        sigma_trace = noise = None
    else:
        sigma_trace = der.noise_trace(loss, dataset, params, P)
        noise = eta * inp.covariance_factor(S, dataset, replacement) * sigma_trace / 4
    total = L_gamma + eta * phi1 + (noise if noise is not None else 0)
    flow = -P * der.gradient(total, params)
    w = der.second_order_field(g, H, P, params)
    curl = der.curl(w, params)
    phi2, reason = _second_order_potential(w, curl, g, H, P, params)
    return EntropicLoss(params=params, eta=eta, batch_size=S, gamma=gamma, preconditioner=P,
                        replacement=bool(replacement), n_points=None if dataset is None else dataset.size,
                        loss=L, regularized=L_gamma, gradient=g, hessian=H, phi1=phi1,
                        matrix_term=eta * phi1, sigma_trace=sigma_trace, noise=noise, total=total,
                        flow=flow, field2=der.tidy_matrix(-P * w, params), curl=curl, phi2=phi2,
                        phi2_reason=reason)


def one_step_error(source: Any, theta0: Any, etas: Any, order: int = 1, *,
                   params: Any = None, **values: float) -> OneStepError:
    """For each eta: the distance between one GD step theta0 - eta P g(theta0) and the modified
    flow theta' = -P g - eta (1/2) P H P g + eta^2 field_2 (terms up to ``order`` = 0, 1, 2) integrated
    for time eta from theta0 (DOP853, rtol 1e-13). ``source``: an :class:`EntropicLoss` (its own eta
    is not used: the rates are ``etas``), or a population loss expression with its ``params``;
    ``values`` binds the other symbols (gamma, the preconditioner's). The error is
    O(eta^(order + 2)); ``slope`` is its fitted log-log slope."""
    if not isinstance(source, EntropicLoss):
        if params is None:
            raise EntropicInputError("params are needed when the source is a loss expression")
        source = entropic_loss(source, params)
    return flow_step_error(source, theta0, etas, order, values)


def _second_order_potential(w: sp.Matrix, curl: sp.Matrix, g: sp.Matrix, H: sp.Matrix, P: sp.Matrix,
                            params: tuple[sp.Symbol, ...]) -> tuple[sp.Expr | None, str]:
    """(phi_2, reason): the potential when the curl vanishes identically, else None and why. A curl
    that does not cancel on expansion is evaluated at random points first: non-zero there proves
    that no potential exists; zero there, ``sp.simplify`` must prove it. Undecided (None) when no random
    point lies in the expressions' domain."""
    if not curl.is_zero_matrix:
        size, point = der.size_at_points(curl, w, params)
        if not point:
            return None, ("undecided: the antisymmetric Jacobian of the second-order field does not cancel on "
                          "expansion, and no random point lies in its domain to evaluate it")
        if size > der.CHECK_TOL:
            where = ", ".join(f"{k} = {v:.4g}" for k, v in point.items())
            return None, ("no potential exists: the Jacobian of the second-order field is not "
                          f"symmetric (antisymmetric part {size:.3g} relative to the field at "
                          f"{where}); the second-order flow is not a gradient flow, use field2")
        if not der.proven_zero(curl):
            return None, ("undecided: SymPy could not simplify the antisymmetric Jacobian of the "
                          f"second-order field to zero, yet it is below {der.CHECK_TOL:g} at random "
                          "points")
    return der.potential(w, g, H, P, params)
