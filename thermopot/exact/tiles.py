"""Energies of all 2^N states in tiles, by splitting the spins in two halves.

With the low ``na`` spins in half a and the high ``nb = N - na`` spins in half b, state
i = i_a + 2^na i_b. Every Walsh term alpha splits into an a-part u and a b-part v, so

    E(i_a, i_b) = E_a(i_a) + E_b(i_b) - sum_{u,v} chi_u(a) M_uv chi_v(b),

with E_a (E_b) the terms that live in one half only and M_uv = J_{u cup v} the terms that cross.
For a tile of T_a a-states by T_b b-states the whole energy is ONE matrix product
(T_a x K) @ (K x T_b), K = |V| + 2, of the factors [-chi_U(a) M, E_a, 1] and [chi_V(b); 1; E_b]: for a
pairwise model |V| = nb, so a tile costs O(N/2) flops per state instead of O(N^2), and the product can be
written into a preallocated buffer. A model whose crossing part is dense (|V| much larger than nb, e.g. the full Walsh
description of an energy table) is evaluated from its energy table instead, built by the fast
Walsh-Hadamard transform in O(N 2^N).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray
from ..states import index_to_bits, walsh_energies
from .guard import check_size


def _bits(index: Any, n: int, xp: ModuleType) -> Any:
    """Bits (T, n) as float64 of integer indices; an empty (T, 0) array when n = 0."""
    if n == 0:
        return xp.zeros((index.shape[0], 0), dtype=xp.float64)
    return index_to_bits(index, n, xp, xp.float64)


def _walsh(bits: Any, masks_bits: Any, xp: ModuleType) -> Any:
    """chi_u = (-1)^popcount(i & u) for states (rows of ``bits``) and masks (rows of ``masks_bits``): with
    the counts c = bits @ masks^T (small integers, exact in float64), chi = 1 - 2 (c - 2 floor(c / 2)),
    in place. The float remainder c % 2 took 4x longer, and these products are most of the cost of a
    tile's halves, which every chunk of a distributed enumeration pays again (all 2^n_a a-states)."""
    count = bits @ masks_bits.T
    half = xp.floor(count * 0.5)
    xp.subtract(count, half, out=count)
    xp.subtract(count, half, out=count)  # c mod 2
    xp.multiply(count, -2.0, out=count)
    return xp.add(count, 1.0, out=count)


@dataclass
class Tile:
    """One tile of states: a-indices (T_a,), b-indices (T_b,), half spins and energies (T_a, T_b)."""

    ia: Any
    ib: Any
    spins_a: Any
    spins_b: Any
    energy: Any


@dataclass
class Half:
    """A block of states of one half: its first index, indices (T,), spins (T, n_half) and its factor of
    the tile's energy product (a-half: (T_a, K) rows [-chi_U(a) M, E_a, 1]; b-half: (K, T_b) columns
    [chi_V(b); E_b; 1] in the matching order; None for a dense model)."""

    start: int
    index: Any
    spins: Any
    factor: Any
    #: per beta, the factors of the doubling (see HalfSplitEnergy): an a-half's D (T_a,), a b-half's
    #: R (n_a, T_b)
    rows: dict = field(default_factory=dict)


