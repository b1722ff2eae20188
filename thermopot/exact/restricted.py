"""Restricted (ergodic-component) free energies for any partition of the states (theory.md section 1).

For labels a(s) on all 2^N states:
    F_a = -T log sum_{s: a(s) = a} exp(-beta E(s)),   U_a = <E>_a,   m_a = <s>_a,   weight_a = Z_a / Z.
Each label is stored relative to its lowest energy c_a: log Z'_a = log sum_{s in a} exp(-beta (E - c_a)),
F_a = c_a - T log Z'_a, U_a = c_a + <E - c_a>_a, so a basin far above the tile's minimum keeps its
exact weight at any temperature, and tiles merge per label with a shared shift (as in accumulate.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, get_namespace, resolve_block_size, to_numpy
from ..errors import ThermopotError
from ..models import Model, resolve_model
from ..results import Result
from .guard import RESTRICTED, check_size
from .thermodynamics import check_temperature
from .tiles import HalfSplitEnergy


@dataclass(frozen=True)
class Restricted(Result):
    """Per-label exact quantities; row a describes the states with label ``labels[a]``."""

    labels: np.ndarray
    log_z: np.ndarray
    free_energy: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    weight: np.ndarray
    size: np.ndarray


def _label_minima(energy: Any, lab: Any, k: int, xp: Any) -> Any:
    """Minimum energy per label over one tile (+inf for labels absent from it)."""
    order = xp.argsort(energy)
    lab_sorted = xp.take(lab, order)
    present, first = xp.unique(lab_sorted, return_index=True)
    minima = xp.full((k,), xp.inf, dtype=xp.float64)
    minima[present] = xp.take(xp.take(energy, order), first)
    return minima


def _merge(shift: Any, log_z: Any, parts: list[Any], new_shift: Any, new_log_z: Any, new_parts: list[Any],
           beta: float, xp: Any):
    """Per-label merge with a shared shift c = min(c_1, c_2) (labels absent on one side, c = +inf, keep the
    other): a_i = log Z'_i - beta (c_i - c), p_i = exp(a_i - logaddexp(a_1, a_2)); the first part (the mean
    excess energy) is lifted by c_i - c."""
    total_shift = xp.minimum(shift, new_shift)
    safe = xp.where(xp.isfinite(total_shift), total_shift, 0.0)
    present1, present2 = xp.isfinite(shift), xp.isfinite(new_shift)
    lift1 = xp.where(present1, shift - safe, 0.0)
    lift2 = xp.where(present2, new_shift - safe, 0.0)
    a1 = xp.where(present1, log_z - beta * lift1, -xp.inf)
    a2 = xp.where(present2, new_log_z - beta * lift2, -xp.inf)
    total = xp.logaddexp(a1, a2)
    finite = xp.where(xp.isfinite(total), total, 0.0)
    p1 = xp.where(present1, xp.exp(a1 - finite), 0.0)
    p2 = xp.where(present2, xp.exp(a2 - finite), 0.0)

    def mix(a: Any, b: Any) -> Any:
        shape = (-1,) + (1,) * (a.ndim - 1)
        w1, w2 = xp.reshape(p1, shape), xp.reshape(p2, shape)
        return xp.where(w1 > 0, w1 * xp.nan_to_num(a), 0.0) + xp.where(w2 > 0, w2 * xp.nan_to_num(b), 0.0)

    excess = mix(parts[0] + lift1, new_parts[0] + lift2)
    return total_shift, total, [excess] + [mix(a, b) for a, b in zip(parts[1:], new_parts[1:])]


def restricted_free_energies(model: Model | str, T: float, labels: Any, *, backend: Any = None,
                             block_size: int | None = None, max_seconds: float | None = None) -> Restricted:
    """F_a, U_a, m_a and weight_a for the partition of the 2^N states given by ``labels`` (2^N,) of
    integers (any values; one row per distinct label, in sorted order). Raises SizeError, naming the
    memory and the time, for a job that does not fit in memory or in ``max_seconds``."""
    model = resolve_model(model)
    T = check_temperature(T)
    xp = get_namespace(backend)
    check_size(model.n, xp, block_size=block_size, cost=RESTRICTED, max_seconds=max_seconds,
               what="restricted free energies")
    lab_host = np.asarray(to_numpy(labels))
    if lab_host.shape != (2**model.n,) or not np.issubdtype(lab_host.dtype, np.integer):
        raise ThermopotError(f"labels must be an integer array of shape (2^N,) = ({2**model.n},), "
                             f"got {lab_host.dtype} {lab_host.shape}")
    names, inverse = np.unique(lab_host, return_inverse=True)
    k = len(names)
    lab_dev = asarray(inverse, xp, xp.int64)
    beta = 1.0 / T
    split = HalfSplitEnergy(model, xp)
    block = max(1, resolve_block_size(block_size, xp) // model.n)
    shift = xp.full((k,), xp.inf, dtype=xp.float64)
    log_z = xp.full((k,), -xp.inf, dtype=xp.float64)
    parts = [xp.zeros(k), xp.zeros((k, model.n))]
    size = xp.zeros(k, dtype=xp.int64)
    for tile in split.tiles(block):
        e = xp.reshape(tile.energy, (-1,))
        lab = xp.take(lab_dev, xp.reshape(split.full_index(tile), (-1,)))
        cmin = _label_minima(e, lab, k, xp)
        base = xp.take(cmin, lab)
        w = xp.exp(-beta * (e - base))
        z = xp.bincount(lab, weights=w, minlength=k)
        spins = split.full_spins(tile)
        with np.errstate(divide="ignore", invalid="ignore"):
            tile_log_z = xp.log(z)
            excess = xp.bincount(lab, weights=w * (e - base), minlength=k) / z
            # one bincount over (label, spin) pairs: bin a * N + j collects w s_j of label a
            pairs = xp.reshape(lab[:, None] * model.n + xp.arange(model.n, dtype=xp.int64)[None, :], (-1,))
            sums = xp.bincount(pairs, weights=xp.reshape(w[:, None] * spins, (-1,)), minlength=k * model.n)
            mags = xp.reshape(sums, (k, model.n)) / z[:, None]
        size = size + xp.bincount(lab, minlength=k)
        shift, log_z, parts = _merge(shift, log_z, parts, cmin, tile_log_z, [excess, mags], beta, xp)
    c, lz = to_numpy(shift), to_numpy(log_z)
    a = lz - beta * (c - c.min())  # log Z_a + beta min E: the weights without cancellation
    return Restricted(labels=names, log_z=lz - beta * c, free_energy=c - T * lz, energy=c + to_numpy(parts[0]),
                      magnetization=to_numpy(parts[1]), weight=np.exp(a - np.logaddexp.reduce(a)),
                      size=to_numpy(size))
