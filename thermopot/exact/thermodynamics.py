"""Exact thermodynamics by enumeration of all 2^N states (theory.md section 1).

    log Z = log sum_s exp(-beta E(s)),  F = -T log Z,  U = <E>,  S = beta (U - F),
    C = beta^2 (<E^2> - <E>^2),  m_k = <s_k>,  <s_k s_l>,  chi_kl = <s_k s_l> - m_k m_l.

Computed relative to the ground energy E0 (see accumulate.py): with log Z' = log sum exp(-beta (E - E0)),
F = E0 - T log Z', U = E0 + T <beta (E - E0)>, S = log Z' + <beta (E - E0)> and C = Var(beta E), which
stay exact from T = 1e-60 to T = 1e300 (no cancellation, no overflow of E^2).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_count, check_temperature
from ..backend import (backend_name, blas_threads, get_namespace, resolve_block_size, synchronize, to_float,
                       to_numpy, vector_exp)
from ..errors import ThermopotError
from ..models import Model, resolve_model, sk
from ..progress import progress_bar, shows_progress
from ..results import Result
from ..states import index_to_spins
from .accumulate import TileStats, stream_stats
from .guard import DEFAULT_MAX_SECONDS, ENUMERATION, OBSERVABLES, check_size, estimate, register_rate_probe
from .tiles import HalfSplitEnergy

#: states per tile on the CPU when no block_size is given: large enough that the ~50 array calls of a tile
#: (~100 us) cost little next to its per-state work, small enough that each worker's two tile buffers
#: (1 MiB) stay in its L2. Measured (SK, T_b = 128, Intel Xeon with AVX-512, 4 MiB L2 per core, busy):
#: 2^15 / 2^16 / 2^17 gave 222 / 237 / 211 M states per CPU-s at N = 24 on one thread, 2^16 / 2^17 gave
#: 210 / 198 at N = 24 and 226 / 212 at N = 26 on two; on the AMD EPYC (AVX2) 2^17 had been chosen
CPU_TILE = 1 << 16
#: exact fits up to this N run their L-BFGS vector work on one BLAS thread (the enumeration always does)
SINGLE_THREAD_MAX_N = 22
#: most threads of the CPU thread pool by default (one tile per core; their BLAS runs on one thread each)
MAX_THREADS = 8
#: beta times the energy scale must stay below this: x = beta (E - E0) and w x are formed for every state
MAX_REDUCED_ENERGY = 1e300


@dataclass(frozen=True)
class Thermo(Result):
    """Exact equilibrium quantities at temperature T (NumPy arrays)."""

    n: int
    T: float
    log_z: float
    free_energy: float
    energy: float
    entropy: float
    heat_capacity: float
    magnetization: np.ndarray
    correlation: np.ndarray
    #: connected correlations chi_kl = <(s_k - m_k)(s_l - m_l)> (the susceptibility times T), accumulated
    #: directly by the enumeration (no cancellation of <s_k s_l> - m_k m_l near m = +-1)
    connected: np.ndarray
    observables: dict = field(default_factory=dict)
    backend: str = "numpy"
    seconds: float = 0.0

    _omit = ("connected",)  # to_dict: docs/architecture.md, `thermopot enumerate`


def check_energy_scale(model: Model, T: float) -> None:
    """Refuse a model whose reduced energies beta |E| <= beta sum_alpha |J_alpha| can leave the float64
    range (the statistics depend on E / T only: rescale both)."""
    scale = float(np.abs(model.walsh_terms()[1]).sum())
    if not scale / T < MAX_REDUCED_ENERGY:
        raise ThermopotError(f"the reduced energy scale sum|J| / T = {scale:.3g} / {T:.3g} exceeds "
                             f"{MAX_REDUCED_ENERGY:g}, beyond float64: the Boltzmann statistics depend on E / T "
                             "only, so divide the couplings and T by the same factor")


def check_observables(observables: dict[str, Callable] | None, n: int, xp: Any) -> dict[str, Callable]:
    """The observables, each probed on the first N + 1 states (arrays of namespace ``xp``): it must be
    callable and return real values of shape (B,) or (B, k) for a (B, N) array of spins; anything else is
    a ThermopotError naming it."""
    observables = dict(observables or {})
    probe = index_to_spins(xp.arange(n + 1, dtype=xp.int64), n, xp, xp.float64) if observables else None
    for name, f in observables.items():
        if not callable(f):
            raise ThermopotError(f"observable {name!r} must be a function of a (B, N) array of spins, got {f!r}")
        values = np.asarray(to_numpy(f(probe)))
        if values.ndim not in (1, 2) or values.shape[0] != n + 1 or not np.isrealobj(values):
            raise ThermopotError(f"observable {name!r} must return real values of shape (B,) or (B, k) for a "
                                 f"(B, N) array of spins; for B = {n + 1} it returned {values.dtype} {values.shape}")
    return observables


def tile_elements(block_size: int | None, xp: Any) -> int:
    """States per tile: ``block_size`` when given, else CPU_TILE on NumPy (cache-sized, see its comment)
    and the backend's default block on a GPU."""
    block = resolve_block_size(block_size, xp)
    return min(block, CPU_TILE) if block_size is None and backend_name(xp) == "numpy" else block


