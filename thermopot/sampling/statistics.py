"""Autocorrelation-aware error bars for Markov-chain averages.

For a stationary series x_1..x_n with variance sigma^2 and normalised autocorrelation rho(t), the
integrated autocorrelation time (Sokal's convention) is

    tau_int = 1/2 + sum_{t >= 1} rho(t),      Var(mean) = 2 tau_int sigma^2 / n

(tau_int = 1/2 for independent samples). :func:`integrated_time` estimates it with Sokal's automatic
window: tau(M) = 1/2 + sum_{t=1}^{M} rho(t), with M the smallest window such that M >= c tau(M).

:class:`BatchMeans` gives the same error bar for many observables at once with bounded memory: it uses
the means of consecutive batches of L samples (per independent group, e.g. per chain), L doubling
whenever twice ``max_batches`` batches are complete, streamed as sums and sums of squares (no batch is
stored; see the class). For L >> tau,
    Var(mean) = Var(batch means) / (number of batches),  tau_int = L Var(batch means) / (2 sigma^2).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

#: Sokal's window constant: the window M is the smallest with M >= WINDOW_C * tau(M)
WINDOW_C = 6.0


def _autocovariance(d: np.ndarray) -> np.ndarray:
    """Autocovariance C(t) = (1/n) sum_i d_i d_{i+t} along axis 0 of centred series d (n, ...), by FFT."""
    n = d.shape[0]
    f = np.fft.rfft(d, n=2 * n, axis=0)
    return np.fft.irfft(f * np.conj(f), n=2 * n, axis=0)[:n] / n


def _windowed_time(acov: np.ndarray, c: float) -> np.ndarray:
    """Sokal's automatic-window tau_int from autocovariances acov (n, K); NaN where C(0) = 0."""
    n = acov.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = acov / acov[:1]
    taus = 0.5 + np.cumsum(rho[1:], axis=0) if n > 1 else np.full((1,) + acov.shape[1:], 0.5)
    windows = np.arange(1, taus.shape[0] + 1)[:, None]
    ok = windows >= c * taus
    first = np.where(ok.any(axis=0), ok.argmax(axis=0), taus.shape[0] - 1)
    tau = taus[first, np.arange(taus.shape[1])]
    return np.where(acov[0] > 0, tau, np.nan)


#: elements of a series transformed at once: the chains are taken in groups of about this many
#: numbers, which bounds the temporaries of the FFTs whatever the number of chains
CHUNK_ELEMENTS = 1 << 20


