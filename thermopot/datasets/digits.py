"""Handwritten digits, downsampled and binarised to N = 16 or 25 pixels, or at the full 8x8 = 64 pixels
(bundled, no download).

Source: the UCI "Optical Recognition of Handwritten Digits" test set as scikit-learn ships it
(``sklearn.datasets.load_digits``): 1797 images of 8x8 pixels with ink counts x in 0..16 and the digit
class 0..9 (licence and citation in ``LICENSE-digits.txt``). ``make_digits.py`` derives the bundled
``digits.npz`` with the two steps below; scikit-learn is needed only to run that script.

1. Area-weighted downsampling of the 8x8 image to a side x side grid (side = 4, 5 or 8; at side 8, R is
   the identity and the image is kept as it is). Output cell i
   covers [i a, (i+1) a) with a = 8 / side; its value is the mean of the 8x8 image over that square,

       y_il = sum_{j,k} R_ij x_jk R_lk,   R_ij = |[i a, (i+1) a) cap [j, j+1)| / a,

   so each row of R sums to 1. For side = 4 this is the plain mean over 2x2 blocks; for side = 5 the
   cells straddle pixel borders and take each pixel in proportion to the overlap.
2. Binarisation at the per-pixel median over all 1797 images: s_p = +1 (ink) if y_p > median_p, else -1
   (a value equal to the median gives -1).
   A fixed ink level leaves the border pixels almost always blank (constant columns, which have an
   infinite maximum-likelihood field); the median keeps every pixel in use (|<s_p>| <= 0.46) and the
   classes apart: a nearest-class-mean classifier on the binary images is right for 77 % (N = 16) and
   81 % (N = 25) of the images, against 10 % by chance. At the full 8x8 resolution some border pixels
   carry ink in fewer than half of the images (or in none), so their median is the blank level and they
   are -1 in every image: constant columns, which :func:`load_digits` keeps (the grid stays 8x8) and
   the knowledge pipeline drops and reports (:meth:`Dataset.constant_columns`).

Pixels are in row-major order, pixel p = row * side + column.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Iterable

import numpy as np

from .dataset import DataError, Dataset

IMAGE_SIDE = 8
SIDES = {16: 4, 25: 5, 64: 8}  # N -> side of the square grid
CLASSES = tuple(range(10))
DATA_FILE = "digits.npz"


def resampling_matrix(side: int, source: int = IMAGE_SIDE) -> np.ndarray:
    """R (side, source) with R_ij = overlap of output cell i with source pixel j over the cell width.

    Overlaps are counted in integer units of 1/side pixel (cell i spans [i source, (i+1) source),
    pixel j spans [j side, (j+1) side)), so R = overlap / source is exact for source = 8 and the
    downsampled values, hence the median ties, do not depend on rounding.
    """
    lo = np.arange(side)[:, None] * source
    j = np.arange(source)[None, :] * side
    overlap = np.clip(np.minimum(lo + source, j + side) - np.maximum(lo, j), 0, None)
    return overlap / source


def downsample(images: np.ndarray, side: int) -> np.ndarray:
    """Area-weighted means y = R x R^T of images (M, 8, 8) on a side x side grid, shape (M, side, side)."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"images must have shape (M, {IMAGE_SIDE}, {IMAGE_SIDE}), got {x.shape}")
    r = resampling_matrix(side)
    return np.einsum("ij,mjk,lk->mil", r, x, r)


def binarize(values: np.ndarray) -> np.ndarray:
    """Spins (M, P) int8: +1 where a value exceeds the median of its column (pixel), else -1."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(v > np.median(v, axis=0), 1, -1).astype(np.int8)


def derive_digits(images: np.ndarray) -> dict[str, np.ndarray]:
    """The bundled arrays from images (M, 8, 8): ``samples_16`` (M, 16), ``samples_25`` (M, 25) and
    ``samples_64`` (M, 64) int8."""
    return {f"samples_{n}": binarize(downsample(images, side).reshape(len(images), n))
            for n, side in SIDES.items()}


@dataclass(frozen=True)
class Digits:
    """Binarised digits: ``samples`` (M, N) int8 of +-1, ``labels`` (M,) digit classes, grid ``side``."""

    samples: np.ndarray
    labels: np.ndarray
    side: int

    @property
    def n(self) -> int:
        """Number of pixels (spins) N = side^2."""
        return int(self.samples.shape[1])

    @property
    def size(self) -> int:
        """Number of images M."""
        return int(self.samples.shape[0])

    @property
    def classes(self) -> tuple[int, ...]:
        """The digit classes present, ascending."""
        return tuple(int(c) for c in np.unique(self.labels))

    @property
    def dataset(self) -> Dataset:
        """All images as a :class:`~thermopot.datasets.dataset.Dataset` of unit weights (duplicates kept)."""
        return Dataset(self.samples, np.ones(self.size))

    def images(self) -> np.ndarray:
        """The samples as (M, side, side) pictures (+1 = ink)."""
        return self.samples.reshape(self.size, self.side, self.side)

    def class_counts(self) -> np.ndarray:
        """Number of images of each digit 0..9, shape (10,)."""
        return np.bincount(self.labels, minlength=len(CLASSES))

    def pattern_weights(self) -> Dataset:
        """Distinct patterns (K, N) in sorted order with empirical weights w_mu = count_mu / M (sum 1)."""
        merged = self.dataset.unique()
        return Dataset(merged.samples, merged.weights / self.size)

    def pattern_class_counts(self) -> np.ndarray:
        """(K, 10): how many images of each class show pattern mu, rows as in :meth:`pattern_weights`."""
        _, inverse = np.unique(self.samples, axis=0, return_inverse=True)
        counts = np.zeros((int(inverse.max()) + 1, len(CLASSES)), dtype=np.int64)
        np.add.at(counts, (inverse.reshape(-1), self.labels), 1)
        return counts


def _check_classes(classes: Iterable[int] | None) -> tuple[int, ...]:
    if classes is None:
        return CLASSES
    try:
        items = [classes] if isinstance(classes, (int, np.integer)) else list(classes)
    except TypeError:
        raise DataError(f"classes must be digits 0..9, got {classes!r}") from None
    bad = [c for c in items if not (isinstance(c, (int, np.integer)) and c in CLASSES)]
    if bad or not items:
        raise DataError(f"classes must be a non-empty set of digits 0..9, got {items!r}"
                        + (f" ({bad!r} not a digit class)" if bad else ""))
    return tuple(sorted({int(c) for c in items}))


def load_digits(n_pixels: int = 16, classes: Iterable[int] | None = None) -> Digits:
    """The bundled binarised digits with N = ``n_pixels`` (16: 4x4 grid, 25: 5x5 grid, 64: the full 8x8
    image, constant border pixels included), all 1797
    images or only those of the digit ``classes`` (e.g. ``(0, 1, 7)``), in the source order."""
    if n_pixels not in SIDES:
        raise DataError(f"n_pixels must be one of {sorted(SIDES)} (a 4x4, 5x5 or 8x8 grid), got {n_pixels!r}")
    chosen = _check_classes(classes)
    with resources.files(__package__).joinpath(DATA_FILE).open("rb") as handle, \
            np.load(handle, allow_pickle=False) as archive:
        samples, labels = archive[f"samples_{n_pixels}"], archive["labels"].astype(np.int64)
    keep = np.isin(labels, chosen)
    return Digits(samples[keep], labels[keep], SIDES[n_pixels])
