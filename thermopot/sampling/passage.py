"""First-passage times of single-spin dynamics: leaving a basin or reaching a target set.

Time is counted in single-spin updates per chain (one update = one visited site, flipped or not; a
sweep is N updates, whatever the scan). The first-passage time of a chain is the number of updates
after which the condition first holds (0 if it holds at the start):

- leaving: the overlap q(s) = (1/N) sum_k s_k s0_k with the chain's start state s0 drops below
  ``threshold`` (threshold = 1 means: the first accepted flip);
- reaching: the chain's state equals one of the ``targets`` (Hamming distance 0).

Both are tracked incrementally (O(B) per update for the overlap, O(B P) for P targets); where the
sampler runs the fused CUDA kernel (:mod:`.fused`), the kernel itself tracks the overlap and the
chains run 64 sweeps per launch, the host checking between launches whether every chain has left.
Chains that
have not hit within ``max_updates`` are censored: their time is reported as max_updates with
``censored`` true. For an isolated well of depth Delta (every flip out of the well costs Delta), the
heat-bath escape time is geometric with mean 1 + exp(Delta / T) (Metropolis: exp(Delta / T)).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, to_numpy
from ..errors import ThermopotError
from ..models import Model
from ..checks import check_count
from ..progress import Progress
from ..results import Result
from .budget import check_run
from .chains import Sampler, real_array, renamed_rng

#: sweeps per launch of the fused kernel between two checks of the first-passage times
FUSED_PASSAGE_SWEEPS = 64


def _overlap(threshold: Any) -> float:
    """The threshold as a float, or a ThermopotError (a complex number or a string is not an overlap)."""
    try:
        return float(threshold)
    except (TypeError, ValueError):
        raise ThermopotError(f"threshold is an overlap in [-1, 1], got {threshold!r}") from None


def _targets(targets: Any, n: int) -> np.ndarray:
    """Target states (P, N) of +-1 from (N,) or (P, N), else a ThermopotError."""
    tgt = real_array(targets, "targets")
    tgt = tgt[None, :] if tgt.ndim == 1 else tgt
    if tgt.ndim != 2 or tgt.shape[1] != n or not np.isin(tgt, (-1.0, 1.0)).all():
        raise ThermopotError(f"targets must be +-1 states of shape (N,) or (P, N) with N = {n}, "
                             f"got shape {tgt.shape}")
    return tgt


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
    if (threshold is None) == (targets is None):
        raise ThermopotError("give exactly one of threshold (leave the start basin) or targets (reach a set)")
    generator = renamed_rng(generator, rng)
    budget = check_count(max_updates, "max_updates")
    sampler = Sampler(model, T, chains=chains, method=method, scan=scan, seed=seed, initial=initial,
                      generator=generator, backend=backend)
    xp, n = sampler.xp, sampler.n
    tgt = None if targets is None else _targets(targets, n)
    check_run(sampler.model, sampler.chains, xp, sweeps=-(-budget // n), scan=sampler.scan, passage=True,
              targets=0 if tgt is None else tgt.shape[0], max_seconds=max_seconds)
    s0, rows = sampler.s.copy(), sampler.kernel.rows
    if threshold is not None:
        threshold = _overlap(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise ThermopotError(f"threshold is an overlap in [-1, 1], got {threshold!r}")
        dot = xp.sum(s0 * s0, axis=1)  # N * overlap, kept exact (integers)

        def update(k: Any, flip: Any, new: Any) -> Any:
            nonlocal dot
            dot = dot + 2.0 * (flip * new) * s0[rows, k]
            return dot < threshold * n

        hit0 = dot < threshold * n
    else:
        tgt_t = asarray(tgt.T, xp)  # (N, P)
        dist = 0.5 * (n - sampler.s @ tgt_t)  # Hamming distances (B, P)

        def update(k: Any, flip: Any, new: Any) -> Any:
            nonlocal dist
            dist = dist - (flip * new)[:, None] * tgt_t[k]
            return xp.min(dist, axis=1) < 0.5

        hit0 = xp.min(dist, axis=1) < 0.5
    done = hit0
    times = xp.where(hit0, 0, budget + 1)
    sweep = 0

    def hook(t: int, k: Any, flip: Any, new: Any) -> None:
        nonlocal done, times
        cond = update(k, flip, new)
        times = xp.where(cond & ~done, sweep * n + t + 1, times)
        done = done | cond

    t0 = time.perf_counter()
    with Progress(progress, -(-budget // n), unit="sweep", desc=f"first passage N={n}") as bar:
        if threshold is not None and (sampler.fused or sampler.compiled):
            passage = xp.astype(xp.where(hit0, 0, -1), xp.int64)
            sampler.kernel.track_passage(s0, threshold * n, passage, sampler.sweeps_done)
            while sweep * n < budget and not bool(xp.all(passage >= 0)):
                chunk = min(FUSED_PASSAGE_SWEEPS, -(-(budget - sweep * n) // n))
                sampler.run(chunk, record=False, progress=False)
                sweep += chunk
                bar.update(chunk)
            sampler.kernel.stop_tracking()
            times = xp.where(passage >= 0, passage, budget + 1)
        else:
            while sweep * n < budget and not bool(xp.all(done)):
                sampler.run(1, record=False, hook=hook, progress=False)
                sweep += 1
                bar.update(1)
    times = to_numpy(times).astype(np.int64)
    censored = times > budget
    return FirstPassage(times=np.where(censored, budget, times), censored=censored, max_updates=budget,
                        n=n, T=sampler.T, method=sampler.method, scan=sampler.scan, seed=sampler.seed,
                        seconds=time.perf_counter() - t0)
