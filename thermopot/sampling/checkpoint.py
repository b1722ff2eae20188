"""Sampler checkpoints that know what they belong to, and that a crash cannot tear.

A checkpoint is a :class:`~thermopot.sampling.SamplerState` written to a file together with the configuration it
runs under (:func:`~thermopot.sampling.save_state`, :func:`~thermopot.sampling.load_state`).

A checkpoint is one ``.npz`` written through :func:`thermopot.fileio.atomic_write` (temporary file in
the same folder, fsync, rename: a reader sees the previous checkpoint or the new one, never a mix;
a writer killed mid-save leaves only a ``.NAME.*.tmp`` file that the next save removes). It holds the
model's arrays (``model_*``), the spins, the kernel cache, the accepted-flip counts, the
measurements, ``meta`` (JSON: version, T, method, scan, seed, generator and its state, counters and
``model_sha256``, the SHA-256 of the model's arrays) and ``checksum``, the SHA-256 of every other
entry (its name, dtype, shape and bytes).

:func:`read` verifies, in this order, and raises a ThermopotError naming the file and the problem:
a readable ``.npz`` (not truncated, not a zip with a broken entry), the checksum (a flipped bit or an
edited entry), the version, the model digest (against the stored model, and against an expected
``model`` when given) and an expected ``T``. ``load_state`` then calls :func:`check_cache`: the stored
kernel cache (local fields or Walsh products) must equal the one recomputed from the stored spins
(to CACHE_TOLERANCE: the incremental updates round differently), and the stored one is used so that
a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tokenize
import zlib
from typing import Any, Iterator

import numpy as np

from ..checks import check_temperature, read_npz
from ..errors import ModelError, ThermopotError
from ..fileio import atomic_write
from ..models import Model, MultiSpinModel, PairwiseModel, resolve_model

CHECKPOINT_VERSION = 2
#: largest |stored - recomputed| of the kernel cache, relative to its largest entry (plus one)
CACHE_TOLERANCE = 1e-9
#: what a damaged file can raise inside zipfile and numpy's header parser besides the errors read_npz
#: turns into messages
_READER_ERRORS = (NotImplementedError, RuntimeError, struct.error, zlib.error, OverflowError, MemoryError,
                  SyntaxError, tokenize.TokenError)


def digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of named arrays: for each name in sorted order, the name, dtype, shape and the
    C-ordered bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def model_digest(model: Model) -> str:
    """SHA-256 of a model's arrays (those of its ``.npz`` format)."""
    return digest({k: np.asarray(v) for k, v in model.to_arrays().items()})


def write(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write NumPy ``arrays`` and ``meta`` (JSON-ready) as a checkpoint with its checksum, atomically."""
    entries = {**arrays, "meta": np.array(json.dumps(meta))}
    entries["checksum"] = np.array(digest(entries))
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **entries)


def _named(path: Any) -> str:
    """How messages name a checkpoint: ``checkpoint file '<path>'``."""
    return f"checkpoint file {os.fspath(path)!r}"


@contextlib.contextmanager
def malformed_entries(path: Any) -> Iterator[None]:
    """Turn a missing or malformed entry met inside the block (KeyError, ValueError, ...) into a
    ThermopotError naming the checkpoint file."""
    try:
        yield
    except ThermopotError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ThermopotError(f"{_named(path)} lacks or has a malformed entry "
                             f"({type(exc).__name__}: {exc})") from None


def _stored_model(path: Any, meta: dict, arrays: dict) -> Model:
    """The model the checkpoint stores, checked against its digest."""
    try:
        if meta["model"] == "pairwise":
            model: Model = PairwiseModel(arrays["model_h"], arrays["model_J"])
        else:
            model = MultiSpinModel(arrays["model_subsets"], arrays["model_couplings"])
    except ModelError as exc:
        raise ThermopotError(f"{_named(path)}: its model is not valid ({exc})") from None
    if model_digest(model) != meta["model_sha256"]:
        raise ThermopotError(f"{_named(path)}: its model does not match the model digest it stores")
    return model


def _unpack(path: Any) -> tuple[dict, dict]:
    """(meta, arrays) of a checkpoint whose checksum and version hold."""
    try:
        arrays = read_npz(path, "checkpoint", ThermopotError)
    except _READER_ERRORS as exc:
        raise ThermopotError(f"{_named(path)} is corrupt ({type(exc).__name__}: "
                             f"{exc})") from None
    if "checksum" not in arrays or "meta" not in arrays:
        raise ThermopotError(f"{_named(path)} is not a sampler checkpoint of this "
                             f"version (no checksum or meta entry; version {CHECKPOINT_VERSION} is expected)")
    stored = str(arrays.pop("checksum"))
    if digest(arrays) != stored:
        raise ThermopotError(f"{_named(path)} is corrupt or was edited: its contents "
                             "do not match the checksum stored with them")
    with malformed_entries(path):
        meta = dict(json.loads(str(arrays.pop("meta"))))
    if meta.get("version") != CHECKPOINT_VERSION:
        raise ThermopotError(f"{_named(path)} has version {meta.get('version')!r}, "
                             f"expected {CHECKPOINT_VERSION}")
    return meta, arrays


def read(path: str | os.PathLike, *, model: Model | str | None = None,
         T: float | None = None) -> tuple[Model, dict, dict]:
    """(model, meta, arrays) of a verified checkpoint (see the module docstring). ``model`` and ``T``:
    what the caller expects it to belong to (None: not checked)."""
    meta, arrays = _unpack(path)
    with malformed_entries(path):
        stored = _stored_model(path, meta, arrays)
        written_at = float(meta["T"])
    if model is not None and model_digest(resolve_model(model)) != meta["model_sha256"]:
        raise ThermopotError(f"{_named(path)} belongs to another model (its model's "
                             f"SHA-256 is {meta['model_sha256'][:16]}..., not the expected model's)")
    if T is not None and check_temperature(T) != written_at:
        raise ThermopotError(f"{_named(path)} was written at T = {written_at!r}, "
                             f"not the expected T = {T!r}")
    return stored, meta, arrays


def check_cache(path: Any, stored: np.ndarray, fresh: np.ndarray) -> None:
    """Refuse a stored kernel cache that differs from the one recomputed from the stored spins."""
    if stored.shape != fresh.shape or not np.allclose(
            stored, fresh, rtol=0.0, atol=CACHE_TOLERANCE * (1.0 + float(np.abs(fresh).max(initial=0.0)))):
        raise ThermopotError(f"{_named(path)}: its kernel cache (local fields or "
                             "Walsh products) does not match its spins")
