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


def ratio_row(label: str, est_bytes: float, peak_bytes: float, est_seconds: float, seconds: float) -> dict:
    """One row of the guard table: estimate / measured for memory and for time (>= 1 means the guard
    over-estimates, which is the safe side; the issue asks peak <= 1.5 x estimate, time <= 3 x estimate)."""
    return {"entry_point": label, "estimate_bytes": int(est_bytes), "peak_bytes": int(peak_bytes),
            "peak_over_estimate": peak_bytes / est_bytes if est_bytes else float("inf"),
            "estimate_seconds": est_seconds, "seconds": seconds,
            "time_over_estimate": seconds / est_seconds if est_seconds else float("inf")}
