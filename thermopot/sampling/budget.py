"""What a sampler run costs, estimated before it starts: the size and time guard of ``sample``,
``first_passage`` and ``Sampler`` (refusal through :func:`thermopot.exact.guard.check_budget`).

Memory, in float64 numbers (B chains, N spins, K multi-spin terms, R recorded sweeps, P targets):

    state    STATE_ARRAYS B N           spins, local fields, a sweep's thresholds, sites, their temporaries
    model    N^2 (pairwise)  or  2 N K + 3 B K (multi-spin: incidence, weighted incidence, products)
    batches  2 B N, and BatchMeans.arrays_held() B N once recording (+ (arrays_held + 2) N^2 with
             correlations)
    series   2 R B, and RESULT_ARRAYS R G while ``result()`` estimates tau_int by FFT, G chains at a
             time (G = min(B, CHUNK_ELEMENTS // R), at least 1)
    passage  B N (start states) + 2 B P + P N (targets, distances)

Time: on a quiet machine, per sweep, N (SITE + CHAIN B) of per-site work (array calls over the chains;
twice that, plus CHAIN B P, with the per-update hook of a first passage) plus the bookkeeping: FIELD
B N^2 (pairwise: block products of a sequential sweep, or rank-1 updates of the chains that flipped)
or TERM B N K (multi-spin); per recorded sweep RECORD_CALLS + RECORD B N (+ FIELD B N^2 with
correlations). Two update paths have their own constants: the delayed block updates of a sequential
pairwise sweep ("block") and one update at a time ("site": random scan, multi-spin models, hooks).
They come from the README's throughput rows (benchmarks/sampling.py, a quiet 2-core CPU), rounded
up. The estimate is then scaled by the machine's present speed: the time of a tiny array call now
over CALL_SECONDS, the one on that quiet machine, and the number of runnable tasks per core (the load
average: on a machine shared by many jobs, a run gets a fraction of a core). The GPU
rows are the CuPy array path (one call per spin; the fused kernel is faster: the safe side).

The compiled CPU kernel (numba, the default on NumPy when installed; not for a first passage to
targets, whose per-update hook takes the array path) has its own rates, :data:`COMPILED`: per sweep
SWEEP (the host's numbers, the loop's entry), per update UPDATE B N (twice that below
PARALLEL_MIN_UPDATES updates per call, which run on one thread), FIELD B N^2 or TERM B N K of field
bookkeeping, and CALL per compiled call (one per REFRESH_SWEEPS sweeps or per recording). They come
from the README row of the compiled sweeps (quiet 2-core CPU, 256 chains, the slower pcg64 numbers:
3.3e7 / 3.2e7 / 1.4e7 updates/s at N = 64 / 256 / 1000, i.e. 27 ns + 0.045 ns N per update) and
benchmarks/guards_sampling.py (the per-sweep and per-call costs of N = 8, one chain).
"""

from __future__ import annotations

import os
import time as clock
from dataclasses import dataclass
from types import ModuleType

from ..backend import backend_name, synchronize
from ..exact.guard import check_budget
from ..models import Model, MultiSpinModel
from . import compiled
from .kernels import REFRESH_SWEEPS
from .statistics import CHUNK_ELEMENTS, BatchMeans

#: float64 arrays of B x N alive at once besides the batch means (see the module docstring)
STATE_ARRAYS = 10
#: float64 arrays of R x G alive while result() estimates tau_int (FFT of twice the length, complex)
RESULT_ARRAYS = 12


@dataclass(frozen=True)
class Rates:
    """Seconds per unit of work of one backend and update path on a quiet machine."""

    site: float    # per update: the array calls
    chain: float   # per update and chain: the elementwise work
    field: float   # per chain and coupling, per sweep: field bookkeeping
    term: float    # per chain, site and multi-spin term
    record: float  # per recorded chain and spin


