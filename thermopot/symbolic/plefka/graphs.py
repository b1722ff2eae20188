"""Small-graph combinatorics for the Plefka expansion: enumeration, 2-connectivity, automorphisms.

A graph is ``(k, edges)`` with vertices ``0..k-1`` and ``edges`` a sorted tuple of pairs ``(u, v)``,
``u < v``. A multigraph class of the expansion is a simple "skeleton" graph plus a power ``a_e >= 1``
per edge (the power of J_e in the monomial). Graphs here have at most a handful of vertices, so
brute force over vertex permutations is both simple and fast enough.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

Edge = tuple[int, int]


def is_connected(k: int, edges: tuple[Edge, ...], removed: int = -1) -> bool:
    """True when the graph (without vertex ``removed``) is connected."""
    alive = [v for v in range(k) if v != removed]
    if not alive:
        return True
    adj = {v: set() for v in alive}
    for u, v in edges:
        if removed not in (u, v):
            adj[u].add(v)
            adj[v].add(u)
    seen, stack = {alive[0]}, [alive[0]]
    while stack:
        for w in adj[stack.pop()] - seen:
            seen.add(w)
            stack.append(w)
    return len(seen) == len(alive)


def is_biconnected(k: int, edges: tuple[Edge, ...]) -> bool:
    """2-connected: connected with no articulation vertex (a single bond on two vertices counts)."""
    if k < 2 or not is_connected(k, edges):
        return False
    return k == 2 or all(is_connected(k, edges, removed=v) for v in range(k))


def relabel(edges: tuple[Edge, ...], perm: tuple[int, ...]) -> tuple[Edge, ...]:
    """The edge set after renaming vertex v to perm[v]."""
    return tuple(sorted(tuple(sorted((perm[u], perm[v]))) for u, v in edges))


def canonical(k: int, edges: tuple[Edge, ...]) -> tuple[Edge, ...]:
    """The lexicographically smallest relabelling: equal for isomorphic graphs."""
    return min(relabel(edges, p) for p in itertools.permutations(range(k)))


def automorphisms(k: int, edges: tuple[Edge, ...]) -> list[tuple[int, ...]]:
    """All vertex permutations that map the edge set onto itself."""
    target = tuple(sorted(edges))
    return [p for p in itertools.permutations(range(k)) if relabel(edges, p) == target]


def skeletons(max_edges: int, *, biconnected: bool = True) -> Iterator[tuple[int, tuple[Edge, ...]]]:
    """Connected simple graphs with 1..max_edges edges up to isomorphism, as ``(k, edges)``.

    With ``biconnected=True`` only 2-connected ones (which have at most as many vertices as edges);
    with ``False`` only the connected ones that are NOT 2-connected (which have up to edges+1
    vertices): the graphs whose Plefka coefficients must vanish.
    """
    for k in range(2, max_edges + 2):
        pairs = list(itertools.combinations(range(k), 2))
        for e in range(k - 1, min(max_edges, len(pairs)) + 1):
            found = set()
            for edges in itertools.combinations(pairs, e):
                if not is_connected(k, edges) or is_biconnected(k, edges) != biconnected:
                    continue
                if any(not any(v in edge for edge in edges) for v in range(k)):
                    continue
                found.add(canonical(k, edges))
            yield from ((k, edges) for edges in sorted(found))


def power_assignments(n_edges: int, order: int) -> Iterator[tuple[int, ...]]:
    """Every tuple of edge powers a_e >= 1 with sum a_e = order."""
    if n_edges == 1:
        if order >= 1:
            yield (order,)
        return
    for first in range(1, order - n_edges + 2):
        for rest in power_assignments(n_edges - 1, order - first):
            yield (first,) + rest


_NAMES = {
    (2, ((0, 1),)): "bond",
    (3, ((0, 1), (0, 2), (1, 2))): "triangle",
    (4, ((0, 1), (0, 2), (1, 3), (2, 3))): "square",
    (4, ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3))): "diamond",
    (4, ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))): "K4",
    (5, ((0, 1), (0, 2), (1, 3), (2, 4), (3, 4))): "pentagon",
    (6, ((0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5))): "hexagon",
    (5, ((0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4))): "K2,3",
    (5, ((0, 1), (0, 2), (0, 3), (1, 2), (1, 4), (3, 4))): "pentagon+chord",
}


def skeleton_name(k: int, edges: tuple[Edge, ...]) -> str:
    """A readable name (bond, triangle, square, diamond, K4, pentagon, ...) of a canonical skeleton."""
    return _NAMES.get((k, canonical(k, edges)), f"graph{k}v{len(edges)}e")
