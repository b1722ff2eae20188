"""Mean-field (nMF) and TAP minima of a model at T, matched to a list of bound states, for any N.

The minima of the approximate free energy (``method`` "nmf", "tap2", ...; :func:`thermopot.solvers.find_minima`)
are found from random starts or from given starts, e.g. the distinct training patterns xi_mu pulled into the
open cube, m0 = ``scale`` xi_mu (:func:`pattern_starts`). Each minimum m is matched to the bound state
(single-flip-stable state) s_a equal to sign(m); it is unmatched (row -1) when some m_k = 0 or sign(m) is
none of the states. Every minimum also gets the state of largest overlap q_a = m . s_a / N (``nearest``, the
matched state when there is one: sign(m) maximises m . s over all +-1 vectors) and the Hamming distance
d = (N - sign(m) . s_a) / 2 from sign(m) to it (0 exactly when matched). States are compared by their
packed bits, so N is not limited by enumeration; the exact library (:mod:`.library`) matches its TAP minima
to the landscape minima with the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..errors import ThermopotError
from ..models import Model
from ..results import Result
from ..solvers import find_minima
from ..states import state_rows

__all__ = ["MatchedMinima", "matched_minima", "pattern_starts", "START_SCALE"]

#: the patterns' starting magnetisation m0 = START_SCALE xi (strictly inside (-1, 1))
START_SCALE = 0.9


@dataclass(frozen=True)
class MatchedMinima(Result):
    """The I minima of ``method`` at ``T`` found from ``starts`` starts: ``m`` (I, N), ``free_energies``,
    ``plefka_valid``, ``match`` (row of the bound state equal to sign(m), -1 if none), ``nearest`` (row of
    largest overlap, -1 without states), ``overlap`` (m . s_nearest / N) and ``distance`` (Hamming distance
    from sign(m) to the nearest state)."""

    method: str
    T: float
    starts: int
    m: np.ndarray
    free_energies: np.ndarray
    plefka_valid: np.ndarray
    match: np.ndarray
    nearest: np.ndarray
    overlap: np.ndarray
    distance: np.ndarray

    @property
    def count(self) -> int:
        """Number of minima found."""
        return int(len(self.match))

    @property
    def matched(self) -> int:
        """Minima whose sign(m) is one of the bound states."""
        return int((self.match >= 0).sum())

    @property
    def unmatched(self) -> np.ndarray:
        """Rows of the minima that match no bound state."""
        return np.flatnonzero(self.match < 0)

    def rows(self) -> list[dict]:
        """One entry per minimum: m, free_energy, plefka_valid, match, nearest, overlap, distance."""
        return [{"m": self.m[i], "free_energy": self.free_energies[i], "plefka_valid": self.plefka_valid[i],
                 "match": self.match[i], "nearest": self.nearest[i], "overlap": self.overlap[i],
                 "distance": self.distance[i]} for i in range(self.count)]

    def to_dict(self) -> dict:
        """method, T, starts, count, matched, unmatched (rows) and the minima (:meth:`rows`)."""
        return self._json({"method": self.method, "T": self.T, "starts": self.starts, "count": self.count,
                           "matched": self.matched, "unmatched": self.unmatched, "minima": self.rows()})


def pattern_starts(patterns: Any, scale: float = START_SCALE) -> np.ndarray:
    """Starting magnetisations m0 = scale xi (K, N) of the +-1 patterns (K, N), 0 < scale < 1."""
    if not 0 < scale < 1:
        raise ThermopotError(f"the start scale must lie in (0, 1), got {scale!r}")
    return scale * np.asarray(to_numpy(patterns), dtype=np.float64)


def matched_minima(model: Model, T: float, *, states: Any, method: str = "tap2", starts: int = 256,
                   init: Any = None, seed: Any = None, backend: Any = None,
                   max_seconds: float | None = None) -> MatchedMinima:
    """The minima of ``method`` at ``T`` from ``starts`` random starts (``seed``) or from the rows of
    ``init``, matched to the bound ``states`` (K, N) of +-1 (module docstring); ``max_seconds`` goes to
    the size guard of :func:`~thermopot.solvers.find_minima`."""
    found = find_minima(model, T, method=method, starts=starts, init=init, seed=seed, backend=backend,
                        max_seconds=max_seconds)
    rows = np.flatnonzero(found.is_minimum)
    m = np.asarray(to_numpy(found.points))[rows]
    states = np.asarray(to_numpy(states)).reshape(-1, model.n)
    signs = np.where(m > 0, 1, -1).astype(np.int8)
    match = np.where((m != 0).all(axis=1), state_rows(signs, states), -1)
    if len(states):
        overlap = m @ states.T.astype(np.float64) / model.n
        nearest = overlap.argmax(axis=1)
        distance = (model.n - np.einsum("ik,ik->i", signs.astype(np.int64), states[nearest].astype(np.int64))) // 2
        best = overlap[np.arange(len(m)), nearest]
    else:  # no bound states: every minimum unmatched, with no nearest state
        nearest = distance = np.full(len(m), -1, dtype=np.int64)
        best = np.zeros(len(m))
    return MatchedMinima(method=method, T=float(T), starts=int(found.starts),
                         m=m, free_energies=np.asarray(to_numpy(found.free_energy))[rows],
                         plefka_valid=np.asarray(to_numpy(found.plefka_valid))[rows], match=match, nearest=nearest,
                         overlap=best, distance=distance)
