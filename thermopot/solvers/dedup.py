"""De-duplication of converged points and recognition of spin-flip partners.

Two points are the same when max_k |m_k - m'_k| < tol (the stated tolerance of find_minima); converged
points satisfy the stationarity equations to ~1e-10, so any tol between ~1e-8 and the distance between
distinct solutions works, and the default 1e-6 is far inside that window.
"""

from __future__ import annotations

from typing import Any


def unique_points(m: Any, tol: float, xp: Any) -> tuple[Any, Any]:
    """(representative indices (U,), label of every row (B,)): greedy clustering in the max norm,
    each cluster represented by its first row. Cost O(B U N) with U distinct points."""
    b = m.shape[0]
    labels = xp.full((b,), -1, dtype=xp.int64)
    reps = []
    while True:
        free = xp.nonzero(labels < 0)[0]
        if free.shape[0] == 0:
            break
        first = int(free[0])
        close = xp.max(xp.abs(m - m[first][None, :]), axis=1) < tol
        labels = xp.where(close & (labels < 0), len(reps), labels)
        reps.append(first)
    return xp.asarray(reps, dtype=xp.int64), labels


def flip_partners(m: Any, tol: float, xp: Any) -> Any:
    """For each row a, the row b with m_b = -m_a within tol (a itself when m_a = 0), or -1."""
    dist = xp.max(xp.abs(m[:, None, :] + m[None, :, :]), axis=2)
    best = xp.argmin(dist, axis=1)
    return xp.where(xp.min(dist, axis=1) < tol, best, -1)
