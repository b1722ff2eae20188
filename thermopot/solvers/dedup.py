"""De-duplication of end points in O(B log B), and recognition of spin-flip partners.

Two points a, b are the same when their distance under a :class:`Metric` is below ``tol``; groups are the
connected components of that relation (single linkage), each represented by its lowest row, groups in
the order of their representatives. Converged points of one stationary point agree to ~1e-10, distinct
ones lie far apart, so any tol between ~1e-8 and the distance between distinct solutions gives the same
groups (find_minima's default 1e-6 is far inside that window).

Algorithm (vectorised, no loop over points):
1. snap every row to a grid of cells of width ``metric.cell(tol, d)``, chosen so that two rows in one
   cell are always the same; rows of one cell are merged by sorting a hash of the integer cell
   coordinates (O(B d + B log B));
2. the cell representatives (U of them) are sorted by a projection r.x with |r_k| <= 1, and each is
   compared with the next ones while their projections differ by less than ``metric.reach(tol, d)``
   (a bound on |r.(a - b)| for two rows that are the same): one vectorised pass per offset, a few in
   practice;
3. the pairs found are joined into groups by connected components (scipy.sparse.csgraph).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..backend import asarray, namespace_of, to_numpy


@dataclass(frozen=True)
class Metric:
    """A distance between rows: ``distance(a, b)`` row by row; ``cell(tol, d)``: a grid width such that
    rows in one cell are always closer than tol; ``reach(tol, d, scale)``: a bound on |r.(a - b)|
    (|r_k| <= 1) for rows closer than tol, all |entries| <= scale."""

    name: str
    distance: Callable[[np.ndarray, np.ndarray], np.ndarray]
    cell: Callable[[float, int], float]
    reach: Callable[[float, int, float], float]


def _max_norm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a - b), axis=1)


#: max_k |a_k - b_k| (magnetisations)
MAX = Metric("max", _max_norm, lambda tol, d: tol, lambda tol, d, scale: d * tol)
#: max_k |a_k - b_k| / (1 + max_k |b_k|) for parameters of any scale (couplings theta): below tol within
#: one cell of width tol; |a - b| < tol (1 + scale) for rows that are the same
RELATIVE_MAX = Metric("relative max", lambda a, b: _max_norm(a, b) / (1.0 + np.max(np.abs(b), axis=1)),
                      lambda tol, d: tol, lambda tol, d, scale: d * tol * (1.0 + scale))
#: total variation (1/2) sum_k |a_k - b_k| (weights on the simplex): one cell of width 2 tol / d keeps it
#: below tol, and |r.(a - b)| <= sum |a - b| = 2 TV
TOTAL_VARIATION = Metric("total variation", lambda a, b: 0.5 * np.sum(np.abs(a - b), axis=1),
                         lambda tol, d: 2.0 * tol / d, lambda tol, d, scale: 2.0 * tol)


def _close_pairs(points: np.ndarray, tol: float, metric: Metric, reach: float,
                 max_offset: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) rows with metric distance < tol, found by a sweep over the sorted projection (only the
    ``max_offset`` nearest rows in projection order when given: some pairs may then be missed)."""
    d = points.shape[1]
    r = np.cos(np.arange(1, d + 1) * 0.7548776662466927)  # a fixed direction with |r_k| <= 1, no symmetry
    proj = points @ r
    order = np.argsort(proj, kind="stable")
    proj, first, second = proj[order], [], []
    for offset in range(1, points.shape[0] if max_offset is None else min(points.shape[0], max_offset + 1)):
        i = np.flatnonzero(proj[offset:] - proj[:-offset] < reach)
        if i.size == 0:
            break
        a, b = order[i], order[i + offset]
        same = metric.distance(points[a], points[b]) < tol
        first.append(a[same])
        second.append(b[same])
    return (np.concatenate(first), np.concatenate(second)) if first else (np.zeros(0, int), np.zeros(0, int))


def _cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct row of ``cells``, index of every row's distinct row): rows are hashed
    to one int64 (wrapping products with fixed random multipliers) and the hashes sorted; a hash shared by
    different rows (a collision, ~B^2 / 2^64) falls back to sorting the rows themselves."""
    multipliers = np.random.default_rng(20261202).integers(-2**62, 2**62, cells.shape[1])
    _, first, inverse = np.unique(cells @ multipliers, return_index=True, return_inverse=True)
    if not np.array_equal(cells, cells[first[inverse]]):
        _, first, inverse = np.unique(cells, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def group_rows(points: Any, tol: float, metric: Metric = MAX, *,
               max_offset: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(representative rows (U,), label of every row (B,)) of the groups of ``points`` (B, d) closer than
    ``tol`` under ``metric`` (module docstring): labels index the representatives, which are the lowest
    row of each group, in increasing order. NumPy in and out; O(B d log B). With ``max_offset`` each cell
    is compared with at most that many neighbours in projection order: O(B d max_offset) even when many
    rows lie within ``reach`` of each other (a coarse tol), at the price of groups that may be split
    (for a grouping that only saves work, such as find_minima's anchors)."""
    p = np.asarray(to_numpy(points), dtype=np.float64)
    b, d = p.shape
    if b == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first, cell_of = _cells(np.floor(p / metric.cell(tol, d)).astype(np.int64))
    reps = p[first]
    i, j = _close_pairs(reps, tol, metric, metric.reach(tol, d, float(np.max(np.abs(reps)))), max_offset)
    u = first.shape[0]
    graph = coo_matrix((np.ones(i.size), (i, j)), shape=(u, u))
    _, component = connected_components(graph, directed=False)
    lowest = np.full(component.max() + 1, b, dtype=np.int64)
    np.minimum.at(lowest, component, first)          # lowest row of each group
    rank = np.empty_like(lowest)
    rank[np.argsort(lowest, kind="stable")] = np.arange(lowest.size)
    return np.sort(lowest), rank[component[cell_of]]


def unique_points(m: Any, tol: float, xp: Any = None) -> tuple[Any, Any]:
    """(representative indices (U,), label of every row (B,)) of the rows of m (B, N) grouped in the max
    norm (max_k |m_k - m'_k| < tol), as int64 arrays of the namespace ``xp`` (default: that of m)."""
    xp = namespace_of(m) if xp is None else xp
    reps, labels = group_rows(m, tol, MAX)
    return asarray(reps, xp, xp.int64), asarray(labels, xp, xp.int64)


def flip_partners(m: Any, tol: float, xp: Any = None) -> Any:
    """For each row a of the distinct points m (U, N), the row b with m_b = -m_a within tol in the max norm
    (a itself when m_a = 0), or -1; grouping m and -m together, O(U log U)."""
    xp = namespace_of(m) if xp is None else xp
    mu = np.asarray(to_numpy(m), dtype=np.float64)
    u = mu.shape[0]
    _, labels = group_rows(np.concatenate([mu, -mu]), tol, MAX)
    row_of = np.full(2 * u, 2 * u, dtype=np.int64)
    np.minimum.at(row_of, labels[:u], np.arange(u))  # the lowest row of m in each group
    partner = row_of[labels[u:]]
    return asarray(np.where(partner < u, partner, -1), xp, xp.int64)
