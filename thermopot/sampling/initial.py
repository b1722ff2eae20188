"""Starting states of chains read from a file (``thermopot sample --initial FILE.npz``)."""

from __future__ import annotations

import os

import numpy as np

from ..checks import read_npz
from ..errors import ThermopotError

#: names under which an --initial file may hold its states (else: its only array)
INITIAL_KEYS = ("initial", "states", "spins", "s")


def load_initial_states(path: str | os.PathLike, n: int | None = None) -> np.ndarray:
    """The starting states of ``thermopot sample --initial FILE.npz``: the array stored as ``initial``,
    ``states``, ``spins`` or ``s`` (or the file's only array), of shape (N,) (one state for every chain)
    or (C, N) (one per chain), holding only +1 and -1. ThermopotError naming the problem otherwise
    (magnetisations strictly inside (-1, 1), such as a TAP state, are refused with the remedy
    ``np.where(m >= 0, 1, -1)``)."""
    arrays = read_npz(path, "initial states", ThermopotError)
    keys = [k for k in INITIAL_KEYS if k in arrays]
    if keys:
        s = arrays[keys[0]]
    elif len(arrays) == 1:
        s = next(iter(arrays.values()))
    else:
        raise ThermopotError(f"initial states file {os.fspath(path)!r} holds {sorted(arrays)}; store the states "
                             f"as one of {', '.join(INITIAL_KEYS)} (shape (N,) or (chains, N))")
    if s.ndim not in (1, 2) or 0 in s.shape:
        raise ThermopotError(f"initial states must have shape (N,) or (chains, N), got {s.shape}")
    if n is not None and s.shape[-1] != n:
        raise ThermopotError(f"initial states have {s.shape[-1]} spins (shape {s.shape}) but the model has N = {n}")
    if not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
        raise ThermopotError(f"initial states must be real numbers, got dtype {s.dtype}")
    if not np.isin(s, (-1, 1)).all():
        inside = bool(np.all(np.abs(s) < 1))
        raise ThermopotError("initial states must hold only +1 and -1" + (
            "; these look like magnetisations (all inside (-1, 1)): save np.where(m >= 0, 1, -1) to start "
            "from the state they point to" if inside else f", found {np.unique(s)[:6].tolist()}"))
    return s.astype(np.float64)
