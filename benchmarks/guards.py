"""Size guards against what the jobs really cost: for each guarded exact entry point at a few sizes, the
guard's estimate of memory and time next to the measured peak (tracemalloc: NumPy's buffers) and wall
time. The issue's bar: peak <= 1.5 x estimate and time <= 3 x estimate. Rows of
benchmarks/guards_solvers.py, benchmarks/guards_sampling.py and benchmarks/guards_knowledge.py are included
when those modules exist.

Each exact and fit_mixture row times an untraced run (wall and CPU seconds: tracemalloc slows Python-heavy
code) and takes the peak from a second, traced run. Rows of benchmarks/guards_knowledge.py (the knowledge
pipeline, minutes) come last.

Run: ``OMP_NUM_THREADS=1 python benchmarks/guards.py [--quick] [--json]`` (CPU; several minutes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Callable

import numpy as np

from thermopot.backend import get_namespace
from thermopot.benchmarks import log, machine_info, row
from thermopot.benchmarks._peak import measure, measure_apart, ratio_row
from thermopot.datasets import noisy_patterns_dataset
from thermopot.exact import gibbs_potential, restricted_free_energies, thermodynamics
from thermopot.exact.gibbs import ENUMERATIONS_PER_POINT
from thermopot.exact.guard import (ENUMERATION, FIT_EVALUATION, GIBBS_STEP, LANDSCAPE, LANDSCAPE_T, OBSERVABLES,
                                   RESTRICTED, Cost, estimate)
from thermopot.landscape import local_minima
from thermopot.learning.exact_ml import fit_evaluations, fit_exact
from thermopot.learning.mixture import estimate_mixture, fit_mixture
from thermopot.models import sk

#: modules of other guard benchmarks whose rows(quick) are appended when they exist
OTHER_MODULES = ("guards_solvers", "guards_sampling", "guards_knowledge")
XP = get_namespace("numpy")


def _row(label: str, n: int, cost: Cost, job: Callable[[], object], passes: float = 1.0) -> dict:
    """Run ``job`` once to warm up, then measure it against the guard's estimate."""
    measure(job)  # traced, so slow: code loaded only when a run is slow (progress lines) is loaded here
    est_bytes, est_seconds = estimate(n, XP, cost=cost, passes=passes)
    _, peak, seconds, cpu = measure_apart(job)
    out = ratio_row(label, est_bytes, peak, est_seconds, seconds, cpu)
    log("guards", f"{label}: peak/estimate {out['peak_over_estimate']:.2f}, "
                  f"time/estimate {out['time_over_estimate']:.2f}")
    return out


def _gibbs_job(n: int, T: float) -> Callable[[], object]:
    model, points = sk(n, seed=1), np.random.default_rng(0).uniform(-0.8, 0.8, (4, n))

    def job():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gibbs_potential(model, points, T)
    return job


def _fit_job(n: int) -> Callable[[], object]:
    data, _ = noisy_patterns_dataset(n, 3, 60, 0.15, seed=n)

    def job():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_exact(data)
    return job


def _mixture_row(n: int, k: int, copies: int, method: str, max_iter: int = 5) -> dict:
    """fit_mixture (max_iter EM iterations) against learning.mixture.estimate_mixture."""
    data, _ = noisy_patterns_dataset(n, 3, copies, 0.1, seed=n)

    def job():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_mixture(data, k, method=method, seed=0, max_iter=max_iter, tol=0.0)
    measure(job)  # warm-up, traced: a slow run loads the progress lines' code (lazily, on first display)
    est_bytes, est_seconds = estimate_mixture(n, data.compact().size, k, method=method, max_iter=max_iter)
    _, peak, seconds, cpu = measure_apart(job)
    label = f"fit_mixture {method} N={n} K={k}, {max_iter} EM iterations"
    out = ratio_row(label, est_bytes, peak, est_seconds, seconds, cpu)
    log("guards", f"{label}: peak/estimate {out['peak_over_estimate']:.2f}, "
                  f"time/estimate {out['time_over_estimate']:.2f}")
    return out


