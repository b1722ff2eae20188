"""Theory-versus-exact validations, run by ``thermopot validate`` (installed as thermopot.validation).

Each validation is a module of this package with a function ``run(ctx: Context) -> None`` that
records checks with ``ctx.check(name, theory, exact, tol, figure=None, note=None)``. To add one,
write ``validation/<name>.py`` and append ``<name>`` to :data:`MODULES`.
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

from ..backend import device_info
from ..fileio import atomic_folder
from ..progress import inner_bars_hidden, progress_bar
from ..errors import ThermopotError
from ..report import Check, write_report

#: the registered validation modules, run in this order
MODULES: tuple[str, ...] = (
    "thermodynamics",
    "minima",
    "plefka",
    "sampling",
    "sampled",
    "learning",
    "knowledge",
    "entropic",
)


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
        """Record (and return) the check ``lower <= value <= upper`` (see :meth:`Check.bound`)."""
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


def select_modules(only: str | Sequence[str] | None = None) -> list[str]:
    """The registered modules to run: all, or those named in ``only`` (a list or a comma-separated string)."""
    if only is None:
        return list(MODULES)
    names = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
    unknown = [n for n in names if n not in MODULES]
    if unknown or not names:
        raise ThermopotError(f"unknown validation {', '.join(unknown) or repr(only)}; "
                             f"known: {', '.join(MODULES)}")
    return [n for n in MODULES if n in names]


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
                    progress: bool = True) -> list[Check]:
    """Run the registered validations (or those in ``only``), write ``out/report.md``,
    ``out/results.json`` and the figures, and return every check.

    The report is built in a sibling staging folder and put in place of ``out`` as a whole when the run
    ends (:func:`thermopot.fileio.atomic_folder`): an interrupted run leaves the previous report intact,
    never new figures beside an old results.json. ``out`` must be new, empty or an earlier report.
    A module that raises is recorded as one failed check (with its traceback in the report), so one
    broken validation never hides the others. Progress goes to stderr (a bar, or lines in a log)."""
    names = select_modules(only)
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
                    importlib.import_module(f"{__name__}.{name}").run(ctx)
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


__all__ = ["MODULES", "Context", "run_validations", "select_modules"]
