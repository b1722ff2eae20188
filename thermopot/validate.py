"""The validation runner: run the theory-versus-exact validation modules of a package and write a report.

A *validation package* (the shipped one is ``thermopot.validation``, the ``validation/`` folder of the
repository) lists its modules in ``MODULES``; each module has a function ``run(ctx: Context) -> None``
that records checks with ``ctx.check(name, theory, exact, tol, figure=None, note=None)`` (pass when
max |theory - exact| <= tol) or ``ctx.bound(name, value, lower=, upper=)``. :func:`run_validations` runs
them in order, each crash recorded as one failed check, and writes ``report.md``, ``results.json`` and
the figures atomically (:func:`thermopot.fileio.atomic_folder`). The same runner serves a user's own
package of checks: ``run_validations(package="mylab.checks")``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import platform
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .backend import device_info
from .fileio import atomic_folder
from .progress import inner_bars_hidden, progress_bar
from .errors import ThermopotError
from .report import Check, write_report


@dataclass
class Context:
    """What a validation module receives: the mode, the output folder, a seed, and the check recorder.

    ``quick`` asks for small sizes (the whole quick run must stay well under a few minutes on 2
    cores); ``seed`` makes every random model reproducible."""

    module: str
    out: Path
    quick: bool = False
    seed: int = 0
    checks: list[Check] = field(default_factory=list)
    progress: Any = None

    def check(self, name: str, theory: Any, exact: Any, tol: float, figure: str | None = None,
              note: str | None = None) -> Check:
        """Record (and return) the check ``max |theory - exact| <= tol``."""
        return self._record(Check.compare(name, theory, exact, tol, module=self.module, figure=figure, note=note))

    def bound(self, name: str, value: Any, *, lower: float | None = None, upper: float | None = None,
              figure: str | None = None, note: str | None = None) -> Check:
        """Record (and return) the check ``lower <= value <= upper`` (see :meth:`thermopot.report.Check.bound`)."""
        return self._record(Check.bound(name, value, lower=lower, upper=upper, module=self.module, figure=figure,
                                        note=note))

    def _record(self, result: Check) -> Check:
        self.checks.append(result)
        if self.progress is not None:
            self.progress.set_postfix_str(f"{result.name}: {result.verdict}", refresh=True)
        return result

    def figure(self, name: str) -> str:
        """Path of a PNG for figure ``name`` in the output folder (``out/figures/<module>-<name>.png``)."""
        folder = self.out / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        return os.fspath(folder / f"{self.module}-{name}.png")

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A random generator derived from the run's seed (``offset`` gives independent streams)."""
        return np.random.default_rng([self.seed, offset])


#: the validation package run by default (the scripts shipped with thermopot)
DEFAULT_PACKAGE = "thermopot.validation"


def registered_modules(package: str = DEFAULT_PACKAGE) -> tuple[str, ...]:
    """The ``MODULES`` registry of a validation package, read when asked (so it can be extended at run time)."""
    modules = getattr(importlib.import_module(package), "MODULES", None)
    if not modules:
        raise ThermopotError(f"{package} is not a validation package: it has no MODULES list")
    return tuple(modules)


def select_modules(only: str | Sequence[str] | None = None, *, package: str = DEFAULT_PACKAGE) -> list[str]:
    """The registered modules of ``package`` to run: all, or those named in ``only`` (a list or a
    comma-separated string)."""
    modules = registered_modules(package)
    if only is None:
        return list(modules)
    names = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
    unknown = [n for n in names if n not in modules]
    if unknown or not names:
        raise ThermopotError(f"unknown validation {', '.join(unknown) or repr(only)}; "
                             f"known: {', '.join(modules)}")
    return [n for n in modules if n in names]


def _crash_check(name: str, exc: BaseException) -> Check:
    """A failed check standing for a validation module that raised instead of finishing."""
    return Check.compare(f"{name}: runs to completion", 0.0, 1.0, 0.0, module=name,
                         note=f"the validation raised {type(exc).__name__}: {exc}",
                         detail="".join(traceback.format_exception(exc)))


def _relocated(check: Check, stage: Path, out: Path) -> Check:
    """``check`` with a figure path inside the staging folder pointing to the same file under ``out``."""
    if not check.figure:
        return check
    try:
        inside = Path(check.figure).relative_to(stage)
    except ValueError:
        return check
    return dataclasses.replace(check, figure=os.fspath(out / inside))


def run_validations(quick: bool = False, out: str | os.PathLike = "validation-report",
                    only: str | Sequence[str] | None = None, *, seed: int = 0,
                    progress: bool = True, package: str = DEFAULT_PACKAGE) -> list[Check]:
    """Run the registered validations (or those in ``only``), write ``out/report.md``,
    ``out/results.json`` and the figures, and return every check.

    The report is built in a sibling staging folder and put in place of ``out`` as a whole when the run
    ends (:func:`thermopot.fileio.atomic_folder`): an interrupted run leaves the previous report intact,
    never new figures beside an old results.json. ``out`` must be new, empty or an earlier report.
    A module that raises is recorded as one failed check (with its traceback in the report), so one
    broken validation never hides the others. Progress goes to stderr (a bar, or lines in a log)."""
    names = select_modules(only, package=package)
    out = Path(out)
    checks: list[Check] = []
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with atomic_folder(out) as stage:
        bar = progress_bar(len(names), unit="module", desc="validate", enabled=progress)
        for name in names:
            bar.set_description(f"validate {name}")
            ctx = Context(module=name, out=stage, quick=quick, seed=seed, progress=bar if progress else None)
            t0 = time.perf_counter()
            try:
                with inner_bars_hidden():
                    importlib.import_module(f"{package}.{name}").run(ctx)
            except Exception as exc:  # a crash is a failed check, reported with its traceback
                ctx.checks.append(_crash_check(name, exc))
            timings[name] = round(time.perf_counter() - t0, 3)
            checks += ctx.checks
            bar.update()
        bar.close()
        checks = [_relocated(c, stage, out) for c in checks]
        info = device_info()
        meta = {"mode": "quick" if quick else "full", "seed": seed, "backend": info["backend"],
                "machine": {"platform": platform.platform(), "python": platform.python_version(), **info},
                "seconds": round(time.perf_counter() - start, 3), "module_seconds": timings}
        write_report(checks, out, meta=meta, stage=stage)
    return checks


__all__ = ["Context", "DEFAULT_PACKAGE", "registered_modules", "run_validations", "select_modules"]
