"""Run named pipeline steps in order with one progress bar and the seconds of each (both pipelines)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..progress import inner_bars_hidden, progress_bar


def run_steps(steps: dict[str, Callable[[], Any]], desc: str, progress: bool,
              results: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, float]]:
    """(step -> result, step -> seconds with ``total``); each step's result is stored in ``results`` (a
    fresh dict when None) before the next step runs, so later steps can read earlier ones."""
    results = {} if results is None else results
    seconds: dict[str, float] = {}
    bar = progress_bar(len(steps), unit="step", desc=desc, iterable=steps.items(), enabled=progress)
    with inner_bars_hidden():
        for step, compute in bar:
            bar.set_description(f"{desc} {step}")
            t0 = time.perf_counter()
            results[step] = compute()
            seconds[step] = round(time.perf_counter() - t0, 3)
    bar.close()
    seconds["total"] = round(sum(seconds.values()), 3)
    return results, seconds
