"""Data sets: bundled binarised handwritten digits, random patterns with chosen weights, user files.

- :func:`load_digits` (N = 16 or 25 pixels, any subset of the classes 0..9): derived from the UCI optical
  digits (CC BY 4.0, see ``LICENSE-digits.txt``) by ``make_digits.py``; shipped as ``digits.npz``, so no
  download and no scikit-learn is needed.
- :func:`random_patterns_dataset`: M distinct random patterns of N spins with uniform, geometric or
  given weights; :func:`noisy_patterns_dataset`: M random centres with noisy copies (labelled clusters).
- :class:`Dataset` (validated samples and weights, moments), :func:`as_dataset`, :func:`load_dataset` and
  :func:`save_dataset`: the data set type and its ``.npz`` file (``samples`` (M, N) +-1, optional
  ``weights`` (M,)), in :mod:`.dataset`.
"""

from .dataset import DataError, DataWarning, Dataset, as_dataset, load_dataset, save_dataset, warn_few_samples
from .digits import Digits, binarize, downsample, load_digits, resampling_matrix
from .patterns import noisy_patterns_dataset, random_patterns_dataset

__all__ = ["load_digits", "Digits", "random_patterns_dataset", "noisy_patterns_dataset", "load_dataset", "save_dataset", "as_dataset", "Dataset", "DataError", "DataWarning", "warn_few_samples",
           "downsample", "binarize", "resampling_matrix"]
