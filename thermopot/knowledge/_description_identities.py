"""Identities of the full description (theory.md section 3), each returned as a residual that is zero
up to rounding; the tests and validations assert them.

(a) Walsh couplings by FWHT of the table against the pattern sums
        J_{} = -E_gap + 2^-N sum_mu Delta_mu,   J_alpha = 2^-N sum_mu Delta_mu chi_alpha(xi^mu),
    and a uniform shift E -> E + c changes J_{} by -c and nothing else;
(b) the order-K Walsh truncation (FWHT, zeroing |alpha| > K) equals the Krawtchouk form;
(c) its scale: since |K_j(d; N)| <= C(N, j),
        max_s |E_K(s) - E_gap| <= 2^-N sum_mu Delta_mu sum_{j<=K} C(N, j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..backend import get_namespace, to_numpy
from ..results import jsonable as _jsonable
from ..states import state_blocks, walsh_couplings
from .truncation import pattern_couplings, truncated_energy_walsh

if TYPE_CHECKING:
    from .description import KnowledgeDescription

#: elements per block: masks x patterns (pattern-sum couplings), states x spins (Krawtchouk residual)
_BLOCK_ELEMENTS = 1 << 22


def coupling_residual(description: KnowledgeDescription) -> float:
    """max_alpha |J_alpha(FWHT of the energy table) - J_alpha(pattern sums)| over all 2^N subsets,
    the pattern sums by ``pattern_couplings`` in blocks of masks (memory O(block x M))."""
    d = description
    fwht_J = d.couplings
    rows = max(1, _BLOCK_ELEMENTS // d.m)
    xi = d.patterns.astype(np.float64)
    worst = 0.0
    for start in range(0, 2**d.n, rows):
        masks = np.arange(start, min(start + rows, 2**d.n), dtype=np.int64)
        J = pattern_couplings(xi, d.depths, masks, gap_energy=d.e_gap)
        worst = max(worst, float(np.max(np.abs(fwht_J[masks] - J))))
    return worst


def shift_residual(description: KnowledgeDescription, shift: float = 1.0) -> float:
    """max_alpha |J_alpha(E + c) - J_alpha(E) + c [alpha = {}]|: a uniform shift of every energy
    (patterns and gap alike) moves only the constant coupling J_{}, by -c."""
    d = description
    xp = get_namespace(d.backend)
    shifted = to_numpy(walsh_couplings(xp.asarray(d.energy_table + float(shift))))
    expected = d.couplings.copy()
    expected[0] -= float(shift)
    return float(np.max(np.abs(shifted - expected)))


def krawtchouk_residual(description: KnowledgeDescription, order: int) -> float:
    """max_s |E_K(s) (Krawtchouk form) - E_K(s) (Walsh truncation by FWHT)| over all 2^N states, the
    Walsh side read in blocks of states (``state_blocks``)."""
    d = description
    xp = get_namespace(d.backend)
    xi, depths = xp.asarray(d.patterns, dtype=xp.float64), xp.asarray(d.depths)
    krawtchouk = d.truncated_energy(order)
    worst = 0.0
    for start, states in state_blocks(d.n, max(1, _BLOCK_ELEMENTS // d.n), xp):
        walsh = truncated_energy_walsh(xi, depths, order, states, gap_energy=d.e_gap)
        worst = max(worst, float(np.max(np.abs(krawtchouk[start:start + states.shape[0]] - walsh))))
    return worst


@dataclass(frozen=True)
class TruncationScale:
    """Size of the order-K truncation of a full description against the gap Delta."""

    order: int  #: K
    max_deviation: float  #: max_s |E_K(s) - E_gap| over all 2^N states
    bound: float  #: 2^-N sum_mu Delta_mu sum_{j<=K} C(N, j)  (>= max_deviation)
    per_pattern_bound: float  #: 2^-N max_mu Delta_mu sum_{j<=K} C(N, j): the scale one pattern adds
    gap: float  #: Delta = eps N
    bound_over_gap: float  #: bound / Delta
    per_pattern_over_gap: float  #: per_pattern_bound / Delta

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return _jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


def truncation_scale(description: KnowledgeDescription, order: int) -> TruncationScale:
    """How much of the energy landscape survives truncation to orders <= K: the exact
    max_s |E_K(s) - E_gap| against the bound 2^-N sum_mu Delta_mu sum_{j<=K} C(N, j) (|K_j| <= C(N, j)).
    For one pattern the bound is Delta_mu sum_{j<=K} C(N, j) / 2^N: exponentially small against Delta
    at fixed K; with M patterns it grows with the pattern density M / 2^N."""
    d = description
    deviation = float(np.max(np.abs(d.truncated_energy(order) - d.e_gap)))
    binomials = sum(math.comb(d.n, j) for j in range(int(order) + 1)) / 2.0**d.n
    bound = float(np.sum(d.depths)) * binomials
    single = float(np.max(d.depths)) * binomials
    return TruncationScale(order=int(order), max_deviation=deviation, bound=bound, per_pattern_bound=single,
                           gap=d.gap, bound_over_gap=bound / d.gap, per_pattern_over_gap=single / d.gap)


__all__ = ["coupling_residual", "shift_residual", "krawtchouk_residual", "TruncationScale", "truncation_scale"]