class HalfSplitEnergy:
    """The factorised energy of a model over the two halves of its spins, ready to stream tiles.

    When every crossing term couples ONE a-spin to the b-half (pairwise models), E is linear in each
    a-spin: E(a, b) = sum_k s_k(a) F_k(b) + E_a(a) + E_b(b) with F(b) = -M chi_V(b). Then the Boltzmann
    weights of a tile follow from its first row by doubling over the bits of a (a0 a multiple of T_a):

        w(a0 + i, b) = w(a0, b) prod_{k: bit k of i} R_k(b) D(i),   R_k(b) = exp(2 beta F_k(b)),
        D(i) = exp(-beta (E_a(a0 + i) - E_a(a0))),

    row block [2^k, 2^(k+1)) = row block [0, 2^k) times R_k: one multiplication per state instead of an
    exponential. Every factor and partial product lies within exp(+-4 beta sum|J|), so it is used when
    beta sum|J| <= DOUBLING_MAX_REDUCED_ENERGY (no overflow, no underflow, a relative error of a few
    ulp per factor); otherwise every weight is an exponential.
    """

    #: a crossing part with more than this many distinct b-parts per b-spin is treated as dense
    DENSE_FACTOR = 4
    #: largest beta sum|J| at which the weights are formed by doubling (see the class docstring)
    DOUBLING_MAX_REDUCED_ENERGY = 100.0
    #: fewest a-states of a tile formed by doubling: below, its log2(T_a) array calls cost more than the
    #: exponentials they replace
    DOUBLING_MIN_ROWS = 64

    def __init__(self, model: Any, xp: ModuleType):
        n = model.n
        self.xp, self.n = xp, n
        self.na = n - n // 2
        self.nb = n // 2
        masks, couplings = model.walsh_terms()
        self.scale = float(np.abs(couplings).sum())
        self.linear_in_a = False
        ua = masks & ((1 << self.na) - 1)
        vb = masks >> self.na
        cross = (ua != 0) & (vb != 0)
        u_vals, u_inv = np.unique(ua[cross], return_inverse=True)
        v_vals, v_inv = np.unique(vb[cross], return_inverse=True)
        self.dense = len(v_vals) > self.DENSE_FACTOR * self.nb + 8
        if self.dense:
            check_size(n, xp, per_state_bytes=24.0, what="the energy table of a dense multi-spin model")
            table = np.zeros(2**n)
            np.add.at(table, masks, couplings)
            self.table = xp.reshape(walsh_energies(asarray(table, xp)), (2**self.nb, 2**self.na))
            return
        M = np.zeros((len(u_vals), len(v_vals)))
        np.add.at(M, (u_inv, v_inv), couplings[cross])
        self._cross = asarray(-M, xp)
        self._u_bits = _bits(asarray(u_vals, xp, xp.int64), self.na, xp)
        self._v_bits = _bits(asarray(v_vals, xp, xp.int64), self.nb, xp)
        only_a = vb == 0            # includes the constant term
        only_b = (ua == 0) & (vb != 0)
        self._a_bits = _bits(asarray(ua[only_a], xp, xp.int64), self.na, xp)
        self._a_coup = asarray(couplings[only_a], xp)
        self._b_bits = _bits(asarray(vb[only_b], xp, xp.int64), self.nb, xp)
        self._b_coup = asarray(couplings[only_b], xp)
        # each crossing a-part a single spin: F = -M chi_V(b) scattered to the a-spins, (na, |V|)
        self.linear_in_a = bool(np.all((u_vals & (u_vals - 1)) == 0))
        if self.linear_in_a:
            scatter = np.zeros((self.na, len(u_vals)))
            scatter[np.log2(np.maximum(u_vals, 1)).astype(np.int64), np.arange(len(u_vals))] = 1.0
            self._flip = asarray(scatter @ -M, xp)

    def doubles(self, beta: float, rows: int) -> bool:
        """Whether the weights of a tile of ``rows`` a-states at inverse temperature beta are formed by
        doubling (class docstring)."""
        return (self.linear_in_a and rows >= self.DOUBLING_MIN_ROWS
                and beta * self.scale <= self.DOUBLING_MAX_REDUCED_ENERGY)

    def weights_by_doubling(self, a: Half, b: Half, y: Any, beta: float, out: Any) -> Any:
        """w = exp(y) of a tile (T_a, T_b) from its reduced energies y = -beta (E - E0), written into
        ``out``: exp of the first row, then the doubling over the bits of a (class docstring)."""
        xp = self.xp
        ta = a.index.shape[0]
        xp.exp(y[0, :], out=out[0, :])
        rates = b.rows.get(beta)
        if rates is None:
            rates = b.rows.setdefault(beta, xp.exp((2.0 * beta) * (self._flip @ b.factor[:-2, :])))
        height = 1
        for k in range(ta.bit_length() - 1):
            xp.multiply(out[:height, :], rates[k, :][None, :], out=out[height:2 * height, :])
            height *= 2
        rows = a.rows.get(beta)
        if rows is None:
            e_a = a.factor[:, -2]
            rows = a.rows.setdefault(beta, xp.exp((e_a[0] - e_a) * beta))
        return xp.multiply(out, rows[:, None], out=out)

    def tile_shape(self, block_size: int) -> tuple[int, int]:
        """(T_a, T_b): tile sides, powers of two with T_a * T_b <= block_size, as square as the halves allow
        (a tile's work on its halves alone, O(T_a n_a^2 + T_b n_b^2), is then smallest)."""
        bits = int(block_size).bit_length() - 1
        tb = 1 << min(self.nb, bits // 2)
        return 1 << min(self.na, bits - tb.bit_length() + 1), tb

    def plan(self, block_size: int, high: tuple[int, int] | None = None) -> tuple[tuple[int, int], list]:
        """(T_a, T_b) and the origins (a0, b0) of all tiles covering the 2^N states, a-blocks outer,
        b-blocks inner; with ``high = (lo, hi)`` only the states whose high half i_b lies in [lo, hi)
        (a chunk by the high bits; lo and hi multiples of hi - lo, a power of two)."""
        ta, tb = self.tile_shape(block_size)
        lo, hi = high if high is not None else (0, 2**self.nb)
        tb = min(tb, hi - lo)
        return (ta, tb), [(a0, b0) for a0 in range(0, 2**self.na, ta) for b0 in range(lo, hi, tb)]

    def _half(self, start: int, size: int, high: bool) -> tuple[Half, Any, Any]:
        """The states start .. start + size - 1 of one half (``high``: the b-half) with the energy of its
        own terms (size,) and its crossing Walsh functions (size, |U| or |V|); None, None when dense."""
        xp = self.xp
        index = xp.arange(start, start + size, dtype=xp.int64)
        bits = _bits(index, self.nb if high else self.na, xp)
        half = Half(start, index, 1.0 - 2.0 * bits, None)
        if self.dense:
            return half, None, None
        own_bits, own_coup, cross_bits = ((self._b_bits, self._b_coup, self._v_bits) if high
                                          else (self._a_bits, self._a_coup, self._u_bits))
        return half, -(_walsh(bits, own_bits, xp) @ own_coup), _walsh(bits, cross_bits, xp)

    def a_half(self, a0: int, ta: int) -> Half:
        """The a-states a0 .. a0 + ta - 1 with their factor [-chi_U(a) M, E_a, 1] (T_a, K)."""
        xp = self.xp
        half, e_a, chi = self._half(a0, ta, high=False)
        if e_a is not None:
            half.factor = xp.concat((chi @ self._cross, e_a[:, None], xp.ones((ta, 1), dtype=xp.float64)), axis=1)
        return half

    def b_half(self, b0: int, tb: int) -> Half:
        """The b-states b0 .. b0 + tb - 1 with their factor [chi_V(b); 1; E_b] (K, T_b)."""
        xp = self.xp
        half, e_b, chi = self._half(b0, tb, high=True)
        if e_b is not None:
            half.factor = xp.concat((chi.T, xp.ones((1, tb), dtype=xp.float64), e_b[None, :]), axis=0)
        return half

    def energy(self, a: Half, b: Half, out: Any = None) -> Any:
        """E(i_a, i_b) = E_a + E_b - chi_U(a) M chi_V(b)^T of a tile (T_a, T_b): ONE matrix product of the
        halves' factors, written into ``out`` when given (a slice of the energy table for a dense model)."""
        xp = self.xp
        if self.dense:
            block = xp.permute_dims(self.table[b.start:b.start + b.index.shape[0],
                                               a.start:a.start + a.index.shape[0]], (1, 0))
            if out is None:
                return xp.asarray(block, copy=True)
            out[...] = block
            return out
        if out is None:
            return xp.matmul(a.factor, b.factor)
        return xp.matmul(a.factor, b.factor, out=out)

    def tiles(self, block_size: int, high: tuple[int, int] | None = None) -> Iterator[Tile]:
        """All tiles covering the 2^N states (see :meth:`plan`), energies in fresh arrays."""
        (ta, tb), origins = self.plan(block_size, high)
        a = None
        for a0, b0 in origins:
            if a is None or a.start != a0:
                a = self.a_half(a0, ta)
            b = self.b_half(b0, tb)
            yield Tile(a.index, b.index, a.spins, b.spins, self.energy(a, b))

    def full_index(self, tile: Tile) -> Any:
        """State indices i = i_a + 2^na i_b of a tile, shape (T_a, T_b)."""
        return tile.ia[:, None] + tile.ib[None, :] * (2**self.na)

    def full_spins(self, tile: Tile) -> Any:
        """All N spins of a tile's states, shape (T_a * T_b, N), rows in the order of energy.ravel()."""
        xp = self.xp
        ta, tb = tile.spins_a.shape[0], tile.spins_b.shape[0]
        sa = xp.broadcast_to(tile.spins_a[:, None, :], (ta, tb, self.na))
        sb = xp.broadcast_to(tile.spins_b[None, :, :], (ta, tb, self.nb))
        return xp.reshape(xp.concat((sa, sb), axis=2), (ta * tb, self.n))
