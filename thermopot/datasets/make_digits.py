"""Regenerate ``digits.npz`` from scikit-learn's copy of the UCI optical digits (see digits.py).

    pip install scikit-learn
    python -m thermopot.datasets.make_digits [OUTPUT]      # default: digits.npz next to this file
    python -m thermopot.datasets.make_digits [OUTPUT] --csv digits.csv.gz   # the same file, read directly

(``digits.csv.gz`` is the copy scikit-learn ships in ``sklearn/datasets/data/``: one image a line, 64
ink counts then the class.) Writes ``samples_16`` (M, 16), ``samples_25`` (M, 25), ``samples_64`` (M, 64)
int8 and ``labels`` (M,) int8 (M = 1797),
and prints the images per class and the distinct patterns per N (the numbers tests/test_datasets.py
holds). scikit-learn is imported here only: the package never needs it at run time.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..fileio import atomic_write, npz_path
from .digits import DATA_FILE, derive_digits


def _source(csv: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Images (M, 8, 8) and classes (M,): from scikit-learn, or from its ``digits.csv.gz`` file."""
    if csv is None:
        from sklearn.datasets import load_digits as sklearn_digits

        source = sklearn_digits()
        return source.images, source.target
    table = np.loadtxt(csv, delimiter=",", dtype=np.int64)
    return table[:, :64].reshape(-1, 8, 8).astype(np.float64), table[:, 64]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    csv = None
    if "--csv" in args:
        i = args.index("--csv")
        csv = args[i + 1]
        del args[i:i + 2]
    out = args[0] if args else os.path.join(os.path.dirname(__file__), DATA_FILE)
    images, target = _source(csv)
    arrays = derive_digits(images)
    arrays["labels"] = target.astype(np.int8)
    out = npz_path(out, "digits data set")
    with atomic_write(out, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    print(f"wrote {out} ({os.path.getsize(out)} bytes), M = {len(target)}")
    print("images per class:", np.bincount(target, minlength=10).tolist())
    for name, samples in arrays.items():
        if name.startswith("samples_"):
            print(f"{name}: {len(np.unique(samples, axis=0))} distinct patterns, "
                  f"max |<s_p>| = {np.abs(samples.mean(axis=0)).max():.3f}, "
                  f"constant pixels {np.flatnonzero(np.ptp(samples, axis=0) == 0).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
