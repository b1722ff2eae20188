"""Reports: validation checks, plain-text tables, figures (matplotlib, no windows) and the
validation report files DIR/report.md and DIR/results.json.

A :class:`Check` compares a theoretical (predicted) value with the exact one:
``difference = max |theory - exact|`` over all elements (scalars or small arrays), and the check passes
when every value is finite and ``difference <= tolerance``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .backend import to_numpy
from .errors import ThermopotError
from .fileio import atomic_write
from .results import Result, jsonable as _jsonable

#: arrays with at most this many elements are printed in full in report.md
_SHOW_ELEMENTS = 4


@dataclass(frozen=True)
class Check(Result):
    """One theory-versus-exact comparison.

    ``theory`` and ``exact`` are floats or NumPy arrays of the same shape; ``difference`` is
    ``max |theory - exact|`` (inf when a value is not finite or the shapes differ) and ``passed`` is
    ``difference <= tolerance``. ``figure`` is the path of a PNG that illustrates the check,
    ``note`` a one-line explanation (what is compared, how the tolerance was chosen) and ``detail``
    longer text (e.g. the traceback of a validation that crashed).
    """

    name: str
    theory: Any
    exact: Any
    tolerance: float
    difference: float
    passed: bool
    module: str = ""
    figure: str | None = None
    note: str | None = None
    detail: str | None = None

    @classmethod
    def compare(cls, name: str, theory: Any, exact: Any, tolerance: float, *, module: str = "",
                figure: str | os.PathLike | None = None, note: str | None = None,
                detail: str | None = None) -> "Check":
        """A check of ``max |theory - exact| <= tolerance`` (values on any backend, scalar or array)."""
        tolerance = float(tolerance)
        if not tolerance >= 0:
            raise ThermopotError(f"check {name!r}: the tolerance must be >= 0, got {tolerance}")
        theory, exact = _as_value(theory), _as_value(exact)
        difference = _max_abs_difference(theory, exact)
        return cls(name=name, theory=theory, exact=exact, tolerance=tolerance, difference=difference,
                   passed=bool(difference <= tolerance), module=module,
                   figure=None if figure is None else os.fspath(figure), note=note, detail=detail)

    @classmethod
    def bound(cls, name: str, value: Any, *, lower: float | None = None, upper: float | None = None,
              module: str = "", figure: str | os.PathLike | None = None, note: str | None = None) -> "Check":
        """A check of ``lower <= value <= upper`` (an inequality predicted by theory, e.g. a count of at
        least 2 minima): ``theory`` is the bound the value is compared with, ``difference`` how far the
        value lies outside the interval (0 inside), ``tolerance`` 0."""
        if lower is None and upper is None:
            raise ThermopotError(f"check {name!r}: give a lower or an upper bound")
        v = _as_value(value)
        if np.size(v) == 0 or not np.all(np.isfinite(v)):  # nothing (finite) to compare: cannot pass
            below, above = (math.inf, 0.0) if lower is not None else (0.0, math.inf)
        else:
            below = max(0.0, lower - float(np.min(v))) if lower is not None else 0.0
            above = max(0.0, float(np.max(v)) - upper) if upper is not None else 0.0
        theory = lower if (lower is not None and (below > 0 or upper is None)) else upper
        difference = max(below, above)
        return cls(name=name, theory=float(theory), exact=v, tolerance=0.0, difference=difference,
                   passed=bool(difference == 0.0), module=module,
                   figure=None if figure is None else os.fspath(figure), note=note)

    @property
    def verdict(self) -> str:
        """"pass" or "FAIL"."""
        return "pass" if self.passed else "FAIL"

    def to_dict(self) -> dict:
        """JSON-ready fields (arrays as nested lists, non-finite numbers as the strings "nan"/"inf")."""
        return self._json({"name": self.name, "module": self.module, "theory": self.theory, "exact": self.exact,
                           "difference": self.difference, "tolerance": self.tolerance, "passed": self.passed,
                           "verdict": self.verdict, "figure": self.figure, "note": self.note,
                           "detail": self.detail})


def _as_value(x: Any) -> float | np.ndarray:
    """A Python float for a scalar, a float64 NumPy array otherwise."""
    arr = np.asarray(to_numpy(x), dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _max_abs_difference(theory: float | np.ndarray, exact: float | np.ndarray) -> float:
    a, b = np.asarray(theory), np.asarray(exact)
    try:
        diff = np.abs(np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) - b)
    except ValueError:  # shapes that do not broadcast: the check cannot pass
        return math.inf
    if diff.size == 0:  # nothing was compared: the check cannot pass
        return math.inf
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.inf
    return float(diff.max())


def to_json(data: Any) -> str:
    """``data`` (dicts, lists, NumPy arrays and scalars) as one line of strict JSON."""
    return json.dumps(_jsonable(data), allow_nan=False)


def format_value(x: Any) -> str:
    """A short text form of a scalar or array: 6 significant digits; a large array as its shape and
    largest magnitude."""
    if isinstance(x, (str, bool)):
        return str(x)
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{float(arr):.6g}" if np.issubdtype(arr.dtype, np.number) else str(arr)
    if arr.size <= _SHOW_ELEMENTS:
        return "[" + ", ".join(f"{float(v):.4g}" for v in arr.ravel()) + "]"
    shape = "x".join(str(d) for d in arr.shape)
    return f"{shape} array, max|.| {float(np.abs(arr).max()):.4g}"


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns (numbers formatted by :func:`format_value`)."""
    cells = [[str(h) for h in headers]]
    cells += [[c if isinstance(c, str) else format_value(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def checks_table(checks: Sequence[Check]) -> str:
    """The plain-text summary of checks printed by ``thermopot validate``."""
    rows = [(c.name, c.theory, c.exact, f"{c.difference:.2e}", f"{c.tolerance:.2e}", c.verdict)
            for c in checks]
    return text_table(("check", "predicted", "exact", "|diff|", "tol", "verdict"), rows)


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None):
    """A matplotlib Figure and its axes drawn with the Agg canvas: no pyplot, no window, no global
    state. Returns (figure, axes) with axes squeezed as in ``pyplot.subplots``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (heavy import)
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=size or (4.2 * ncols, 3.4 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=True)


def label_axes(ax: Any, xlabel: str, ylabel: str, title: str, *, legend: float | None = 6) -> None:
    """Axis labels, a small title (fontsize 9) and, unless ``legend`` is None, a legend of that font size."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if legend is not None:
        ax.legend(fontsize=legend)


def save_figure(fig: Any, path: str | os.PathLike) -> str:
    """Write a figure from :func:`new_figure` as PNG (creating the folder) atomically
    (:func:`thermopot.fileio.atomic_write`) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, dpi=110, format=path.suffix.lstrip(".") or "png")
    return os.fspath(path)


#: branches named one by one in the legend of :func:`plot_branches`; the others are counted in one line
MAX_BRANCH_LABELS = 12


def branch_segments(branch: Any) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """The points of one branch as runs of equal Plefka validity: [(T, F, valid), ...] in order, each
    run extended by the first point of the next so the drawn line has no gap (the joining piece takes
    the style of the earlier run). A branch without ``plefka_valid`` counts as valid throughout."""
    T = np.asarray(branch.T, dtype=np.float64)
    F = np.asarray(branch.free_energy, dtype=np.float64)
    valid = np.asarray(getattr(branch, "plefka_valid", None) or [True] * T.size, dtype=bool)
    cuts = [0] + [i for i in range(1, T.size) if valid[i] != valid[i - 1]] + [T.size]
    return [(T[a:b + 1], F[a:b + 1], bool(valid[a])) for a, b in zip(cuts[:-1], cuts[1:])]


def draw_branches(ax: Any, branches: Any, *, max_labels: int = MAX_BRANCH_LABELS) -> list[str]:
    """Draw every branch of a :class:`thermopot.solvers.Branches` on ``ax`` (F against T): one colour per
    branch, solid where Plefka's condition holds and dotted where it fails. The first ``max_labels``
    branches are named in the legend ("branch k (end)"); when there are more, one legend line says how
    many are not labelled, and a "Plefka-invalid (dotted)" line explains the style when any point fails.
    Returns the legend labels."""
    labels = []
    for k, b in enumerate(branches.branches):
        label = f"branch {k} ({b.end})" if k < max_labels else None
        for j, (T, F, valid) in enumerate(branch_segments(b)):
            ax.plot(T, F, color=f"C{k % 10}", lw=1.2, ls="-" if valid else ":",
                    label=label if j == 0 else None)
        if label:
            labels.append(label)
    hidden = len(branches.branches) - max_labels
    if hidden > 0:
        labels.append(f"{hidden} more branches, not labelled")
        ax.plot([], [], ls="none", label=labels[-1])
    if any(not v for b in branches.branches for _, _, v in branch_segments(b)):
        labels.append("Plefka-invalid (dotted)")
        ax.plot([], [], color="0.4", ls=":", label=labels[-1])
    return labels


def plot_branches(branches: Any, path: str | os.PathLike, *,
                  exact: tuple[np.ndarray, np.ndarray] | None = None) -> str:
    """Free energy of every branch of a :class:`thermopot.solvers.Branches` against T (dotted where
    Plefka's condition fails; see :func:`draw_branches`), and the number of minima against T; ``exact``
    = (T, F) adds the exact free energy for comparison. Returns the path."""
    fig, (ax_f, ax_n) = new_figure(1, 2, size=(10, 4))
    draw_branches(ax_f, branches)
    if exact is not None:
        ax_f.plot(exact[0], exact[1], "k--", lw=1.5, label="exact F")
    label_axes(ax_f, "T", f"{branches.method} free energy", "minima followed in T", legend=7)
    ax_n.step(branches.temperatures, branches.count, where="mid")
    label_axes(ax_n, "T", "number of minima", "minima alive", legend=None)
    return save_figure(fig, path)


@dataclass(frozen=True)
class ReportFiles:
    """Paths of a written report."""

    markdown: str
    json: str
    figures: list[str] = field(default_factory=list)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_report(checks: Sequence[Check], out: str | os.PathLike, *, title: str = "thermopot validation",
                 meta: dict | None = None, stage: str | os.PathLike | None = None) -> ReportFiles:
    """Write ``out/report.md`` (a table of every check, then the figures with relative links and the
    details of failed checks) and ``out/results.json`` (``passed``, ``checks`` and ``meta``: machine,
    backend, timings), each file atomically. With ``stage`` (the staging folder of
    :func:`thermopot.fileio.atomic_folder` that becomes ``out``) the files are written there, with links
    as they will be under ``out``. Returns the paths under ``out``."""
    out = Path(out)
    into = out if stage is None else Path(stage)
    into.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    passed = all(c.passed for c in checks)
    failed = [c for c in checks if not c.passed]
    lines = [f"# {title}", "",
             f"**{'PASSED' if passed else 'FAILED'}**: {len(checks) - len(failed)} of {len(checks)} "
             "checks pass.", ""]
    if meta:
        lines += [f"- {k}: {_markdown_cell(to_json(v) if isinstance(v, (dict, list)) else str(v))}"
                  for k, v in meta.items()] + [""]
    lines += ["| check | predicted | exact | abs. difference | tolerance | verdict |",
              "|---|---|---|---|---|---|"]
    for c in checks:
        verdict = "pass" if c.passed else "**FAIL**"
        lines.append(f"| {_markdown_cell(c.name)} | {_markdown_cell(format_value(c.theory))} | "
                     f"{_markdown_cell(format_value(c.exact))} | {c.difference:.3g} | {c.tolerance:.3g} | "
                     f"{verdict} |")
    notes = [c for c in checks if c.note]
    if notes:
        lines += ["", "## Notes", ""] + [f"- **{_markdown_cell(c.name)}**: {_markdown_cell(c.note)}"
                                          for c in notes]
    figures: dict[str, list[str]] = {}
    for c in checks:
        if c.figure:
            figures.setdefault(c.figure, []).append(c.name)
    if figures:
        lines += ["", "## Figures"]
        for path, names in figures.items():
            rel = Path(os.path.relpath(Path(path).resolve(), out.resolve())).as_posix()
            lines += ["", f"![{_markdown_cell(names[0])}]({rel})", "",
                      "*" + _markdown_cell("; ".join(names)) + "*"]
    details = [c for c in failed if c.detail]
    if details:
        lines += ["", "## Details of failed checks"]
        for c in details:
            lines += ["", f"### {c.name}", "", "```", c.detail.rstrip(), "```"]
    results = {"passed": passed, "count": len(checks), "failed": len(failed)}
    results.update({k: v for k, v in meta.items() if k not in results and k != "checks"})
    results["checks"] = [c.to_dict() for c in checks]
    texts = {"report.md": "\n".join(lines) + "\n",
             "results.json": json.dumps(_jsonable(results), indent=1, allow_nan=False) + "\n"}
    for name, text in texts.items():
        with atomic_write(into / name, "w") as fh:
            fh.write(text)
    return ReportFiles(os.fspath(out / "report.md"), os.fspath(out / "results.json"), list(figures))
