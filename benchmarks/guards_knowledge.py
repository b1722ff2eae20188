"""Size and time guard of the knowledge pipeline (thermopot.knowledge.guard) against what a run really
costs: for each configuration, the guard's estimate of memory and time next to one run's peak memory above
its start (the peak resident memory, VmHWM, reset through /proc/self/clear_refs before the run: it counts
every allocation, NumPy's and Python's, with no slowdown; tracemalloc where that is unavailable) and its
wall and CPU seconds per step (one BLAS thread). The bar: peak <= 1.5 x estimate and time <= 3 x estimate.
Each configuration runs in a fresh interpreter, after a small warm-up run (imports, compiled kernels).

The guard's time constants are CPU seconds per unit of work, fitted to the steps of the CALIBRATION runs
(``--calibrate`` prints them); the rows of VALIDATION are other data, sizes or settings, so that their
ratios test the model rather than the fit. On a busy machine the wall time exceeds the CPU time by
about the load per core: compare ``cpu_over_estimate``.

Run: ``OMP_NUM_THREADS=1 python benchmarks/guards_knowledge.py [--quick] [--json] [--calibrate]``
(minutes; rows(quick) is also read by benchmarks/guards.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from typing import Any

import numpy as np
from scipy.optimize import nnls

from thermopot.benchmarks import log
from thermopot.benchmarks._peak import ratio_row
from thermopot.datasets import noisy_patterns_dataset
from thermopot.knowledge import QUICK, SAMPLED_QUICK, pipeline, resolve_data, sampled_pipeline
from thermopot.knowledge.guard import (EXACT_SECONDS, SAMPLED_SECONDS, estimate_knowledge, exact_work,
                                       sampled_work)

#: (method, data, settings overrides): the runs the constants are fitted to (noisy patterns, seed = N)
CALIBRATION = [("exact", "np:8,4,100,0.08", {}), ("exact", "np:10,4,100,0.08", {}),
               ("exact", "np:14,4,100,0.08", {}), ("exact", "np:16,4,100,0.08", {}),
               ("sampled", "np:16,4,100,0.08", {}), ("sampled", "np:32,4,100,0.08", {}),
               ("sampled", "np:48,6,100,0.08", {})]
#: other data, sizes and settings (the quick set is the first QUICK_ROWS)
VALIDATION = [("exact", "clusters", {}),
              ("sampled", "np:24,5,80,0.1", {"pcd_steps": 1000, "ladder_sweeps": 150}),
              ("exact", "np:12,6,60,0.1", {"chains": 64, "trap_updates": 100_000, "em_iterations": 10}),
              ("sampled", "digits25", {}),
              ("exact", "digits", {}),
              ("sampled", "digits64", {})]
QUICK_ROWS = 2
#: settings of the warm-up runs (small: they only load the code)
WARM_UP = dict(reduced_starts=1, potential_starts=1, temperatures=(1.0,), m_values=(2,), counts_starts=1,
               counts_pattern_starts=1, chains=8, sweeps=10, trap_temperatures=(0.5,), trap_chains=4,
               trap_updates=1000, trap_sizes=(6,), trap_size_chains=4, frequency_sweeps=20, occupancy_chains=4,
               occupancy_sweeps=10, rare_factors=(1.0, 0.5), samples=50, em_iterations=1)
SAMPLED_WARM_UP = dict(pcd_chains=16, pcd_steps=20, ais_chains=16, ais_steps=20, ladder=4, ladder_sweeps=20,
                       chains=8, sweeps=10, frequency_sweeps=10, occupancy_chains=4, occupancy_sweeps=10,
                       rare_factors=(1.0, 0.5), samples=50, em_iterations=1, em_ais_chains=8, em_ais_steps=10,
                       holdout=0.0)


def _data(spec: str) -> Any:
    """A bundled name, or "np:N,M,copies,flip" for noisy_patterns_dataset(..., seed=N) with its labels."""
    if spec.startswith("np:"):
        n, m, copies, flip = spec[3:].split(",")
        return noisy_patterns_dataset(int(n), int(m), int(copies), float(flip), seed=int(n))
    return spec


def _settings(method: str, overrides: dict) -> Any:
    base = QUICK if method == "exact" else SAMPLED_QUICK
    return type(base)(**{**base.__dict__, **overrides})


def _resident() -> tuple[int, int] | None:
    """(resident bytes now, peak resident bytes) of this process from /proc/self/status, or None."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if line.startswith(("VmRSS", "VmHWM")))
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak() -> bool:
    """Reset this process's peak resident memory to its present one (Linux: /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _resident() is not None
    except OSError:
        return False


def _run(method: str, data: Any, settings: Any, traced: bool = False) -> dict:
    """One pipeline run: per step CPU and wall seconds, and its peak memory above the start: the peak
    resident memory (VmHWM, reset before the run; no slowdown) or, with ``traced`` or where that cannot be
    reset, the tracemalloc peak (NumPy's buffers; several times slower on Python-heavy steps)."""
    steps: dict[str, dict] = {}
    original = {m: m.run_steps for m in (pipeline, sampled_pipeline)}

    def timed(name, compute):
        def step():
            t0, c0 = time.perf_counter(), time.process_time()
            out = compute()
            steps[name] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
            return out
        return step

    def run_steps(todo, desc, progress, results=None):
        return original[pipeline](({k: timed(k, f) for k, f in todo.items()}), desc, progress, results)

    for module in original:
        module.run_steps = run_steps
    traced = traced or not _reset_peak()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if traced:
                tracemalloc.start()
                base = tracemalloc.get_traced_memory()[0]
            else:
                base = _resident()[0]
            pipeline.run_knowledge(data, method=method, settings=settings, progress=False, max_seconds=1e9)
            peak = (tracemalloc.get_traced_memory()[1] if traced else _resident()[1]) - base
    finally:
        if traced:
            tracemalloc.stop()
        for module, f in original.items():
            module.run_steps = f
    return {"steps": steps, "peak": peak, "peak_by": "tracemalloc" if traced else "resident"}


def measure(method: str, spec: str, overrides: dict) -> dict:
    """Estimate, untraced times and traced peak of one configuration."""
    settings = _settings(method, overrides)
    data = _data(spec)
    _, dataset, labels = resolve_data(data)
    dataset, _ = pipeline.drop_constant_columns(spec, dataset)
    classes = None if labels is None else len(np.unique(labels))
    shape = dict(n=dataset.n, rows=dataset.size, distinct=dataset.unique().size, classes=classes)
    est = estimate_knowledge(shape["n"], shape["rows"], distinct=shape["distinct"], classes=classes,
                             method=method, settings=settings)
    load = os.getloadavg()[0]
    timed = _run(method, data, settings)
    peak = timed["peak"]
    wall = sum(s["wall"] for s in timed["steps"].values())
    cpu = sum(s["cpu"] for s in timed["steps"].values())
    label = f"run_knowledge {method} {spec} (N={shape['n']}, {shape['rows']} rows)" + (
        f" {overrides}" if overrides else "")
    out = ratio_row(label, est.memory, peak, est.seconds, wall)
    out.update(cpu_seconds=cpu, cpu_over_estimate=cpu / est.seconds, load=load, shape=shape, method=method,
               peak_by=timed["peak_by"],
               settings=overrides, steps={k: {**v, "estimate": est.steps[k]} for k, v in timed["steps"].items()})
    log("guards_knowledge", f"{label}: peak/estimate {out['peak_over_estimate']:.2f}, wall/estimate "
                            f"{out['time_over_estimate']:.2f}, cpu/estimate {out['cpu_over_estimate']:.2f} (load {load:.1f})")
    return out


def calibrate(records: list[dict]) -> dict[str, dict[str, tuple[float, ...]]]:
    """Per step, the non-negative least-squares constants (overhead, seconds per work unit) of the CPU
    seconds of ``records`` (rows of :func:`measure`), weighted by 1 / seconds (relative errors)."""
    out = {}
    for method, work, constants in (("exact", exact_work, EXACT_SECONDS), ("sampled", sampled_work, SAMPLED_SECONDS)):
        rows = [r for r in records if r["method"] == method]
        if not rows:
            continue
        fitted = {}
        for step in constants:
            X, y = [], []
            for r in rows:
                sh = r["shape"]
                w = work(sh["n"], sh["rows"], sh["distinct"], sh["classes"], _settings(method, r["settings"]))[step]
                cpu = r["steps"][step]["cpu"]
                scale = 1.0 / max(cpu, 1e-3)
                X.append([scale, *(scale * np.asarray(w))])
                y.append(1.0)
            X = np.array(X)
            norm = np.abs(X).max(axis=0)
            norm[norm == 0] = 1.0
            coef, _ = nnls(X / norm, np.array(y))
            fitted[step] = tuple(float(f"{c:.3g}") for c in coef / norm)
        out[method] = fitted
    return out


def warm_up() -> None:
    """One small run of each method (imports, the compiled sampler), not measured."""
    for method, overrides in (("exact", WARM_UP), ("sampled", SAMPLED_WARM_UP)):
        _run(method, _data("np:8,3,20,0.1"), _settings(method, overrides))


def isolated(job: tuple) -> dict:
    """:func:`measure` of ``job`` in a fresh interpreter after a warm-up run: the resident peak of a
    process that already ran larger jobs misses the memory its allocator reuses (measured: 0.10 x the
    estimate for a run that needs 1.02 x in a fresh process)."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", json.dumps(job)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows(quick: bool = False) -> list[dict]:
    """One row per VALIDATION configuration (the first QUICK_ROWS with ``quick``), each in its own process."""
    return [isolated(job) for job in (VALIDATION[:QUICK_ROWS] if quick else VALIDATION)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the first validation rows only")
    parser.add_argument("--json", action="store_true", help="the rows as JSON")
    parser.add_argument("--calibrate", action="store_true", help="measure the CALIBRATION runs and print the "
                        "fitted constants (to copy into thermopot/knowledge/guard.py)")
    parser.add_argument("--one", help="measure one JSON [method, data, overrides] here, after a warm-up run, and "
                        "print its row as JSON (what rows() runs in a fresh process)")
    args = parser.parse_args(argv)
    if args.one:
        warm_up()
        print(json.dumps(measure(*json.loads(args.one)), default=str))
        return 0
    if args.calibrate:
        records = [isolated(job) for job in CALIBRATION]
        print(json.dumps({"records": records, "constants": calibrate(records)}, indent=1, default=str))
        return 0
    table = rows(args.quick)
    if args.json:
        print(json.dumps(table, indent=1, default=str))
        return 0
    for r in table:
        print(f"{r['entry_point']:<70} peak/est {r['peak_over_estimate']:5.2f}  wall/est {r['time_over_estimate']:5.2f}"
              f"  cpu/est {r['cpu_over_estimate']:5.2f}  ({r['peak_bytes'] / 2**20:.1f} MiB, {r['seconds']:.1f} s, "
              f"load {r['load']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
