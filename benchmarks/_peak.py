"""Measure what a call really costs, to hold the size guards' estimates against: peak memory of the
NumPy allocations made during the call (tracemalloc traces NumPy's data buffers) and its wall time."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any, Callable


def measure(fn: Callable[[], Any]) -> tuple[Any, int, float]:
    """Run ``fn()``; return (its result, peak bytes allocated above the start, seconds)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, max(peak - base, 0), seconds


def measure_apart(fn: Callable[[], Any]) -> tuple[Any, int, float, float]:
    """Run ``fn()`` twice: untraced for its wall and CPU seconds (tracemalloc slows Python-heavy code),
    then traced for its peak; return (the first result, peak bytes, wall seconds, CPU seconds)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak, _ = measure(fn)
    return out, peak, seconds, cpu


def ratio_row(label: str, est_bytes: float, peak_bytes: float, est_seconds: float, seconds: float,
              cpu_seconds: float | None = None) -> dict:
    """One row of the guard table: measured / estimate for memory and for time (<= 1 means the guard
    over-estimates, which is the safe side; the issue asks peak <= 1.5 x estimate, time <= 3 x estimate).
    ``cpu_seconds`` (optional): the CPU time too, the wall time of a quiet machine for a one-thread job."""
    row = {"entry_point": label, "estimate_bytes": int(est_bytes), "peak_bytes": int(peak_bytes),
           "peak_over_estimate": peak_bytes / est_bytes if est_bytes else float("inf"),
           "estimate_seconds": est_seconds, "seconds": seconds,
           "time_over_estimate": seconds / est_seconds if est_seconds else float("inf")}
    if cpu_seconds is not None:
        row.update(cpu_seconds=cpu_seconds, cpu_over_estimate=cpu_seconds / est_seconds if est_seconds else float("inf"))
    return row
