"""The burn-in: the sweeps a run discards before it averages, chosen by one rule for every sampler.

Every sampler of thermopot (``sample``, ``parallel_tempering``, ``pattern_frequencies``, ``basin_occupancy``,
the sampled pipeline's chain samples, ``check_moments``, ``state_overlap``) takes ``burn_in`` and resolves it
here (:func:`resolve_burn_in`, :func:`run_burn_in`):

- ``None`` (the default): max(sweeps // DEFAULT_BURN_IN_DIVISOR, MIN_BURN_IN) = max(sweeps // 5, 100)
  sweeps for a run of ``sweeps`` recorded sweeps. A start-up transient lasts a number of sweeps set by
  the model and T, not by the run's length, so a fraction alone is too short for short runs: measured
  against enumeration (benchmarks/burn_in.py, 256 chains, 8 seeds, docs/sampling.md), sweeps // 10 and
  sweeps // 5 leave the mean energy up to 14 standard errors off at W = 20 recorded sweeps (SK,
  Curie-Weiss, Hopfield, tempering, N = 16-20) and sweeps // 10 still +1.3 at W = 100 (SK N = 20,
  T = 0.5), where 100 sweeps leave none; sweeps // 5 over sweeps // 10 for long runs of the slowest case
  (SK N = 20, T = 0.3, W = 1000: -0.4 against +0.8);
- an integer >= 0: that many sweeps;
- ``"mser"``: White's marginal standard error rule (MSER; K. P. White, Simulation 69, 323 (1997)) on the
  chain-averaged series x_0..x_{n-1} (the energy; for tempering, at every temperature): the d in
  [0, n // 2] that minimises

      MSER(d) = sum_{t >= d} (x_t - xbar_d)^2 / (n - d)^2,   xbar_d = mean_{t >= d} x_t

  (:func:`mser_burn_in`). A run that keeps its whole series (``state_overlap``) drops the first d of it
  (``resolve_burn_in(..., series=...)``). A run that records only after its burn-in
  (:func:`run_burn_in`) runs blocks of b = max(MIN_MSER_BLOCK, sweeps // MSER_BLOCK_DIVISOR) unrecorded
  sweeps, tracing the series, until MSER puts the end of the transient in the first half of what it ran
  (d < n // 2 for every series: the chains have been stationary at least as long as they were not) and
  discards all n sweeps run; after ``sweeps`` sweeps without that it stops with a BurnInWarning. MSER
  is not the default: on short runs it stops inside the transient (the same measurements, W = 20 on SK:
  +1.9 to +9 standard errors), and on long runs it is no less biased than the default.

The burn-in used is reported in each result (``burn_in``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from ..checks import check_count
from ..errors import ThermopotError

#: the default burn-in of a run of W recorded sweeps: max(W // DEFAULT_BURN_IN_DIVISOR, MIN_BURN_IN) sweeps
DEFAULT_BURN_IN_DIVISOR = 5
MIN_BURN_IN = 100
#: "mser" before recording: blocks of max(MIN_MSER_BLOCK, W // MSER_BLOCK_DIVISOR) sweeps
MSER_BLOCK_DIVISOR = 20
MIN_MSER_BLOCK = 10

#: what ``burn_in=`` accepts: None (the default rule), a number of sweeps, or "mser"
BurnIn = Union[int, str, None]


class BurnInWarning(RuntimeWarning):
    """The MSER burn-in did not find the end of the transient within the sweeps it may run."""


def mser_burn_in(series: Any) -> int:
    """The equilibration window of a time series x_0..x_{n-1} by the marginal standard error rule (MSER;
    K. P. White, Simulation 69, 323 (1997)): the d in [0, n // 2] that minimises

        MSER(d) = sum_{t >= d} (x_t - xbar_d)^2 / (n - d)^2,   xbar_d = mean_{t >= d} x_t,

    the squared standard error of the mean of what is kept (ignoring correlations). Dropping a start-up
    transient lowers the sum faster than it shrinks n - d; once the rest is stationary, dropping more only
    raises it. The bound n // 2 keeps at least half of the series. The sums run over x_t - x_{n-1} (MSER does
    not change under a shift), so a series that stops moving (frozen chains) has MSER exactly 0 from where
    it stops, and ties go to the smallest d."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or x.size < 1 or not np.isfinite(x).all():
        raise ThermopotError(f"mser_burn_in needs a finite, non-empty 1-d series, got shape {x.shape}")
    tail = (x - x[-1])[::-1]
    kept = np.arange(1, x.size + 1)[::-1]  # n - d for d = 0..n-1
    total = np.cumsum(tail)[::-1]
    square = np.cumsum(tail * tail)[::-1]
    stat = np.maximum(square - total * total / kept, 0.0) / (kept * kept)
    return int(np.argmin(stat[: x.size // 2 + 1]))


def _mser_columns(series: Any) -> int:
    """The largest MSER window over the columns of a series (n,) or (n, S)."""
    x = np.asarray(series, dtype=np.float64)
    return max(mser_burn_in(column) for column in x.reshape(x.shape[0], -1).T)


def resolve_burn_in(burn_in: BurnIn, sweeps: int, series: Any = None) -> int:
    """The burn-in, in sweeps, of a run of ``sweeps`` recorded sweeps (the module docstring's rule):
    None -> max(sweeps // 5, 100); an integer >= 0 -> itself; "mser" -> the MSER window of ``series`` (n,) or (n, S)
    (the largest over its columns), which "mser" needs (:func:`~thermopot.sampling.burn_in.run_burn_in` traces one while running)."""
    if burn_in is None:
        return max(check_count(sweeps, "sweeps", 0) // DEFAULT_BURN_IN_DIVISOR, MIN_BURN_IN)
    if isinstance(burn_in, str):
        if burn_in != "mser":
            raise ThermopotError(f"burn_in must be None, 'mser' or an integer number of sweeps >= 0, got {burn_in!r}")
        if series is None:
            raise ThermopotError("burn_in='mser' needs the chain-averaged series (or run_burn_in, which traces it)")
        return _mser_columns(series)
    return check_count(burn_in, "burn_in", 0)


def run_burn_in(burn_in: BurnIn, sweeps: int, *, run: Callable[[int], Any],
                trace: Callable[[int], Any]) -> int:
    """Run the burn-in of a run of ``sweeps`` recorded sweeps and return the sweeps it discarded.
    ``run(k)``: advance the chains k sweeps unrecorded; ``trace(k)``: advance them k sweeps and return the
    chain-averaged series (k,) or (k, S) (used by "mser" only: blocks until MSER's window is in the first
    half of the traced series, at most ``sweeps`` sweeps; the module docstring)."""
    if not (isinstance(burn_in, str) and burn_in == "mser"):
        used = resolve_burn_in(burn_in, sweeps)
        if used:
            run(used)
        return used
    sweeps = check_count(sweeps, "sweeps")
    block = min(sweeps, max(MIN_MSER_BLOCK, sweeps // MSER_BLOCK_DIVISOR))
    parts: list[np.ndarray] = []
    done = 0
    while done < sweeps:
        step = min(block, sweeps - done)
        part = np.asarray(trace(step), dtype=np.float64)
        parts.append(part.reshape(part.shape[0], -1))
        done += step
        traced = np.concatenate(parts)
        if _mser_columns(traced) < traced.shape[0] // 2:
            return done
    warnings.warn(f"burn_in='mser': the chains' series still drifts after {done} sweeps (MSER puts the end of "
                  "the transient at half of them); the averages may carry the start-up bias: run more sweeps",
                  BurnInWarning, stacklevel=3)
    return done
