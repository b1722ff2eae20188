"""Symbolic layer (SymPy): the Plefka expansion of the Gibbs potential to any order (with its TAP
equations, gradient and Hessian) and the knowledge potentials A, G, Phi with their Legendre transforms.

Submodules load on first use, so numeric code that only needs :mod:`.orders` never imports SymPy."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["plefka_expansion", "PlefkaExpansion", "potentials", "plefka"]


def __getattr__(name: str) -> Any:
    if name in ("plefka_expansion", "PlefkaExpansion"):
        return getattr(importlib.import_module(".plefka", __name__), name)
    if name in ("potentials", "plefka", "entropic"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
