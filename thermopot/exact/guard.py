"""Size guard: refuse, at once, an enumeration that cannot fit in memory or would run for too long.

The estimate is 2^N states over a throughput per backend (measured by benchmarks/enumeration.py,
conservative) and the working set of one tile plus whatever the job stores per state.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from ..backend import backend_name, free_memory_bytes, get_namespace, resolve_block_size
from ..checks import check_positive
from ..errors import SizeError
from ..states import MAX_SPINS

#: conservative states/s of the tile engine (log Z, moments, correlations), per backend
THROUGHPUT = {"numpy": 2.0e7, "cupy": 5.0e9}
#: default longest job accepted, seconds (override: max_seconds= or THERMOPOT_MAX_SECONDS)
DEFAULT_MAX_SECONDS = 3600.0
#: float64 arrays of tile size alive at once in the tile engine
TILE_ARRAYS = 6


def human_bytes(b: float) -> str:
    """A byte count in B, KiB, MiB, ... with three significant digits."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if b < 1024 or unit == "PiB":
            return f"{b:.3g} {unit}"
        b /= 1024
    return f"{b:.3g} PiB"


def _human_seconds(s: float) -> str:
    for unit, size in (("years", 3.15e7), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def estimate(n: int, xp: ModuleType, per_state_bytes: float = 0.0,
             block_size: int | None = None) -> tuple[float, float]:
    """(bytes, seconds) an exact enumeration of n spins needs on the backend of ``xp``."""
    block = resolve_block_size(block_size, xp)
    states = 2.0**n
    memory = TILE_ARRAYS * 8.0 * min(block, states) + per_state_bytes * states + 64.0 * n * n
    return memory, states / THROUGHPUT[backend_name(xp)]


def check_size(n: int, backend: Any = None, *, per_state_bytes: float = 0.0, max_seconds: float | None = None,
               block_size: int | None = None, what: str = "exact enumeration") -> tuple[float, float]:
    """Raise SizeError when enumerating 2^n states does not fit in the free memory of the backend or
    would take longer than ``max_seconds``; return (bytes, seconds) otherwise. Takes microseconds.
    ``backend`` is a backend name or an array namespace."""
    xp = get_namespace(backend)
    if n > MAX_SPINS:
        raise SizeError(f"{what} of N={n} spins is impossible: state indices need N <= {MAX_SPINS}")
    memory, seconds = estimate(n, xp, per_state_bytes, block_size)
    name = backend_name(xp)
    return check_budget(memory, seconds, xp, f"{what} of N={n} spins (2^{n} = {2.0**n:.3g} states)",
                        f"at ~{THROUGHPUT[name]:.2g} states/s", max_seconds=max_seconds)


def check_budget(memory: float, seconds: float, xp: ModuleType, what: str, rate: str, *,
                 max_seconds: float | None = None) -> tuple[float, float]:
    """Raise SizeError naming ``what``, the memory and the time when ``memory`` bytes exceed 80% of the
    backend's free memory or ``seconds`` exceed ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else
    DEFAULT_MAX_SECONDS); return (memory, seconds) otherwise. ``rate`` says what the time assumes."""
    if max_seconds is None:
        max_seconds = check_positive(os.environ.get("THERMOPOT_MAX_SECONDS", DEFAULT_MAX_SECONDS),
                                     "the time limit THERMOPOT_MAX_SECONDS")
    else:
        max_seconds = check_positive(max_seconds, "max_seconds")
    free = free_memory_bytes(xp)
    needs = (f"{what} needs about {human_bytes(memory)} of memory and about {_human_seconds(seconds)} "
             f"on {backend_name(xp)} ({rate})")
    if memory > 0.8 * free:
        raise SizeError(f"{needs}, but only {human_bytes(free)} is free")
    if seconds > max_seconds:
        raise SizeError(f"{needs}, more than the limit of {_human_seconds(max_seconds)} "
                        "(raise it with max_seconds= or THERMOPOT_MAX_SECONDS)")
    return memory, seconds
