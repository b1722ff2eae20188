"""First-passage times of single-spin dynamics: leaving a basin or reaching a target set.

Time is counted in single-spin updates per chain (one update = one visited site, flipped or not; a
sweep is N updates, whatever the scan). The first-passage time of a chain is the number of updates
after which the condition first holds (0 if it holds at the start):

- leaving: the overlap q(s) = (1/N) sum_k s_k s0_k with the chain's start state s0 drops below
  ``threshold`` (threshold = 1 means: the first accepted flip);
- reaching: the chain's state equals one of the ``targets`` (Hamming distance 0).

The times are recorded by the state: :func:`start_clock` gives a state a
:class:`.state.PassageClock`, and each ``Sampler.run(state, w)`` extends its times. Both conditions are
tracked incrementally (O(B) per update for the overlap, O(B P) for P targets); where the sampler runs
the fused CUDA kernel (:mod:`.fused`) or the compiled CPU kernel (:mod:`.compiled`), the kernel itself
tracks the overlap and the chains run 64 sweeps per call, the host checking between calls whether every
chain has left. Chains that
have not hit within ``max_updates`` are censored: their time is reported as max_updates with
``censored`` true. For an isolated well of depth Delta (every flip out of the well costs Delta), the
heat-bath escape time is geometric with mean 1 + exp(Delta / T) (Metropolis: exp(Delta / T)).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..backend import asarray, namespace_of, to_numpy
from ..errors import ThermopotError
from ..models import Model
from ..checks import check_count
from ..progress import Progress
from ..results import Result
from .budget import check_run
from ._passage_inputs import check_one_condition, check_targets, check_threshold
from .chains import Sampler, renamed_rng
from .state import PassageClock, SamplerState

#: sweeps per launch of the fused kernel between two checks of the first-passage times
FUSED_PASSAGE_SWEEPS = 64


@dataclass(frozen=True)
class FirstPassage(Result):
    """First-passage times (B,) in single-spin updates, with censoring.

    ``mean`` and ``stderr``: over the chains that hit (NaN if none). ``mean_censored``: the
    exponential-waiting-time maximum-likelihood mean sum_b min(t_b, budget) / hits, which accounts for
    censored chains (equal to ``mean`` when none is censored).
    """

    times: np.ndarray
    censored: np.ndarray
    max_updates: int
    n: int
    T: float
    method: str
    scan: str
    seed: int
    seconds: float = 0.0

    @property
    def hits(self) -> int:
        return int((~self.censored).sum())

    @property
    def mean(self) -> float:
        return float(self.times[~self.censored].mean()) if self.hits else float("nan")

    @property
    def stderr(self) -> float:
        t = self.times[~self.censored]
        return float(t.std(ddof=1) / np.sqrt(len(t))) if len(t) > 1 else float("nan")

    @property
    def mean_censored(self) -> float:
        return float(self.times.sum() / self.hits) if self.hits else float("inf")

    def to_dict(self) -> dict:
        return self._json({"n": self.n, "T": self.T, "method": self.method, "scan": self.scan, "seed": self.seed,
                           "chains": len(self.times), "max_updates": self.max_updates, "hits": self.hits,
                           "censored": self.censored.sum(), "mean": self.mean, "stderr": self.stderr,
                           "mean_censored": self.mean_censored, "times": self.times,
                           "censored_mask": self.censored, "seconds": self.seconds})


def start_clock(state: SamplerState, *, threshold: float | None = None, targets: Any = None) -> SamplerState:
    """``state`` with a :class:`.state.PassageClock` started now: it records, as the state runs, the
    number of updates after which each chain first leaves the ball of overlap >= ``threshold`` around
    its present state, or first reaches one of ``targets`` ((N,) or (P, N) states of +-1). Give
    exactly one. A chain already there has time 0."""
    check_one_condition(threshold, targets)
    xp, n, s = namespace_of(state.s), state.n, state.s
    if threshold is not None:
        threshold = check_threshold(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise ThermopotError(f"threshold is an overlap in [-1, 1], got {threshold!r}")
        clock = PassageClock(times=None, origin=state.sweeps_done, start=s, threshold_dot=threshold * n)
        hit0 = xp.sum(s * s, axis=1) < clock.threshold_dot  # N * overlap, kept exact (integers)
    else:
        clock = PassageClock(times=None, origin=state.sweeps_done, targets=asarray(check_targets(targets, n).T, xp))
        hit0 = xp.min(0.5 * (n - s @ clock.targets), axis=1) < 0.5  # Hamming distances (B, P)
    return replace(state, passage=replace(clock, times=xp.astype(xp.where(hit0, 0, -1), xp.int64)))


def first_passage(model: Model | str, T: float, initial: Any, *, threshold: float | None = None,
                  targets: Any = None, max_updates: int, chains: int | None = None,
                  method: str = "heat-bath", scan: str = "random",
                  seed: int | np.random.Generator | None = None, generator: str | None = None,
                  backend: Any = None, progress: bool | None = None, max_seconds: float | None = None,
                  rng: str | None = None) -> FirstPassage:
    """First-passage times of chains started at ``initial`` ((N,) repeated ``chains`` times, or (B, N)):
    give ``threshold`` (leave the start state's basin: overlap < threshold) or ``targets`` ((P, N) or
    (N,) states of +-1: reach one of them), not both. See the module docstring. ``seed`` and
    ``generator``: see :class:`.chains.Sampler` (``rng=``: the deprecated former name of ``generator``).
    ``progress``: a bar of sweeps on stderr (None: once the run has taken a few seconds). A run whose
    whole budget would not fit in memory or would take longer than ``max_seconds`` (default
    THERMOPOT_MAX_SECONDS, else an hour) is refused at once with a SizeError naming both."""
    check_one_condition(threshold, targets)
    generator = renamed_rng(generator, rng)
    budget = check_count(max_updates, "max_updates")
    sampler = Sampler(model, T, method=method, scan=scan, generator=generator, backend=backend)
    state = sampler.init(chains=chains, initial=initial, seed=seed)
    xp, n = sampler.xp, sampler.n
    tgt = None if targets is None else check_targets(targets, n)
    check_run(sampler.model, state.chains, xp, sweeps=-(-budget // n), scan=sampler.scan, passage=True,
              targets=0 if tgt is None else tgt.shape[0], max_seconds=max_seconds)
    state = start_clock(state, threshold=threshold, targets=tgt)
    in_kernel = threshold is not None and (sampler.fused or sampler.compiled)
    step = FUSED_PASSAGE_SWEEPS if in_kernel else 1
    sweep = 0
    t0 = time.perf_counter()
    with Progress(progress, -(-budget // n), unit="sweep", desc=f"first passage N={n}") as bar:
        while sweep * n < budget and not bool(xp.all(state.passage.times >= 0)):
            chunk = min(step, -(-(budget - sweep * n) // n))
            state = sampler.run(state, chunk, record=False, progress=False)
            sweep += chunk
            bar.update(chunk)
    times = to_numpy(state.passage.times).astype(np.int64)
    censored = (times < 0) | (times > budget)
    return FirstPassage(times=np.where(censored, budget, times), censored=censored, max_updates=budget,
                        n=n, T=sampler.T, method=sampler.method, scan=sampler.scan, seed=state.seed,
                        seconds=time.perf_counter() - t0)
