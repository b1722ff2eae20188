"""thermopot: statistical mechanics of learning.

Exact enumeration of small spin systems as ground truth, symbolic (SymPy) thermodynamic potentials,
and batched numeric solvers on NumPy or CuPy. See README.md for the tour.

The subpackages load on first use (PEP 562): after ``import thermopot``, ``thermopot.exact.thermodynamics``
imports :mod:`thermopot.exact` then, and nothing else is imported until it is used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

#: the library's modules and subpackages reachable as attributes of ``thermopot`` (design.md layers)
SUBMODULES = ("errors", "backend", "checks", "progress", "fileio", "results", "states", "models", "exact",
              "landscape", "symbolic", "meanfield", "solvers", "sampling", "learning", "datasets", "knowledge",
              "entropic", "distributed", "report", "validate", "cli")

__all__ = ["__version__", *SUBMODULES]


def __getattr__(name: str) -> ModuleType:
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(SUBMODULES))
