"""Results as JSON: the one conversion of numbers and arrays to JSON values, and the base of the frozen
result dataclasses (bottom layer: imports nothing of thermopot, so every layer may use it).

JSON has no NaN or infinity, so non-finite floats become the strings "nan", "inf" and "-inf"; NumPy arrays
become nested lists, NumPy scalars Python numbers, dict keys strings.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np


def jsonable(x: Any, *, null_nonfinite: bool = False) -> Any:
    """``x`` (numbers, NumPy arrays and scalars, results, lists, tuples, dicts of them) as JSON values: arrays as
    nested lists, non-finite floats as the strings "nan"/"inf"/"-inf" (None with ``null_nonfinite``), dict
    keys as strings; a :class:`Result` as its ``to_dict()``; anything else (str, None) unchanged."""
    if isinstance(x, Result):
        return x.to_dict()
    if isinstance(x, np.ndarray):
        x = x.tolist() if x.ndim else x.item()
    if isinstance(x, (list, tuple)):
        return [jsonable(v, null_nonfinite=null_nonfinite) for v in x]
    if isinstance(x, dict):
        return {str(k): jsonable(v, null_nonfinite=null_nonfinite) for k, v in x.items()}
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else (None if null_nonfinite else str(x))
    return x


#: arrays and sequences longer than this are shown by their shape and range in a summary, not in full
SUMMARY_ITEMS = 10


def brief(x: Any, items: int = SUMMARY_ITEMS) -> str:
    """A one-line description of ``x`` for a summary: small values in full; an array with more than
    ``items`` entries as ``array(shape=..., dtype=..., min=..., max=...)`` (min/max of the finite entries
    of a numeric array); a long list or tuple as its length and the type of its first item; a nested
    :class:`Result` by its class name."""
    if isinstance(x, Result):
        return Result.summary(x).replace("\n", "\n    ")
    if isinstance(x, np.ndarray) or (hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__array__")):
        a = np.asarray(x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else x)
        if a.size <= items:
            return np.array2string(a, precision=6, separator=", ", threshold=items, max_line_width=10**6)
        text = f"array(shape={a.shape}, dtype={a.dtype}"
        if a.dtype.kind in "biuf":
            finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
            if finite.size:
                text += f", min={finite.min():.6g}, max={finite.max():.6g}"
            if finite.size < a.size:
                text += f", non-finite={a.size - finite.size}"
        return text + ")"
    if isinstance(x, (list, tuple)) and len(x) > items:
        return f"{type(x).__name__} of {len(x)} {type(x[0]).__name__}"
    if isinstance(x, dict) and len(x) > items:
        return f"dict of {len(x)} entries"
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    text = repr(x)
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class Result:
    """Base of the frozen result dataclasses: :meth:`to_dict` gives every field whose name does not start
    with an underscore or is listed in ``_omit``, converted by :func:`jsonable`. A subclass is declared
    ``@dataclass(frozen=True)``; it sets ``_omit`` to leave out fields (fitted objects, 2^N tables),
    ``_null_nonfinite`` to write non-finite numbers as null, ``_derived`` to add properties (counts derived
    from the fields) to :meth:`to_dict` and :meth:`summary`, and overrides ``to_dict`` only for another
    layout, passing its dict through ``_json``. :meth:`summary` (also the ``repr``) shows every
    public field on one line each, arrays longer than :data:`SUMMARY_ITEMS` entries only by shape, dtype,
    min and max (a result holding the 2^N basins of a landscape prints in a few lines); a subclass keeps
    this ``repr`` unless it defines its own ``__repr__``.

    Field names (the same everywhere): ``T`` the temperature, ``backend``, ``seconds`` (wall-clock time),
    ``seed``; ``converged`` and ``message`` for an iterative result; ``free_energy`` for a free energy."""

    #: fields left out of :meth:`to_dict`
    _omit: ClassVar[tuple[str, ...]] = ()
    #: non-finite floats as None (JSON null) instead of the strings "nan"/"inf"/"-inf"
    _null_nonfinite: ClassVar[bool] = False
    #: properties written after the fields by :meth:`to_dict` and shown by :meth:`summary`
    _derived: ClassVar[tuple[str, ...]] = ()

    def _json(self, data: Any) -> Any:
        """``data`` converted by :func:`jsonable` with this class's convention for non-finite numbers."""
        return jsonable(data, null_nonfinite=self._null_nonfinite)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:  # set before @dataclass runs, which then keeps it
            cls.__repr__ = Result.__repr__

    def to_dict(self) -> dict:
        """JSON-ready fields: {name: jsonable(value)} for every public field not in ``_omit``, each renamed
        field's old name (:func:`thermopot.results.renamed`) right after its new one, then the ``_derived``
        properties."""
        aliases = {p.new: old for klass in type(self).__mro__ for old, p in vars(klass).items()
                   if isinstance(p, _Renamed)}
        out = {}
        for f in fields(self):
            if not f.name.startswith("_") and f.name not in self._omit:
                out[f.name] = getattr(self, f.name)
                if f.name in aliases:
                    out[aliases[f.name]] = out[f.name]
        out.update((name, getattr(self, name)) for name in self._derived)
        return self._json(out)

    def summary(self) -> str:
        """``ClassName(`` then one ``name=value`` line per public field and ``_derived`` property (long
        arrays as shape, dtype, min, max; see :func:`brief`), then ``)``."""
        names = [f.name for f in fields(self) if f.repr and not f.name.startswith("_")] + list(self._derived)
        rows = [f"    {name}={brief(getattr(self, name))}," for name in names]
        return f"{type(self).__name__}(\n" + "\n".join(rows) + "\n)" if rows else f"{type(self).__name__}()"

    def __repr__(self) -> str:
        return Result.summary(self)  # a subclass may have its own summary() (e.g. a dict of figures)


class _Renamed(property):
    """The old name of a renamed field (see :func:`renamed`)."""

    new: str


def renamed(new: str, old: str) -> property:
    """A read-only property ``old`` that returns the field ``new`` with a DeprecationWarning: a renamed
    result field keeps its old name for one release (and :meth:`Result.to_dict` writes both names).
    Use in the class body: ``value = renamed("free_energy", "value")``."""
    def get(self: Any) -> Any:
        warnings.warn(f"{type(self).__name__}.{old} is deprecated and will be removed in the next release; "
                      f"use .{new}", DeprecationWarning, stacklevel=2)
        return getattr(self, new)

    prop = _Renamed(get, doc=f"Deprecated name of ``{new}`` (removed in the next release).")
    prop.new = new
    return prop


__all__ = ["Result", "jsonable", "renamed", "brief", "SUMMARY_ITEMS"]
