"""Sweep specifications in TOML (read with tomllib, Python >= 3.11, or tomli on 3.10)::

    task = "enumerate"                        # a command: enumerate, landscape, minima, sample, fit, knowledge
    [grid]                                    # parameter -> list of values (swept as the product) or one value
    model = ["sk:n=12,seed=0", "sk:n=12,seed=1"]
    T = [0.5, 1.0, 2.0]
    backend = "numpy"

Every error names the line of the offending key."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ThermopotError
from .tasks import COMMANDS, SCALARS, check_parameters

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

KEYS = ("task", "grid")



def _line(text: str, key: str, after: int = 0) -> int:
    """The 1-based line where ``key = ...`` (bare or quoted) first appears at or after line ``after``."""
    pattern = re.compile(rf'^\s*(?:{re.escape(key)}|"{re.escape(key)}"|\'{re.escape(key)}\')\s*=')
    lines = text.splitlines()
    for number in range(after, len(lines)):
        if pattern.match(lines[number]):
            return number + 1
    return 0


def _error(path: Path, text: str, key: str, message: str, after: int = 0) -> ThermopotError:
    line = _line(text, key, after)
    where = f"{path}:{line}" if line else str(path)
    return ThermopotError(f"{where}: {message}")


def read_spec(path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """(task name, grid) from a TOML spec, refusing unknown keys, unknown commands, parameters the command
    does not take and values that are not strings, numbers or booleans (or lists of them)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        spec = tomllib.loads(text)
    except OSError as exc:
        raise ThermopotError(f"cannot read the sweep spec {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThermopotError(f"{path}: not valid TOML: {exc}") from None
    for key in spec:
        if key not in KEYS:
            raise _error(path, text, key, f"unknown key {key!r}; a spec has task = \"COMMAND\" and a [grid] table")
    task, grid = spec.get("task"), spec.get("grid")
    if not isinstance(task, str) or task not in COMMANDS:
        raise _error(path, text, "task", f"task must be one of {', '.join(COMMANDS)}, got {task!r}")
    if not isinstance(grid, dict) or not grid:
        raise ThermopotError(f"{path}: the spec needs a [grid] table of parameter = [values]")
    grid_line = next((i for i, ln in enumerate(text.splitlines()) if ln.strip() == "[grid]"), 0)
    for name, values in grid.items():
        items = values if isinstance(values, list) else [values]
        bad = [v for v in items if not isinstance(v, SCALARS)]
        if bad or not items:
            raise _error(path, text, name, f"grid value of {name!r} must be a string, number or boolean or a "
                         f"non-empty list of them, got {values!r}", grid_line)
    try:
        check_parameters(task, list(grid))
    except ThermopotError as exc:
        culprit = next((n for n in grid if repr(n) in str(exc)), "task")
        raise _error(path, text, culprit, str(exc), grid_line if culprit != "task" else 0) from None
    return task, grid
