"""Entropic-forces simulations: throughput of the batched SGD engine and wall time of the entropic
validation, against the goal of issue 7 (quick validation < 3 min on the 2-core machine).

- SGD throughput: one-hidden-layer ReLU networks (d_in = 8, 32 hidden units, d_out = 4) trained online on
  a noisy linear teacher, B = 256 independent runs at once, batch size 32: run-steps per second
  (one run-step = one SGD update of one network), against the same engine run one network at a time;
- the whole entropic validation (`thermopot validate --only entropic --quick`), all checks.

Quick mode: B = 64 and fewer steps, no validation run. Run: ``python benchmarks/entropic.py [--quick]
[--json]`` or ``thermopot bench --only entropic``.
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np

from thermopot.benchmarks import best_seconds, log, on_every_backend, row, standalone
from thermopot.backend import get_namespace
from thermopot.entropic import LinearTeacher, ReluNet, run_sgd

#: (runs B, steps) per quick
SIZES = {True: (64, 200), False: (256, 1000)}
BATCH = 32


def run_backend(backend: str, quick: bool) -> list[dict]:
    """SGD throughput on one backend, and (full mode, NumPy) the quick entropic validation's wall time."""
    runs, steps = SIZES[quick]
    rng = np.random.default_rng(0)
    net = ReluNet(8, 32, 4)
    teacher = LinearTeacher(rng.standard_normal((4, 8)) / 3, noise=0.5)
    params = net.init(rng, runs, backend=backend)
    xp = get_namespace(backend)
    seconds = best_seconds(lambda: run_sgd(net, params, teacher, lr=0.02, batch_size=BATCH, steps=steps, seed=1,
                                           backend=backend), xp, repeats=3, budget=5.0)
    rate = runs * steps / seconds
    one = net.init(rng, 1, backend=backend)
    single = best_seconds(lambda: run_sgd(net, one, teacher, lr=0.02, batch_size=BATCH, steps=steps, seed=1,
                                          backend=backend), xp, repeats=3, budget=2.0)
    log("entropic", f"ReLU SGD {backend}: {rate:.3g} run-steps/s ({runs} runs x {steps} steps in {seconds:.3g} s); "
                    f"one run at a time: {steps / single:.3g} run-steps/s")
    rows = [row(f"batched SGD, ReLU 8-32-4, batch {BATCH}, {runs} runs", rate, "run-steps/s", backend,
                f"{runs} runs x {steps} steps in {seconds:.3g} s; one run at a time {steps / single:.3g} "
                f"run-steps/s: {rate * single / steps:.1f}x", runs=runs, steps=steps)]
    if not quick and backend == "numpy":
        from thermopot.validation import run_validations  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            checks = run_validations(quick=True, out=out, only="entropic", progress=False)
            total = time.perf_counter() - t0
        passed = sum(c.passed for c in checks)
        log("entropic", f"quick entropic validation: {total:.3g} s, {passed} of {len(checks)} checks pass")
        rows.append(row("entropic validation, quick mode (all checks)", total, "s", backend,
                        f"{passed} of {len(checks)} checks pass; goal < 180 s on the 2-core machine"))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "64 runs, 200 steps, no validation run"))
