"""Binary data sets for learning: validation, weights, moments, and the ``.npz`` file format.

A data set is M samples of N spins s in {-1, +1}^N with non-negative weights w_m (docs/architecture.md: a file holds
``samples`` (M, N) int8 and optionally ``weights`` (M,)). Its weighted moments are

    m_k = sum_m w_m s_mk / W,     C_kl = sum_m w_m s_mk s_ml / W,     W = sum_m w_m.

0/1 data is mapped to spins by s = 2x - 1 (1 -> +1, 0 -> -1) only when asked (``binary01=True``).
A constant column (the same spin in every sample of positive weight) has an infinite maximum-likelihood
field; it is reported by :meth:`Dataset.constant_columns` and refused by the fitting methods unless a
regulariser is asked for.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..checks import read_npz
from ..errors import ThermopotError
from ..fileio import atomic_write, npz_path


class DataError(ThermopotError):
    """A data set that is not valid (values, shapes, weights, unreadable or incomplete file)."""


class DataWarning(UserWarning):
    """Data that are valid but probably not what was meant (e.g. a transposed array)."""


def warn_few_samples(dataset: "Dataset", what: str = "data", stacklevel: int = 3) -> bool:
    """Warn (DataWarning, naming the shape) when an unweighted data set has fewer samples (rows) than
    spins (columns): most often the array is transposed (samples are rows, spins columns), and even when
    it is not, M < N samples cannot determine the N (N + 1) / 2 parameters of a pairwise model. Weighted
    data (distinct patterns with their frequencies) are not flagged. Returns whether it warned."""
    w = dataset.weights
    if dataset.size >= dataset.n or not np.all(w == w[0]):
        return False
    warnings.warn(f"{what} has shape (M, N) = {dataset.samples.shape}: fewer samples (rows, M = {dataset.size}) "
                  f"than spins (columns, N = {dataset.n}). If the array is transposed pass samples.T "
                  "(one sample per row); otherwise the fit is underdetermined and needs a regulariser (l2)",
                  DataWarning, stacklevel=stacklevel)
    return True


@dataclass(frozen=True)
class Dataset:
    """Validated binary data: ``samples`` (M, N) int8 of +-1 and ``weights`` (M,) float64 >= 0 with a
    finite sum W > 0 (None: every weight 1). The constructor checks both as :func:`load_dataset` does
    and raises DataError naming the problem (0/1 data goes through ``as_dataset(x, binary01=True)``)."""

    samples: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        samples = _to_spins(self.samples, binary01=False)
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "weights", _check_weights(self.weights, samples.shape[0]))

    @property
    def n(self) -> int:
        """Number of spins N."""
        return int(self.samples.shape[1])

    @property
    def size(self) -> int:
        """Number of rows M."""
        return int(self.samples.shape[0])

    @property
    def total_weight(self) -> float:
        """W = sum_m w_m."""
        return float(self.weights.sum())

    @property
    def probabilities(self) -> np.ndarray:
        """Normalised weights p_m = w_m / W."""
        return self.weights / self.weights.sum()

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(m (N,), C (N, N)): weighted means <s_k> and raw correlations <s_k s_l> (ones on the diagonal)."""
        s = self.samples.astype(np.float64)
        p = self.probabilities
        return s.T @ p, (s * p[:, None]).T @ s

    def constant_columns(self) -> np.ndarray:
        """Indices of the columns with one value in every row of positive weight."""
        s = self.samples[self.weights > 0]
        return np.flatnonzero((s == s[:1]).all(axis=0))

    def boundary_pairs(self) -> np.ndarray:
        """Pairs (k, l), k < l, of non-constant columns whose rows of positive weight never show one of
        the four joint values (s_k, s_l) in {+-1}^2, shape (P, 2): the data moments then lie on the
        boundary of the pairwise model's moment space and the maximum-likelihood coupling J_kl is
        infinite. A sufficient sign of an infinite estimate, not a complete one: the moments can also
        sit on faces that involve three or more spins. Counts from the indicator a = (s > 0):
        n11 = a^T a, n10 = n1 - n11, ..."""
        a = (self.samples[self.weights > 0] > 0).astype(np.float64)
        n11 = a.T @ a
        n1 = np.diag(n11)
        n10, n01 = n1[:, None] - n11, n1[None, :] - n11
        n00 = a.shape[0] - n1[:, None] - n1[None, :] + n11
        empty = (np.minimum(np.minimum(n11, n10), np.minimum(n01, n00)) == 0) & np.triu(np.ones_like(n11, bool), 1)
        const = self.constant_columns()
        empty[const, :] = empty[:, const] = False
        return np.argwhere(empty)

    def unique(self) -> "Dataset":
        """Duplicate rows merged (weights summed), zero-weight rows dropped; rows in sorted order."""
        keep = self.weights > 0
        rows, inverse = np.unique(self.samples[keep], axis=0, return_inverse=True)
        weights = np.bincount(inverse.reshape(-1), weights=self.weights[keep], minlength=len(rows))
        return Dataset(rows, weights)

    def compact(self) -> "Dataset":
        """:meth:`unique` when that removes at least a quarter of the rows, else the data set itself."""
        merged = self.unique()
        return merged if merged.size <= 0.75 * self.size else self

    def with_weights(self, weights: Any) -> "Dataset":
        """The same samples with other weights (validated)."""
        return Dataset(self.samples, weights)

    def to_arrays(self) -> dict:
        """The arrays of the ``.npz`` format: samples (M, N) int8, weights (M,)."""
        return {"samples": self.samples, "weights": self.weights}


