"""Progress on stderr for long jobs, one rule for the whole package: ``progress=True`` shows it at once,
``False`` never, ``None`` (the default) only for a job that takes longer than PROGRESS_AFTER_SECONDS
(estimated beforehand where an estimate exists, else seen as it runs), and not inside a job that shows
its own progress over steps (:func:`inner_bars_hidden`).

On a terminal the progress is a tqdm bar. When stderr is not a terminal (redirected to a log file, a
pipe, a batch system) a bar would print nothing useful, so :class:`LogLines` writes plain lines instead:
one when the job starts, then at most one every LOG_INTERVAL_SECONDS as steps complete (what, how far,
elapsed and estimated remaining time), and one when it ends::

    thermopot: validate minima: 2/7 modules (29%), 41 s elapsed, about 100 s left [minima: tap2 count: pass]
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

#: a job shows its bar (progress=None) once it is estimated or seen to take longer than this, seconds
PROGRESS_AFTER_SECONDS = 3.0
#: at most one progress line per job this often when stderr is not a terminal, seconds
LOG_INTERVAL_SECONDS = 15.0
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


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (where a bar can redraw itself)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s" if value < 600 else f"{value / 60:.0f} min"


class LogLines:
    """Progress for a log file: plain lines on stderr (start, at most one per LOG_INTERVAL_SECONDS as
    steps complete, end) with what is done, how far, the elapsed time and the estimated remaining time
    elapsed * (total - n) / n. Has the part of tqdm's interface that thermopot uses (iteration,
    ``update``, ``set_description``, ``set_postfix_str``, ``close``, ``n``)."""

    def __init__(self, total: int, *, unit: str, desc: str, iterable: Iterable | None = None, initial: int = 0,
                 elapsed: float = 0.0):
        self.total, self.unit, self.desc, self.iterable = total, unit, desc, iterable
        self.n, self.postfix, self.closed = initial, "", False
        self.start = time.perf_counter() - elapsed
        self._write(self.status() if elapsed else f"started, {self.n}/{self.total} {self.unit}s")

    def __iter__(self) -> Iterator:
        for item in self.iterable if self.iterable is not None else ():
            yield item
            self.update()
        self.close()

    def _write(self, text: str) -> None:
        self.last = time.perf_counter()
        tail = f" [{self.postfix}]" if self.postfix else ""
        print(f"thermopot: {self.desc}: {text}{tail}", file=sys.stderr, flush=True)

    def status(self, remaining: bool = True) -> str:
        """``n/total unit (pct%), E elapsed, about R left`` (R once a step is done, when ``remaining``)."""
        elapsed = time.perf_counter() - self.start
        text = f"{self.n}/{self.total} {self.unit}s"
        if self.total:
            text += f" ({100 * self.n / self.total:.0f}%)"
        text += f", {_seconds(elapsed)} elapsed"
        if remaining and 0 < self.n < self.total:
            text += f", about {_seconds(elapsed * (self.total - self.n) / self.n)} left"
        return text

    def _maybe_write(self) -> None:
        if time.perf_counter() - self.last >= LOG_INTERVAL_SECONDS:
            self._write(self.status())

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done (a line when LOG_INTERVAL_SECONDS have passed since the last)."""
        self.n += steps
        self._maybe_write()

    def set_description(self, desc: str, refresh: bool = True) -> None:
        """Name the step now running."""
        self.desc = desc
        self._maybe_write()

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        """A short note shown at the end of the next line (e.g. the last check's verdict)."""
        self.postfix = text
        self._maybe_write()

    def close(self) -> None:
        """Write the end line (once)."""
        if not self.closed:
            self.closed = True
            self._write(f"finished {self.status(remaining=False)}")


def progress_bar(total: int, *, unit: str, desc: str, iterable: Iterable | None = None,
                 initial: int = 0, enabled: bool = True, elapsed: float = 0.0) -> Any:
    """Progress on stderr (over ``iterable`` when given): a tqdm bar removed when closed on a terminal,
    :class:`LogLines` otherwise; a silent pass-through when not ``enabled``. ``initial`` steps were done
    in the ``elapsed`` seconds before it opened (a deferred bar): its elapsed time and rate count them."""
    from tqdm import tqdm  # noqa: PLC0415 (imported on first use)

    if enabled and not stderr_is_terminal():
        return LogLines(total, unit=unit, desc=desc, iterable=iterable, initial=initial, elapsed=elapsed)
    bar = tqdm(iterable, total=total, unit=unit, desc=desc, file=sys.stderr, leave=False,
               dynamic_ncols=True, initial=initial, disable=not enabled)
    if enabled:
        bar.start_t -= elapsed
    return bar


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
        self.bar = progress_bar(self.total, unit=self.unit, desc=self.desc, initial=self.done,
                                elapsed=time.perf_counter() - self.start)

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done."""
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)
        elif self.progress is None and time.perf_counter() - self.start > PROGRESS_AFTER_SECONDS:
            if not _hidden:
                self._open()
            else:
                _inner_line(self)

    def close(self) -> None:
        """Remove the bar (if one was opened)."""
        if self.bar is not None:
            self.bar.close()


_last_inner_line = [0.0]  # when the last inner line was written (shared by all inner loops)


def _inner_line(job: "Progress") -> None:
    """A plain line for a loop inside an outer job's step (an outer bar counts the steps: inner bars are
    hidden), only when stderr is not a terminal (no bar to disturb) and at most one every
    LOG_INTERVAL_SECONDS over all inner loops, so that a long step still reaches the log::

        thermopot:   relax N=64: 180/2000 iterations (9%), 41 s elapsed
    """
    now = time.perf_counter()
    if now - _last_inner_line[0] < LOG_INTERVAL_SECONDS or stderr_is_terminal():
        return
    _last_inner_line[0] = now
    pct = f" ({100 * job.done / job.total:.0f}%)" if job.total else ""
    print(f"thermopot:   {job.desc}: {job.done}/{job.total} {job.unit}s{pct}, {_seconds(now - job.start)} elapsed",
          file=sys.stderr, flush=True)
