"""Input checks shared by the numeric knowledge potentials: clear messages, never a NumPy traceback."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray, to_numpy
from ..errors import ThermopotError

#: tolerance on |sum_i x_i - 1| for a point of the probability simplex
SIMPLEX_TOL = 1e-9


def real(x: Any, name: str, xp: ModuleType, min_ndim: int = 1) -> Any:
    """``x`` as a finite float64 array of namespace ``xp`` with at least ``min_ndim`` dimensions."""
    try:
        arr = asarray(x, xp)
    except (TypeError, ValueError) as exc:
        raise ThermopotError(f"{name} must be an array of real numbers ({exc})") from None
    if arr.ndim < min_ndim or (arr.ndim and 0 in arr.shape):
        raise ThermopotError(f"{name} must be a non-empty array with at least {min_ndim} "
                             f"dimension(s), got shape {tuple(arr.shape)}")
    if not bool(xp.all(xp.isfinite(arr))):
        raise ThermopotError(f"{name} contains NaN or infinite values")
    return arr


def same_states(a: Any, b: Any, name_a: str, name_b: str) -> tuple[int, ...]:
    """The broadcast shape of two (..., n) arrays that must share the number of states n."""
    if a.shape[-1] != b.shape[-1]:
        raise ThermopotError(f"{name_a} and {name_b} must have the same number of states (last axis), "
                             f"got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    try:
        return tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    except ValueError:
        raise ThermopotError(f"shapes of {name_a} {tuple(a.shape)} and {name_b} {tuple(b.shape)} "
                             "do not broadcast") from None


def simplex(x: Any, name: str, xp: ModuleType, strict: bool = False) -> Any:
    """``x`` (..., n) checked to be a probability vector: x_i >= 0 (> 0 if ``strict``), sum_i x_i = 1."""
    arr = real(x, name, xp)
    low = xp.min(arr)
    if bool(low < 0) or (strict and bool(low <= 0)):
        need = "> 0 (strictly inside the simplex)" if strict else ">= 0"
        raise ThermopotError(f"{name} must lie on the probability simplex: entries must be {need}, "
                             f"smallest is {float(to_numpy(low))}")
    err = float(to_numpy(xp.max(xp.abs(xp.sum(arr, axis=-1) - 1.0))))
    if err > SIMPLEX_TOL:
        raise ThermopotError(f"{name} must lie on the probability simplex: entries must sum to 1 "
                             f"along the last axis (off by {err:.3g})")
    return arr



def spins(s: Any, name: str, xp: ModuleType, n: int | None = None) -> Any:
    """``s`` as a (..., N) float array of +-1 entries (N = ``n`` when given)."""
    arr = real(s, name, xp)
    if n is not None and arr.shape[-1] != n:
        raise ThermopotError(f"{name} must have N = {n} spins on the last axis, got shape {tuple(arr.shape)}")
    if not bool(xp.all((arr == 1.0) | (arr == -1.0))):
        raise ThermopotError(f"{name} must contain only spins +1 and -1")
    return arr


def out(a: Any) -> Any:
    """A result as NumPy: a Python float for a 0-d array, an ndarray otherwise."""
    arr = to_numpy(a)
    return float(arr) if arr.ndim == 0 else arr
