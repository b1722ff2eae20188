"""Input checks shared by every layer: temperatures and .npz files, with messages that name the problem."""

from __future__ import annotations

import math
import os
import zipfile
from typing import Any

import numpy as np

from .errors import ThermopotError


def check_positive(value: Any, name: str) -> float:
    """``value`` as a finite float > 0, refusing anything else with a message naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ThermopotError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ThermopotError(f"{name} must be finite and > 0, got {value!r}")
    return v


def check_temperature(T: Any) -> float:
    """T as a float, refusing T <= 0, NaN and infinity with a clear message."""
    return check_positive(T, "temperature T")


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an integer >= ``minimum``, or a ThermopotError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ThermopotError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ThermopotError listing them."""
    if value not in choices:
        raise ThermopotError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return value


def read_npz(path: str | os.PathLike, what: str, error: type[ThermopotError]) -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` file; ``error`` (naming the file as a ``what`` file) when it is missing,
    corrupt or unreadable."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise error(f"{what} file {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise error(f"{what} file {path!r} is not a readable .npz file ({exc})") from None
