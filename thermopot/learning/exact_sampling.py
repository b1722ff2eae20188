"""Exact samples from a Boltzmann distribution by inverse-CDF over the table of all 2^N states.

P(i) = exp(-E(i)/T) / Z. The log-weights -E(i)/T of all states are computed in blocks, shifted by their
maximum (so nothing overflows), exponentiated and accumulated into a cumulative sum c; a uniform
u in [0, c_last) picks the state i with c_{i-1} <= u < c_i. Independent draws, exact up to float64
rounding of the table, at 16 bytes per state (refused by the size guard beyond that).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import default_block_size, get_namespace, to_numpy
from ..errors import ThermopotError
from ..checks import check_rng, check_temperature
from ..exact import check_size
from ..models import Model, resolve_model
from ..states import index_to_spins, state_blocks


def boltzmann_log_weights(model: Model, T: float = 1.0, *, backend: Any = None) -> np.ndarray:
    """-E(i)/T for every state index i, shape (2^N,) (NumPy)."""
    xp = get_namespace(backend)
    check_size(model.n, xp, per_state_bytes=16.0, what="the exact Boltzmann table")
    block = max(1, default_block_size(xp) // model.n)
    return np.concatenate([to_numpy(model.energy(s)) for _, s in state_blocks(model.n, block, xp)]) / -T


def sample_exact(model: Model | str, size: int, *, T: float = 1.0, seed: Any = None,
                 backend: Any = None) -> np.ndarray:
    """``size`` independent exact samples (size, N) int8 of +-1 from exp(-E(s)/T) / Z."""
    model = resolve_model(model)
    T = check_temperature(T)
    if int(size) != size or size < 0:
        raise ThermopotError(f"size must be an integer >= 0, got {size!r}")
    log_w = boltzmann_log_weights(model, T, backend=backend)
    cdf = np.cumsum(np.exp(log_w - log_w.max()))
    u = check_rng(seed).random(int(size)) * cdf[-1]
    index = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    return index_to_spins(index.astype(np.int64), model.n, dtype=np.int8)
