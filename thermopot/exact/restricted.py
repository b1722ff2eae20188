"""Restricted (ergodic-component) free energies for any partition of the states (theory.md section 1).

For labels a(s) on all 2^N states:
    F_a = -T log sum_{s: a(s) = a} exp(-beta E(s)),   U_a = <E>_a,   m_a = <s>_a,   weight_a = Z_a / Z.
Each tile shifts every label by its own minimum energy in that tile, so a basin far above the tile's
minimum keeps its exact weight at any temperature; tiles merge by log-sum-exp per label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, get_namespace, resolve_block_size, to_numpy
from ..errors import ThermopotError
from ..models import Model, resolve_model
from .guard import check_size
from .thermodynamics import check_temperature
from .tiles import HalfSplitEnergy


@dataclass(frozen=True)
class Restricted:
    """Per-label exact quantities; row a describes the states with label ``labels[a]``."""

    labels: np.ndarray
    log_z: np.ndarray
    free_energy: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    weight: np.ndarray
    size: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {k: np.asarray(getattr(self, k)).tolist() for k in self.__dataclass_fields__}


def _label_minima(energy: Any, lab: Any, k: int, xp: Any) -> Any:
    """Minimum energy per label over one tile (+inf for labels absent from it)."""
    order = xp.argsort(energy)
    lab_sorted = xp.take(lab, order)
    present, first = xp.unique(lab_sorted, return_index=True)
    minima = xp.full((k,), xp.inf, dtype=xp.float64)
    minima[present] = xp.take(xp.take(energy, order), first)
    return minima


def _merge(log_z: Any, parts: list[Any], new_log_z: Any, new_parts: list[Any], xp: Any):
    """Per-label log-sum-exp merge of normalised means (labels absent on one side keep the other)."""
    total = xp.logaddexp(log_z, new_log_z)
    safe = xp.where(xp.isfinite(total), total, 0.0)
    p1 = xp.where(xp.isfinite(log_z), xp.exp(log_z - safe), 0.0)
    p2 = xp.where(xp.isfinite(new_log_z), xp.exp(new_log_z - safe), 0.0)

    def mix(a: Any, b: Any) -> Any:
        shape = (-1,) + (1,) * (a.ndim - 1)
        w1, w2 = xp.reshape(p1, shape), xp.reshape(p2, shape)
        return xp.where(w1 > 0, w1 * xp.nan_to_num(a), 0.0) + xp.where(w2 > 0, w2 * xp.nan_to_num(b), 0.0)

    return total, [mix(a, b) for a, b in zip(parts, new_parts)]


def restricted_free_energies(model: Model | str, T: float, labels: Any, *, backend: Any = None,
                             block_size: int | None = None) -> Restricted:
    """F_a, U_a, m_a and weight_a for the partition of the 2^N states given by ``labels`` (2^N,) of
    integers (any values; one row per distinct label, in sorted order)."""
    model = resolve_model(model)
    T = check_temperature(T)
    xp = get_namespace(backend)
    lab_host = np.asarray(to_numpy(labels))
    if lab_host.shape != (2**model.n,) or not np.issubdtype(lab_host.dtype, np.integer):
        raise ThermopotError(f"labels must be an integer array of shape (2^N,) = ({2**model.n},), "
                             f"got {lab_host.dtype} {lab_host.shape}")
    check_size(model.n, xp, per_state_bytes=16.0)
    names, inverse = np.unique(lab_host, return_inverse=True)
    k = len(names)
    lab_dev = asarray(inverse, xp, xp.int64)
    beta = 1.0 / T
    split = HalfSplitEnergy(model, xp)
    block = max(1, resolve_block_size(block_size, xp) // model.n)
    log_z = xp.full((k,), -xp.inf, dtype=xp.float64)
    parts = [xp.zeros(k), xp.zeros((k, model.n))]
    size = xp.zeros(k, dtype=xp.int64)
    for tile in split.tiles(block):
        e = xp.reshape(tile.energy, (-1,))
        lab = xp.take(lab_dev, xp.reshape(split.full_index(tile), (-1,)))
        cmin = _label_minima(e, lab, k, xp)
        shift = xp.take(cmin, lab)
        w = xp.exp(-beta * (e - shift))
        z = xp.bincount(lab, weights=w, minlength=k)
        spins = split.full_spins(tile)
        with np.errstate(divide="ignore", invalid="ignore"):
            tile_log_z = -beta * cmin + xp.log(z)
            mean_e = cmin + xp.bincount(lab, weights=w * (e - shift), minlength=k) / z
            # one bincount over (label, spin) pairs: bin a * N + j collects w s_j of label a
            pairs = xp.reshape(lab[:, None] * model.n + xp.arange(model.n, dtype=xp.int64)[None, :], (-1,))
            sums = xp.bincount(pairs, weights=xp.reshape(w[:, None] * spins, (-1,)), minlength=k * model.n)
            mags = xp.reshape(sums, (k, model.n)) / z[:, None]
        size = size + xp.bincount(lab, minlength=k)
        log_z, parts = _merge(log_z, parts, tile_log_z, [mean_e, mags], xp)
    total = np.logaddexp.reduce(to_numpy(log_z))
    lz = to_numpy(log_z)
    return Restricted(labels=names, log_z=lz, free_energy=-T * lz, energy=to_numpy(parts[0]),
                      magnetization=to_numpy(parts[1]), weight=np.exp(lz - total),
                      size=to_numpy(size))
