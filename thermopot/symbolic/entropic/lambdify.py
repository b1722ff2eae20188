"""Numeric side of the symbolic entropic loss: lambdified NumPy functions, and the one-step check of
the modified flow against one GD step (error ~ eta^(order + 2))."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from .inputs import EntropicInputError, real_array

#: tolerances of the DOP853 integration of the modified flow
FLOW_RTOL = 1e-13
FLOW_ATOL = 1e-15


class LossExpressions(Protocol):
    """What the numeric side reads of an entropic loss (:class:`thermopot.symbolic.entropic.EntropicLoss`
    provides it): its SymPy expressions, the free symbols to bind, and a cache of compiled functions."""

    params: tuple[sp.Symbol, ...]
    preconditioner: sp.Matrix
    loss: sp.Expr
    gradient: sp.Matrix
    hessian: sp.Matrix
    phi1: sp.Expr
    noise: sp.Expr | None
    total: sp.Expr
    flow: sp.Matrix
    field2: sp.Matrix
    _cache: dict

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]: ...


@dataclass(frozen=True)
class EntropicFunctions:
    """NumPy functions of parameter vectors theta of shape (..., n) (one point or a batch), every
    other symbol bound to ``values``: scalars as shape (...) (a float for one point), g and the flow
    as (..., n), H as (..., n, n)."""

    values: dict  #: symbol name -> number
    loss: Callable  #: L(theta)
    gradient: Callable  #: g(theta) = grad L_gamma
    hessian: Callable  #: H(theta)
    phi1: Callable  #: (1/4) g^T P g
    noise: Callable | None  #: (eta / (4 S)) Tr(P Sigma) (None without data)
    total: Callable  #: F(theta)
    flow: Callable  #: -P grad F(theta)


def _bind(values: dict, symbols: tuple[sp.Symbol, ...]) -> list[float]:
    """The numbers for ``symbols`` (by name), checked against their assumptions."""
    names = [s.name for s in symbols]
    missing = [n for n in names if n not in values]
    if missing:
        raise EntropicInputError(f"give a value for {', '.join(missing)} (symbols left in the "
                                 "expressions)")
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise EntropicInputError(f"no symbol named {', '.join(unknown)} in the expressions "
                                 f"(symbols: {', '.join(names) or 'none'})")
    out = []
    for s in symbols:
        v = values[s.name]
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise EntropicInputError(f"{s.name} must be a number, got {v!r}") from None
        if not math.isfinite(v):
            raise EntropicInputError(f"{s.name} must be finite, got {v!r}")
        if s.is_positive and v <= 0:
            raise EntropicInputError(f"{s.name} must be > 0, got {v!r}")
        if s.is_integer and v != int(v):
            raise EntropicInputError(f"{s.name} must be an integer, got {v!r}")
        out.append(v)
    return out


def _compile(result: LossExpressions, name: str, expr: Any, symbols: tuple[sp.Symbol, ...]) -> Callable:
    """f(theta, numbers) -> array of shape (..., *shape) for theta of shape (..., n): the entries
    of ``expr`` lambdified once over (theta_1, ..., theta_n, *symbols), cached on the result."""
    key = (name, symbols)
    if key not in result._cache:
        shape = () if not isinstance(expr, sp.MatrixBase) else (
            (expr.rows,) if expr.cols == 1 else expr.shape)  # a column vector comes back as (..., n)
        f = sp.lambdify([*result.params, *symbols], list(expr) if shape else [expr], modules="numpy")
        n = len(result.params)

        def evaluate(theta: Any, numbers: list[float]) -> np.ndarray:
            theta = real_array(theta, "theta", any_ndim=True)
            if theta.shape[-1] != n:
                raise EntropicInputError(f"theta must have {n} entries (one per parameter) on its "
                                         f"last axis, got shape {theta.shape}")
            batch = theta.shape[:-1]
            values = f(*(theta[..., i] for i in range(n)), *numbers)
            out = np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), batch) for v in values],
                           axis=-1)
            return out.reshape(batch + shape)

        result._cache[key] = evaluate
    return result._cache[key]


def bind_functions(result: LossExpressions, values: dict) -> EntropicFunctions:
    """The expressions of ``result`` as NumPy functions of theta with ``values`` bound."""
    symbols = result.symbols
    numbers = _bind(values, symbols)
    bound = dict(zip([s.name for s in symbols], numbers))

    def make(name: str, expr: Any) -> Callable:
        f = _compile(result, name, expr, symbols)

        def evaluate(theta: Any) -> Any:
            out = f(theta, numbers)
            return float(out) if out.ndim == 0 else out

        evaluate.__doc__ = f"{name}(theta) for theta of shape (..., n), with {bound}"
        return evaluate

    return EntropicFunctions(
        values=bound, loss=make("loss", result.loss), gradient=make("gradient", result.gradient),
        hessian=make("hessian", result.hessian), phi1=make("phi1", result.phi1),
        noise=None if result.noise is None else make("noise", result.noise),
        total=make("total", result.total), flow=make("flow", result.flow))


@dataclass(frozen=True)
class OneStepError:
    """|one GD step - modified flow of the given order run for time eta| for each eta, and the
    fitted log-log slope (order + 2 expected)."""

    order: int
    etas: np.ndarray
    errors: np.ndarray
    slope: float  #: least-squares slope of log(error) against log(eta)
    expected_slope: int  #: order + 2

    def to_dict(self) -> dict:
        return {"order": self.order, "etas": self.etas.tolist(), "errors": self.errors.tolist(),
                "slope": self.slope, "expected_slope": self.expected_slope}


def flow_step_error(source: LossExpressions, theta0: Any, etas: Any, order: int,
                    values: dict) -> OneStepError:
    """:func:`thermopot.symbolic.entropic.one_step_error` of a loss ``source`` (its own eta unused)."""
    if order not in (0, 1, 2):
        raise EntropicInputError(f"order must be 0, 1 or 2, got {order!r}")
    etas = real_array(etas, "etas")
    if np.any(etas <= 0) or np.unique(etas).size < 2:
        raise EntropicInputError("etas must be > 0, with at least two different values")
    P, g, H = source.preconditioner, source.gradient, source.hessian
    pieces = [-P * g, -P * H * P * g / 2, source.field2]
    symbols = tuple(sorted(set().union(*(p.free_symbols for p in pieces)) - set(source.params),
                           key=str))
    numbers = _bind(values, symbols)
    funcs = [_compile(source, f"field{k}", piece, symbols) for k, piece in enumerate(pieces)]
    theta0 = real_array(theta0, "theta0")

    def term(k: int, theta: np.ndarray) -> np.ndarray:
        return funcs[k](theta, numbers)

    errors = []
    for eta in etas:
        step = theta0 + eta * term(0, theta0)

        def field(_t: float, theta: np.ndarray, eta: float = float(eta)) -> np.ndarray:
            return sum(eta**k * term(k, theta) for k in range(order + 1))

        sol = solve_ivp(field, (0.0, float(eta)), theta0, method="DOP853", rtol=FLOW_RTOL,
                        atol=FLOW_ATOL)
        if not sol.success:
            raise EntropicInputError(f"integration of the modified flow failed at eta = {eta:g}: "
                                     f"{sol.message}")
        errors.append(float(np.linalg.norm(sol.y[:, -1] - step)))
    errors = np.asarray(errors)
    if np.any(errors <= 0):
        raise EntropicInputError("one-step error is exactly zero at some eta (a stationary point?): "
                                 "no slope can be fitted; choose another theta0")
    slope = float(np.polyfit(np.log(etas), np.log(errors), 1)[0])
    return OneStepError(order=order, etas=etas, errors=errors, slope=slope, expected_slope=order + 2)
