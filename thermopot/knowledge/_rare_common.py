"""Shared pieces of the rare-pattern scan and the mixture remedy: fit options, models read at a
temperature T, exact log-probabilities and exact samples of (mixtures of) fitted models.

A model fitted at T = 1 with energy E(s) read at temperature T is the model with energy E(s) / T, i.e.
(h / T, J / T) at T = 1; a mixture read at T is P_T(s) = sum_k W_k exp(-E_k(s)/T) / Z_k(T). One code path
(:class:`thermopot.learning.Mixture`) serves a single model (K = 1) and a mixture.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..learning import Mixture
from ..models import PairwiseModel
from ..states import spins_to_index


def at_temperature(models: Sequence[PairwiseModel], weights: Any, T: float, backend: Any = None) -> Mixture:
    """The mixture sum_k W_k exp(-E_k/T) / Z_k(T) as a T = 1 Mixture of the models (h_k / T, J_k / T),
    with exact log Z_k by enumeration."""
    scaled = [PairwiseModel(m.h / T, m.J / T, m.meta) for m in models]
    return Mixture.from_models(scaled, weights, backend=backend)


def hit_fraction(samples: np.ndarray, states: np.ndarray) -> tuple[float, np.ndarray]:
    """(fraction of the samples that equal one of ``states``, boolean (len(states),): which states
    appear at least once among the samples)."""
    drawn = spins_to_index(samples)
    wanted = spins_to_index(states)
    hits = np.isin(drawn, wanted)
    return float(hits.mean()) if len(drawn) else 0.0, np.isin(wanted, drawn)
