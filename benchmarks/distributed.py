"""Scale-out on Dask: the overhead of a sweep per task, CPU-bound sweep scaling with 1 and 2 workers, and
exact enumeration spread over 1 and 2 workers (rate per worker, merge cost, speed-up).

Jobs: (a) a sweep of trivial tasks (``{"i": i}``) on a LocalCluster of 2 worker processes: tasks/s and
the wall time per task, which includes the Parquet row written atomically by the client; (b) 8 CPU-bound
tasks (a pure-Python loop of about 0.3 s) on 1 and on 2 workers; (c) a dense SK model at T = 1 enumerated
by thermopot.distributed.enumeration.thermodynamics on 1 and on 2 single-threaded workers (the defaults of
``--workers K``: default_chunks at the rate measured here, each chunk's tiles on one thread), against the
local path, plus the alternatives a worker could use: 2 tile threads per task (the engine's own pool,
stop 21's behaviour) on 1 and on 2 single-threaded workers, and one worker of 2 threads running tasks of
1 and of 2 tile threads. The enumeration configurations run interleaved ``ROUNDS`` times, each on a
LocalCluster of its own started and closed around its run; each row gives the median wall time, the CPU
seconds of the processes doing the work (the workers, or this process for the local path) and the load
average around the runs; (d) the cost of one merge of two chunks' statistics. Cluster start-up is timed
apart.

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
from thermopot.distributed.cluster import LOCAL_CLUSTER_CONFIG
from thermopot.distributed.enumeration import (chunk_bounds, chunk_stats, default_chunks, merge_chunks,
                                               thermodynamics)
from thermopot.exact import thermodynamics as local_thermodynamics
from thermopot.exact.guard import measured_rate
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


def _cluster(workers: int, threads: int = 1):
    """A LocalCluster set up as the embedded one of ``--workers K`` (LOCAL_CLUSTER_CONFIG), with ``threads``
    per worker."""
    import dask  # noqa: PLC0415
    from distributed import Client, LocalCluster  # noqa: PLC0415

    start = time.perf_counter()
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads, dashboard_address=":0",
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


#: interleaved rounds of the enumeration configurations (the rows give the median)
ROUNDS = 3
#: enumeration configurations: (name, workers, threads per worker, tile threads per task or None)
CONFIGS = (("1 worker", 1, 1, None), ("2 workers", 2, 1, None),
           ("1 worker, 2 tile threads per task", 1, 1, 2), ("2 workers, 2 tile threads per task", 2, 1, 2),
           ("1 worker of 2 threads, 1 tile thread per task", 1, 2, None),
           ("1 worker of 2 threads, 2 tile threads per task", 1, 2, 2))


def _cpu_seconds(client) -> float:
    """CPU seconds used so far by all worker processes of ``client`` (every thread)."""
    return sum(client.run(time.process_time).values())


def _enumeration(client, model, threads: int | None) -> tuple[float, float, float]:
    """(wall seconds, worker CPU seconds, load average) of one distributed enumeration (default chunks)."""
    cpu = _cpu_seconds(client)
    start = time.perf_counter()
    thermodynamics(model, 1.0, client=client, backend="numpy", threads=threads)
    wall = time.perf_counter() - start
    return wall, _cpu_seconds(client) - cpu, os.getloadavg()[0]


def _local(model) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, load average) of the local path (every core)."""
    cpu, start = time.process_time(), time.perf_counter()
    local_thermodynamics(model, 1.0, backend="numpy", progress=False)
    return time.perf_counter() - start, time.process_time() - cpu, os.getloadavg()[0]


