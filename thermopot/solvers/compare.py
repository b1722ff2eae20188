"""Mean-field/TAP minima against the exact library of states (theory.md section 1).

The exact counterpart of a minimum of an approximate free energy is a basin a of the zero-temperature
landscape with its restricted free energy F_a = -T log sum_{s in a} exp(-E(s)/T) and magnetisation
m_a = <s>_a. A minimum i and a basin a are matched when each is the other's nearest (root-mean-square
distance d = |m_i - m_a| / sqrt(N)) and d < match_tol. Unmatched basins have no mean-field counterpart;
unmatched minima have no exact one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ThermopotError
from ..checks import check_temperature
from ..landscape import Landscape, check_landscape_size, local_minima
from ..models import Model, resolve_model
from ..results import Result
from .minima import MeanFieldMinima, find_minima


@dataclass(frozen=True)
class ExactComparison(Result):
    """Matched (minimum, basin) pairs with distance and F_i - F_a; the unmatched on either side."""

    minimum: np.ndarray
    basin: np.ndarray
    distance: np.ndarray
    free_energy_difference: np.ndarray
    unmatched_minima: np.ndarray
    unmatched_basins: np.ndarray
    minima: MeanFieldMinima
    landscape: Landscape

    def to_dict(self) -> dict:
        return self._json({"pairs": [{"minimum": i, "basin": a, "distance": d, "free_energy_difference": f}
                                     for i, a, d, f in zip(self.minimum, self.basin, self.distance,
                                                           self.free_energy_difference)],
                           "unmatched_minima": self.unmatched_minima, "unmatched_basins": self.unmatched_basins,
                           "minima": self.minima.count, "basins": self.landscape.count})


def compare_with_exact(model: Model | str, T: float, *, method: str = "tap2", minima: MeanFieldMinima | None = None,
                       landscape: Landscape | None = None, match_tol: float = 0.2, starts: int = 256,
                       seed: Any = 0, backend: Any = None, max_seconds: float | None = None) -> ExactComparison:
    """Match the minima of ``method`` at T with the strict single-flip basins of the exact landscape.

    Without ``landscape`` the exact landscape's size guard runs first, so a model too large for the
    2^N enumeration is refused (SizeError naming the memory and time) before the TAP search starts."""
    model = resolve_model(model)
    if landscape is None:
        check_landscape_size(model.n, check_temperature(T), backend, max_seconds=max_seconds)
    minima = minima or find_minima(model, T, method=method, starts=starts, seed=seed, backend=backend,
                                   max_seconds=max_seconds)
    landscape = landscape or local_minima(model, T=T, backend=backend, max_seconds=max_seconds)
    if landscape.T != minima.T or not np.isclose(minima.T, T):
        raise ThermopotError(f"minima (T = {minima.T}) and landscape (T = {landscape.T}) must both be "
                             f"computed at T = {T}: the landscape needs T for its per-basin F_a and m_a")
    rows = np.flatnonzero(minima.is_minimum)
    basins = np.flatnonzero(landscape.strict)
    m_mf, m_ex = minima.points[rows], landscape.magnetization[basins]
    dist = np.sqrt(np.mean((m_mf[:, None, :] - m_ex[None, :, :]) ** 2, axis=2)).reshape(len(rows), len(basins))
    pairs = []
    if dist.size:
        near_ex, near_mf = dist.argmin(axis=1), dist.argmin(axis=0)
        pairs = [(i, a) for i, a in enumerate(near_ex) if near_mf[a] == i and dist[i, a] < match_tol]
    i_idx = np.array([p[0] for p in pairs], dtype=np.int64)
    a_idx = np.array([p[1] for p in pairs], dtype=np.int64)
    return ExactComparison(
        minimum=rows[i_idx], basin=basins[a_idx], distance=dist[i_idx, a_idx],
        free_energy_difference=minima.free_energy[rows[i_idx]] - landscape.free_energy[basins[a_idx]],
        unmatched_minima=np.setdiff1d(rows, rows[i_idx]), unmatched_basins=np.setdiff1d(basins, basins[a_idx]),
        minima=minima, landscape=landscape)