def _column_groups(rows: int, columns: int) -> list[slice]:
    """Consecutive groups of columns holding about CHUNK_ELEMENTS elements (at least one column)."""
    step = max(1, CHUNK_ELEMENTS // max(rows, 1))
    return [slice(a, min(a + step, columns)) for a in range(0, columns, step)]


def integrated_time(x: Any, c: float = WINDOW_C) -> tuple[np.ndarray, float]:
    """Integrated autocorrelation time of series ``x`` (n,) or (n, B) (B chains, time along axis 0).

    Returns ``(per_chain, pooled)``: tau_int of each chain (B,) (around its own mean), and tau_int of
    the chain-averaged autocovariance around the grand mean (between-chain spread, e.g. chains stuck
    in different basins, shows up there as a long tau). NaN for a constant series. In units of samples.
    The chains are transformed in groups (CHUNK_ELEMENTS), so the temporaries stay bounded.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    grand = x.mean()
    per_chain, pooled_sum = [], 0.0
    for cols in _column_groups(*x.shape):
        part = x[:, cols]
        per_chain.append(_windowed_time(_autocovariance(part - part.mean(axis=0)), c))
        pooled_sum = pooled_sum + _autocovariance(part - grand).sum(axis=1, keepdims=True)
    pooled = _windowed_time(pooled_sum / x.shape[1], c)
    return np.concatenate(per_chain), float(pooled[0])


def _variance(x: np.ndarray) -> float:
    """Variance of all elements of x (n, B) about their mean, summed over the groups of columns."""
    mean = x.mean()
    return float(sum(np.sum((x[:, cols] - mean) ** 2) for cols in _column_groups(*x.shape)) / x.size)


def mean_stderr(x: Any, c: float = WINDOW_C) -> tuple[float, float, np.ndarray, float]:
    """Mean of ``x`` (n, B) over all samples with its error sqrt(2 tau_pooled sigma^2 / (n B)).

    Returns ``(mean, stderr, tau_per_chain, tau_pooled)`` (tau in samples)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    per_chain, pooled = integrated_time(x, c)
    var = _variance(x)
    square = 2.0 * pooled * var / x.size
    # a series too short for tau (an estimate <= 0 or NaN) has no error bar: NaN, not a warning or 0
    stderr = (np.sqrt(square) if square > 0 else float("nan")) if var > 0 else 0.0
    return float(x.mean()), float(stderr), per_chain, pooled


#: the fewest complete batches the error bar uses (the batch length doubles once twice as many exist)
MAX_BATCHES = 32


def _level_count(max_batches: int) -> int:
    """Levels a BatchMeans keeps at most: its lowest level l has fewer than 2 max_batches complete
    batches, so levels above l + log2(2 max_batches) have none yet (and are created when they do)."""
    return int(np.ceil(np.log2(2 * max_batches))) + 1


class BatchMeans:
    """Running mean of an observable of shape ``shape`` = (G, ...) (G independent groups, e.g. chains)
    with a batch-means error bar, streamed in O(log) arrays of ``shape`` (no stored batches).

    Blocking levels (Flyvbjerg and Petersen, J. Chem. Phys. 91, 461 (1989)): level l cuts the samples
    into consecutive batches of L = 2^l; for each kept level the accumulator holds the sum of the
    incomplete batch (``pending``) and the sum of squares of the complete batch sums (``squares``). A
    complete batch of level l is added to the pending sum of level l + 1. The error bar uses the
    lowest kept level, the largest L with at least ``max_batches`` complete batches (levels below it
    are dropped once the next one has that many): with K = (count // L) G batch means y_i,

        Var(y) = (sum_i b_i^2 - (sum_i b_i)^2 / K) / (L^2 (K - 1)),   b_i = L y_i the batch sums,

    sum_i b_i being the total minus the pending sum. These are the batches (and the variance) of the
    former scheme that stored up to 2 max_batches batch means and merged neighbours.

    ``add(x)`` adds one sample; ``mean()``, ``stderr()`` and ``tau()`` pool over the groups (axis 0)
    and return arrays of shape ``shape[1:]``. The mean uses every sample; the error bar uses the
    complete batches only.
    """

    @staticmethod
    def arrays_held(max_batches: int = MAX_BATCHES) -> int:
        """Arrays of ``shape`` one accumulator holds at most: total, total_sq, two per kept level,
        and two temporaries of :meth:`add` (x * x and a batch sum squared)."""
        return 4 + 2 * _level_count(max_batches)

    def __init__(self, shape: tuple[int, ...], xp: ModuleType, max_batches: int = MAX_BATCHES):
        self.xp = xp
        self.shape = tuple(shape)
        self.max_batches = int(max_batches)
        self.count = 0
        self.base = 0  # the lowest kept level
        self.total = xp.zeros(self.shape, dtype=xp.float64)
        self.total_sq = xp.zeros(self.shape, dtype=xp.float64)
        self.pending: list = []  # per kept level, lowest first: the sum of its incomplete batch
        self.squares: list = []  # per kept level: sum of the squares of its complete batch sums

    @property
    def size(self) -> int:
        """Batch length L = 2^base of the error bar."""
        return 1 << self.base

    @property
    def nbatches(self) -> int:
        """Complete batches per group at the error bar's level."""
        return self.count >> self.base

    def add(self, x: Any) -> None:
        """Add one sample of shape ``shape``."""
        self.total += x
        self.total_sq += x * x
        self.count += 1
        if self.count == 1:
            self.pending.append(self.xp.zeros(self.shape, dtype=self.xp.float64))
            self.squares.append(self.xp.zeros(self.shape, dtype=self.xp.float64))
        self.pending[0] += x
        self._complete_batches()
        top = self.base + len(self.pending)
        if self.count == 1 << top:  # a new top level: its first batch is every sample so far
            self.pending.append(self.xp.zeros(self.shape, dtype=self.xp.float64))
            self.squares.append(self.total * self.total)
        if self.count >> (self.base + 1) >= self.max_batches:
            lowest = self.pending.pop(0)  # its incomplete batch is part of the next level's
            self.pending[0] += lowest
            self.squares.pop(0)
            self.base += 1

    def _complete_batches(self) -> None:
        """Close the batches that the latest sample completes, carrying each into the level above."""
        for i, (pend, sq) in enumerate(zip(self.pending, self.squares)):
            if self.count % (1 << (self.base + i)):
                return
            sq += pend * pend
            if i + 1 < len(self.pending):
                self.pending[i + 1] += pend
            pend[...] = 0.0

    def mean(self) -> Any:
        """Mean over all samples and groups."""
        return self.xp.mean(self.total, axis=0) / max(self.count, 1)

    def _batch_variance(self) -> Any:
        """Variance of the batch means over (batches x groups), ddof = 1 (NaN with fewer than 2)."""
        xp = self.xp
        k = self.nbatches * self.shape[0]
        if k < 2:
            return xp.full(self.shape[1:], xp.nan, dtype=xp.float64)
        sums = xp.sum(self.total - self.pending[0], axis=0)
        spread = xp.sum(self.squares[0], axis=0) - sums * sums / k
        return xp.maximum(spread, 0.0) / (float(self.size) ** 2 * (k - 1))

    def stderr(self) -> Any:
        """Batch-means standard error of :meth:`mean`: sqrt(Var(batch means) / (batches x groups))."""
        return self.xp.sqrt(self._batch_variance() / max(self.nbatches * self.shape[0], 1))

    def variance(self) -> Any:
        """Variance of single samples about the grand mean, pooled over groups."""
        xp = self.xp
        n = max(self.count * self.shape[0], 1)
        m = xp.sum(self.total, axis=0) / n
        return xp.maximum(xp.sum(self.total_sq, axis=0) / n - m * m, 0.0)

    def tau(self) -> Any:
        """Batch-means estimate of tau_int (in samples): L Var(batch means) / (2 sigma^2); NaN when
        the variance is zero or there are too few batches."""
        xp = self.xp
        var = self.variance()
        safe = xp.where(var > 0, var, 1.0)
        return xp.where(var > 0, self.size * self._batch_variance() / (2.0 * safe), xp.nan)

    def copy(self) -> "BatchMeans":
        """An independent accumulator with the same samples (every array copied)."""
        twin = BatchMeans(self.shape, self.xp, self.max_batches)
        twin.count, twin.base = self.count, self.base
        twin.total, twin.total_sq = self.xp.asarray(self.total, copy=True), self.xp.asarray(self.total_sq, copy=True)
        twin.pending = [self.xp.asarray(a, copy=True) for a in self.pending]
        twin.squares = [self.xp.asarray(a, copy=True) for a in self.squares]
        return twin

    def arrays(self, prefix: str) -> dict:
        """The accumulator as named arrays (for a checkpoint); levels stacked, lowest first."""
        ints = np.array([self.count, self.base, self.max_batches], dtype=np.int64)
        return {f"{prefix}ints": ints, f"{prefix}total": self.total, f"{prefix}total_sq": self.total_sq,
                f"{prefix}pending": self._stacked(self.pending),
                f"{prefix}squares": self._stacked(self.squares)}

    def _stacked(self, levels: list) -> Any:
        """The arrays of the kept levels as one (levels, *shape) array."""
        xp = self.xp
        return xp.stack(levels) if levels else xp.zeros((0,) + self.shape, dtype=xp.float64)

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str, xp: ModuleType) -> "BatchMeans":
        """Rebuild an accumulator saved by :meth:`arrays`."""
        count, base, max_batches = (int(v) for v in arrays[f"{prefix}ints"])
        acc = cls(tuple(arrays[f"{prefix}total"].shape), xp, max_batches)
        acc.count, acc.base = count, base
        acc.total = xp.asarray(arrays[f"{prefix}total"], dtype=xp.float64)
        acc.total_sq = xp.asarray(arrays[f"{prefix}total_sq"], dtype=xp.float64)
        acc.pending = [xp.asarray(a, dtype=xp.float64) for a in arrays[f"{prefix}pending"]]
        acc.squares = [xp.asarray(a, dtype=xp.float64) for a in arrays[f"{prefix}squares"]]
        return acc


