"""Size guard: refuse, at once, a job over the 2^N states that cannot fit in memory or would run too long.

Every guarded entry point has a :class:`Cost` per pass over the states: the bytes it keeps per state for
the whole job, the float64 arrays of one tile alive at once (a tile of ``block_size`` elements), a fixed
time per pass and its throughput in states/s per backend. A job of P passes (a gibbs_potential point or
an exact fit iterates enumerations) is then estimated as

    memory = tile_arrays x 8 B x tile elements + per_state_bytes x 2^N + pair_bytes x N^2 + 256 KiB,
    seconds = P (overhead + 2^N / throughput).

The constants are measured by ``python benchmarks/guards.py`` (peak memory by tracemalloc, wall time) on
a busy 2-core CPU, so that the measured peak stays within 1.5x of the estimate and the measured time
within 3x. Those rates are a busy machine's: before refusing a job of the tile engine on time, the guard
measures the engine here (:func:`measured_rate`) and estimates with that rate when it is faster.
Free memory is the smaller of MemAvailable and the cgroup limit (backend.free_memory_bytes).

The time limit of a guard (:func:`time_limit`) is its own ``max_seconds`` when a caller gives one, else the
limit of the innermost :func:`time_budget` block around the call (a pipeline's ``max_seconds``, which so
reaches every guarded call its steps make, at any depth), else THERMOPOT_MAX_SECONDS, else one hour.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..backend import backend_name, free_memory_bytes, get_namespace, resolve_block_size
from ..checks import check_positive
from ..errors import SizeError
from ..states import MAX_SPINS

#: default longest job accepted, seconds (override: max_seconds= or THERMOPOT_MAX_SECONDS)
DEFAULT_MAX_SECONDS = 3600.0
#: small arrays of any job (results, model copies, the optimiser's state)
FIXED_BYTES = 256 * 1024.0
#: a job estimated below this is admitted without reading the free memory: the read (/proc/meminfo and
#: the cgroup files, tens of microseconds) was 4-5 % of a small enumeration, and a process that cannot
#: find 16 MiB fails at its next allocation whatever a guard says
SMALL_JOB_BYTES = 16 * 1024.0**2


@dataclass(frozen=True)
class Cost:
    """What one pass of an entry point over the 2^N states costs (see the module docstring). ``wide``:
    its tiles hold (states, N) arrays of ``block_size`` elements (block_size // N states)."""

    tile_arrays: float
    per_state_bytes: float = 0.0
    wide: bool = False
    pair_bytes: float = 64.0
    overhead: float = 0.002
    throughput: tuple[float, float] = (1.0e7, 5.0e9)  # states/s on numpy, cupy
    engine: bool = False  #: a pass is the tile engine's: its rate can be measured (:func:`measured_rate`)

    def rate(self, xp: ModuleType) -> float:
        """States per second on the backend of ``xp``."""
        return self.throughput[backend_name(xp) == "cupy"]


#: thermodynamics (log Z, U, C, m, chi): the tile engine
ENUMERATION = Cost(tile_arrays=6.0, overhead=0.008, engine=True)
#: one enumeration inside gibbs_potential's Newton iteration (with its model, solve and line search)
GIBBS_STEP = Cost(tile_arrays=6.0, overhead=0.01, engine=True)
#: one objective evaluation of an exact fit (an enumeration and an L-BFGS step with its 30 stored pairs of
#: N (N + 1) / 2 parameters)
FIT_EVALUATION = Cost(tile_arrays=6.0, pair_bytes=64.0 + 8.0 * 70, overhead=0.03, engine=True)
#: thermodynamics with observables: (block // N, N) spin tiles and the observables' values
OBSERVABLES = Cost(tile_arrays=2.0, wide=True, overhead=0.01, throughput=(2.5e6, 1.0e9))
#: restricted_free_energies: label arrays per state, per-label bincounts over (states, N) tiles
RESTRICTED = Cost(tile_arrays=4.0, per_state_bytes=40.0, wide=True, overhead=0.01, throughput=(4.0e5, 2.0e8))
#: local_minima: the energy table, the descent map and its pointer jumping
LANDSCAPE = Cost(tile_arrays=4.0, per_state_bytes=40.0, wide=True, overhead=0.01, throughput=(4.0e5, 2.0e8))
#: local_minima(T=): the landscape, then restricted_free_energies of its basins (the basin map is kept)
LANDSCAPE_T = Cost(tile_arrays=4.0, per_state_bytes=76.0, wide=True, overhead=0.02, throughput=(2.0e5, 1.0e8))


def human_bytes(b: float) -> str:
    """A byte count in B, KiB, MiB, ... with three significant digits."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if b < 1024 or unit == "PiB":
            return f"{b:.3g} {unit}"
        b /= 1024
    return f"{b:.3g} PiB"


def human_seconds(s: float) -> str:
    """A duration in s, min, h, days or years with three significant digits."""
    for unit, size in (("years", 3.15e7), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def estimate(n: int, xp: ModuleType, per_state_bytes: float = 0.0, block_size: int | None = None, *,
             cost: Cost = ENUMERATION, passes: float = 1.0, rate: float | None = None) -> tuple[float, float]:
    """(bytes, seconds) that ``passes`` passes of an entry point of cost ``cost`` over the 2^n states need
    on the backend of ``xp`` (``per_state_bytes`` is kept per state on top of the cost's own) at the
    cost's throughput, or at ``rate`` states/s when given."""
    block = resolve_block_size(block_size, xp)
    states = 2.0**n
    tile = min(block, states * n) if cost.wide else min(block, states)
    memory = (cost.tile_arrays * 8.0 * tile + (cost.per_state_bytes + per_state_bytes) * states
              + cost.pair_bytes * n * n + FIXED_BYTES)
    return memory, passes * (cost.overhead + states / (rate or cost.rate(xp)))


#: the limit of the innermost :func:`time_budget` block (None outside any)
_BUDGET: contextvars.ContextVar[float | None] = contextvars.ContextVar("thermopot_time_budget", default=None)


def time_limit(max_seconds: float | None) -> float:
    """``max_seconds`` checked, or the limit of the enclosing :func:`time_budget`, or
    THERMOPOT_MAX_SECONDS, or DEFAULT_MAX_SECONDS."""
    if max_seconds is None:
        max_seconds = _BUDGET.get()
    if max_seconds is None:
        return check_positive(os.environ.get("THERMOPOT_MAX_SECONDS", DEFAULT_MAX_SECONDS),
                              "the time limit THERMOPOT_MAX_SECONDS")
    return check_positive(max_seconds, "max_seconds")


@contextlib.contextmanager
def time_budget(max_seconds: float | None) -> Iterator[None]:
    """Inside the block, every guard called without its own ``max_seconds`` (:func:`time_limit`) uses
    ``max_seconds`` (checked > 0) instead of THERMOPOT_MAX_SECONDS or the hour; None changes nothing. A
    pipeline wraps its steps in it so that its limit reaches every guarded call they make (solvers, fits,
    enumerations, chains), not only its own estimate. Scoped to the current thread and context."""
    if max_seconds is None:
        yield
        return
    token = _BUDGET.set(check_positive(max_seconds, "max_seconds"))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def check_size(n: int, backend: Any = None, *, per_state_bytes: float = 0.0, max_seconds: float | None = None,
               block_size: int | None = None, what: str = "exact enumeration", cost: Cost = ENUMERATION,
               passes: float = 1.0) -> tuple[float, float]:
    """Raise SizeError, naming the memory and the time needed, when ``passes`` passes over the 2^n states
    (see :func:`estimate`) do not fit in the free memory of the backend or would take longer than
    ``max_seconds``; return (bytes, seconds) otherwise. Takes about a millisecond. ``backend`` is a
    backend name or an array namespace."""
    xp = get_namespace(backend)
    if n > MAX_SPINS:
        raise SizeError(f"{what} of N={n} spins is impossible: state indices need N <= {MAX_SPINS}")
    memory, seconds = estimate(n, xp, per_state_bytes, block_size, cost=cost, passes=passes)
    rate = f"at ~{cost.rate(xp):.2g} states/s"
    if cost.engine and seconds > time_limit(max_seconds) and backend_name(xp) == "numpy":
        measured = measured_rate()  # the nominal rate is a busy machine's: before refusing, measure this one
        if measured > cost.rate(xp):
            seconds = estimate(n, xp, per_state_bytes, block_size, cost=cost, passes=passes, rate=measured)[1]
            rate = f"at ~{measured:.2g} states/s, measured on this machine now"
    sweeps = f"{passes:.3g} passes over " if passes != 1 else ""
    return check_budget(memory, seconds, f"{what} of N={n} spins ({sweeps}2^{n} = {2.0**n:.3g} states)", xp,
                        max_seconds=max_seconds, rate=rate)


#: the tile engine's rate probe: registered by exact.thermodynamics (which imports this module), called
#: at most once per process
_PROBE: list[Callable[[], float]] = []


def register_rate_probe(probe: Callable[[], float]) -> None:
    """Make ``probe`` (no arguments -> states per second of the NumPy tile engine here and now) the
    measurement behind :func:`measured_rate`; its result is kept for the process."""
    _PROBE[:] = [functools.cache(probe)]


def measured_rate() -> float:
    """States per second of the NumPy tile engine on this machine, as loaded when first asked (the
    registered probe; 0 when none is). Called only when the nominal rate of a busy 2-core machine
    (1e7 states/s) would refuse a job: the engine ran 2.4-2.8e8 states/s on a quiet 2-core Intel Xeon
    with AVX-512, 25x the nominal."""
    return _PROBE[0]() if _PROBE else 0.0


def check_budget(memory: float, seconds: float, what: str, backend: Any = None, *,
                 max_seconds: float | None = None, rate: str = "") -> tuple[float, float]:
    """Raise SizeError, naming both amounts, when a job estimated at ``memory`` bytes and ``seconds``
    does not fit in 0.8 x the backend's free memory or would take longer than ``max_seconds``
    (see :func:`time_limit`); return (memory, seconds) otherwise. The free memory is read only for a job
    above SMALL_JOB_BYTES. ``what`` names the job, ``rate``
    (optional) the throughput the time assumes."""
    xp = get_namespace(backend)
    limit = time_limit(max_seconds)
    if memory <= SMALL_JOB_BYTES and seconds <= limit:
        return memory, seconds
    needs = (f"{what} needs about {human_bytes(memory)} of memory and about {human_seconds(seconds)} "
             f"on {backend_name(xp)}" + (f" ({rate})" if rate else ""))
    if memory > SMALL_JOB_BYTES:
        free = free_memory_bytes(xp)
        if memory > 0.8 * free:
            raise SizeError(f"{needs}, but only {human_bytes(free)} is free")
    if seconds > limit:
        raise SizeError(f"{needs}, more than the limit of {human_seconds(limit)} "
                        "(raise it with max_seconds= or THERMOPOT_MAX_SECONDS)")
    return memory, seconds