def _enumeration_rows(n: int) -> tuple[list[dict], dict]:
    """The enumeration configurations interleaved ROUNDS times, each on a cluster of its own started for
    the run and closed after it (as ``thermopot enumerate --workers K`` does: idle clusters beside it would
    take their share of the cores): rows (median wall, states/s per worker, CPU seconds, load) and the
    median wall time of each configuration by name."""
    model, small = sk(n, seed=0), sk(20, seed=0)
    local_thermodynamics(small, 1.0, backend="numpy", progress=False)  # first-call costs paid before timing
    runs: dict = {name: [] for name in ("local path",) + tuple(c[0] for c in CONFIGS)}
    for k in range(ROUNDS):
        runs["local path"].append(_local(model))
        for name, workers, per_worker, threads in CONFIGS:
            cluster, client, _ = _cluster(workers, per_worker)
            with cluster, client:
                thermodynamics(small, 1.0, client=client, chunks=2, backend="numpy", threads=threads)
                runs[name].append(_enumeration(client, model, threads))
        log("distributed", f"round {k + 1}: " + ", ".join(f"{name} {r[-1][0]:.3g} s" for name, r in runs.items()))
    medians, rows = {}, []
    for name, results in runs.items():
        wall, cpu, load = (sorted(column) for column in zip(*results))
        medians[name] = wall[len(wall) // 2]
        workers, per_worker = next(((c[1], c[2]) for c in CONFIGS if c[0] == name), (1, 0))
        unit = "states/s" if name == "local path" else "states/s per worker"
        chunks = f"{default_chunks(n, workers * per_worker, measured_rate())} chunks, " if per_worker else ""
        rows.append(row(f"enumerate N={n}, {name}", 2.0**n / medians[name] / workers, unit, "numpy",
                        f"{chunks}median {medians[name]:.3g} s of {ROUNDS} interleaved ({wall[0]:.3g}-{wall[-1]:.3g} s), "
                        f"CPU {cpu[len(cpu) // 2]:.3g} s, load {load[0]:.1f}-{load[-1]:.1f}",
                        seconds=wall, cpu_seconds=cpu, load=load))
    return rows, medians


def run(quick: bool = False) -> list[dict]:
    n = 24 if quick else 28
    rows, sweep_seconds = [], {}
    for workers in (1, 2):
        cluster, client, startup = _cluster(workers)
        with cluster, client:
            rows.append(row(f"LocalCluster start, {workers} workers of 1 thread", startup, "s", "numpy"))
            if workers == 2:
                seconds = _timed_sweep(client, trivial, TRIVIAL)
                rows.append(row("sweep of trivial tasks, 2 workers", TRIVIAL / seconds, "tasks/s", "numpy",
                                f"{1e3 * seconds / TRIVIAL:.3g} ms per task (wall / tasks), rows written"))
            sweep_seconds[workers] = _timed_sweep(client, busy, CPU_TASKS)
            log("distributed", f"{workers} workers: CPU sweep {sweep_seconds[workers]:.3g} s")
    rows.append(row("CPU-bound sweep, 2 workers / 1 worker", sweep_seconds[1] / sweep_seconds[2], "x", "numpy",
                    f"{CPU_TASKS} tasks: {sweep_seconds[1]:.3g} s / {sweep_seconds[2]:.3g} s (goal >= 1.7), "
                    f"load {os.getloadavg()[0]:.1f}"))
    enum_rows, medians = _enumeration_rows(n)
    rows += enum_rows
    rows.append(row(f"enumerate N={n}, 2 workers / 1 worker", medians["1 worker"] / medians["2 workers"], "x",
                    "numpy", "one tile thread per task (the default); goal >= 1.7"))
    rows.append(row(f"enumerate N={n}, 2 workers / 1 worker, 2 tile threads per task",
                    medians["1 worker, 2 tile threads per task"] / medians["2 workers, 2 tile threads per task"],
                    "x", "numpy", "stop 21's behaviour: each task's own pool on every core"))
    small = sk(24, seed=0)
    a, b = (chunk_stats(small, 1.0, high, "numpy") for high in chunk_bounds(24, 2))
    merge = min(timeit.repeat(lambda: merge_chunks(a, b, 1.0), number=20, repeat=3)) / 20
    rows.append(row("merge of two chunks' statistics, N=24", 1e6 * merge, "us", "numpy"))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 24 instead of 28"))
