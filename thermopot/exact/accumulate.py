"""Boltzmann statistics of one tile, and their exact merge across tiles with a shared energy shift.

A set of states with lowest energy E0 is stored relative to E0, in units of T, so that nothing
overflows or cancels at any temperature or energy scale:

    log Z' = log sum exp(-x),   x = beta (E - E0) >= 0     (0 <= log Z' <= log of the number of states),
    <x>,   Var(x) = beta^2 Var(E) = C,   m = <s>,   chi = <(s - m)(s - m)^T>,   observable means.

Then log Z = log Z' - beta E0, F = E0 - T log Z', U = E0 + T <x> and S = log Z' + <x>: the entropy is
exact for degenerate ground states at any T (log Z + beta U would cancel to nothing at low T). Two sets
merge with the shared shift E0 = min(E0_1, E0_2): a_i = log Z'_i - beta (E0_i - E0) and
p_i = exp(a_i - logaddexp(a_1, a_2)), whose arguments are O(N), so p_1 + p_2 = 1 to rounding however large
beta |E0| is. Means mix as p_1 mean_1 + p_2 mean_2, (co)variances by Chan et al.'s pairwise update

    var = p1 var1 + p2 var2 + (p1 d)(p2 d),   chi = p1 chi1 + p2 chi2 + (p1 dm)(p2 dm)^T,

with d, dm the differences of the means. The connected correlations are accumulated directly (never
as <s s^T> - m m^T, which cancels when m is near +-1).

Everything stays on the device of the backend: no host synchronisation per tile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tiles import HalfSplitEnergy, Tile


@dataclass
class TileStats:
    """Normalised Boltzmann statistics of a set of states, relative to its lowest energy ``shift``."""

    shift: Any
    log_z: Any
    excess: Any
    energy_var: Any
    magnetization: Any = None
    connected: Any = None
    observables: list = field(default_factory=list)

    def merge(self, other: "TileStats", beta: float, xp: Any) -> "TileStats":
        """The statistics of the union of two disjoint sets of states."""
        shift = xp.minimum(self.shift, other.shift)
        lift1, lift2 = beta * (self.shift - shift), beta * (other.shift - shift)  # one of them is 0
        a1, a2 = self.log_z - lift1, other.log_z - lift2
        log_z = xp.logaddexp(a1, a2)
        p1, p2 = xp.exp(a1 - log_z), xp.exp(a2 - log_z)
        x1, x2 = self.excess + lift1, other.excess + lift2
        mix = (lambda a, b: p1 * a + p2 * b)
        stats = TileStats(shift=shift, log_z=log_z, excess=mix(x1, x2),
                          energy_var=mix(self.energy_var, other.energy_var) + (p1 * (x1 - x2)) * (p2 * (x1 - x2)),
                          observables=[mix(a, b) for a, b in zip(self.observables, other.observables)])
        if self.magnetization is not None:
            dm = self.magnetization - other.magnetization
            stats.magnetization = mix(self.magnetization, other.magnetization)
            stats.connected = mix(self.connected, other.connected) + (p1 * dm)[:, None] * (p2 * dm)[None, :]
        return stats


def tile_stats(split: HalfSplitEnergy, tile: Tile, beta: float, moments: bool,
               observables: list[Callable] | None = None) -> TileStats:
    """Statistics of one tile, with y = -beta (E - E0) <= 0 and w = exp(y). Moments by matrix products
    over the halves centred at the tile's means: m_a = S_a^T r, m_b = S_b^T q, chi_aa = A^T diag(r) A,
    chi_bb = B^T diag(q) B, chi_ab = A^T (W / Z) B with A = S_a - m_a, B = S_b - m_b, r and q the row
    and column sums of the normalised weights W / Z."""
    xp = split.xp
    e = tile.energy
    c = xp.min(e)
    y = (e - c) * (-beta)
    w = xp.exp(y)
    z = xp.sum(w)
    wy = w * y
    excess = -xp.sum(wy) / z
    var = xp.maximum(xp.sum(wy * y) / z - excess * excess, 0.0)
    stats = TileStats(shift=c, log_z=xp.log(z), excess=excess, energy_var=var)
    if moments:
        p = w / z
        sa, sb = tile.spins_a, tile.spins_b
        r, q = xp.sum(p, axis=1), xp.sum(p, axis=0)
        ma, mb = sa.T @ r, sb.T @ q
        ca, cb = sa - ma[None, :], sb - mb[None, :]
        c_ab = ca.T @ (p @ cb)
        stats.magnetization = xp.concat((ma, mb))
        stats.connected = xp.concat((xp.concat((ca.T @ (r[:, None] * ca), c_ab), axis=1),
                                     xp.concat((c_ab.T, cb.T @ (q[:, None] * cb)), axis=1)), axis=0)
    if observables:
        spins = split.full_spins(tile)
        flat = xp.reshape(w, (-1,)) / z
        stats.observables = [flat @ xp.astype(xp.asarray(f(spins)), xp.float64) for f in observables]
    return stats


def stream_stats(split: HalfSplitEnergy, beta: float, block_size: int, moments: bool = True,
                 observables: list[Callable] | None = None, progress: Any = None,
                 high: tuple[int, int] | None = None) -> TileStats:
    """Merge the statistics of every tile of the state space (of the chunk ``high``, see HalfSplitEnergy.tiles)."""
    total: TileStats | None = None
    tiles = split.tiles(block_size, high)
    if progress is not None:
        tiles = progress(tiles)
    for tile in tiles:
        stats = tile_stats(split, tile, beta, moments, observables)
        total = stats if total is None else total.merge(stats, beta, split.xp)
    return total
