"""thermopot.results: the one JSON conversion of results, and the frozen-dataclass base."""

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from thermopot.results import Result, jsonable


def test_jsonable_values():
    """Arrays to nested lists, NumPy scalars to Python numbers, non-finite floats to strings, keys to str."""
    data = {1: np.array([[1.5, np.nan], [np.inf, -np.inf]]), "b": np.int64(3), "c": np.bool_(True),
            "d": (np.float32(0.25), None, "x"), "e": np.array(2.0)}
    assert jsonable(data) == {"1": [[1.5, "nan"], ["inf", "-inf"]], "b": 3, "c": True,
                              "d": [0.25, None, "x"], "e": 2.0}
    assert type(jsonable(np.int8(-2))) is int and type(jsonable(np.float64(1.0))) is float
    json.dumps(jsonable(data), allow_nan=False)  # strict JSON


@dataclass(frozen=True)
class _Example(Result):
    energy: float
    m: np.ndarray
    count: int
    _cache: dict = field(default_factory=dict)


def test_result_to_dict_public_fields():
    r = _Example(energy=float("nan"), m=np.array([0.5, -1.0]), count=np.int64(2))
    assert r.to_dict() == {"energy": "nan", "m": [0.5, -1.0], "count": 2}
    with pytest.raises(AttributeError):  # frozen
        r.energy = 1.0  # type: ignore[misc]
