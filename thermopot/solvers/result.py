"""The one result of a multi-start minimisation: the distinct points found from many starts.

Every minimiser of thermopot that runs from many starts returns a subclass of :class:`Minima`:
find_minima (the mean-field and TAP free energies G(m): ``MeanFieldMinima``)
and the knowledge potentials (Phi(theta), G(theta) over the pairwise family, G(x) over the simplex:
``PhiMinima``, ``ReducedMinima``, ``FullMinima``). The base holds what they share, written once:

    points        (K, d)  the distinct points kept, in the objective's own coordinates (m, theta, x);
    <objective>   (K,)    the objective at each point, under the potential's own name (``objective_name``:
                          free_energy, Phi, G; ``objective`` reads it whatever the name);
    kind          (K,)    the classification of :mod:`.stationary` ("minimum", "saddle", "degenerate");
    start_point   (B,)    the row each of the B starts ended at (-1: not converged, or not kept);
    converged     (B,)    the start reached a stationary point within its budget;
    T, iterations (largest of a start), seconds, backend, seed (the integer seed, None for fresh entropy
    or a Generator), message.

Derived, never stored: ``count`` (distinct minima), ``saddles`` (the other kept points), ``starts`` (B),
``failed`` (starts not converged), ``basin_count`` (starts ending at each point) and ``basin_fraction``
(that count / B), ``is_minimum``. Iterating over a result yields one record (a dict) per point;
``result.minima()`` only the minima. ``to_dict`` writes every field and ``count`` and ``starts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import numpy as np

from ..results import Result
from .stationary import KINDS


@dataclass(frozen=True, kw_only=True)
class Minima(Result):
    """Distinct points found from many starts, with their classification and where each start ended
    (module docstring). A subclass declares the objective's field and names it in ``objective_name``,
    and lists its other per-point fields in ``per_point`` (they enter the records of ``iter(result)``)."""

    #: name of the field that holds the objective at each point (free_energy, Phi, G)
    objective_name: ClassVar[str] = ""
    #: the subclass's other per-point fields (one entry per row of ``points``), in record order
    per_point: ClassVar[tuple[str, ...]] = ()
    _derived = ("count", "starts")

    points: np.ndarray  #: (K, d) the distinct points kept
    kind: np.ndarray  #: (K,) "minimum", "saddle" or "degenerate" (thermopot.solvers.stationary.KINDS)
    start_point: np.ndarray  #: (B,) row of ``points`` each start ended at, -1 when none
    converged: np.ndarray  #: (B,) bool: the start reached a stationary point
    T: float
    iterations: int  #: largest number of iterations of a start
    seconds: float
    backend: str
    seed: int | None  #: the integer seed (None: fresh entropy, or a Generator was given)
    message: str

    @property
    def objective(self) -> np.ndarray:
        """The objective at each point: the field named by ``objective_name``."""
        return getattr(self, self.objective_name)

    @property
    def is_minimum(self) -> np.ndarray:
        """(K,) bool: the point is a minimum."""
        return np.asarray(self.kind) == KINDS[0]

    @property
    def count(self) -> int:
        """Number of distinct minima."""
        return int(np.sum(self.is_minimum))

    @property
    def saddles(self) -> int:
        """Number of distinct stationary points kept that are not minima (saddles and degenerate points)."""
        return int(np.size(self.kind)) - self.count

    @property
    def starts(self) -> int:
        """Number of starts B."""
        return int(np.size(self.converged))

    @property
    def failed(self) -> int:
        """Starts that did not converge within the iteration budget."""
        return self.starts - int(np.sum(self.converged))

    @property
    def basin_count(self) -> np.ndarray:
        """(K,) number of starts that ended at each point."""
        return np.bincount(self.start_point[self.start_point >= 0], minlength=self.points.shape[0])

    @property
    def basin_fraction(self) -> np.ndarray:
        """(K,) fraction of all B starts that ended at each point."""
        return self.basin_count / self.start_point.shape[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """One record per point: {"point", the objective's name, "kind", "basin_fraction", then the
        subclass's ``per_point`` fields (those not None)}."""
        columns = {"point": self.points, **({self.objective_name: self.objective} if self.objective_name else {}),
                   "kind": self.kind, "basin_fraction": self.basin_fraction,
                   **{name: getattr(self, name) for name in self.per_point if getattr(self, name) is not None}}
        for a in range(self.points.shape[0]):
            yield {name: column[a] for name, column in columns.items()}

    def minima(self) -> list[dict[str, Any]]:
        """The records (``iter(result)``: one dict per point) of the minima only."""
        return [record for record in self if record["kind"] == KINDS[0]]


__all__ = ["Minima"]
