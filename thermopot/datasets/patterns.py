"""Random distinct +-1 patterns with controllable weights (a synthetic data set for exact studies)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_rng, positional_deprecated
from .dataset import DataError, Dataset
from ..states import MAX_SPINS, index_to_spins


def _pattern_weights(weights: Any, m: int) -> np.ndarray:
    """Normalised weights: uniform (None), geometric w_mu ~ q^mu (a number q in (0, 1]), or a vector."""
    if weights is None:
        w = np.ones(m)
    elif np.ndim(weights) == 0:
        try:
            q = float(weights)
        except (TypeError, ValueError):
            raise DataError(f"weights must be None, a ratio q in (0, 1] or {m} positive numbers, "
                            f"got {weights!r}") from None
        if not 0 < q <= 1:
            raise DataError(f"a geometric weight ratio q must lie in (0, 1], got {weights!r}")
        w = q ** np.arange(m, dtype=np.float64)
    else:
        try:
            w = np.array(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"weights must be {m} positive numbers, got {weights!r}") from None
        if w.shape != (m,):
            raise DataError(f"weights must have shape ({m},), one per pattern, got {w.shape}")
        if not (np.isfinite(w).all() and (w > 0).all()):
            raise DataError(f"weights must be finite and > 0 (a pattern of weight 0 is not in the data), "
                            f"got {w.tolist()!r}")
    return w / w.sum()


@positional_deprecated("seed")
def random_patterns_dataset(n: int, m: int, weights: Any = None, *,
                            seed: int | np.random.Generator | None = None) -> Dataset:
    """M distinct uniformly drawn patterns of N spins with weights summing to 1.

    ``weights``: None (all 1/M), a number q in (0, 1] for geometric weights w_mu = q^mu / sum_nu q^nu
    (pattern 0 the most frequent), or M positive numbers (normalised). The patterns are a uniform random
    M-subset of the 2^N states (drawn without replacement), rows in the order of the weights.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SPINS:
        raise DataError(f"number of spins n must be an integer in 1..{MAX_SPINS}, got {n!r}")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= 2 ** int(n):
        raise DataError(f"number of patterns m must be an integer in 1..2^n = {2 ** int(n)} "
                        f"(the patterns are distinct), got {m!r}")
    w = _pattern_weights(weights, int(m))
    index = check_rng(seed).choice(2 ** int(n), size=int(m), replace=False)
    return Dataset(index_to_spins(index, int(n), np, np.int8), w)


def noisy_patterns_dataset(n: int, m: int, copies: int, flip: float, *, seed: int | np.random.Generator | None = None
                           ) -> tuple[Dataset, np.ndarray]:
    """M random centres xi^mu of N spins, each with ``copies`` noisy copies (every spin flipped
    independently with probability ``flip``): a clustered data set whose moments lie inside the
    pairwise family (no infinite couplings). Returns (data set of M x copies rows, label mu of each row).
    Any N: the patterns are drawn as spins, never as state numbers."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"number of spins n must be an integer >= 1, got {n!r}")
    for value, name in ((m, "number of centres m"), (copies, "copies")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 <= float(flip) < 0.5:
        raise DataError(f"the flip probability must lie in [0, 0.5), got {flip!r}")
    rng = check_rng(seed)
    centres = rng.choice(np.array([-1, 1], dtype=np.int8), size=(int(m), int(n)))
    noise = np.where(rng.random((int(m) * int(copies), int(n))) < float(flip), -1, 1).astype(np.int8)
    samples = np.repeat(centres, int(copies), axis=0) * noise
    return Dataset(samples, np.ones(len(samples))), np.repeat(np.arange(int(m)), int(copies))