def _check_weights(weights: Any, m: int) -> np.ndarray:
    if weights is None:
        return np.ones(m)
    try:
        raw = np.asarray(to_numpy(weights))
        w = None if np.iscomplexobj(raw) else np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"weights must be an array of real numbers ({exc})") from None
    if w is None:
        raise DataError(f"weights must be real numbers, got dtype {raw.dtype}")
    if w.shape != (m,):
        raise DataError(f"weights must have shape ({m},), one per sample, got {w.shape}")
    if not np.isfinite(w).all():
        raise DataError(f"weights contain NaN or infinite values (first at row {int(np.argmin(np.isfinite(w)))})")
    if (w < 0).any():
        raise DataError(f"weights must be >= 0, got {float(w.min())!r} at row {int(np.argmin(w))}")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not np.isfinite(total):
        raise DataError(f"the weights sum to {total} (beyond the float64 range): scale them down")
    if not total > 0:
        raise DataError("the weights sum to zero: there is no data to learn from")
    return w


def _to_spins(samples: Any, binary01: bool) -> np.ndarray:
    try:
        x = np.asarray(to_numpy(samples))
    except (TypeError, ValueError) as exc:
        raise DataError(f"samples must be an array of +-1 values ({exc})") from None
    if x.ndim == 1:
        raise DataError(f"samples must have shape (M, N), got a 1-d array of shape {x.shape} "
                        "(one sample of N spins is samples[None, :])")
    if x.ndim != 2:
        raise DataError(f"samples must have shape (M, N), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"the data set is empty (shape {x.shape}): need at least one sample of at least one spin")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"samples must be numbers, got dtype {x.dtype}")
    if np.iscomplexobj(x):
        raise DataError(f"samples must be real numbers, got complex dtype {x.dtype}")
    if binary01:
        if not ((x == 0) | (x == 1)).all():
            raise DataError(f"binary01=True needs 0/1 samples, found the values {_show(np.unique(x))}")
        return (2 * x.astype(np.int8) - 1).astype(np.int8)
    if ((x == -1) | (x == 1)).all():
        return x.astype(np.int8)
    values = np.unique(x)
    if np.isin(values, (0, 1)).all():
        raise DataError("samples are 0/1, not +-1; convert them with binary01=True (--binary01), "
                        "which maps 1 -> +1 and 0 -> -1")
    raise DataError(f"samples must be +-1 spins, found the values {_show(values)}")


def _show(values: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(repr(v.item()) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def as_dataset(data: Any, weights: Any = None, *, binary01: bool = False) -> Dataset:
    """A validated :class:`Dataset` from a Dataset, a (M, N) array of +-1 (or 0/1 with ``binary01``),
    or a path to a ``.npz`` data file. ``weights`` (M,) may not be given with a Dataset or a file."""
    if isinstance(data, Dataset):
        return data if weights is None else data.with_weights(weights)
    if isinstance(data, (str, os.PathLike)):
        if weights is not None:
            raise DataError("weights come from the data file; do not pass them separately")
        return load_dataset(data, binary01=binary01)
    return Dataset(_to_spins(data, binary01), weights)


def load_dataset(path: str | os.PathLike, *, binary01: bool = False) -> Dataset:
    """Read a data set ``.npz`` (``samples`` (M, N), optional ``weights`` (M,)), with a clear error for a
    missing, unreadable or incomplete file and for values that are not spins."""
    path = os.fspath(path)
    arrays = read_npz(path, "data", DataError)
    if "samples" not in arrays:
        raise DataError(f"data file {path!r} holds {sorted(arrays)}; a data set needs 'samples' (M, N) "
                        "and optionally 'weights' (M,)")
    try:
        return as_dataset(arrays["samples"], arrays.get("weights"), binary01=binary01)
    except DataError as exc:
        raise DataError(f"data file {path!r}: {exc}") from None


def save_dataset(path: str | os.PathLike, data: Any, weights: Any = None) -> str:
    """Write a data set (a Dataset or +-1 samples with optional weights) to ``path`` (``.npz`` appended
    when missing) atomically (:func:`thermopot.fileio.atomic_write`); return the path written."""
    dataset = as_dataset(data, weights)
    path = npz_path(path, "data set", DataError)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **dataset.to_arrays())
    return path
