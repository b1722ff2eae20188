"""Results as JSON: the one conversion of numbers and arrays to JSON values, and the base of the frozen
result dataclasses (bottom layer: imports nothing of thermopot, so every layer may use it).

JSON has no NaN or infinity, so non-finite floats become the strings "nan", "inf" and "-inf"; NumPy arrays
become nested lists, NumPy scalars Python numbers, dict keys strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


def jsonable(x: Any) -> Any:
    """``x`` (numbers, NumPy arrays and scalars, lists, tuples, dicts of them) as JSON values: arrays as
    nested lists, non-finite floats as the strings "nan"/"inf"/"-inf", dict keys as strings; anything
    else (str, None) unchanged."""
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()] if x.ndim else jsonable(x.item())
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    return x


@dataclass(frozen=True)
class Result:
    """Base of the frozen result dataclasses: :meth:`to_dict` gives every field whose name does not start
    with an underscore, converted by :func:`jsonable`. A subclass is declared ``@dataclass(frozen=True)``
    and overrides ``to_dict`` only to add or drop fields."""

    def to_dict(self) -> dict:
        """JSON-ready fields: {name: jsonable(value)} for every public field."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")})


__all__ = ["Result", "jsonable"]