#: (backend, path) -> rates (see the module docstring)
RATES = {
    ("numpy", "block"): Rates(site=6e-6, chain=1e-8, field=6e-11, term=0.0, record=1.5e-8),
    ("numpy", "site"): Rates(site=1.3e-5, chain=2.5e-8, field=4e-10, term=1e-9, record=1.5e-8),
    ("cupy", "block"): Rates(site=1.5e-4, chain=1e-11, field=1e-12, term=0.0, record=1e-10),
    ("cupy", "site"): Rates(site=2.5e-4, chain=1e-11, field=1e-12, term=1e-12, record=1e-10),
}
#: seconds of the fixed array calls of one recording (energy, magnetisation, batch means)
RECORD_CALLS = {"numpy": 2e-5, "cupy": 3e-4}
#: seconds of one tiny in-place array call on the quiet machine the rates come from
CALL_SECONDS = {"numpy": 6e-7, "cupy": 8e-6}


@dataclass(frozen=True)
class CompiledRates:
    """Seconds of the compiled CPU kernel on a quiet machine (see the module docstring)."""

    sweep: float   # per sweep: the host's numbers and the loop's entry
    update: float  # per update on the thread pool: the threshold, the exp, the decision
    field: float   # per chain and coupling, per sweep: the local fields of the flipped spins
    term: float    # per chain, site and multi-spin term
    call: float    # per compiled call (a chunk of sweeps)


COMPILED = CompiledRates(sweep=5e-6, update=2.7e-8, field=4.5e-11, term=2e-10, call=2e-5)


def cpu_share() -> float:
    """The fraction of a core a busy process gets now: cores / runnable tasks (the 1-minute load
    average), at most 1; 1 where the load average is unknown."""
    try:
        load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return 1.0
    return min(1.0, cores / max(load, 1e-9))


def slowdown(xp: ModuleType, calls: int = 50) -> float:
    """How much slower than the reference machine a run goes now (>= 1): the best of three rounds of
    ``calls`` tiny in-place additions over CALL_SECONDS (about 0.1 ms on NumPy; too short to be
    descheduled), divided by the share of a core :func:`cpu_share` expects over a longer run."""
    a, b = xp.zeros(64, dtype=xp.float64), xp.ones(64, dtype=xp.float64)
    best = float("inf")
    for _ in range(3):
        t0 = clock.perf_counter()
        for _ in range(calls):
            a += b
        synchronize(xp)
        best = min(best, (clock.perf_counter() - t0) / calls)
    return max(1.0, best / CALL_SECONDS[backend_name(xp)]) / cpu_share()


