"""The user's choices of the knowledge pipeline: which class labels go with the data (``--labels``) and
which class or pattern the under-representation scan lowers (``--rare-target``).

Labels: one integer class per data row. By default they are the ones the data bring: the Digits classes,
the second item of a (data, labels) pair, or the array ``labels`` stored in the user's ``.npz`` data file.
``labels=`` overrides them: an array, ``False``/``"none"`` (no labels), a ``.npy``/``.npz``/``.txt``/
``.csv`` file, or the name of another array in the data file.

Rare target: ``class:C`` (a class label; needs labels), ``pattern:R`` (a row index of the data),
``pattern:+-+...`` (the pattern itself as N characters of +/- or 1/0), or a bare value read as a class
when the data have labels and as a row (or a pattern string) otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import read_npz
from ..errors import ThermopotError

#: the array of a data ``.npz`` read as its labels by default
LABELS_KEY = "labels"


def stored_labels(path: str | os.PathLike) -> np.ndarray | None:
    """The ``labels`` array stored next to ``samples`` in a data ``.npz``, or None."""
    return read_npz(path, "data", ThermopotError).get(LABELS_KEY)


def _read_file(path: Path) -> np.ndarray:
    if path.suffix == ".npz":
        arrays = read_npz(path, "labels", ThermopotError)
        if LABELS_KEY in arrays:
            return arrays[LABELS_KEY]
        if len(arrays) == 1:
            return next(iter(arrays.values()))
        raise ThermopotError(f"labels file {os.fspath(path)!r} holds {sorted(arrays)}: name the array "
                             f"{LABELS_KEY!r} or keep only one")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    try:
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None)
    except ValueError as exc:
        raise ThermopotError(f"labels file {os.fspath(path)!r} is not a list of numbers ({exc})") from None


def resolve_labels(spec: Any, default: np.ndarray | None, rows: int, data_path: str | None = None) -> np.ndarray | None:
    """The labels to use: ``default`` when ``spec`` is None; none for False or "none"; else ``spec`` as
    an array, a labels file, or the name of an array in the data file ``data_path``. Checked: integers
    (whole floats are accepted), one per data row."""
    if spec is None:
        labels = default
    elif spec is False or (isinstance(spec, str) and spec.lower() == "none"):
        return None
    elif isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if path.is_file():
            labels = _read_file(path)
        elif data_path is not None and str(data_path).endswith(".npz") and isinstance(spec, str) \
                and spec in read_npz(data_path, "data", ThermopotError):
            labels = read_npz(data_path, "data", ThermopotError)[spec]
        else:
            where = f" nor an array of the data file {data_path!r}" if data_path else ""
            raise ThermopotError(f"labels {os.fspath(spec)!r} is neither an existing file{where}")
    else:
        labels = np.asarray(spec)
    if labels is None:
        return None
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.shape[0] != rows:
        raise ThermopotError(f"labels must hold one class per data row: shape ({rows},), got {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        if not np.issubdtype(lab.dtype, np.number) or not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)):
            raise ThermopotError(f"labels must be integers (class numbers), got {lab.dtype} values such as "
                                 f"{lab[:3].tolist()}")
        lab = lab.astype(np.int64)
    return lab


def _pattern_row(text: str, samples: np.ndarray, weights: np.ndarray) -> int:
    """The first row of positive weight equal to the pattern ``text`` (N characters of +- or 10)."""
    n = samples.shape[1]
    table = {"+": 1, "-": -1, "1": 1, "0": -1}
    if len(text) != n or any(c not in table for c in text):
        raise ThermopotError(f"a pattern must be {n} characters of + and - (or 1 and 0), got {text!r}")
    spins = np.array([table[c] for c in text], dtype=samples.dtype)
    rows = np.flatnonzero((samples == spins).all(axis=1) & (weights > 0))
    if rows.size == 0:
        raise ThermopotError(f"pattern {text} is not in the data")
    return int(rows[0])


def resolve_rare_target(spec: str | None, samples: np.ndarray, weights: np.ndarray,
                        labels: np.ndarray | None) -> tuple[Any, str] | None:
    """(target, by) for :func:`thermopot.knowledge.rare_weight_scan` from ``spec`` (module docstring),
    or None for the default choice. ThermopotError for a class without labels, a class not in them, a row
    outside the data or a pattern not in it."""
    if spec is None:
        return None
    text = str(spec).strip()
    kind, _, value = text.partition(":") if ":" in text else ("", "", text)
    if kind not in ("", "class", "pattern"):
        raise ThermopotError(f"rare target {spec!r}: use class:LABEL, pattern:ROW, pattern:+-+... or a bare value")
    is_int = value.lstrip("-").isdigit()
    if kind == "class" or (kind == "" and labels is not None and is_int):
        if labels is None:
            raise ThermopotError(f"rare target {spec!r} is a class, but the data have no labels (give --labels)")
        if not is_int or int(value) not in set(labels.tolist()):
            raise ThermopotError(f"class {value!r} is not among the labels {sorted(set(labels.tolist()))}")
        return int(value), "class"
    if is_int and len(value) != samples.shape[1]:
        row = int(value)
        if not 0 <= row < samples.shape[0]:
            raise ThermopotError(f"rare target row {row} is outside the data (rows 0..{samples.shape[0] - 1})")
        return row, "pattern"
    return _pattern_row(value, samples, weights), "pattern"
