"""Progress bars on stderr for long jobs (tqdm), one rule for the whole package: ``progress=True``
shows the bar at once, ``False`` never, ``None`` (the default) only for a job that takes longer than
PROGRESS_AFTER_SECONDS (estimated beforehand where an estimate exists, else seen as it runs), and
not inside a job that shows its own bar over steps (:func:`inner_bars_hidden`)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

#: a job shows its bar (progress=None) once it is estimated or seen to take longer than this, seconds
PROGRESS_AFTER_SECONDS = 3.0
_hidden = 0  # depth of inner_bars_hidden contexts


@contextlib.contextmanager
def inner_bars_hidden() -> Iterator[None]:
    """Within this context, jobs with progress=None show no bar (an outer bar, such as the pipeline's
    or the validation's, counts the steps instead)."""
    global _hidden
    _hidden += 1
    try:
        yield
    finally:
        _hidden -= 1


def shows_progress(progress: bool | None, estimate_seconds: float) -> bool:
    """Whether a job estimated to take ``estimate_seconds`` shows its bar under ``progress``."""
    return bool(progress) or (progress is None and not _hidden and estimate_seconds >= PROGRESS_AFTER_SECONDS)


def progress_bar(total: int, *, unit: str, desc: str, iterable: Iterable | None = None,
                 initial: int = 0) -> Any:
    """A tqdm bar on stderr (over ``iterable`` when given), removed when closed."""
    from tqdm import tqdm  # noqa: PLC0415 (imported on first use)

    return tqdm(iterable, total=total, unit=unit, desc=desc, file=sys.stderr, leave=False,
                dynamic_ncols=True, initial=initial)


class Progress:
    """Counts the steps of a loop and opens a :func:`progress_bar` at once (progress True), once the
    loop has run PROGRESS_AFTER_SECONDS (None), or never (False). Costs about a microsecond until the
    bar opens, so short runs called many times pay nothing. A context manager: the bar is removed on
    leaving, an exception included."""

    def __init__(self, progress: bool | None, total: int, *, unit: str, desc: str):
        self.progress, self.total, self.unit, self.desc = progress, total, unit, desc
        self.start, self.done, self.bar = time.perf_counter(), 0, None
        if progress:
            self._open()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        self.bar = progress_bar(self.total, unit=self.unit, desc=self.desc, initial=self.done)

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done."""
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)
        elif (self.progress is None and not _hidden
              and time.perf_counter() - self.start > PROGRESS_AFTER_SECONDS):
            self._open()

    def close(self) -> None:
        """Remove the bar (if one was opened)."""
        if self.bar is not None:
            self.bar.close()
