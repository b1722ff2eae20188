"""Counting states of SK instances: single-flip-stable states at T = 0 and TAP minima at T > 0, and the
complexity per spin log(count) / N with its error bar.

A configuration s is single-flip stable when s_k h_k >= 0 for every k, h = h_field + J s (no single flip
lowers the energy). ``method``::

    "exact"   every stable state by exact enumeration of the 2^N states (thermopot.landscape; N <= ~24);
    "quench"  the distinct stable states reached by steepest single-flip descent from ``starts`` random
              spins (find_minima's zero-temperature seeds, :mod:`.seeds`): a lower bound on the exact
              count, equal to it once every basin has been hit;
    "tap2"    (T > 0) the distinct non-paramagnetic minima of the TAP free energy found by
              find_minima(seeds=seeds) from ``starts`` seeds: "thermal" by default (heat-bath chains at T,
              the dynamics' trapping states: on SK at T = 0.3 they find 3.75 minima per instance at
              N = 200 where "quench" finds 0.25; benchmarks/tap_search.py, docs/spin-glass.md).
              For a model symmetric under s -> -s (no field: SK) the TAP free energy is even in m, so
              -m is a minimum whenever m is; the seeds reach only one of the two now and then
              (sk(50, seed=5000), T = 0.3, 64 quench seeds, seed 0: three minima, one without its
              partner), so the count is twice the number of distinct +-m pairs found.

Complexities, over K instances of size N with counts c_i::

    quenched  Sigma_q = (1/K) sum_i log(c_i) / N, error bar std(log c) / (N sqrt(K))
              (over the instances with c_i >= 1; state_complexity says how many had none);
    annealed  Sigma_a = log(mean c) / N, error bar std(c) / (mean c N sqrt(K)) (delta method; every
              instance counts, zeros included).

The annealed value is what Tanaka and Edwards computed for single-flip-stable states of SK at T = 0:
<count> ~ exp(0.1992 N) (F. Tanaka, S. F. Edwards 1980, J. Phys. F 10, 2769); Bray and Moore computed the
annealed complexity of TAP solutions at T > 0 (A. J. Bray, M. A. Moore 1980, J. Phys. C 13, L469),
which falls from that value at T = 0 to zero at T_c = 1. At N <= ~100 the prefactor of the exponential
and the O(log N / N) corrections are not negligible: compare the trend with N, not one size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_count, check_rng, recorded_seed
from ..errors import ThermopotError
from ..landscape import local_minima
from ..models import Model, resolve_model, sk
from ..results import Result
from .minima import MeanFieldMinima, find_minima, flip_symmetric
from .seeds import check_seeds, quench_states

#: Tanaka-Edwards annealed complexity of single-flip-stable states of SK at T = 0 (J. Phys. F 10, 2769)
TANAKA_EDWARDS = 0.1992
#: counting methods
COUNT_METHODS = ("exact", "quench", "tap2")
#: |q| = (1/N) sum m^2 below which a TAP minimum is the paramagnet
PARAMAGNET_Q = 1e-6

__all__ = ["count_states", "state_complexity", "complexity", "tap_minima", "StateCount", "TANAKA_EDWARDS"]


@dataclass(frozen=True)
class StateCount(Result):
    """Counts of states over ``instances`` SK instances of N = n spins at temperature T (0: stable states)
    and the complexities of the module docstring."""

    n: int
    counts: np.ndarray
    quenched: float
    quenched_stderr: float
    annealed: float
    annealed_stderr: float
    method: str
    T: float
    starts: int | None
    seconds: float
    backend: str
    seed: Any
    converged: bool
    message: str
    seeds: str | None = None  #: find_minima's seeding strategy of method "tap2"


def count_states(model: Model | str, *, T: float = 0.0, method: str = "exact", starts: int = 1000,
                 seed: Any = None, seeds: str = "thermal") -> int:
    """The number of single-flip-stable states (T = 0, "exact" or "quench") or of non-paramagnetic TAP
    minima (T > 0, "tap2", from find_minima's ``seeds`` strategy) of ``model`` (module docstring)."""
    model = resolve_model(model)
    if method not in COUNT_METHODS:
        raise ThermopotError(f"unknown counting method {method!r}; choose one of {', '.join(COUNT_METHODS)}")
    if (method == "tap2") != (T > 0):
        raise ThermopotError(f"method {method!r} counts at {'T > 0' if method == 'tap2' else 'T = 0'}, got T = {T}")
    if method == "exact":
        return int(local_minima(model).states.shape[0])
    rng = check_rng(seed)
    starts = check_count(starts, "starts")
    if method == "quench":
        return int(np.unique(quench_states(model, starts=starts, seed=rng), axis=0).shape[0])
    res = find_minima(model, T, method="tap2", seeds=check_seeds(seeds), starts=starts, seed=rng)
    return tap_minima(res, symmetric=flip_symmetric(model))


def tap_minima(res: MeanFieldMinima, *, symmetric: bool) -> int:
    """The non-paramagnetic minima of ``res`` (q = (1/N) sum m^2 > PARAMAGNET_Q); with ``symmetric``
    (G(-m) = G(m)) twice the number of distinct +-m pairs among them, whether or not both members were
    found (module docstring)."""
    state = res.is_minimum & (np.mean(res.points**2, axis=1) > PARAMAGNET_Q)
    if not symmetric:
        return int(state.sum())
    rows = np.flatnonzero(state)
    partner = np.asarray(res.partner)[rows]
    paired = np.isin(partner, rows)
    return 2 * int(np.sum(~paired | (partner > rows)))  # one row per pair: the first, or the lone member


def complexity(counts: Any, n: int) -> tuple[float, float, float, float]:
    """(quenched, its stderr, annealed, its stderr) complexities per spin of the counts (module docstring)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.size == 0 or (c < 1).any():
        raise ThermopotError("complexity needs at least one count, every count >= 1 (log 0 is undefined)")
    k = c.size
    logs = np.log(c) / n
    spread = lambda v: float(np.std(v, ddof=1) / np.sqrt(k)) if k > 1 else float("nan")  # noqa: E731
    return float(logs.mean()), spread(logs), float(np.log(c.mean()) / n), spread(c) / float(c.mean()) / n


def state_complexity(n: int, instances: int, *, T: float = 0.0, method: str = "exact", starts: int = 1000,
                     seed: Any = None, seeds: str = "thermal") -> StateCount:
    """Counts and complexities over ``instances`` SK instances sk(n, seed=...) drawn from ``seed`` (``seeds``:
    the strategy of method "tap2", see count_states)."""
    n, instances = check_count(n, "n"), check_count(instances, "instances")
    rng = check_rng(seed)
    begin = time.perf_counter()
    model_seeds = rng.integers(0, 2**62, size=instances)
    counts = np.array([count_states(sk(n, seed=int(s)), T=T, method=method, starts=starts, seed=rng, seeds=seeds)
                       for s in model_seeds])
    zero = int((counts == 0).sum())
    kept = counts[counts > 0]
    values = list(complexity(kept, n)) if kept.size else [float("nan")] * 4
    if zero and kept.size:  # the annealed mean counts every instance, zeros included
        mean = counts.mean()
        values[2] = float(np.log(mean) / n)
        values[3] = float(np.std(counts, ddof=1) / np.sqrt(instances) / mean / n) if instances > 1 else float("nan")
    message = f"{instances} instances" + (f"; {zero} with no state: left out of the quenched complexity, "
                                          "counted in the annealed mean" if zero else "")
    return StateCount(n=n, counts=counts, quenched=values[0], quenched_stderr=values[1], annealed=values[2],
                      annealed_stderr=values[3], method=method, T=float(T),
                      starts=None if method == "exact" else starts, seconds=time.perf_counter() - begin,
                      backend="numpy", seed=recorded_seed(seed),
                      converged=zero == 0, message=message, seeds=seeds if method == "tap2" else None)
