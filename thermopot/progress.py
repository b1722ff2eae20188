"""Progress bars on stderr for long jobs (tqdm), one rule for the whole package: ``progress=True``
shows the bar at once, ``False`` never, ``None`` (the default) only for a job that takes longer than
PROGRESS_AFTER_SECONDS (estimated beforehand where an estimate exists, else seen as it runs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

#: a job shows its bar (progress=None) once it is estimated or seen to take longer than this, seconds
PROGRESS_AFTER_SECONDS = 3.0


def progress_bar(progress: bool | None, total: int, *, unit: str, desc: str,
                 iterable: Iterable | None = None, estimate_seconds: float | None = None,
                 initial: int = 0) -> Any:
    """A tqdm bar (over ``iterable`` when given) on stderr that draws nothing when ``progress`` is
    False, or when it is None and ``estimate_seconds`` is below PROGRESS_AFTER_SECONDS."""
    from tqdm import tqdm  # noqa: PLC0415 (imported on first use)

    quiet = progress is False or (progress is None and estimate_seconds is not None
                                  and estimate_seconds < PROGRESS_AFTER_SECONDS)
    return tqdm(iterable, total=total, unit=unit, desc=desc, file=sys.stderr, leave=False,
                dynamic_ncols=True, disable=quiet, initial=initial)


class Progress:
    """Counts the steps of a loop and opens a :func:`progress_bar` at once (progress True), once the
    loop has run PROGRESS_AFTER_SECONDS (None), or never (False). Costs about a microsecond until the
    bar opens, so short runs called many times pay nothing."""

    def __init__(self, progress: bool | None, total: int, *, unit: str, desc: str):
        self.progress, self.total, self.unit, self.desc = progress, total, unit, desc
        self.start, self.done, self.bar = time.perf_counter(), 0, None
        if progress:
            self._open()

    def _open(self) -> None:
        self.bar = progress_bar(True, self.total, unit=self.unit, desc=self.desc, initial=self.done)

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done."""
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)
        elif self.progress is None and time.perf_counter() - self.start > PROGRESS_AFTER_SECONDS:
            self._open()

    def close(self) -> None:
        """Remove the bar (if one was opened)."""
        if self.bar is not None:
            self.bar.close()
