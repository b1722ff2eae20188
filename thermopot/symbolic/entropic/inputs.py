"""Input checks for the symbolic entropic loss: the loss, its parameters, the data, the learning rate,
the batch size, the weight decay and the preconditioner, each refused with a message naming the problem.

Numbers are made exact: a float x becomes the rational with the same decimal repr (0.1 -> 1/10), so
that cancellations (a vanishing curl, a closed form) are decided exactly and not up to rounding."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ...errors import ThermopotError


class EntropicInputError(ThermopotError):
    """Bad input to the symbolic entropic loss (loss, parameters, data, rates, batch size)."""


#: default symbols of the learning rate, the batch size and the weight decay
ETA = sp.Symbol("eta", positive=True)
BATCH = sp.Symbol("S", positive=True, integer=True)


def exact(value: Any, name: str) -> sp.Expr:
    """A finite real number (Python, NumPy or SymPy) as an exact SymPy number."""
    if isinstance(value, (bool, np.bool_)):
        raise EntropicInputError(f"{name} must be a real number, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise EntropicInputError(f"{name} must be finite, got {value!r}")
        return sp.Rational(repr(float(value)))
    if isinstance(value, sp.Float):
        return exact(float(value), name)
    if isinstance(value, sp.Expr) and value.is_number:
        if not (value.is_real and value.is_finite):
            raise EntropicInputError(f"{name} must be a finite real number, got {value!r}")
        return value
    raise EntropicInputError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")


def symbols(items: Any, name: str) -> tuple[sp.Symbol, ...]:
    """A tuple of distinct SymPy symbols (one symbol alone is accepted)."""
    if isinstance(items, sp.Symbol):
        items = (items,)
    try:
        items = tuple(items)
    except TypeError:
        raise EntropicInputError(f"{name} must be a SymPy symbol or a sequence of symbols, "
                                 f"got {items!r}") from None
    bad = [s for s in items if not isinstance(s, sp.Symbol)]
    if bad:
        raise EntropicInputError(f"{name} must be SymPy symbols; not a symbol: {bad[0]!r}")
    seen, dup = set(), []
    for s in items:
        if s in seen and s not in dup:
            dup.append(s)
        seen.add(s)
    if dup:
        raise EntropicInputError(f"{name} contain duplicates: {', '.join(map(str, dup))}")
    return items


def loss_expression(loss: Any, allowed: set, what: str) -> sp.Expr:
    """The loss as a scalar SymPy expression whose free symbols are all declared (floats made
    exact)."""
    if not isinstance(loss, sp.Expr) or isinstance(loss, sp.MatrixBase):
        raise EntropicInputError(f"{what} must be a scalar SymPy expression, got "
                                 f"{type(loss).__name__} {loss!r}")
    unknown = sorted(loss.free_symbols - allowed, key=str)
    if unknown:
        raise EntropicInputError(f"{what} contains free symbols that are neither parameters nor data "
                                 f"symbols: {', '.join(map(str, unknown))} (declare them, or give "
                                 "them values)")
    return loss.xreplace({f: exact(f, what) for f in loss.atoms(sp.Float)})


@dataclass(frozen=True)
class Data:
    """A finite weighted data set: points[i][k] is the value of data symbol k at point i; weights sum
    to one (the expectation E_x is the weighted mean)."""

    symbols: tuple[sp.Symbol, ...]
    points: tuple[tuple[sp.Expr, ...], ...]
    weights: tuple[sp.Expr, ...]

    @property
    def size(self) -> int:
        return len(self.points)

    @property
    def uniform(self) -> bool:
        return all(w == self.weights[0] for w in self.weights)

    def substitutions(self) -> list[dict]:
        """One {data symbol: value} map per point."""
        return [dict(zip(self.symbols, p)) for p in self.points]


def data_set(data: Any, data_symbols: Any, weights: Any) -> Data:
    """Points given as mappings {symbol: value} (data symbols may then be omitted: the keys of the
    first point) or as rows of values ordered like ``data_symbols``; weights positive, normalised."""
    try:
        points = list(data)
    except TypeError:
        raise EntropicInputError(f"data must be a sequence of data points, got {data!r}") from None
    if not points:
        raise EntropicInputError("data must contain at least one data point")
    if data_symbols is None:
        if not isinstance(points[0], Mapping):
            raise EntropicInputError("data_symbols must be given when the data points are not "
                                     "mappings {symbol: value}")
        data_symbols = tuple(points[0])
    syms = symbols(data_symbols, "data symbols")
    rows = []
    for i, point in enumerate(points):
        if isinstance(point, Mapping):
            if set(point) != set(syms):
                raise EntropicInputError(f"data point {i} has symbols {sorted(map(str, point))}, "
                                         f"expected {sorted(map(str, syms))}")
            values = [point[s] for s in syms]
        else:
            values = list(np.atleast_1d(np.asarray(point, dtype=object)))
            if len(values) != len(syms):
                raise EntropicInputError(f"data point {i} has {len(values)} values, expected "
                                         f"{len(syms)} (one per data symbol {', '.join(map(str, syms))})")
        rows.append(tuple(exact(v, f"value of {s} at data point {i}") for s, v in zip(syms, values)))
    return Data(symbols=syms, points=tuple(rows), weights=_weights(weights, len(rows)))


def _weights(weights: Any, n: int) -> tuple[sp.Expr, ...]:
    if weights is None:
        return (sp.Rational(1, n),) * n
    w = [exact(v, "data weight") for v in np.atleast_1d(np.asarray(weights, dtype=object))]
    if len(w) != n:
        raise EntropicInputError(f"got {len(w)} data weights for {n} data points")
    if any(not v > 0 for v in w):
        raise EntropicInputError("data weights must all be > 0")
    total = sum(w)
    return tuple(v / total for v in w)


def learning_rate(eta: Any) -> sp.Expr:
    """eta > 0: a number or a SymPy expression (a symbol is kept symbolic)."""
    if isinstance(eta, sp.Expr) and not eta.is_number:
        return eta
    value = exact(eta, "learning rate eta")
    if not value > 0:
        raise EntropicInputError(f"learning rate eta must be > 0, got {eta!r}")
    return value


def weight_decay(gamma: Any) -> sp.Expr:
    """gamma >= 0: a number or a SymPy expression."""
    if isinstance(gamma, sp.Expr) and not gamma.is_number:
        return gamma
    value = exact(gamma, "weight decay gamma")
    if value < 0:
        raise EntropicInputError(f"weight decay gamma must be >= 0, got {gamma!r}")
    return value


def batch_size(S: Any, data: Data | None, replacement: bool) -> sp.Expr:
    """S >= 1 (an integer or a symbol); without replacement S <= number of points, equal weights."""
    if data is not None and not replacement:
        if not data.uniform:
            raise EntropicInputError("sampling without replacement needs equal data weights")
    if isinstance(S, sp.Expr) and not S.is_number:
        return S
    if isinstance(S, (bool, np.bool_)) or not isinstance(S, (int, np.integer, sp.Integer)):
        raise EntropicInputError(f"batch size S must be an integer, got {S!r}")
    S = int(S)
    if S < 1:
        raise EntropicInputError(f"batch size S must be >= 1, got {S}")
    if data is not None and not replacement and S > data.size:
        raise EntropicInputError(f"batch size S = {S} is larger than the {data.size} data points "
                                 "(sampling without replacement)")
    return sp.Integer(S)


def preconditioner(P: Any, n: int) -> sp.Matrix:
    """A symmetric n x n SymPy matrix (identity when None); positive definite when numeric."""
    if P is None:
        return sp.eye(n)
    try:
        M = sp.Matrix(P)
    except (TypeError, ValueError, sp.SympifyError):
        raise EntropicInputError(f"preconditioner must be a square matrix, got {P!r}") from None
    if M.shape != (n, n):
        raise EntropicInputError(f"preconditioner must be {n} x {n} (one row per parameter), got "
                                 f"{M.shape[0]} x {M.shape[1]}")
    M = M.applyfunc(lambda v: exact(v, "preconditioner entry") if not isinstance(v, sp.Expr)
                    or v.is_number else v)
    if not (M - M.T).applyfunc(sp.simplify).is_zero_matrix:
        raise EntropicInputError("preconditioner must be symmetric")
    if not M.free_symbols:
        eig = np.linalg.eigvalsh(np.array(M.evalf(), dtype=float))
        if eig.min() <= 0:
            raise EntropicInputError(f"preconditioner must be positive definite, smallest "
                                     f"eigenvalue {eig.min():.3g}")
    return M


def covariance_factor(S: sp.Expr, data: Data, replacement: bool) -> sp.Expr:
    """Cov(g_B) = factor * Sigma: 1/S with replacement, (N - S) / (S (N - 1)) without (N points)."""
    if replacement:
        return 1 / S
    N = data.size
    if N == 1:
        return sp.Integer(0)
    return (N - S) / (S * (N - 1))


def real_array(x: Any, name: str, any_ndim: bool = False) -> np.ndarray:
    """A non-empty float64 array of finite values: 1-D, or of any dimension >= 1 with ``any_ndim``."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise EntropicInputError(f"{name} must be an array of real numbers, got {x!r}") from None
    if arr.ndim < 1 or (arr.ndim > 1 and not any_ndim) or arr.size == 0:
        raise EntropicInputError(f"{name} must be a non-empty {'' if any_ndim else '1-D '}array, got "
                                 f"shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise EntropicInputError(f"{name} contains NaN or infinite values")
    return arr
