"""Benchmarks, run by ``thermopot bench`` or one by one as scripts (installed as thermopot.benchmarks).

Each benchmark is a module of this package with ``run(quick: bool) -> list[dict]`` returning rows
``{name, value, unit, backend, note}`` (more fields are welcome). To add one, write
``benchmarks/<name>.py`` and append ``<name>`` to :data:`MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from ..backend import device_info, gpu_available
from ..errors import ThermopotError

#: the registered benchmark modules, run in this order
MODULES: tuple[str, ...] = (
    "enumeration",
    "learning",
)


def machine_info() -> dict:
    """The CPU and, when one is usable, the GPU the benchmarks ran on."""
    info = {"cpu": device_info("numpy")}
    if gpu_available():
        info["gpu"] = device_info("cupy")
    return info


def run_benchmarks(quick: bool = False, only: str | Sequence[str] | None = None) -> list[dict]:
    """Run the registered benchmarks (or those in ``only``, a list or comma-separated string) and
    return all their rows; progress goes to stderr."""
    names = list(MODULES)
    if only is not None:
        wanted = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
        unknown = [n for n in wanted if n not in MODULES]
        if unknown or not wanted:
            raise ThermopotError(f"unknown benchmark {', '.join(unknown) or repr(only)}; "
                                 f"known: {', '.join(MODULES)}")
        names = [n for n in MODULES if n in wanted]
    rows: list[dict] = []
    for name in names:
        rows += importlib.import_module(f"{__name__}.{name}").run(quick)
    return rows


__all__ = ["MODULES", "machine_info", "run_benchmarks"]