def default_threads(xp: Any) -> int:
    """Threads of the enumeration: 1 on a GPU (one stream), and 1 on a CPU whose exp is vectorised
    (:func:`~thermopot.backend.vector_exp`); else the usable cores, at most MAX_THREADS.

    Where exp runs at memory speed, most of a tile's time is in BLAS products and small array calls that
    do not run concurrently from two threads (OpenBLAS serialised two threads' products: 1.05-1.38 cores
    busy; the small calls hold the GIL), and a second tile thread made the enumeration slower: on the
    quiet 2-core Intel Xeon with AVX-512, SK N = 22 / 24 / 26, one thread 245 / 253-272 / 289 M states/s
    against 184 / 179-194 / 199 on two. Where exp is a scalar loop, its GIL-free time dominates a tile
    and the pool runs one tile per core (measured on the AMD EPYC with AVX2 before this rule)."""
    if backend_name(xp) != "numpy" or vector_exp(xp):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def resolve_threads(threads: int | None, xp: Any) -> int:
    """``threads`` checked (a positive integer, else a ThermopotError), or :func:`default_threads`."""
    return default_threads(xp) if threads is None else check_count(threads, "threads")


def enumerate_stats(model: Model, T: float, *, backend: Any = None, block_size: int | None = None,
                    moments: bool = True, observables: list[Callable] | None = None,
                    progress: bool | None = None, max_seconds: float | None = None, guarded: bool = False,
                    high: tuple[int, int] | None = None, threads: int | None = None) -> tuple[TileStats, Any]:
    """Stream all states of ``model`` at temperature T: (merged TileStats on the device, xp). The size
    guard runs first unless the caller ran it for the whole job (``guarded``). With ``high = (lo, hi)``
    only the chunk of states whose high N // 2 bits lie in [lo, hi) (see HalfSplitEnergy.plan).
    ``threads``: threads computing tiles (default :func:`default_threads`); the result does not depend
    on it (the tiles are merged in order), and BLAS runs on one thread inside each."""
    xp = get_namespace(backend)
    threads = resolve_threads(threads, xp)
    check_energy_scale(model, T)
    cost = OBSERVABLES if observables else ENUMERATION
    if guarded:
        _, seconds = estimate(model.n, xp, block_size=block_size, cost=cost)
    else:
        _, seconds = check_size(model.n, xp, block_size=block_size, max_seconds=max_seconds, cost=cost)
    block = tile_elements(block_size, xp)
    if observables:
        block = max(1, block // model.n)
    split = HalfSplitEnergy(model, xp)
    ta, tb = split.tile_shape(block)
    tiles = 2**model.n // (ta * tb)  # a bar when asked, or when the job is estimated to be long
    wrap = ((lambda it: progress_bar(tiles, unit="tile", desc=f"enumerate N={model.n}", iterable=it))
            if shows_progress(progress, seconds) else None)

    with blas_threads(1, xp):
        stats = stream_stats(split, 1.0 / T, block, moments=moments, observables=observables, progress=wrap,
                             high=high, threads=threads)
    return stats, xp


def thermodynamics(model: Model | str, T: float, *, backend: Any = None, block_size: int | None = None,
                   observables: dict[str, Callable] | None = None, progress: bool | None = None,
                   max_seconds: float | None = None, threads: int | None = None) -> Thermo:
    """Exact thermodynamics of ``model`` (a model, a .npz path or a generator spec) at temperature T.

    Streams the 2^N states in tiles of at most ``block_size`` elements (memory bounded), with
    log-sum-exp throughout. Cost: 2^N exponentials plus O(N/2) flops per state for a pairwise model.
    ``observables`` maps names to functions of a (B, N) array of spins returning (B,) or (B, k) values;
    their Boltzmann means are returned in ``.observables``. Raises SizeError for a job that cannot fit.

    ``threads``: how many threads compute tiles on the CPU (NumPy releases the GIL), each with its own
    buffers and BLAS on one thread, so the job uses at most ``threads`` cores. Default
    (``thermopot.exact.thermodynamics.default_threads``): 1 where exp is vectorised (AVX-512, GPU),
    else the cores this process may run on (at most MAX_THREADS); 1 with observables (user
    functions need not be thread-safe). Give fewer when the cores are shared, e.g. one per Dask worker
    thread (thermopot.distributed.enumeration does). The result is bit-identical for any value.
    """
    model = resolve_model(model)
    T = check_temperature(T)
    observables = check_observables(observables, model.n, get_namespace(backend))
    names = list(observables)
    start = time.perf_counter()
    stats, xp = enumerate_stats(model, T, backend=backend, block_size=block_size,
                                observables=[observables[k] for k in names], progress=progress,
                                max_seconds=max_seconds, threads=threads)
    synchronize(xp)
    return thermo_from_stats(stats, model.n, T, backend_name(xp), names, time.perf_counter() - start)


def thermo_from_stats(stats: TileStats, n: int, T: float, backend: str, names: Sequence[str] = (),
                      seconds: float = 0.0) -> Thermo:
    """The Thermo of merged statistics over all 2^n states (``names``: the observables' names, in order):
    log Z = log Z' - E0 / T, F = E0 - T log Z', U = E0 + T <x>, S = log Z' + <x>, C = Var(x)."""
    shift, log_zr, excess = to_float(stats.shift), to_float(stats.log_z), to_float(stats.excess)
    mag = to_numpy(stats.magnetization)
    corr = to_numpy(stats.connected) + np.outer(mag, mag)
    np.fill_diagonal(corr, 1.0)
    return Thermo(n=n, T=T, log_z=log_zr - shift / T, free_energy=shift - T * log_zr,
                  energy=shift + T * excess, entropy=log_zr + excess, heat_capacity=to_float(stats.energy_var),
                  magnetization=mag, correlation=corr, connected=to_numpy(stats.connected),
                  observables={k: to_numpy(v) for k, v in zip(names, stats.observables)},
                  backend=backend, seconds=seconds)


#: the enumeration timed by :func:`engine_rate` (2^CALIBRATION_SPINS states: 4 ms at 2.5e8 states/s)
CALIBRATION_SPINS = 20


def engine_rate() -> float:
    """States per second of one NumPy enumeration of SK with N = CALIBRATION_SPINS (all statistics) on
    this machine now: the guard's measured rate (:func:`.guard.measured_rate`). A small N runs below the
    engine's large-N rate (fixed costs per call), so a time estimated with it stays an upper bound; the
    faster of two runs (a fresh process's first enumeration ran 1.5e7 states/s where its second ran 1.3e8).
    Its own guard gets the default limit explicitly: the probe runs when a job is over the time limit, so
    under a smaller limit (THERMOPOT_MAX_SECONDS, a pipeline's budget) it would refuse itself, or probe again."""

    model = sk(CALIBRATION_SPINS, seed=0)
    best = math.inf
    for _ in range(2):  # the first call of a process pays its warm-up (imports, pools, first-touch pages)
        start = time.perf_counter()
        thermodynamics(model, 1.0, backend="numpy", progress=False, max_seconds=DEFAULT_MAX_SECONDS)
        best = min(best, time.perf_counter() - start)
    return 2.0**CALIBRATION_SPINS / max(best, 1e-9)


register_rate_probe(engine_rate)
