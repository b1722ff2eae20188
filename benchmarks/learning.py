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

import sys
import time

import numpy as np

from thermopot.benchmarks import log, on_every_backend, row, standalone

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
    log("learning", f"exact ML N={n_ml} {backend}: {t_ml:.3g} s, {ml.iterations} iterations, converged={ml.converged}")
    pl_data = pattern_data(n_pl, SAMPLES)
    t0 = time.perf_counter()
    pl = fit_pseudolikelihood(pl_data, backend=backend)
    t_pl = time.perf_counter() - t0
    log("learning", f"pseudo-likelihood N={n_pl} {backend}: {t_pl:.3g} s, {pl.iterations} iterations, "
         f"converged={pl.converged}")
    return [
        row(f"exact ML fit N={n_ml}, {SAMPLES} samples", t_ml, "s", backend,
             f"{ml.iterations} L-BFGS iterations, converged={ml.converged}, max moment error "
             f"{max(ml.magnetization_error, ml.correlation_error):.2g}, rms J error {err:.3f}; goal < 60 s",
             n=n_ml, iterations=ml.iterations, converged=ml.converged),
        row(f"pseudo-likelihood fit N={n_pl}, {SAMPLES} samples", t_pl, "s", backend,
             f"{pl.iterations} L-BFGS iterations, converged={pl.converged}, {PATTERNS} noisy patterns; "
             "goal < 60 s", n=n_pl, iterations=pl.iterations, converged=pl.converged),
    ]


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 16 and 50 instead of 20 and 100"))