#: a run shorter than this many integrated autocorrelation times gets a ShortRunWarning: below it the
#: error bars (2 tau sigma^2 / n) rest on a tau_int estimate that is itself biased low and noisy (Sokal's
#: automatic window needs n >> c tau; Sokal 1997 recommends n >= 1000 tau for tau itself)
MIN_RUN_TAUS = 50


class ShortRunWarning(RuntimeWarning):
    """A sampling run shorter than MIN_RUN_TAUS integrated autocorrelation times."""


def short_run_message(sweeps: int, tau_int: dict, factor: float = MIN_RUN_TAUS) -> str | None:
    """A message when ``sweeps`` recorded sweeps are fewer than ``factor`` times the largest finite
    tau_int (in sweeps) of ``tau_int`` ({series name: tau}), else None. NaN taus (a constant series) are
    ignored."""
    finite = {k: float(v) for k, v in tau_int.items() if np.isfinite(v)}
    if not finite:
        return None
    name, tau = max(finite.items(), key=lambda kv: kv[1])
    if sweeps >= factor * tau:
        return None
    return (f"the run is short: {sweeps} recorded sweeps are {sweeps / tau:.3g} integrated autocorrelation "
            f"times of the {name} (tau_int = {tau:.3g} sweeps), fewer than {factor:g}; the error bars and "
            f"tau_int itself are unreliable: run at least {int(np.ceil(factor * tau))} sweeps")
