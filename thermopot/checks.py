"""Input checks shared by every layer: temperatures and .npz files, with messages that name the problem."""

from __future__ import annotations

import math
import os
import zipfile
from typing import Any

import numpy as np

from .errors import ThermopotError


def check_temperature(T: Any) -> float:
    """T as a float, refusing T <= 0, NaN and infinity with a clear message."""
    try:
        t = float(T)
    except (TypeError, ValueError):
        raise ThermopotError(f"temperature T must be a number, got {T!r}") from None
    if not math.isfinite(t) or t <= 0:
        raise ThermopotError(f"temperature T must be finite and > 0, got {T!r}")
    return t


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
