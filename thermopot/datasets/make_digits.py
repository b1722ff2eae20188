"""Regenerate ``digits.npz`` from scikit-learn's copy of the UCI optical digits (see digits.py).

    pip install scikit-learn
    python -m thermopot.datasets.make_digits [OUTPUT]      # default: digits.npz next to this file

Writes ``samples_16`` (M, 16) int8, ``samples_25`` (M, 25) int8 and ``labels`` (M,) int8 (M = 1797),
and prints the images per class and the distinct patterns per N (the numbers tests/test_datasets.py
holds). scikit-learn is imported here only: the package never needs it at run time.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..fileio import atomic_write, npz_path
from .digits import DATA_FILE, derive_digits


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = args[0] if args else os.path.join(os.path.dirname(__file__), DATA_FILE)
    from sklearn.datasets import load_digits as sklearn_digits

    source = sklearn_digits()
    arrays = derive_digits(source.images)
    arrays["labels"] = source.target.astype(np.int8)
    out = npz_path(out, "digits data set")
    with atomic_write(out, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    print(f"wrote {out} ({os.path.getsize(out)} bytes), M = {len(source.target)}")
    print("images per class:", np.bincount(source.target, minlength=10).tolist())
    for name, samples in arrays.items():
        if name.startswith("samples_"):
            print(f"{name}: {len(np.unique(samples, axis=0))} distinct patterns, "
                  f"max |<s_p>| = {np.abs(samples.mean(axis=0)).max():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
