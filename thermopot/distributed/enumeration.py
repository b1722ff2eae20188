"""Exact enumeration across Dask workers: the 2^N states split into ``chunks`` by their high N // 2 bits,
one task per chunk returning its partial statistics (log Z' relative to the chunk's ground energy, the
excess energy, its variance, m and the connected correlations; exact/accumulate.py), merged pairwise in a
tree of Dask tasks with TileStats.merge (the shared-shift log-sum-exp and Chan et al.'s moment update).

Each worker enumerates on its own backend (``backend=None``: CuPy where the worker sees a GPU, so one
worker per GPU with dask-cuda runs one chunk stream per device); partial statistics travel as NumPy.
On the CPU a chunk's tiles run on one thread by default (``threads``, see cluster.task_threads): a Dask
worker runs one task per thread it has, so the job's chunks fill the cluster's threads, one core each."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from ..backend import backend_name, get_namespace, to_numpy
from ..checks import check_count, check_temperature
from ..errors import ThermopotError
from ..exact.accumulate import TileStats
from ..exact.guard import check_size, measured_rate
from ..exact.thermodynamics import Thermo, enumerate_stats, thermo_from_stats
from ..models import Model, resolve_model
from .cluster import CONNECT_TIMEOUT, connect, task_threads, thread_slots

#: the most chunks per worker thread by default (a few, so that a slow or lost worker delays a long job little)
CHUNKS_PER_WORKER = 4
#: the shortest chunk the default makes: a chunk costs about 20 ms besides its states (its task's dispatch
#: round trip, ~10 ms on the 2-core machine, and its merge task; docs/distributed.md), under 5 % of 0.5 s
MIN_CHUNK_SECONDS = 0.5


def chunk_bounds(n: int, chunks: int) -> list[tuple[int, int]]:
    """The ranges [lo, hi) of the high half i_b (N // 2 bits) of each of ``chunks`` equal chunks; ``chunks``
    is a power of two <= 2^(N // 2)."""
    chunks = check_count(chunks, "chunks")
    top = 2 ** (n // 2)
    if chunks & (chunks - 1) or chunks > top:
        raise ThermopotError(f"chunks must be a power of two <= 2^(N // 2) = {top} for N = {n}, got {chunks}")
    width = top // chunks
    return [(k * width, (k + 1) * width) for k in range(chunks)]


def default_chunks(n: int, slots: int, rate: float = 0.0) -> int:
    """k chunks per worker thread (``slots``: the cluster's threads), rounded up to a power of two, at most
    2^(N // 2): k = CHUNKS_PER_WORKER, or fewer (down to 1) when a thread's share of the 2^N states at
    ``rate`` states/s, t = 2^N / (rate slots), is too short for that many chunks of MIN_CHUNK_SECONDS,
    k = clip(floor(t / MIN_CHUNK_SECONDS), 1, CHUNKS_PER_WORKER). ``rate`` 0 (unknown): k = CHUNKS_PER_WORKER.

    Many chunks let a fast worker take over a slow one's share, which pays in a long job; in a job of a few
    seconds each chunk's fixed cost (dispatch and merge) outweighs it."""
    per_slot = CHUNKS_PER_WORKER
    if rate > 0:
        share = 2.0**n / (rate * slots)
        per_slot = min(CHUNKS_PER_WORKER, max(1, int(share // MIN_CHUNK_SECONDS)))
    want = max(1, per_slot * slots)
    return min(2 ** (n // 2), 1 << (want - 1).bit_length())


def chunk_stats(model: Model, T: float, high: tuple[int, int], backend: Any = None,
                block_size: int | None = None, threads: int | None = None) -> tuple[TileStats, str]:
    """(statistics of one chunk as NumPy arrays, the worker's backend name): runs on a worker, its tiles on
    ``threads`` threads (default: cluster.task_threads)."""
    stats, xp = enumerate_stats(model, T, backend=backend, block_size=block_size, progress=False,
                                guarded=True, high=high, threads=task_threads(threads))
    host = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
    host = {k: [to_numpy(o) for o in v] if k == "observables" else None if v is None else to_numpy(v)
            for k, v in host.items()}
    return TileStats(**host), backend_name(xp)


def merge_chunks(a: tuple[TileStats, str], b: tuple[TileStats, str], beta: float) -> tuple[TileStats, str]:
    """Two chunks' statistics merged (TileStats.merge with a shared shift), their backend names joined."""
    names = sorted(set(a[1].split("+")) | set(b[1].split("+")))
    return a[0].merge(b[0], beta, np), "+".join(names)


def thermodynamics(model: Model | str, T: float, *, client: Any = None, scheduler: str | None = None,
                   workers: int | None = None, chunks: int | None = None, backend: Any = None,
                   block_size: int | None = None, max_seconds: float | None = None,
                   timeout: float = CONNECT_TIMEOUT, threads: int | None = None) -> Thermo:
    """thermopot.exact.thermodynamics on Dask: ``chunks`` tasks (default :func:`default_chunks` at the rate
    of the NumPy engine in this process, measured once: up to CHUNKS_PER_WORKER per worker thread, fewer
    in a short job) and a binary tree of merges, on ``client``, the scheduler at ``scheduler`` or a
    LocalCluster of ``workers`` single-threaded processes. Equal to the local path to rounding (1e-12 relative). The size
    guard budgets the job's time spread over the workers' threads (``max_seconds``); ``backend`` is each
    worker's (None: its own choice). ``threads``: the tile threads of each chunk task (default 1 on a
    worker, one core per Dask worker thread: see cluster.task_threads; more only pays when a worker runs
    fewer chunks at once than it has cores)."""
    model = resolve_model(model)
    T = check_temperature(T)
    if threads is not None:
        threads = check_count(threads, "threads")
    start = time.perf_counter()
    with connect(client, scheduler=scheduler, workers=workers, timeout=timeout) as c:
        slots = thread_slots(c)
        check_size(model.n, get_namespace(backend), block_size=block_size, max_seconds=max_seconds,
                   passes=1.0 / slots)
        if chunks is None:
            chunks = default_chunks(model.n, slots, measured_rate())
        bounds = chunk_bounds(model.n, chunks)
        level = [c.submit(chunk_stats, model, T, high, backend, block_size, threads, pure=False)
                 for high in bounds]
        while len(level) > 1:
            level = [c.submit(merge_chunks, *level[i:i + 2], 1.0 / T, pure=False) if i + 1 < len(level)
                     else level[i] for i in range(0, len(level), 2)]
        stats, name = level[0].result()
    return thermo_from_stats(stats, model.n, T, f"dask:{name}", (), time.perf_counter() - start)
