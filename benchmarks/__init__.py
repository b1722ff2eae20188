"""Benchmarks, run by ``thermopot bench`` or one by one as scripts (installed as thermopot.benchmarks).

Each benchmark is a module of this package with ``run(quick: bool) -> list[dict]`` returning rows
``{name, value, unit, backend, note}`` (more fields are welcome). To add one, write
``benchmarks/<name>.py`` and append ``<name>`` to :data:`MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..backend import device_info, gpu_available, synchronize
from ..errors import ThermopotError

#: the registered benchmark modules, run in this order
MODULES: tuple[str, ...] = (
    "enumeration",
    "meanfield",
    "minima",
    "tap_states",
    "tap_search",
    "tap_seed_saturation",
    "tap_stability",
    "tap_spinodals",
    "sampling",
    "cpu_kernels",
    "sampled",
    "learning",
    "knowledge",
    "entropic",
    "guards",
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


def best_seconds(job: Callable[[], object], xp: Any, repeats: int = 5, budget: float = 0.3) -> float:
    """Best wall time of ``job`` over up to ``repeats`` runs, stopping once ``budget`` seconds are
    spent (one run when it is slow); device work is synchronised around each run."""
    best, spent = math.inf, 0.0
    for _ in range(repeats):
        synchronize(xp)
        t0 = time.perf_counter()
        job()
        synchronize(xp)
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return best


def row(name: str, value: float, unit: str, backend: str, note: str = "", **extra) -> dict:
    """One benchmark result: {name, value, unit, backend, note, ...}."""
    return {"name": name, "value": float(value), "unit": unit, "backend": backend, "note": note, **extra}


def log(module: str, text: str) -> None:
    """A progress line on stderr, tagged with the benchmark module."""
    print(f"[bench {module}] {text}", file=sys.stderr, flush=True)


def on_every_backend(run_backend: Callable[[str, bool], list[dict]], quick: bool) -> list[dict]:
    """Rows of ``run_backend`` on NumPy, and on CuPy too when a GPU is usable."""
    rows = run_backend("numpy", quick)
    if gpu_available():
        rows += run_backend("cupy", quick)
    return rows


def standalone(run: Callable[[bool], list[dict]], description: str, quick_help: str,
               argv: list[str] | None = None) -> int:
    """Entry point of ``python benchmarks/<name>.py [--quick] [--json]``: the rows as a table or JSON."""
    from ..report import text_table, to_json  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    if args.json:
        print(to_json({"quick": args.quick, "machine": machine_info(), "rows": rows}))
    else:
        print(text_table(("benchmark", "value", "unit", "backend", "note"),
                         [(r["name"], f"{r['value']:.4g}", r["unit"], r["backend"], r["note"]) for r in rows]))
    return 0


__all__ = ["MODULES", "machine_info", "run_benchmarks", "best_seconds", "row", "log", "on_every_backend", "standalone"]
