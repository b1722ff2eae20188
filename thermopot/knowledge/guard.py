"""Size and time guard of the knowledge pipeline (:func:`.pipeline.run_knowledge`, both methods): refuse at
once, naming the memory and the time needed, a run that cannot fit or would take too long.

Each step of a pipeline has its own cost: a few *work counts* w_i, each the number of elementary operations
of one part of the step in the sizes of the data and of the settings, and a measured time per count c_i,

    seconds(step) = c_0 + sum_i c_i w_i(N, rows, distinct patterns, components K, settings),
    seconds       = sum over the steps,

with S = 2^N states, P = N (N + 1) / 2 pairwise parameters and, for instance, for the exact ``reduced``
step w = (starts + pattern starts) S P^2 (one Hessian of the 2^N x P feature matrix per Newton step), for
a chain step w = chains x sweeps x N (spin updates). On the sampled path a cold pseudo-likelihood fit
counts distinct x N^2, and so do the nMF/TAP minima started from the patterns (the batched relaxation;
their Newton polish per distinct minimum is not bounded before the run); the warm-started refits of the
rare scan and of the EM M-steps (at most
``refit_max_iter`` iterations) count distinct x N per fit, plus a constant per EM component-iteration:
in the measured range their time grows about linearly in N (per-iteration overheads), and a N^2 count
under-estimated them 3x at N = 24 and over-estimated them at N = 61. The work counts are :func:`exact_work` and
:func:`sampled_work`; the constants :data:`EXACT_SECONDS` and :data:`SAMPLED_SECONDS` are fitted
(non-negative least squares) to the CPU seconds of each step, one BLAS thread, on a 2-core CPU by
``python benchmarks/guards_knowledge.py --calibrate`` (CPU seconds, so that they are a quiet machine's
wall time; a busy machine is slower by its load). Memory is the largest step's peak on top of what the
run keeps (tracemalloc, the same benchmark):

    exact    bytes = FIXED + 8 (TABLE_NUMBERS S + (3 P + 4) S + ROW_NUMBERS rows N)
             (the largest step, the reduced G minima, holds the 2^N x P feature matrix and two
             temporaries of it: :func:`reduced_numbers`),
    sampled  bytes = FIXED + 8 (ROW_NUMBERS rows N + CHAIN_NUMBERS chains N + chains x distinct).

Unknown before the run, and bounded here: the number of mixture components K (the classes when labels
are given; without labels the minima of the single model, bounded by max(2, min(distinct, N)) and, for the
sampled path, ``max_components``), and the escape runs, budgeted at their ``max_updates`` (a chain that
escapes earlier stops earlier: the estimate is an upper bound there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import get_namespace
from ..exact.guard import FIXED_BYTES, check_budget, human_seconds
from ..errors import SizeError, ThermopotError
from ..results import Result
from .retrieval import DEFAULT_TRAPS

__all__ = ["KnowledgeEstimate", "estimate_knowledge", "check_knowledge", "exact_work", "sampled_work",
           "EXACT_SECONDS", "SAMPLED_SECONDS"]

#: the random-pattern set of the exact pipeline's minima counts (N, M): see pipeline.COUNTS_DATA
COUNTS_N = 8
#: float64 numbers per state the exact run keeps besides the largest step (energy table, Walsh couplings,
#: the library's landscape and basin map, the Boltzmann weights of a fit)
TABLE_NUMBERS = 12.0
#: float64 numbers per row and spin (the data, its unique copy, the weighted copies of the fits)
ROW_NUMBERS = 12.0
#: float64 numbers per chain and spin of the sampled chains (states, fields, thresholds, a pool of samples)
CHAIN_NUMBERS = 64.0

#: step -> (overhead seconds, seconds per unit of each work count of :func:`exact_work`), CPU seconds fitted
#: to the exact CALIBRATION runs of benchmarks/guards_knowledge.py (noisy patterns, N = 8, 10, 14, 16, the
#: quick settings; 2-core AMD EPYC, 2026-12-02). Three steps do the same work in every calibration run
#: (same settings, K = 4), so the fit puts their time in the overhead; it is moved to the work count that
#: grows with the settings: trapping 8.25 s over its 3.1e8 budgeted updates, the remedy 5.3 s over its
#: K x 20 EM component-iterations (0.066 s each), retrieval at the sampled pipeline's rate per update.
EXACT_SECONDS: dict[str, tuple[float, ...]] = {
    "description": (0.0058, 2.2e-8),
    "phi": (0.37, 5.1e-9),
    "full": (0.015, 4.4e-6),
    "reduced": (0.035, 4.1e-9),
    "counts": (0.0, 0.064),
    "library": (0.061, 2.2e-8),
    "retrieval": (0.2, 1.8e-8),
    "trapping": (0.1, 2.7e-8),
    "trapping_size": (0.0, 6.4e-8),
    "frequencies": (0.22, 3.3e-7, 7.5e-9),
    "occupancy_ergodic": (0.081, 2.7e-8, 3.0e-8),
    "occupancy_trapped": (0.08, 3.0e-8, 2.1e-8),
    "rare": (0.0, 1.9e-8, 0.044),
    "remedy": (0.0, 1.1e-8, 0.066),
}
#: step -> (overhead seconds, seconds per unit of each work count of :func:`sampled_work`), CPU seconds fitted
#: to the sampled CALIBRATION runs (noisy patterns, N = 16, 32, 48, 40, 64 with 400 to 1600 rows)
SAMPLED_SECONDS: dict[str, tuple[float, ...]] = {
    "fit": (0.51, 1.9e-7, 2.0e-8),
    "log_z": (0.0068, 2.6e-8),
    "likelihood": (0.001, 8e-10),
    "library": (0.064, 5.4e-8, 2.8e-8),
    "mean_field": (0.1, 1.0e-7),  # by hand (2-core Intel Xeon, 2026-12-03): 0.55-1.7e-7 s at N = 61-384
    "retrieval": (0.0026, 1.8e-8),
    "frequencies": (0.057, 1.6e-8),
    "occupancy": (0.047, 3.0e-7),
    # a second library (its constants) and a second occupancy (its constants) at T_trapped: composed, not fitted
    "occupancy_trapped": (0.111, 5.4e-8, 2.8e-8, 3.0e-7),
    "rare": (0.0056, 2.1e-6, 9.2e-7),
    "remedy": (0.0, 4.8e-6, 2.9e-8, 0.025),
}


def reduced_numbers(p: float) -> float:
    """float64 numbers per state of the largest exact step, the reduced G minima: the 2^N x P feature
    matrix, its Boltzmann-weighted copy and one more temporary of that shape, and four vectors."""
    return 3.0 * p + 4.0


def components(n: int, distinct: int, classes: int | None, cap: int | None = None) -> int:
    """K of the mixture remedy: the classes, else max(2, min(distinct, N)) (the single model's minima,
    unknown before it is fitted), at most ``cap``."""
    k = classes if classes else max(2, min(distinct, n))
    return k if cap is None else min(k, cap)


def exact_work(n: int, rows: int, distinct: int, classes: int | None, s: Any) -> dict[str, tuple[float, ...]]:
    """Work counts of each step of the exact pipeline (settings ``s``, a pipeline.Settings), in the order
    of :data:`EXACT_SECONDS`."""
    S, nn, P = 2.0**n, float(n) * n, n * (n + 1) / 2.0
    k = components(n, distinct, classes)
    traps = min(DEFAULT_TRAPS, distinct)
    counts = (len(s.temperatures) + len(s.m_values)) * (s.counts_starts + s.counts_pattern_starts)
    occupancy = (S * n, s.occupancy_chains * s.occupancy_sweeps * n)
    return {
        "description": (S,),
        "phi": (S * P * P,),
        "full": (s.potential_starts * S,),
        "reduced": ((s.reduced_starts + s.reduced_pattern_starts) * S * P * P,),
        "counts": (float(counts),),
        "library": (S * nn,),
        "retrieval": (s.chains * s.sweeps * n,),
        "trapping": (len(s.trap_temperatures) * traps * s.trap_chains * s.trap_updates,),
        "trapping_size": (len(s.trap_sizes) * s.trap_size_chains * s.trap_updates,),
        "frequencies": (S, s.chains * s.frequency_sweeps * n),
        "occupancy_ergodic": occupancy,
        "occupancy_trapped": occupancy,
        "rare": (len(s.rare_factors) * S * nn, float(len(s.rare_factors))),
        "remedy": (k * s.em_iterations * S * nn, float(k * s.em_iterations)),
    }


def sampled_work(n: int, rows: int, distinct: int, classes: int | None, s: Any) -> dict[str, tuple[float, ...]]:
    """Work counts of each step of the sampled pipeline (settings ``s``, a SampledSettings), in the order of
    :data:`SAMPLED_SECONDS`; ``rows`` and ``distinct`` of the whole data set (the fit sees 1 - holdout)."""
    share = 1.0 - s.holdout
    train, unique, nn = share * rows, share * distinct, float(n) * n
    k = components(n, distinct, classes, s.max_components)
    pcd = s.pcd_chains * s.pcd_steps * n if s.fit_method == "pcd" else 0.0
    em = s.em_iterations * k
    library = (s.ladder * s.ladder_chains * s.ladder_sweeps * n, unique * nn)
    occupancy = (s.occupancy_chains * s.occupancy_sweeps * n,)
    return {
        "fit": (unique * nn, float(pcd)),
        "log_z": (s.ais_chains * s.ais_steps * n,),
        "likelihood": (rows * n,),
        "library": library,
        "mean_field": (unique * nn,),
        "retrieval": (s.chains * s.sweeps * n,),
        "frequencies": (s.chains * s.frequency_sweeps * n,),
        "occupancy": occupancy,
        "occupancy_trapped": library + occupancy,
        "rare": (len(s.rare_factors) * unique * n, len(s.rare_factors) * s.samples * n),
        "remedy": (em * unique * n, em * s.em_ais_chains * s.em_ais_steps * n, float(em)),
    }


def step_seconds(work: dict[str, tuple[float, ...]], constants: dict[str, tuple[float, ...]]) -> dict[str, float]:
    """seconds(step) = c_0 + sum_i c_i w_i for each step."""
    return {step: constants[step][0] + float(np.dot(constants[step][1:], w)) for step, w in work.items()}


@dataclass(frozen=True)
class KnowledgeEstimate(Result):
    """What a pipeline run needs: ``memory`` bytes at its peak, ``seconds`` in all, and the seconds of
    each step (``steps``), for ``method`` on N = ``n`` spins, ``rows`` samples."""

    method: str
    n: int
    rows: int
    memory: float
    seconds: float
    steps: dict

    def slowest(self, count: int = 3) -> str:
        """The ``count`` costliest steps, 'name ~time' joined by commas."""
        top = sorted(self.steps.items(), key=lambda kv: -kv[1])[:count]
        return ", ".join(f"{name} ~{human_seconds(t)}" for name, t in top)


def estimate_knowledge(n: int, rows: int, *, settings: Any, distinct: int | None = None,
                       classes: int | None = None, method: str = "exact") -> KnowledgeEstimate:
    """The estimate (module docstring) of run_knowledge on ``rows`` samples of N = ``n`` spins with
    ``distinct`` distinct rows (default ``rows``) and ``classes`` labels (None: unlabelled), by ``method``
    ("exact": ``settings`` a pipeline.Settings, or "sampled": a SampledSettings)."""
    distinct = rows if distinct is None else distinct
    s = settings
    if method == "exact":
        steps = step_seconds(exact_work(n, rows, distinct, classes, s), EXACT_SECONDS)
        S = 2.0**n
        numbers = (TABLE_NUMBERS + reduced_numbers(n * (n + 1) / 2.0)) * S + ROW_NUMBERS * rows * n
    elif method == "sampled":
        steps = step_seconds(sampled_work(n, rows, distinct, classes, s), SAMPLED_SECONDS)
        chains = max(s.pcd_chains, s.ais_chains, s.chains, s.ladder * s.ladder_chains, s.samples)
        numbers = ROW_NUMBERS * rows * n + CHAIN_NUMBERS * chains * n + s.chains * distinct
    else:
        raise ThermopotError(f"method must be 'exact' or 'sampled', got {method!r}")
    return KnowledgeEstimate(method=method, n=n, rows=rows, memory=FIXED_BYTES + 8.0 * numbers,
                             seconds=sum(steps.values()), steps=steps)


def check_knowledge(n: int, rows: int, *, settings: Any, distinct: int | None = None, classes: int | None = None,
                    method: str = "exact", backend: Any = None,
                    max_seconds: float | None = None) -> KnowledgeEstimate:
    """Raise SizeError, naming the memory, the time and the costliest steps, when the run estimated by
    :func:`estimate_knowledge` does not fit in the free memory of ``backend`` or would take longer than
    ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else one hour); return the estimate otherwise.
    Microseconds of arithmetic (plus reading the free memory for a run above 16 MiB)."""
    est = estimate_knowledge(n, rows, distinct=distinct, classes=classes, method=method, settings=settings)
    what = f"the {method} knowledge pipeline on {rows} samples of N={n} spins"
    try:
        check_budget(est.memory, est.seconds, what, get_namespace(backend), max_seconds=max_seconds,
                     rate=f"slowest steps: {est.slowest()}")
    except SizeError as exc:
        advice = (" Use fewer samples, smaller settings (quick=True), or method='sampled'."
                  if method == "exact" else " Use fewer samples or smaller settings (quick=True).")
        raise SizeError(f"{exc}.{advice}") from None
    return est

