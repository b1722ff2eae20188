"""The zero-temperature landscape: the exact library of states.

A state is single-flip stable when no flip lowers its energy, dE_k = E(s with s_k flipped) - E(s) >= 0
for every k; it is a strict minimum when every dE_k > 0. Steepest descent maps each state to its
neighbour with the most negative dE_k (the lowest k on ties) until a stable state is reached; the set
of states that reach a stable state is its basin. With the basins as a partition of all 2^N states the
per-basin free energies F_a = -T log sum_{s in a} exp(-E(s)/T) and magnetisations m_a are the exact
counterparts of the minima of mean-field and TAP free energies (theory.md section 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import backend_name, get_namespace, resolve_block_size, synchronize, to_numpy
from .checks import check_temperature
from .exact import check_size, restricted_free_energies
from .exact.guard import LANDSCAPE, LANDSCAPE_T
from .exact.tiles import HalfSplitEnergy
from .models import Model, resolve_model
from .results import Result
from .states import index_to_spins


@dataclass(frozen=True)
class Landscape(Result):
    """Every single-flip-stable state, sorted by energy, with its steepest-descent basin.

    ``count`` is the number of strict minima; states with a zero-cost flip (plateaus) are listed with
    ``strict`` False. ``basin[i]`` is the row of the stable state that state i descends to.
    """

    states: np.ndarray
    indices: np.ndarray
    energies: np.ndarray
    strict: np.ndarray
    basin_size: np.ndarray
    basin: np.ndarray
    T: float | None = None
    free_energy: np.ndarray | None = None
    magnetization: np.ndarray | None = None
    backend: str = "numpy"
    seconds: float = 0.0

    @property
    def count(self) -> int:
        """Number of strict single-flip minima."""
        return int(self.strict.sum())

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot landscape`): ``minima`` lists the ``count`` strict
        minima, ``plateaus`` the other stable states (a zero-cost flip), both sorted by energy; the row
        numbers ``row`` are those of ``basin``."""
        rows = []
        for a in range(len(self.energies)):
            row = {"row": a, "state": self.states[a], "index": self.indices[a],
                   "energy": self.energies[a], "basin_size": self.basin_size[a]}
            if self.free_energy is not None:
                row.update(free_energy=self.free_energy[a], magnetization=self.magnetization[a])
            rows.append(row)
        return self._json({"count": self.count, "T": self.T,
                           "minima": [r for r, ok in zip(rows, self.strict) if ok],
                           "plateaus": [r for r, ok in zip(rows, self.strict) if not ok],
                           "backend": self.backend, "seconds": self.seconds})


def energy_table(model: Model, xp: Any, block: int) -> Any:
    """E(s) of all 2^N states in index order, streamed through the tile engine (O(2^N) memory)."""
    split = HalfSplitEnergy(model, xp)
    table = xp.empty(2**model.n, dtype=xp.float64)
    for tile in split.tiles(block):
        table[xp.reshape(split.full_index(tile), (-1,))] = xp.reshape(tile.energy, (-1,))
    return table


def _descent_step(table: Any, n: int, xp: Any, block: int, tol: float):
    """next[i] (steepest-descent neighbour, or i itself) and strictness for all states, from the energy
    table: dE_k(i) = E(i xor 2^k) - E(i), O(N) per state for any model."""
    nxt, strict = [], []
    bits = xp.left_shift(xp.ones(n, dtype=xp.int64), xp.arange(n, dtype=xp.int64))
    for start in range(0, 2**n, block):
        idx = xp.arange(start, min(start + block, 2**n), dtype=xp.int64)
        de = xp.take(table, xp.bitwise_xor(idx[:, None], bits[None, :])) - xp.take(table, idx)[:, None]
        best = xp.argmin(de, axis=1)
        lowest = xp.min(de, axis=1)
        nxt.append(xp.where(lowest < -tol, xp.bitwise_xor(idx, xp.take(bits, best)), idx))
        strict.append(lowest > tol)
    return xp.concat(nxt), xp.concat(strict)


def flip_tolerance(model: Model) -> float:
    """Single-flip energy changes of at most this size count as zero (plateaus, not strict minima):
    1e-12 x max(1, sum of |J_alpha| over the non-constant Walsh terms; the constant moves no flip)."""
    masks, couplings = model.walsh_terms()
    return 1e-12 * max(1.0, float(np.abs(couplings[masks != 0]).sum()))


def check_landscape_size(n: int, T: float | None = None, backend: Any = None, *, block_size: int | None = None,
                         max_seconds: float | None = None) -> tuple[float, float]:
    """The size guard of :func:`local_minima` alone (about a millisecond): SizeError, naming the memory
    and the time, when the landscape of ``n`` spins (with per-basin free energies when ``T`` is given)
    does not fit; (bytes, seconds) otherwise. Callers that do expensive work before the landscape (the
    TAP search of ``compare_with_exact``) run it first."""
    return check_size(n, backend, block_size=block_size, cost=LANDSCAPE if T is None else LANDSCAPE_T,
                      max_seconds=max_seconds,
                      what="the exact landscape" + ("" if T is None else " with per-basin free energies"))


def local_minima(model: Model | str, *, T: float | None = None, backend: Any = None,
                 block_size: int | None = None, max_seconds: float | None = None) -> Landscape:
    """Every single-flip-stable state of ``model`` with its energy and steepest-descent basin size;
    with ``T``, also the exact per-basin free energies F_a and magnetisations m_a. Raises SizeError,
    naming the memory and the time, for a job that does not fit in memory or in ``max_seconds``."""
    model = resolve_model(model)
    T = None if T is None else check_temperature(T)
    xp = get_namespace(backend)
    n = model.n
    check_landscape_size(n, T, xp, block_size=block_size, max_seconds=max_seconds)
    start = time.perf_counter()
    tol = flip_tolerance(model)
    block = max(1, resolve_block_size(block_size, xp) // n)
    table = energy_table(model, xp, block * n)
    nxt, strict = _descent_step(table, n, xp, block, tol)
    while True:  # pointer jumping: O(2^N log depth)
        jumped = xp.take(nxt, nxt)
        if bool(xp.all(jumped == nxt)):
            break
        nxt = jumped
    fixed = xp.nonzero(nxt == xp.arange(2**n, dtype=xp.int64))[0]  # ascending indices
    energies = xp.take(table, fixed)
    order = xp.argsort(energies)
    basin = xp.take(xp.argsort(order), xp.searchsorted(fixed, nxt))  # row in the energy order
    fixed, energies = xp.take(fixed, order), xp.take(energies, order)
    sizes = xp.bincount(basin, minlength=fixed.shape[0])
    synchronize(xp)
    result = dict(states=to_numpy(index_to_spins(fixed, n, xp)).astype(np.int8), indices=to_numpy(fixed),
                  energies=to_numpy(energies), strict=to_numpy(xp.take(strict, fixed)),
                  basin_size=to_numpy(sizes), basin=to_numpy(basin), backend=backend_name(xp))
    if T is not None:
        restricted = restricted_free_energies(model, T, result["basin"], backend=xp, block_size=block_size,
                                              max_seconds=max_seconds)
        result.update(T=T, free_energy=restricted.free_energy, magnetization=restricted.magnetization)
    return Landscape(**result, seconds=time.perf_counter() - start)
