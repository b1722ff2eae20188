"""The knowledge pipeline's wall time, step by step, against the goal of issue 6: the whole pipeline on
the bundled digits (N = 16, 1797 images, 1284 distinct patterns) in its quick mode in < 3 min on the
2-core machine.

Quick mode (of this benchmark): the pipeline's quick mode on the small "clusters" data set (N = 12)
instead of the digits. Run: ``python benchmarks/knowledge.py [--quick] [--json]`` or
``thermopot bench --only knowledge``.
"""

from __future__ import annotations

import sys

from thermopot.benchmarks import log, on_every_backend, row, standalone
from thermopot.knowledge import run_knowledge


def run_backend(backend: str, quick: bool) -> list[dict]:
    """One quick pipeline run: the total and one row per step."""
    name = "clusters" if quick else "digits"
    run = run_knowledge(name, quick=True, backend=backend, progress=False)
    seconds = dict(run.seconds)
    total = seconds.pop("total")
    log("knowledge", f"{name} {backend}: {total:.3g} s " + ", ".join(f"{k} {v:.3g}" for k, v in seconds.items()))
    rows = [row(f"knowledge pipeline, quick mode, {name} (N={run.description.n}, M={run.description.m})", total,
                "s", backend, "goal < 180 s on the 2-core machine (digits)", steps=seconds)]
    rows += [row(f"  step {step}", value, "s", backend) for step, value in seconds.items()]
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "the clusters data set (N = 12) instead of the digits"))
