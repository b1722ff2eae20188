"""Boltzmann statistics of one tile, and their exact merge across tiles in the log domain.

A tile with energies E and minimum c gets weights w = exp(-beta (E - c)) <= 1, so nothing overflows at
any temperature or energy scale. Its statistics are stored normalised: log Z_t = -beta c + log sum w,
mean energy, energy variance, magnetisations, raw correlations and observable means. Two sets merge
exactly (Chan et al.'s pairwise update, with p_i = Z_i / (Z_1 + Z_2) from log-sum-exp):

    mean = p1 mean1 + p2 mean2,   var = p1 var1 + p2 var2 + p1 p2 (mean1 - mean2)^2.

Everything stays on the device of the backend: no host synchronisation per tile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tiles import HalfSplitEnergy, Tile


@dataclass
class TileStats:
    """Normalised Boltzmann statistics of a set of states."""

    log_z: Any
    energy: Any
    energy_var: Any
    magnetization: Any = None
    correlation: Any = None
    observables: list = field(default_factory=list)

    def merge(self, other: "TileStats", xp: Any) -> "TileStats":
        """The statistics of the union of two disjoint sets of states."""
        log_z = xp.logaddexp(self.log_z, other.log_z)
        p1, p2 = xp.exp(self.log_z - log_z), xp.exp(other.log_z - log_z)
        mix = (lambda a, b: p1 * a + p2 * b)
        diff = self.energy - other.energy
        return TileStats(
            log_z=log_z,
            energy=mix(self.energy, other.energy),
            energy_var=mix(self.energy_var, other.energy_var) + p1 * p2 * diff * diff,
            magnetization=None if self.magnetization is None else mix(self.magnetization, other.magnetization),
            correlation=None if self.correlation is None else mix(self.correlation, other.correlation),
            observables=[mix(a, b) for a, b in zip(self.observables, other.observables)],
        )


def tile_stats(split: HalfSplitEnergy, tile: Tile, beta: float, moments: bool,
               observables: list[Callable] | None = None) -> TileStats:
    """Statistics of one tile. Moments by matrix products over the halves:
    m_a = S_a^T r, m_b = S_b^T q, C_aa = S_a^T diag(r) S_a, C_bb = S_b^T diag(q) S_b,
    C_ab = S_a^T (W / Z) S_b, with r and q the row and column sums of the normalised weights W / Z."""
    xp = split.xp
    e = tile.energy
    c = xp.min(e)
    d = e - c
    w = xp.exp(-beta * d)
    z = xp.sum(w)
    wd = w * d
    mean_d = xp.sum(wd) / z
    var = xp.maximum(xp.sum(wd * d) / z - mean_d * mean_d, 0.0)
    stats = TileStats(log_z=-beta * c + xp.log(z), energy=c + mean_d, energy_var=var)
    if moments:
        p = w / z
        sa, sb = tile.spins_a, tile.spins_b
        r, q = xp.sum(p, axis=1), xp.sum(p, axis=0)
        c_aa = sa.T @ (r[:, None] * sa)
        c_bb = sb.T @ (q[:, None] * sb)
        c_ab = sa.T @ (p @ sb)
        stats.magnetization = xp.concat((sa.T @ r, sb.T @ q))
        stats.correlation = xp.concat((xp.concat((c_aa, c_ab), axis=1),
                                       xp.concat((c_ab.T, c_bb), axis=1)), axis=0)
    if observables:
        spins = split.full_spins(tile)
        flat = xp.reshape(w, (-1,)) / z
        stats.observables = [flat @ xp.astype(xp.asarray(f(spins)), xp.float64) for f in observables]
    return stats


def stream_stats(split: HalfSplitEnergy, beta: float, block_size: int, moments: bool = True,
                 observables: list[Callable] | None = None, progress: Any = None) -> TileStats:
    """Merge the statistics of every tile of the state space."""
    total: TileStats | None = None
    tiles = split.tiles(block_size)
    if progress is not None:
        tiles = progress(tiles)
    for tile in tiles:
        stats = tile_stats(split, tile, beta, moments, observables)
        total = stats if total is None else total.merge(stats, split.xp)
    return total
