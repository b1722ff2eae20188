"""Scale-out on Dask: the overhead of a sweep per task, CPU-bound sweep scaling with 1 and 2 workers, and
exact enumeration spread over 1 and 2 workers (rate per worker, merge cost, speed-up).

Jobs: (a) a sweep of trivial tasks (``{"i": i}``) on a LocalCluster of 2 worker processes: tasks/s and
the wall time per task, which includes the Parquet row written atomically by the client; (b) 8 CPU-bound
tasks (a pure-Python loop of about 0.3 s) on 1 and on 2 workers; (c) a dense SK model at T = 1 enumerated
by thermopot.distributed.enumeration.thermodynamics on 1 and on 2 workers (8 chunks per worker), against
the local path, plus the cost of one merge of two chunks' statistics. Cluster start-up is timed apart.

Run: ``python benchmarks/distributed.py [--quick] [--json]`` (needs the ``distributed`` extra; N = 28,
``--quick`` N = 24). Figures taken on a shared machine vary with its load: report the load with them.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import timeit

if __name__ == "__main__":  # run as a script: this file's folder must not shadow Dask's `distributed`
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

from thermopot.benchmarks import log, row, standalone
from thermopot.distributed import sweep
from thermopot.distributed.enumeration import chunk_bounds, chunk_stats, merge_chunks, thermodynamics
from thermopot.exact import thermodynamics as local_thermodynamics
from thermopot.models import sk

#: trivial tasks for the overhead, CPU-bound tasks for the scaling
TRIVIAL, CPU_TASKS, CPU_LOOP = 200, 8, 3_000_000


def trivial(i: int) -> dict:
    """A task that does nothing: its wall time is the sweep's overhead."""
    return {"i": i}


def busy(i: int) -> dict:
    """About 0.3 s of pure-Python work on one core (no BLAS, no GIL release)."""
    total = 0
    for k in range(CPU_LOOP):
        total += k ^ i
    return {"total": total}


def _cluster(workers: int):
    from distributed import Client, LocalCluster  # noqa: PLC0415

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.run(lambda: __import__("thermopot.exact"))  # imports paid before timing
    return cluster, client, time.perf_counter() - start


def _timed_sweep(client, task, count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        sweep(task, {"i": list(range(2))}, os.path.join(folder, "warm"), client=client, progress=False)
        start = time.perf_counter()
        frame = sweep(task, {"i": list(range(count))}, os.path.join(folder, "run"), client=client, progress=False)
        seconds = time.perf_counter() - start
    assert (frame["status"] == "ok").all()
    return seconds


def _enumeration(client, model, chunks: int) -> float:
    thermodynamics(model, 1.0, client=client, chunks=2, backend="numpy")  # warm-up (first-call costs)
    start = time.perf_counter()
    thermodynamics(model, 1.0, client=client, chunks=chunks, backend="numpy")
    return time.perf_counter() - start


def run(quick: bool = False) -> list[dict]:
    n = 24 if quick else 28
    model = sk(n, seed=0)
    rows, sweep_seconds, enum_seconds = [], {}, {}
    start = time.perf_counter()
    local_thermodynamics(model, 1.0, backend="numpy", progress=False)
    local = time.perf_counter() - start
    rows.append(row(f"enumerate N={n}, local path", 2.0**n / local, "states/s", "numpy", f"{local:.3g} s"))
    for workers in (1, 2):
        cluster, client, startup = _cluster(workers)
        with cluster, client:
            rows.append(row(f"LocalCluster start, {workers} workers", startup, "s", "numpy"))
            if workers == 2:
                seconds = _timed_sweep(client, trivial, TRIVIAL)
                rows.append(row("sweep of trivial tasks, 2 workers", TRIVIAL / seconds, "tasks/s", "numpy",
                                f"{1e3 * seconds / TRIVIAL:.3g} ms per task (wall / tasks), rows written"))
            sweep_seconds[workers] = _timed_sweep(client, busy, CPU_TASKS)
            enum_seconds[workers] = _enumeration(client, model, 8 * workers)
            log("distributed", f"{workers} workers: CPU sweep {sweep_seconds[workers]:.3g} s, "
                               f"enumeration {enum_seconds[workers]:.3g} s")
        rows.append(row(f"enumerate N={n}, {workers} workers", 2.0**n / enum_seconds[workers] / workers,
                        "states/s per worker", "numpy", f"{enum_seconds[workers]:.3g} s, {8 * workers} chunks"))
    rows.append(row("CPU-bound sweep, 2 workers / 1 worker", sweep_seconds[1] / sweep_seconds[2], "x", "numpy",
                    f"{CPU_TASKS} tasks: {sweep_seconds[1]:.3g} s / {sweep_seconds[2]:.3g} s (goal >= 1.7)"))
    rows.append(row(f"enumerate N={n}, 2 workers / 1 worker", enum_seconds[1] / enum_seconds[2], "x", "numpy",
                    "goal >= 1.7"))
    a, b = (chunk_stats(model if n <= 24 else sk(24, seed=0), 1.0, high, "numpy") for high in chunk_bounds(24, 2))
    merge = min(timeit.repeat(lambda: merge_chunks(a, b, 1.0), number=20, repeat=3)) / 20
    rows.append(row("merge of two chunks' statistics, N=24", 1e6 * merge, "us", "numpy"))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 24 instead of 28"))