def rows(quick: bool = False) -> list[dict]:
    """Estimate-versus-measured rows of the exact entry points (thermopot.exact, landscape, exact fits)."""
    sizes = (14, 18) if quick else (14, 18, 20, 22)
    out = []
    for n in sizes:
        model = sk(n, seed=0)
        labels = np.arange(2**n) % 7
        out += [_row(f"thermodynamics N={n}", n, ENUMERATION, lambda: thermodynamics(model, 1.0, progress=False)),
                _row(f"thermodynamics+observables N={n}", n, OBSERVABLES,
                     lambda: thermodynamics(model, 1.0, progress=False, observables={"s01": lambda s: s[:, :2]})),
                _row(f"restricted_free_energies N={n}", n, RESTRICTED,
                     lambda: restricted_free_energies(model, 1.0, labels)),
                _row(f"local_minima N={n}", n, LANDSCAPE, lambda: local_minima(model)),
                _row(f"local_minima(T=1) N={n}", n, LANDSCAPE_T, lambda: local_minima(model, T=1.0))]
    for n, T in ((8, 1.0), (8, 0.1)) if quick else ((8, 1.0), (8, 0.1), (14, 1.0), (14, 0.2)):
        out.append(_row(f"gibbs_potential 4 points N={n} T={T:g}", n, GIBBS_STEP, _gibbs_job(n, T),
                        passes=4 * ENUMERATIONS_PER_POINT))
    for n in (10,) if quick else (10, 14, 16):
        out.append(_row(f"fit_exact N={n}", n, FIT_EVALUATION, _fit_job(n),
                        passes=fit_evaluations(n, fit_exact.__kwdefaults__["max_iter"])))
    for n, k, copies, method in ((8, 2, 40, "exact"), (10, 3, 400, "pseudo")) if quick else \
            ((8, 2, 40, "exact"), (10, 3, 400, "pseudo"), (12, 4, 100, "exact")):
        out.append(_mixture_row(n, k, copies, method))
    return out


def all_rows(quick: bool = False) -> list[dict]:
    """These rows, then those of the other guard benchmarks that exist."""
    out = rows(quick)
    for name in OTHER_MODULES:
        try:
            module = importlib.import_module(f"thermopot.benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"thermopot.benchmarks.{name}":
                raise
            continue
        out += module.rows(quick)
    return out


def run(quick: bool = False) -> list[dict]:
    """The rows in the ``thermopot bench`` format (two per entry point: peak / estimate and time /
    estimate), for registering this module in benchmarks.MODULES."""
    out = []
    for r in all_rows(quick):
        out += [row(f"guard {r['entry_point']}: peak / estimate", r["peak_over_estimate"], "x", "numpy",
                    f"estimate {r['estimate_bytes'] / 2**20:.3g} MiB, bar 1.5"),
                row(f"guard {r['entry_point']}: time / estimate", r["time_over_estimate"], "x", "numpy",
                    f"estimate {r['estimate_seconds']:.3g} s, bar 3")]
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table (or one JSON object with --json)."""
    from thermopot.report import text_table, to_json  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    table = all_rows(args.quick)
    if args.json:
        print(to_json({"quick": args.quick, "machine": machine_info(), "rows": table}))
        return 0
    mib = 2.0**20
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(text_table(("entry point", "estimate MiB", "peak MiB", "peak/est", "estimate s", "seconds", "time/est",
                      "cpu/est"),
                     [(r["entry_point"], f"{r['estimate_bytes'] / mib:.3g}", f"{r['peak_bytes'] / mib:.3g}",
                       f"{r['peak_over_estimate']:.2f}", f"{r['estimate_seconds']:.3g}", f"{r['seconds']:.3g}",
                       f"{r['time_over_estimate']:.2f}",
                       f"{r['cpu_over_estimate']:.2f}" if "cpu_over_estimate" in r else "") for r in table]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