def memory(chains: int, n: int, *, terms: int = 0, records: int = 0, correlations: bool = False,
           targets: int = 0, passage: bool = False, buffered_sweeps: int = 0, random_scan: bool = False) -> float:
    """Bytes of a sampler of ``chains`` x ``n`` spins (``terms`` > 0: a multi-spin model) that records
    ``records`` sweeps (and summarises them), optionally with correlations, or tracks a first passage
    (to ``targets`` states); ``buffered_sweeps``: sweeps of PCG64 numbers the compiled kernel draws at
    once (uniforms, and sites for a random scan, at most NUMBER_BUFFER_BYTES, plus one sweep's draws)."""
    b, held = float(chains), BatchMeans.arrays_held()
    buffered = (min(compiled.NUMBER_BUFFER_BYTES / 8.0, buffered_sweeps * b * n * (1.0 + random_scan))
                + 3.0 * b * n if buffered_sweeps else 0.0)
    numbers = STATE_ARRAYS * b * n + (held if records else 2.0) * b * n + buffered
    numbers += 2.0 * n * terms + 3.0 * b * terms if terms else float(n) * n
    numbers += (held + 2.0) * n * n if correlations else 0.0
    group = min(b, max(1, CHUNK_ELEMENTS // max(records, 1)))
    numbers += 2.0 * records * b + RESULT_ARRAYS * records * group
    numbers += b * n + 2.0 * b * targets + float(targets) * n if passage else 0.0
    return 8.0 * numbers


def seconds(chains: int, n: int, sweeps: int, *, scan: str, backend: str, terms: int = 0,
            records: int = 0, correlations: bool = False, passage: bool = False, targets: int = 0,
            compiled_kernel: bool = False) -> float:
    """Seconds, on the quiet reference machine, of ``sweeps`` sweeps of which ``records`` are recorded
    (see the module docstring); ``compiled_kernel``: the sweeps run in the compiled CPU kernel."""
    if compiled_kernel and backend == "numpy" and not (passage and targets):
        return _compiled_seconds(chains, n, sweeps, terms=terms, records=records, correlations=correlations)
    path = "block" if scan == "sequential" and not terms and not passage else "site"
    r, b = RATES[(backend, path)], float(chains)
    bookkeeping = r.term * b * n * terms if terms else r.field * b * n * n
    per_site = (r.site + r.chain * b) * (2.0 if passage else 1.0) + r.chain * b * targets
    per_record = RECORD_CALLS[backend] + r.record * b * n + (r.field * b * n * n if correlations else 0.0)
    return sweeps * (n * per_site + bookkeeping) + records * per_record


def _compiled_seconds(chains: int, n: int, sweeps: int, *, terms: int, records: int, correlations: bool) -> float:
    """Seconds of the compiled kernel on the quiet reference machine (module docstring, COMPILED)."""
    c, b = COMPILED, float(chains)
    chunk = min(max(sweeps, 1), REFRESH_SWEEPS)
    update = c.update * (2.0 if b * n * chunk < compiled.PARALLEL_MIN_UPDATES else 1.0)
    bookkeeping = c.term * b * n * terms if terms else c.field * b * n * n
    r = RATES[("numpy", "block")]
    per_record = RECORD_CALLS["numpy"] + r.record * b * n + (r.field * b * n * n if correlations else 0.0)
    calls = -(-sweeps // REFRESH_SWEEPS) + records
    return sweeps * (c.sweep + update * b * n + bookkeeping) + calls * c.call + records * per_record


def check_run(model: Model, chains: int, xp: ModuleType, *, sweeps: int = 0, records: int = 0,
              scan: str = "sequential", correlations: bool = False, passage: bool = False,
              targets: int = 0, max_seconds: float | None = None,
              compiled_kernel: bool | None = None) -> tuple[float, float]:
    """Refuse, with a SizeError naming the memory and time needed, a run of ``chains`` chains on
    ``model`` for ``sweeps`` sweeps (``records`` of them recorded; ``passage``: tracking a first
    passage) that would not fit in memory or would take longer than ``max_seconds`` (see
    :func:`thermopot.exact.guard.check_budget`); return the estimate (bytes, seconds). Microseconds.
    ``compiled_kernel``: whether the sweeps run in the compiled CPU kernel (None: on NumPy whenever
    numba is installed, the sampler's default)."""
    n = model.n
    if compiled_kernel is None:
        compiled_kernel = backend_name(xp) == "numpy" and compiled.available()
    terms = int(model.subsets.shape[0]) if isinstance(model, MultiSpinModel) else 0
    # the compiled kernel (NumPy with numba) draws PCG64 numbers for up to REFRESH_SWEEPS sweeps at once
    buffered = min(REFRESH_SWEEPS, max(sweeps, 1)) if backend_name(xp) == "numpy" and compiled.available() else 0
    need = memory(chains, n, terms=terms, records=records, correlations=correlations, targets=targets,
                  passage=passage, buffered_sweeps=buffered, random_scan=scan == "random")
    time = seconds(chains, n, sweeps, scan=scan, backend=backend_name(xp), terms=terms, records=records,
                   correlations=correlations, passage=passage, targets=targets, compiled_kernel=compiled_kernel)
    time *= slowdown(xp) if time else 1.0
    what = (f"sampling {chains} chains of N = {n} spins" + (f" for {sweeps} sweeps" if sweeps else "")
            + (f" recording {records}" if records else "") + (" (first passage)" if passage else ""))
    return check_budget(need, time, what, xp, max_seconds=max_seconds)
