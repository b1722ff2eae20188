"""Learning speed: wall time of one complete fit, against the goals of issue 5 (< 60 s each on the
2-core machine).

- exact maximum likelihood, N = 20 from 1e4 samples drawn exactly (inverse CDF over the 2^20 states)
  from random_pairwise(20, seed=0): L-BFGS with exact gradients, one enumeration per evaluation,
  until every moment matches to 1e-7;
- symmetrised pseudo-likelihood, N = 100 from 1e4 samples of "pattern" data (one of 5 random
  patterns, each spin flipped with probability 0.15: drawn exactly, correlated like retrieval data),
  L-BFGS on all 5050 parameters at once until max |gradient| <= 1e-6.

Quick mode: N = 16 and N = 50. Run: ``python benchmarks/learning.py [--quick] [--json]`` or
``thermopot bench --only learning``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from thermopot.backend import gpu_available
from thermopot.learning import fit_exact, fit_pseudolikelihood, sample_exact
from thermopot.models import random_pairwise, random_patterns

SAMPLES = 10_000
#: (exact-ML N, pseudo-likelihood N) per quick
SIZES = {True: (16, 50), False: (20, 100)}
PATTERNS, FLIP = 5, 0.15


def pattern_data(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``size`` exact samples of noisy patterns: a random pattern, each spin flipped with prob. FLIP."""
    rng = np.random.default_rng(seed)
    xi = np.asarray(random_patterns(n, PATTERNS, seed=seed), dtype=np.int8)
    flips = np.where(rng.random((size, n)) < FLIP, -1, 1).astype(np.int8)
    return xi[rng.integers(0, PATTERNS, size)] * flips


def _row(name: str, value: float, unit: str, backend: str, note: str = "", **extra) -> dict:
    return {"name": name, "value": float(value), "unit": unit, "backend": backend, "note": note, **extra}


def _log(text: str) -> None:
    print(f"[bench learning] {text}", file=sys.stderr, flush=True)


def run_backend(backend: str, quick: bool) -> list[dict]:
    """The two timed fits on one backend."""
    n_ml, n_pl = SIZES[quick]
    truth = random_pairwise(n_ml, seed=0)
    data = sample_exact(truth, SAMPLES, seed=1)
    t0 = time.perf_counter()
    ml = fit_exact(data, backend=backend)
    t_ml = time.perf_counter() - t0
    iu = np.triu_indices(n_ml, 1)
    err = float(np.sqrt(np.mean((ml.model.J[iu] - truth.J[iu]) ** 2)))
    _log(f"exact ML N={n_ml} {backend}: {t_ml:.3g} s, {ml.iterations} iterations, converged={ml.converged}")
    pl_data = pattern_data(n_pl, SAMPLES)
    t0 = time.perf_counter()
    pl = fit_pseudolikelihood(pl_data, backend=backend)
    t_pl = time.perf_counter() - t0
    _log(f"pseudo-likelihood N={n_pl} {backend}: {t_pl:.3g} s, {pl.iterations} iterations, "
         f"converged={pl.converged}")
    return [
        _row(f"exact ML fit N={n_ml}, {SAMPLES} samples", t_ml, "s", backend,
             f"{ml.iterations} L-BFGS iterations, converged={ml.converged}, max moment error "
             f"{max(ml.magnetization_error, ml.correlation_error):.2g}, rms J error {err:.3f}; goal < 60 s",
             n=n_ml, iterations=ml.iterations, converged=ml.converged),
        _row(f"pseudo-likelihood fit N={n_pl}, {SAMPLES} samples", t_pl, "s", backend,
             f"{pl.iterations} L-BFGS iterations, converged={pl.converged}, {PATTERNS} noisy patterns; "
             "goal < 60 s", n=n_pl, iterations=pl.iterations, converged=pl.converged),
    ]


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    rows = run_backend("numpy", quick)
    if gpu_available():
        rows += run_backend("cupy", quick)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: print the rows as a table (or one JSON object with --json)."""
    from thermopot.benchmarks import machine_info  # noqa: PLC0415
    from thermopot.report import text_table, to_json  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 16 and 50 instead of 20 and 100")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    if args.json:
        print(to_json({"quick": args.quick, "machine": machine_info(), "rows": rows}))
    else:
        print(text_table(("benchmark", "value", "unit", "backend", "note"),
                         [(r["name"], f"{r['value']:.4g}", r["unit"], r["backend"], r["note"]) for r in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
