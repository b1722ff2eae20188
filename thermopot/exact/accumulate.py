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

Everything stays on the device of the backend: no host synchronisation per tile. The per-state work
runs in place in a preallocated :class:`Workspace` (the energy product written into a buffer, the
exponential with ``out=``, the weighted sums as dot products); on NumPy several tiles run at once on a
small thread pool (NumPy and BLAS release the GIL), each with its own workspace, and the tiles' statistics
are merged in tile order on the calling thread, so the result is bit-identical for any number of threads.
"""

from __future__ import annotations

import collections
import contextlib
import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .tiles import Half, HalfSplitEnergy, Tile


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


class Workspace:
    """The buffers of one worker: y = -beta (E - E0) and w = exp(y) of a tile (T_a, T_b), and the centred
    a-spins with their weighted copy (T_a, n_a). A tile's per-state work allocates nothing else."""

    def __init__(self, xp: Any, ta: int, tb: int, na: int):
        self.y = xp.empty((ta, tb), dtype=xp.float64)
        self.w = xp.empty((ta, tb), dtype=xp.float64)
        self.ca = xp.empty((ta, na), dtype=xp.float64)
        self.rca = xp.empty((ta, na), dtype=xp.float64)
        self.ones_a = xp.ones((ta,), dtype=xp.float64)


def tile_stats(split: HalfSplitEnergy, a: Half, b: Half, beta: float, moments: bool, work: Workspace,
               observables: list[Callable] | None = None) -> TileStats:
    """Statistics of the tile a x b, with y = -beta (E - E0) <= 0 and w = exp(y), Z = sum w,
    <x> = -sum(w y) / Z and Var x = sum(w y^2) / Z - <x>^2. Moments by matrix products over the halves
    centred at the tile's means: m_b = S_b^T q / Z, then [W B, r] = W [S_b - m_b, 1] in one product,
    m_a = S_a^T r / Z, chi_aa = A^T diag(r) A / Z, chi_bb = B^T diag(q) B / Z, chi_ab = A^T (W B) / Z with
    A = S_a - m_a, B = S_b - m_b, r and q the row and column sums of W."""
    xp = split.xp
    y, w = work.y, work.w
    split.energy(a, b, out=y)
    c = xp.min(y)
    xp.subtract(y, c, out=y)
    xp.multiply(y, -beta, out=y)
    if split.doubles(beta, y.shape[0]):
        split.weights_by_doubling(a, b, y, beta, out=w)
    else:
        xp.exp(y, out=w)
    flat_w, flat_y = xp.reshape(w, (-1,)), xp.reshape(y, (-1,))
    z = xp.sum(w)
    excess = -xp.matmul(flat_w, flat_y) / z
    xp.multiply(y, y, out=y)
    var = xp.maximum(xp.matmul(flat_w, flat_y) / z - excess * excess, 0.0)
    stats = TileStats(shift=c, log_z=xp.log(z), excess=excess, energy_var=var)
    if moments:
        sa, sb = a.spins, b.spins
        q = xp.matmul(work.ones_a, w)
        mb = (sb.T @ q) / z
        cb = sb - mb[None, :]
        wc = xp.matmul(w, xp.concat((cb, xp.ones((cb.shape[0], 1), dtype=xp.float64)), axis=1))
        r = wc[:, -1]
        ma = (sa.T @ r) / z
        ca = xp.subtract(sa, ma[None, :], out=work.ca)
        rca = xp.multiply(ca, r[:, None], out=work.rca)
        c_ab = (ca.T @ wc[:, :-1]) / z
        stats.magnetization = xp.concat((ma, mb))
        stats.connected = xp.concat((xp.concat(((ca.T @ rca) / z, c_ab), axis=1),
                                     xp.concat((c_ab.T, (cb.T @ (q[:, None] * cb)) / z), axis=1)), axis=0)
    if observables:
        spins = split.full_spins(Tile(a.index, b.index, a.spins, b.spins, None))
        stats.observables = [(flat_w @ xp.astype(xp.asarray(f(spins)), xp.float64)) / z for f in observables]
    return stats


#: bytes of b-halves kept for the next a-block (their factors and spins: (K + n_b) x 8 bytes per b-state)
HALF_CACHE_BYTES = 64 * 2**20


def _halves(split: HalfSplitEnergy, shape: tuple[int, int], origins: list) -> Iterator[tuple[Half, Half]]:
    """The (a-half, b-half) of each tile origin, each a-half built once, each b-half once when all of
    them fit in HALF_CACHE_BYTES (else once per a-block)."""
    a, kept = None, {}
    b_states = len({b0 for _, b0 in origins}) * shape[1]
    keep = len(origins) * shape[1] > b_states and b_states * (split.n + 8) * 8 <= HALF_CACHE_BYTES
    for a0, b0 in origins:
        if a is None or a.start != a0:
            a = split.a_half(a0, shape[0])
        b = kept.get(b0)
        if b is None:
            b = split.b_half(b0, shape[1])
            if keep:
                kept[b0] = b
        yield a, b


def _in_order(pool: ThreadPoolExecutor, job: Callable, items: Iterable, ahead: int) -> Iterator:
    """job(item) for every item on ``pool``, at most ``ahead`` submitted ahead, results in item order."""
    pending: collections.deque = collections.deque()
    for item in items:
        pending.append(pool.submit(job, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def stream_stats(split: HalfSplitEnergy, beta: float, block_size: int, moments: bool = True,
                 observables: list[Callable] | None = None, progress: Any = None,
                 high: tuple[int, int] | None = None, threads: int = 1) -> TileStats:
    """Merge, in tile order, the statistics of every tile of the state space (of the chunk ``high``, see
    HalfSplitEnergy.plan), computed by ``threads`` threads with a Workspace each (1: on this thread; with
    observables always 1, since user functions need not be thread-safe)."""
    xp = split.xp
    shape, origins = split.plan(block_size, high)
    threads = 1 if observables else max(1, min(int(threads), len(origins)))
    spaces: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(threads):
        spaces.put(Workspace(xp, shape[0], shape[1], split.na))

    def job(halves: tuple[Half, Half]) -> TileStats:
        work = spaces.get()
        try:
            return tile_stats(split, halves[0], halves[1], beta, moments, work, observables)
        finally:
            spaces.put(work)

    halves = _halves(split, shape, origins)
    with ThreadPoolExecutor(threads) if threads > 1 else contextlib.nullcontext() as pool:
        results = _in_order(pool, job, halves, 2 * threads) if pool is not None else map(job, halves)
        if progress is not None:
            results = progress(results)
        total: TileStats | None = None
        for stats in results:
            total = stats if total is None else total.merge(stats, beta, xp)
    return total

