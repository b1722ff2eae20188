"""Model files (``.npz``) and the MODEL argument of the command line (a file or a generator spec).

A pairwise model file holds ``h`` (N,) and ``J`` (N, N); a multi-spin model file holds ``subsets``
(K, N) boolean and ``couplings`` (K,)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..checks import read_npz
from ..errors import ModelError
from ..fileio import atomic_write, npz_path
from .families import from_spec
from .multispin import MultiSpinModel
from .pairwise import PairwiseModel

Model = PairwiseModel | MultiSpinModel


def model_path(path: str | os.PathLike) -> str:
    """The file a model saved to ``path`` goes to: ``path`` with ``.npz`` appended when missing (as
    numpy.savez does); a ModelError when that is a directory or its folder does not exist."""
    return npz_path(path, "model", ModelError)


def save_model(path: str | os.PathLike, model: Model) -> str:
    """Write a model to ``model_path(path)`` atomically (:func:`thermopot.fileio.atomic_write`:
    an interrupted save leaves the previous file intact); return that path."""
    if not isinstance(model, (PairwiseModel, MultiSpinModel)):
        raise ModelError(f"cannot save {type(model).__name__}: not a thermopot model")
    path = model_path(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **model.to_arrays())
    return path


def load_model(path: str | os.PathLike) -> Model:
    """Read a model from a ``.npz`` file, with a clear error for a missing, corrupt or incomplete file."""
    path = os.fspath(path)
    arrays = read_npz(path, "model", ModelError)
    meta = {"source": path}
    if "J" in arrays:
        n = arrays["J"].shape[0] if arrays["J"].ndim == 2 else 0
        return PairwiseModel(arrays.get("h", np.zeros(n)), arrays["J"], meta)
    if "subsets" in arrays and "couplings" in arrays:
        return MultiSpinModel(arrays["subsets"], arrays["couplings"], meta)
    raise ModelError(f"model file {path!r} holds {sorted(arrays)}; a model needs 'h' and 'J' "
                     "(pairwise) or 'subsets' and 'couplings' (multi-spin)")


def resolve_model(spec: Any) -> Model:
    """A model from a model object, a ``.npz`` path, or a generator spec such as ``sk:n=20,seed=0``."""
    if isinstance(spec, (PairwiseModel, MultiSpinModel)):
        return spec
    text = os.fspath(spec)
    if text.endswith(".npz") or os.path.exists(text):
        return load_model(text)
    return from_spec(text)
