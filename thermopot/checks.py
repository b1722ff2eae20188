"""Input checks shared by every layer: temperatures, counts, seeds and .npz files, with messages that name
the problem."""

from __future__ import annotations

import functools
import inspect
import math
import os
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ThermopotError


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ThermopotError(f"{name} must be a number, got {value!r}") from None


def check_positive(value: Any, name: str) -> float:
    """``value`` as a finite float > 0, refusing anything else with a message naming ``name``."""
    v = _number(value, name)
    if not math.isfinite(v) or v <= 0:
        raise ThermopotError(f"{name} must be finite and > 0, got {value!r}")
    return v


def check_nonnegative(value: Any, name: str) -> float:
    """``value`` as a finite float >= 0 (a standard deviation, a penalty), else a ThermopotError naming ``name``."""
    v = _number(value, name)
    if not math.isfinite(v) or v < 0:
        raise ThermopotError(f"{name} must be finite and >= 0, got {value!r}")
    return v


#: the smallest temperature accepted: below it beta^k (k <= 4, the TAP expansions and the heat capacity)
#: leaves the float64 range and results turn into inf or NaN
MIN_TEMPERATURE = 1e-60


def check_temperature(T: Any) -> float:
    """T as a float, refusing T <= 0, NaN, infinity and T < MIN_TEMPERATURE with a clear message."""
    value = check_positive(T, "temperature T")
    if value < MIN_TEMPERATURE:
        raise ThermopotError(f"temperature T = {value!r} is below the smallest supported T = {MIN_TEMPERATURE:g} "
                             "(powers of beta = 1/T overflow float64); the zero-temperature limit is the "
                             "landscape of local minima")
    return value


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an integer >= ``minimum``, or a ThermopotError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ThermopotError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)

def check_integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high] (no upper bound when ``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ThermopotError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ThermopotError(f"{name} must be in {bound}, got {value}")
    return value


def check_seed(value: Any, name: str = "seed") -> int | None:
    """A random seed: None or an integer >= 0 (what numpy.random.default_rng accepts), else a ThermopotError."""
    if value is None:
        return None
    return check_count(value, name, minimum=0)


def check_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A NumPy Generator from ``seed`` (scientific Python's SPEC 7): None (fresh entropy), an integer >= 0,
    or a ``numpy.random.Generator`` (used as it is, so its stream continues). Anything else (a negative
    or float seed, a string, a legacy ``RandomState``) is a ThermopotError naming ``name``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ThermopotError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(None if seed is None else int(seed))


def recorded_seed(seed: Any) -> int | None:
    """The seed as a result records it (its ``seed`` field): the integer, or None for None (fresh entropy)
    and for a numpy Generator (whose state is no seed). A bad seed is refused as by :func:`check_rng`."""
    check_rng(seed)
    return None if seed is None or isinstance(seed, np.random.Generator) else int(seed)


def positional_deprecated(*names: str) -> Callable[[Callable], Callable]:
    """Decorator for a function whose parameters ``names`` became keyword-only: for one release a call may
    still pass them positionally (in this order, after the positional parameters), with a
    DeprecationWarning that names them."""
    def wrap(func: Callable) -> Callable:
        params = inspect.signature(func).parameters.values()
        positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            extra = args[positional:]
            if extra:
                if len(extra) > len(names):
                    raise TypeError(f"{func.__name__}() takes at most {positional + len(names)} positional "
                                    f"arguments ({positional} from the next release), got {len(args)}")
                given = names[:len(extra)]
                for name in given:
                    if name in kwargs:
                        raise TypeError(f"{func.__name__}() got multiple values for argument {name!r}")
                warnings.warn(f"{func.__name__}: pass {', '.join(given)} by keyword ({given[0]}=...); positional "
                              "use is deprecated and will be removed in the next release",
                              DeprecationWarning, stacklevel=2)
                kwargs.update(zip(given, extra))
            return func(*args[:positional], **kwargs)
        return call
    return wrap


def check_real(value: Any, name: str) -> Any:
    """``value`` unchanged unless it holds complex numbers (an array of any backend, a list or a scalar:
    read from its dtype, without a copy to the host), which get a ThermopotError naming ``name``."""
    if np.iscomplexobj(value):
        raise ThermopotError(f"{name} must be real numbers, got complex values")
    return value


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
    if os.path.isdir(path):
        raise error(f"{what} file {path!r} is a directory, not a .npz file")
    if not zipfile.is_zipfile(path):
        raise error(f"{what} file {path!r} is not a readable .npz file: it is not a zip archive of arrays "
                    "(the format numpy.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise error(f"{what} file {path!r} is not a readable .npz file ({' '.join(str(exc).split())})") from None
    broken = sorted(k for k, v in arrays.items() if not isinstance(v, np.ndarray))
    if broken:
        raise error(f"{what} file {path!r} is corrupt: its entries {broken} are not NumPy arrays")
    return arrays
