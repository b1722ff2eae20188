"""Validation helpers shared by the model classes: clear messages, never a NumPy traceback."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import to_numpy
from ..errors import ModelError


def real_array(x: Any, name: str, ndim: int) -> np.ndarray:
    """``x`` as a finite float64 NumPy array with ``ndim`` dimensions, or a ModelError saying why not."""
    try:
        raw = np.asarray(to_numpy(x))
        arr = None if np.iscomplexobj(raw) else np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{name} must be an array of real numbers ({exc})") from None
    if arr is None:
        raise ModelError(f"{name} must be real, got complex values (dtype {raw.dtype})")
    if arr.ndim != ndim:
        raise ModelError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ModelError(f"{name} contains NaN or infinite values (first at index {where})")
    return arr


def read_only(arr: np.ndarray) -> np.ndarray:
    """``arr`` (owned by a model) marked read-only: a kernel, cache or caller that holds it cannot write
    through it and change the model behind its back (an in-place write raises ValueError)."""
    arr.setflags(write=False)
    return arr


def spin_count(n: int, limit: int | None = None) -> int:
    """``n`` checked as a number of spins (at most ``limit`` when given)."""
    if n < 1:
        raise ModelError(f"a model needs at least 1 spin, got N = {n}")
    if limit is not None and n > limit:
        raise ModelError(f"a model stored as 64-bit spin-subset masks takes at most {limit} spins, got N = {n}")
    return n


def spins_batch(model_n: int, s: Any, xp: Any) -> Any:
    """States as a (B, N) float array of the model's namespace; (N,) input becomes (1, N)."""
    arr = xp.asarray(s)
    if arr.ndim not in (1, 2) or arr.shape[-1] != model_n:
        raise ModelError(f"states must have shape (N,) or (B, N) with N = {model_n}, got {arr.shape}")
    arr = xp.astype(arr, xp.float64)
    return arr[None, :] if arr.ndim == 1 else arr
