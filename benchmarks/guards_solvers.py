"""Size guard of find_minima against what the job really costs: estimated memory and time
(thermopot.solvers.guard.estimate_minima) against the traced peak (tracemalloc) and the wall time.

Two tables. ``rows`` (read by benchmarks/guards.py): a few jobs in this process, the guard true when
peak <= 1.5 x estimate and time <= 3 x estimate. ``--grid``: the calibration grid, each job in a fresh
process (a process that ran larger jobs before under-counts the peak), one BLAS thread (find_minima's
own choice below SINGLE_THREAD_FLOPS): N in {16, 64, 256, 1000}, starts in {8, 100, 1000, 10000}, orders
1 (nMF), 2 (TAP2), 3 (N <= 64) and 4 (N = 16), on three kinds of job:

- ``sk``: SK at T = 0.5, uniform random starts (starts crowd into few basins: few Newton groups);
- ``sk-cold``: SK at T = 0.1, uniform random starts (nearly every start reaches its own point: the worst
  case, one Newton run per start);
- ``planted``: Hopfield, p = max(2, N / 32) patterns, T = 0.5, starts 0.9 x a pattern with 10 % of its
  spins flipped (the knowledge pipeline's case: starts from patterns fall into few minima).

Per job it prints the measured wall and CPU seconds, the traced peak, the estimate, and where the time
went (relaxation, anchors' Newton runs, chord iterations, fallback, classification) with the counts the
estimate is built on (relaxation iterations, Newton groups and their iterations). A job projected from
the same job with fewer starts to take longer than ``--budget`` seconds (default 60) is skipped and listed.

Run: ``python benchmarks/guards_solvers.py [--quick] [--json]``,
``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/guards_solvers.py --grid [--budget S] [--kinds sk,planted]
[--json]`` (the jobs run past find_minima's own guard: ``max_seconds=1e300``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from thermopot.backend import get_namespace
from thermopot.benchmarks._peak import measure, ratio_row
from thermopot.models import hopfield, random_patterns, sk
from thermopot.solvers import find_minima
from thermopot.solvers.guard import estimate_minima
from thermopot.solvers.objective import method_order

#: (label, model factory, T, method, starts) per job; the quick set is the first QUICK rows
JOBS = [
    ("find_minima SK N=32 nmf, 2000 starts", lambda: sk(32, seed=0), 0.5, "nmf", 2000),
    ("find_minima SK N=64 tap2, 1000 starts", lambda: sk(64, seed=0), 0.5, "tap2", 1000),
    ("find_minima SK N=20 tap3, 100 starts", lambda: sk(20, seed=0), 0.5, "tap3", 100),
    ("find_minima SK N=64 nmf, 20000 starts", lambda: sk(64, seed=0), 0.5, "nmf", 20000),
    ("find_minima Hopfield N=300 p=3 tap2, 64 starts (Newton-heavy)",
     lambda: hopfield(random_patterns(300, 3, seed=1).astype(float)), 0.3, "tap2", 64),
]
QUICK = 3

#: the calibration grid (module docstring)
GRID_N = (16, 64, 256, 1000)
GRID_STARTS = (8, 100, 1000, 10000)
GRID_KINDS = {"sk": 0.5, "sk-cold": 0.1, "planted": 0.5}
METHODS = {1: "nmf", 2: "tap2", 3: "tap3", 4: "tap4"}


def rows(quick: bool = False) -> list[dict]:
    """One ratio_row per job (estimate against traced peak and wall time)."""
    xp = get_namespace("numpy")
    out = []
    for label, model, T, method, starts in JOBS[:QUICK] if quick else JOBS:
        est_bytes, est_seconds = estimate_minima(model().n, starts, method_order(method), xp)
        m = model()
        _, peak, seconds = measure(lambda: find_minima(m, T, method=method, starts=starts, seed=0,
                                                       backend="numpy"))
        out.append(ratio_row(label, est_bytes, peak, est_seconds, seconds))
    return out


def grid_model(kind: str, n: int, starts: int) -> tuple:
    """(model, T, init or None) of one grid job."""
    if kind == "planted":
        rng = np.random.default_rng(1)
        xi = random_patterns(n, max(2, n // 32), seed=rng).astype(float)
        init = xi[np.arange(starts) % xi.shape[0]] * np.where(rng.random((starts, n)) < 0.1, -1.0, 1.0)
        return hopfield(xi), GRID_KINDS[kind], 0.9 * init
    return sk(n, seed=0), GRID_KINDS[kind], None


def _instrument(stats: dict) -> None:
    """Time each phase of find_minima and count its work (rows, iterations) into ``stats``."""
    from thermopot.solvers import minima, newton

    def timed(name, fn, count):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            stats[name + "_s"] = stats.get(name + "_s", 0.0) + time.perf_counter() - t0
            for key, value in count(args, kwargs, out).items():
                stats[f"{name}_{key}"] = stats.get(f"{name}_{key}", 0) + value
            return out
        return wrapper

    calls = {"n": 0}
    relax = newton.relax_batch

    def relax_counted(R, x0, T, xp, **kw):  # count the iterations through the interaction's evaluations
        inner = R.value_and_gradient if hasattr(R, "value_and_gradient") else None
        before = calls["n"]
        if inner is not None:
            def counting(m):
                calls["n"] += 1
                stats["relax_row_evals"] = stats.get("relax_row_evals", 0) + m.shape[0]
                return inner(m)
            R.value_and_gradient = counting
        try:
            return relax(R, x0, T, xp, **kw)
        finally:
            if inner is not None:
                del R.value_and_gradient
            stats["relax_iterations"] = max(stats.get("relax_iterations", 0), calls["n"] - before)

    minima.relax_batch = timed("relax", relax_counted, lambda a, k, o: {"rows": a[1].shape[0], "calls": 1})
    minima.newton_batch = timed("newton", minima.newton_batch, lambda a, k, o: {
        "groups": a[1].shape[0], "iterations": int(o.iterations.sum())})
    minima.chord_batch = timed("chord", minima.chord_batch, lambda a, k, o: {"rows": a[1].shape[0],
                                                                          "anchors": a[2].shape[0]})
    minima.classify = timed("classify", minima.classify, lambda a, k, o: {"points": a[1].shape[0]})


def run_job(kind: str, n: int, starts: int, order: int) -> dict:
    """One grid job in this (fresh) process: the estimate, the measured time, CPU time and traced peak, the
    phases of :func:`_instrument`, and the estimate given the Newton groups the run formed (what the guard
    would say if it knew them: the per-group terms checked apart from the worst-case assumption)."""
    xp = get_namespace("numpy")
    est_bytes, est_seconds = estimate_minima(n, starts, order, xp)
    model, T, init = grid_model(kind, n, starts)
    stats: dict = {}
    _instrument(stats)
    c0 = time.process_time()
    res, peak, seconds = measure(lambda: find_minima(model, T, method=METHODS[order], starts=starts, init=init,
                                                     seed=0, backend="numpy", max_seconds=1e300))
    row = ratio_row(f"{kind} N={n} {METHODS[order]} {starts} starts", est_bytes, peak, est_seconds, seconds,
                    time.process_time() - c0)
    given = estimate_minima(n, starts, order, xp, groups=stats.get("newton_groups", 0))[1]
    return {**row, "estimate_given_groups": given, "time_over_estimate_given_groups": seconds / given,
            "kind": kind, "n": n, "starts": starts, "order": order, "points": int(res.points.shape[0]),
            "minima": int(res.count), "failed": int(res.failed), **stats}


def grid_jobs() -> list[tuple[str, int, int, int]]:
    """(kind, N, starts, order) of the calibration grid."""
    return [(kind, n, b, order) for n in GRID_N for b in GRID_STARTS for order in METHODS
            for kind in GRID_KINDS if order < 3 or n <= (64 if order == 3 else 16)]


def grid(budget: float, kinds: tuple = tuple(GRID_KINDS), out=sys.stdout) -> list[dict]:
    """Each grid job in a fresh process, smallest first; a job is skipped (listed with the time it would
    take) when the same kind, N and order with fewer starts, scaled linearly in the starts, would take
    longer than ``budget`` seconds, or when it runs past 2 x ``budget`` + 30 s (the process start included)."""
    table, last = [], {}
    for kind, n, b, order in sorted(grid_jobs(), key=lambda j: (j[0], j[3], j[1], j[2])):
        if kind not in kinds:
            continue
        prev = last.get((kind, n, order))
        if prev is not None and prev[1] * b / prev[0] > budget:
            table.append({"kind": kind, "n": n, "starts": b, "order": order, "skipped": True,
                          "projected_seconds": prev[1] * b / prev[0]})
            continue
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            done = subprocess.run([sys.executable, __file__, "--job", kind, str(n), str(b), str(order)], env=env,
                                  capture_output=True, text=True, check=True, timeout=2 * budget + 30)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"grid job {kind} N={n} {b} starts order {order} failed:\n{exc.stderr}") from None
        except subprocess.TimeoutExpired:
            last[(kind, n, order)] = (b, float("inf"))
            table.append({"kind": kind, "n": n, "starts": b, "order": order, "skipped": True,
                          "projected_seconds": float("inf")})
            continue
        row = {**json.loads(done.stdout.strip().splitlines()[-1]), "load": os.getloadavg()[0]}
        last[(kind, n, order)] = (b, row["seconds"])
        table.append(row)
        print(json.dumps(row), file=out, flush=True)
    return table


def _per(row: dict, count: str, per: str) -> float:
    """row[count] / row[per] (0 when absent): Newton iterations per group, evaluations per start."""
    return row.get(count, 0) / max(row.get(per, 0), 1)


def main() -> None:
    if "--job" in sys.argv:
        kind, n, b, order = sys.argv[sys.argv.index("--job") + 1:][:4]
        print(json.dumps(run_job(kind, int(n), int(b), int(order))))
        return
    if "--grid" in sys.argv:
        budget = float(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 60.0
        kinds = sys.argv[sys.argv.index("--kinds") + 1].split(",") if "--kinds" in sys.argv else tuple(GRID_KINDS)
        table = grid(budget, kinds, out=sys.stderr)
        print(json.dumps(table, indent=1) if "--json" in sys.argv else "\n".join(
            f"{r['kind']:>8} N={r['n']:<5} starts={r['starts']:<6} order {r['order']}  "
            + (f"skipped (projected {r['projected_seconds']:.3g} s)" if r.get("skipped") else
               f"{r['seconds']:8.3f} s (cpu {r['cpu_seconds']:.3f}) est {r['estimate_seconds']:9.3f} s "
               f"time/est {r['time_over_estimate']:6.3f}  peak/est {r['peak_over_estimate']:5.2f}  "
               f"groups {r.get('newton_groups', 0)}, K {_per(r, 'newton_iterations', 'newton_groups'):.1f}, "
               f"E {_per(r, 'relax_row_evals', 'starts'):.0f}") for r in table))
        return
    table = rows("--quick" in sys.argv)
    if "--json" in sys.argv:
        print(json.dumps(table, indent=1))
        return
    for r in table:
        print(f"{r['entry_point']:<66} peak/est {r['peak_over_estimate']:6.2f}  time/est {r['time_over_estimate']:6.2f}"
              f"  ({r['peak_bytes'] / 2**20:.1f} MiB, {r['seconds']:.2f} s)")


if __name__ == "__main__":
    main()
