"""Numeric full description of a training set and its order-K truncation (theory.md section 3).

M distinct patterns xi^mu (+-1, shape (M, N)) sit at energies E_mu = E_gap - Delta_mu; every other
state sits at the gap energy E_gap. The pattern indicator [s = xi] = prod_k (1 + xi_k s_k) / 2 =
2^-N sum_alpha chi_alpha(xi) chi_alpha(s) gives the Walsh couplings::

    J_{}    = -E_gap + 2^-N sum_mu Delta_mu,
    J_alpha =          2^-N sum_mu Delta_mu chi_alpha(xi^mu)      (alpha != {}),

and, because sum_{|alpha| = j} chi_alpha(xi) chi_alpha(s) = K_j(d(s, xi); N) (Krawtchouk), the
truncation to orders |alpha| <= K depends on s only through the Hamming distances d_mu(s)::

    E_K(s) = E_gap - 2^-N sum_mu Delta_mu sum_{j=0}^{K} K_j(d_mu(s); N).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backend import namespace_of, to_numpy
from ..checks import check_integer
from ..errors import ThermopotError
from ..states import index_to_bits, spins_to_index, walsh_couplings, walsh_energies
from . import _potential_checks as chk

#: largest N for which a full 2^N energy table is built
MAX_TABLE_SPINS = 24


def _krawtchouk_rows(order: int, d: Any, n: int, xp: ModuleType) -> list[Any]:
    """[K_0(d), ..., K_order(d)] by the three-term recurrence
    (j + 1) K_{j+1}(d) = (N - 2 d) K_j(d) - (N - j + 1) K_{j-1}(d),  K_0 = 1, K_1 = N - 2 d."""
    rows = [xp.ones_like(d)]
    if order >= 1:
        rows.append(n - 2.0 * d)
    for j in range(1, order):
        rows.append(((n - 2.0 * d) * rows[j] - (n - j + 1) * rows[j - 1]) / (j + 1))
    return rows


def krawtchouk(j: int, d: Any, n: int) -> Any:
    """Krawtchouk polynomial K_j(d; N) = sum_i (-1)^i C(d, i) C(N - d, j - i), the coefficient of z^j in
    (1 - z)^d (1 + z)^(N - d); for a state at Hamming distance d from a pattern xi it equals
    sum_{|alpha| = j} chi_alpha(xi) chi_alpha(s). ``d`` is a number or an array (any real values)."""
    n = check_integer(n, "N", 1)
    j = check_integer(j, "order j", 0, n)
    xp = namespace_of(d)
    d = chk.real(d, "distance d", xp, min_ndim=0)
    return chk.out(_krawtchouk_rows(j, d, n, xp)[j])


def _patterns(patterns: Any, deltas: Any, xp: ModuleType) -> tuple[Any, Any]:
    """Patterns (M, N) of distinct +-1 rows and gaps Delta_mu (M,), checked."""
    xi = chk.spins(patterns, "patterns", xp)
    if xi.ndim != 2:
        raise ThermopotError(f"patterns must have shape (M, N), got {tuple(xi.shape)}")
    check_integer(xi.shape[1], "number of spins N", 1, 62)
    if np.unique(np.asarray(chk.out(spins_to_index(xi)))).size != xi.shape[0]:
        raise ThermopotError("patterns must be distinct (a repeated row has two energies)")
    dl = chk.real(deltas, "gaps Delta", xp)
    if dl.shape != (xi.shape[0],):
        raise ThermopotError(f"gaps Delta must have shape ({xi.shape[0]},) (one per pattern), "
                             f"got {tuple(dl.shape)}")
    return xi, dl


def _gap_energy(gap_energy: Any) -> float:
    value = chk.real(gap_energy, "gap energy", namespace_of(None), min_ndim=0)
    if value.ndim:
        raise ThermopotError(f"gap energy must be a number, got shape {tuple(value.shape)}")
    return float(value)


def pattern_energy_table(patterns: Any, deltas: Any, *, gap_energy: float = 0.0) -> np.ndarray:
    """Energy table (2^N,) of the full description: E(xi^mu) = E_gap - Delta_mu, E_gap elsewhere."""
    xp = namespace_of(patterns, deltas)
    xi, dl = _patterns(patterns, deltas, xp)
    e_gap = _gap_energy(gap_energy)
    if xi.shape[1] > MAX_TABLE_SPINS:
        raise ThermopotError(f"an energy table of 2^N states needs N <= {MAX_TABLE_SPINS}, got N = "
                             f"{xi.shape[1]}; use truncated_energy (Krawtchouk form) instead")
    table = np.full(2 ** xi.shape[1], e_gap)
    table[np.asarray(chk.out(spins_to_index(xi)))] -= np.asarray(chk.out(dl))
    return table


def pattern_couplings(patterns: Any, deltas: Any, masks: Any, *, gap_energy: float = 0.0) -> np.ndarray:
    """Walsh couplings J_alpha of the full description for integer subset masks (K,):
    J_alpha = 2^-N sum_mu Delta_mu prod_{k in alpha} xi^mu_k for alpha != {}, and
    J_{} = -E_gap + 2^-N sum_mu Delta_mu. The gap enters only J_{}."""
    xp = namespace_of(patterns, deltas)
    xi, dl = _patterns(patterns, deltas, xp)
    n = xi.shape[1]
    masks = to_numpy(masks)
    if masks.ndim != 1 or not np.issubdtype(masks.dtype, np.integer) or masks.min(initial=0) < 0 \
            or masks.max(initial=0) >= 2**n:
        raise ThermopotError(f"masks must be a 1-d array of integers in 0..2^N - 1 = {2**n - 1}")
    alpha = index_to_bits(xp.asarray(masks, dtype=xp.int64), n, xp, xp.float64)  # (K, N)
    flips = (1.0 - xi) / 2.0  # (M, N): 1 where xi_k = -1
    chi = 1.0 - 2.0 * xp.remainder(alpha @ flips.T, 2.0)  # (K, M)
    J = (chi @ dl) / 2.0**n
    J = xp.where(xp.asarray(masks == 0), J - _gap_energy(gap_energy), J)
    return chk.out(J)


def _truncation_args(patterns: Any, deltas: Any, order: Any, states: Any) -> tuple:
    xp = namespace_of(patterns, deltas, states)
    xi, dl = _patterns(patterns, deltas, xp)
    n = xi.shape[1]
    order = check_integer(order, "truncation order K", 0, n)
    s = chk.spins(states, "states", xp, n)
    return xp, xi, dl, n, order, s


def truncated_energy(patterns: Any, deltas: Any, order: int, states: Any, *,
                     gap_energy: float = 0.0) -> Any:
    """Order-K truncation of the full description in Krawtchouk form, for states (N,) or (B, N):
    E_K(s) = E_gap - 2^-N sum_mu Delta_mu sum_{j=0}^{K} K_j(d_mu(s); N), d_mu(s) = (N - xi^mu . s) / 2.
    Costs O(B M (N + K)); no 2^N table. K = N gives back the full description."""
    xp, xi, dl, n, order, s = _truncation_args(patterns, deltas, order, states)
    d = (n - s @ xi.T) / 2.0  # (..., M) Hamming distances
    kernel = sum(_krawtchouk_rows(order, d, n, xp))
    return chk.out(_gap_energy(gap_energy) - (kernel @ dl) / 2.0**n)


def truncated_energy_walsh(patterns: Any, deltas: Any, order: int, states: Any, *,
                           gap_energy: float = 0.0) -> Any:
    """The same order-K truncation as :func:`truncated_energy`, computed the long way: the 2^N energy
    table, all Walsh couplings J = -H E / 2^N by the fast Walsh-Hadamard transform, J_alpha set to zero
    for |alpha| > K, and E_K = -H J_K read at the states. O(N 2^N); for checking the Krawtchouk form."""
    xp, xi, dl, n, order, s = _truncation_args(patterns, deltas, order, states)
    table = xp.asarray(pattern_energy_table(chk.out(xi), chk.out(dl), gap_energy=gap_energy))
    couplings = walsh_couplings(table)
    degree = xp.sum(index_to_bits(xp.arange(2**n, dtype=xp.int64), n, xp), axis=-1)
    energies = walsh_energies(xp.where(degree <= order, couplings, 0.0))
    picked = xp.take(energies, xp.reshape(spins_to_index(s), (-1,)), axis=0)
    return chk.out(xp.reshape(picked, s.shape[:-1]))
