"""The sampler's size and time guards against what runs really cost: for `sample` and `first_passage`
at a few sizes, the guard's estimate (thermopot.sampling.budget.check_run, the numbers the refusal
names) next to the peak of NumPy allocations (tracemalloc, benchmarks/_peak.measure) and the wall time
of a second, untraced run (tracemalloc slows the per-site Python loop several times). The issue asks
peak <= 1.5 x estimate and time <= 3 x estimate.

Run: ``python benchmarks/guards_sampling.py [--quick] [--json]``; ``rows(quick)`` gives the rows to
benchmarks/guards.py.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

import numpy as np

try:
    from ._peak import measure, ratio_row
except ImportError:  # run as a script from benchmarks/
    from _peak import measure, ratio_row

from thermopot.backend import get_namespace
from thermopot.models import Model, random_multispin, sk
from thermopot.sampling import first_passage, sample
from thermopot.sampling.budget import check_run
from thermopot.sampling.burn_in import resolve_burn_in

NO_LIMIT = 1e30


def _sample_case(model: Model, chains: int, sweeps: int, scan: str = "sequential",
                 correlations: bool = False) -> tuple[str, Callable[[], Any], tuple[float, float]]:
    label = (f"sample {type(model).__name__} N={model.n}, {chains} chains, {sweeps} sweeps, {scan}"
             + (", correlations" if correlations else ""))
    burn_in = resolve_burn_in(None, sweeps)  # what sample() runs first
    estimate = check_run(model, chains, get_namespace("numpy"), sweeps=burn_in + sweeps, records=sweeps,
                         scan=scan, correlations=correlations, max_seconds=NO_LIMIT)
    run = lambda: sample(model, 1.0, chains=chains, sweeps=sweeps, scan=scan, correlations=correlations,
                         seed=0, progress=False, max_seconds=NO_LIMIT)
    return label, run, estimate


def _passage_case(model: Model, chains: int, sweeps: int, scan: str,
                  targets: int = 0) -> tuple[str, Callable[[], Any], tuple[float, float]]:
    """A first passage that never happens (overlap below -1, or unreachable targets at T = 0.05
    inside the budget), so the whole budget runs, as the guard assumes."""
    n = model.n
    label = f"first_passage N={n}, {chains} chains, {sweeps} sweeps, {scan}" + (
        f", {targets} targets" if targets else ", threshold")
    start = np.ones(n)
    goal = {"targets": -np.ones((targets, n))} if targets else {"threshold": -1.0}
    estimate = check_run(model, chains, get_namespace("numpy"), sweeps=sweeps, scan=scan, passage=True,
                         targets=targets, max_seconds=NO_LIMIT)
    run = lambda: first_passage(model, 0.05, start, chains=chains, max_updates=sweeps * n, scan=scan,
                                seed=0, progress=False, max_seconds=NO_LIMIT, **goal)
    return label, run, estimate


def cases(quick: bool) -> list[tuple[str, Callable[[], Any], tuple[float, float]]]:
    """(label, run, (estimated bytes, estimated seconds)) of each measured configuration."""
    scale = 1 if quick else 4
    out = [_sample_case(sk(64, seed=0), 64, 50 * scale),
           _sample_case(sk(256, seed=0), 16, 20 * scale, scan="random"),
           _sample_case(sk(8, seed=0), 1, 5000 * scale),
           _sample_case(sk(32, seed=0), 8, 2000 * scale),
           _sample_case(random_multispin(30, order=3, seed=0), 32, 40 * scale, correlations=True),
           _passage_case(sk(32, seed=0), 64, 20 * scale, "random"),
           _passage_case(sk(32, seed=0), 64, 20 * scale, "sequential", targets=4)]
    if not quick:
        out.append(_sample_case(sk(1000, seed=0), 256, 10))
    return out


def rows(quick: bool = True) -> list[dict]:
    """One `_peak.ratio_row` per configuration: estimate against measured peak bytes and seconds (after one
    untraced run: the compiled kernel's one-time compilation is not part of a job's memory)."""
    table = []
    for label, run, (est_bytes, est_seconds) in cases(quick):
        run()
        _, peak, _ = measure(run)
        t0 = time.perf_counter()
        run()
        table.append(ratio_row(label, est_bytes, peak, est_seconds, time.perf_counter() - t0))
    return table


def main(argv: list[str]) -> int:
    table = rows(quick="--quick" in argv)
    if "--json" in argv:
        print(json.dumps(table, indent=1))
        return 0
    print(f"{'entry point':70s} {'est MiB':>9s} {'peak MiB':>9s} {'peak/est':>8s} {'est s':>8s} "
          f"{'s':>8s} {'s/est':>6s}")
    for r in table:
        print(f"{r['entry_point']:70s} {r['estimate_bytes'] / 2**20:9.3f} {r['peak_bytes'] / 2**20:9.3f} "
              f"{r['peak_over_estimate']:8.2f} {r['estimate_seconds']:8.3f} {r['seconds']:8.3f} "
              f"{r['time_over_estimate']:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
