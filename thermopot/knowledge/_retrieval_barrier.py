"""Exact escape barriers on the hypercube: the lowest single-spin-flip path out of an overlap ball.

For a start state s0 and an overlap threshold q, the exit set is X = {s : (1/N) s.s0 < q}. The barrier is

    B(s0) = min over single-flip paths s0 -> ... -> x in X of  max_{s on the path} E(s)  -  E(s0),

the height of the lowest pass out of the ball; heat-bath escape times then grow as exp(B / T) at low T
(Arrhenius, up to an entropic prefactor). The minimax value b(s) of the best path from s solves
b(x) = E(x) on X and b(s) = max(E(s), min_k b(s with s_k flipped)) elsewhere; iterating this from
b = +inf off X converges (a Bellman-Ford sweep over all 2^N states and N flips per iteration) in at most
as many iterations as the longest optimal path, which is at most the number of states in the ball.
"""

from __future__ import annotations

from typing import Any

from ..backend import get_namespace, namespace_of, resolve_block_size, to_float
from ..landscape import energy_table
from ..models import Model


def state_energies(model: Model, backend: Any = None) -> Any:
    """E(s) of all 2^N states in index order, on the backend's namespace."""
    xp = get_namespace(backend)
    return energy_table(model, xp, resolve_block_size(None, xp))


def escape_barrier(table: Any, n: int, start: int, threshold: float) -> float:
    """B(s0) (module docstring) for the state with index ``start`` and overlap threshold ``threshold``,
    given the energy table (2^N,) of all states in index order."""
    xp = namespace_of(table)
    idx = xp.arange(2**n, dtype=xp.int64)
    diff = xp.bitwise_xor(idx, start)
    hamming = xp.zeros(2**n, dtype=xp.int64)
    for k in range(n):
        hamming = hamming + xp.bitwise_and(xp.right_shift(diff, k), 1)
    inside = (n - 2 * hamming) >= threshold * n  # overlap >= threshold: still in the start basin
    if not bool(inside[start]):
        return 0.0
    b = xp.where(inside, xp.inf, table)
    while True:
        best = b
        low = xp.take(b, xp.bitwise_xor(idx, 1))
        for k in range(1, n):
            low = xp.minimum(low, xp.take(b, xp.bitwise_xor(idx, 1 << k)))
        b = xp.where(inside, xp.maximum(table, low), table)
        if bool(xp.all(b == best)):
            break
    return to_float(b[start] - table[start])
