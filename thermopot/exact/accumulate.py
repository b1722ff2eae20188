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
small thread pool (NumPy and BLAS release the GIL; started once per process), each with its own
workspace, and the tiles' statistics are merged in tile order (inside a job of consecutive tiles on its
worker, the jobs on the calling thread; the grouping depends on the tiles alone), so the result is
bit-identical for any number of threads.
"""

from __future__ import annotations

import collections
import functools
import os
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
    """The buffers of one worker for tiles of T_a x T_b states, T_a = 2^la and T_b = 2^lb: y = -beta (E - E0)
    and w = exp(y) (T_a, T_b), the centred varying b-spins with a column of ones (T_b, lb + 1) and their
    product with w (T_a, lb + 1), the centred varying a-spins and their weighted copy (la, T_a). A tile's
    per-state work allocates nothing else."""

    def __init__(self, xp: Any, ta: int, tb: int):
        self.la, self.lb = ta.bit_length() - 1, tb.bit_length() - 1
        self.y = xp.empty((ta, tb), dtype=xp.float64)
        self.w = xp.empty((ta, tb), dtype=xp.float64)
        self.cb = xp.ones((tb, self.lb + 1), dtype=xp.float64)
        self.wc = xp.empty((ta, self.lb + 1), dtype=xp.float64)
        self.ca = xp.empty((self.la, ta), dtype=xp.float64)
        self.rca = xp.empty((self.la, ta), dtype=xp.float64)
        self.ones_a = xp.ones((ta,), dtype=xp.float64)


def tile_stats(split: HalfSplitEnergy, a: Half, b: Half, beta: float, moments: bool, work: Workspace,
               observables: list[Callable] | None = None) -> TileStats:
    """Statistics of the tile a x b, with y = -beta (E - E0) <= 0 and w = exp(y), Z = sum w,
    <x> = -sum(w y) / Z and Var x = sum(w y^2) / Z - <x>^2.

    Moments: inside a tile (a0 + i, b0 + j), a0 and b0 multiples of T_a = 2^la and T_b = 2^lb, only the
    low la a-spins and lb b-spins vary; the others are the tile's constants, with mean s and no
    connected correlation inside it (the merges add their share between tiles). With q and r the column
    and row sums of W, S_a and S_b the varying spins: m_b = S_b^T q / Z, then [W B, r] = W [S_b - m_b, 1]
    in ONE product of lb + 1 columns, m_a = S_a^T r / Z, chi_aa = A^T diag(r) A / Z,
    chi_bb = B^T diag(q) B / Z, chi_ab = A^T (W B) / Z with A = S_a - m_a, B = S_b - m_b."""
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
    if moments:
        q = xp.matmul(work.ones_a, w)
        z = xp.sum(q)
    else:
        z = xp.sum(w)
    excess = -xp.matmul(flat_w, flat_y) / z
    xp.multiply(y, y, out=y)
    var = xp.maximum(xp.matmul(flat_w, flat_y) / z - excess * excess, 0.0)
    stats = TileStats(shift=c, log_z=xp.log(z), excess=excess, energy_var=var)
    if moments:
        stats.magnetization, stats.connected = _tile_moments(split, a, b, w, q, z, work)
    if observables:
        spins = split.full_spins(Tile(a.index, b.index, a.spins, b.spins, None))
        stats.observables = [(flat_w @ xp.astype(xp.asarray(f(spins)), xp.float64)) / z for f in observables]
    return stats


def _tile_moments(split: HalfSplitEnergy, a: Half, b: Half, w: Any, q: Any, z: Any, work: Workspace) -> tuple:
    """(m, chi) of a tile with weights w (T_a, T_b), column sums q and total z (see :func:`tile_stats`)."""
    xp, la, lb, na = split.xp, work.la, work.lb, split.na
    sa_t, sb = a.spins_t[:la, :], b.spins[:, :lb]
    mb = (sb.T @ q) / z
    cb = work.cb[:, :lb]
    xp.subtract(sb, mb[None, :], out=cb)
    wc = xp.matmul(w, work.cb, out=work.wc)
    r = wc[:, lb]
    ma = (sa_t @ r) / z
    ca_t = xp.subtract(sa_t, ma[:, None], out=work.ca)
    rca_t = xp.multiply(ca_t, r[None, :], out=work.rca)
    c_ab = (ca_t @ wc[:, :lb]) / z
    chi = xp.zeros((split.n, split.n), dtype=xp.float64)
    chi[:la, :la] = (ca_t @ xp.permute_dims(rca_t, (1, 0))) / z
    chi[:la, na:na + lb] = c_ab
    chi[na:na + lb, :la] = c_ab.T
    chi[na:na + lb, na:na + lb] = (cb.T @ (q[:, None] * cb)) / z
    return xp.concat((ma, a.spins[0, la:], mb, b.spins[0, lb:])), chi


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
    observables always 1, since user functions need not be thread-safe). Each job merges a group of
    :func:`tiles_per_job` consecutive tiles; ``progress`` wraps an iterator with one item per tile."""
    xp = split.xp
    shape, origins = split.plan(block_size, high)
    threads = 1 if observables else max(1, min(int(threads), len(origins)))
    spaces: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(threads):
        spaces.put(Workspace(xp, shape[0], shape[1]))

    def job(group: list[tuple[Half, Half]]) -> list[TileStats | None]:
        """The merged statistics of a group of tiles, as the last of one item per tile (the others None)."""
        work = spaces.get()
        try:
            total = None
            for a, b in group:
                stats = tile_stats(split, a, b, beta, moments, work, observables)
                total = stats if total is None else total.merge(stats, beta, xp)
        finally:
            spaces.put(work)
        return [None] * (len(group) - 1) + [total]

    groups = _groups(_halves(split, shape, origins), tiles_per_job(len(origins)))
    jobs = _in_order(tile_pool(threads), job, groups, 2 * threads) if threads > 1 else map(job, groups)
    results = (item for items in jobs for item in items)
    if progress is not None:
        results = progress(results)
    total: TileStats | None = None
    for stats in results:
        if stats is not None:
            total = stats if total is None else total.merge(stats, beta, xp)
    return total


#: tiles merged inside one job of the pool when there are many tiles: fewer hand-overs between threads
#: and fewer merges on the calling thread (each about 10 us with the GIL held, a tile about 250 us)
TILES_PER_JOB = 4


def tiles_per_job(tiles: int) -> int:
    """Tiles per job for an enumeration of ``tiles`` tiles: TILES_PER_JOB when there are at least 16 jobs'
    worth, else 1 (so small enumerations still spread over the threads). It depends on the tiles alone,
    never on the threads, so the merge order and the bits of the result do not depend on them either."""
    return TILES_PER_JOB if tiles >= 16 * TILES_PER_JOB else 1


def _groups(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    group: list = []
    for item in items:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


@functools.cache
def tile_pool(threads: int) -> ThreadPoolExecutor:
    """The pool of ``threads`` threads that compute tiles, started once per process and shared by every
    enumeration (starting two threads took 1-8 ms per call, 10-50 % of an N = 20 enumeration on the busy
    2-core machine). Its jobs never submit to it, so calls from several threads cannot deadlock it."""
    return ThreadPoolExecutor(threads, thread_name_prefix=f"thermopot-tiles-{threads}")


if hasattr(os, "register_at_fork"):  # a forked child has none of its parent's threads: it starts its own
    os.register_at_fork(after_in_child=tile_pool.cache_clear)

