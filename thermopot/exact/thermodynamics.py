"""Exact thermodynamics by enumeration of all 2^N states (theory.md section 1).

    log Z = log sum_s exp(-beta E(s)),  F = -T log Z,  U = <E>,  S = beta (U - F),
    C = beta^2 (<E^2> - <E>^2),  m_k = <s_k>,  <s_k s_l>,  chi_kl = <s_k s_l> - m_k m_l.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_temperature
from ..backend import (backend_name, blas_threads, get_namespace, resolve_block_size, synchronize, to_float,
                       to_numpy)
from ..models import Model, resolve_model
from ..progress import progress_bar, shows_progress
from .accumulate import TileStats, stream_stats
from .guard import check_size
from .tiles import HalfSplitEnergy

#: enumerations up to this N run their (small) tile products on one BLAS thread: faster on any core count
SINGLE_THREAD_MAX_N = 22
@dataclass(frozen=True)
class Thermo:
    """Exact equilibrium quantities at temperature T (NumPy arrays)."""

    n: int
    T: float
    log_z: float
    free_energy: float
    energy: float
    entropy: float
    heat_capacity: float
    magnetization: np.ndarray
    correlation: np.ndarray
    observables: dict = field(default_factory=dict)
    backend: str = "numpy"
    seconds: float = 0.0

    @property
    def connected(self) -> np.ndarray:
        """Connected correlations chi_kl = <s_k s_l> - m_k m_l (the susceptibility times T)."""
        return self.correlation - np.outer(self.magnetization, self.magnetization)

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot enumerate`)."""
        return {"n": self.n, "T": self.T, "log_z": self.log_z, "free_energy": self.free_energy,
                "energy": self.energy, "entropy": self.entropy, "heat_capacity": self.heat_capacity,
                "magnetization": self.magnetization.tolist(), "correlation": self.correlation.tolist(),
                "observables": {k: np.asarray(v).tolist() for k, v in self.observables.items()},
                "backend": self.backend, "seconds": self.seconds}


def enumerate_stats(model: Model, T: float, *, backend: Any = None, block_size: int | None = None,
                    moments: bool = True, observables: list[Callable] | None = None,
                    progress: bool | None = None, max_seconds: float | None = None,
                    ) -> tuple[TileStats, Any]:
    """Stream all states of ``model`` at temperature T: (merged TileStats on the device, xp)."""
    xp = get_namespace(backend)
    block = resolve_block_size(block_size, xp)
    if observables:
        block = max(1, block // model.n)
    _, seconds = check_size(model.n, xp, block_size=block, max_seconds=max_seconds)
    split = HalfSplitEnergy(model, xp)
    ta, tb = split.tile_shape(block)
    tiles = 2**model.n // (ta * tb)  # a bar when asked, or when the job is estimated to be long
    wrap = ((lambda it: progress_bar(tiles, unit="tile", desc=f"enumerate N={model.n}", iterable=it))
            if shows_progress(progress, seconds) else None)

    with blas_threads(1 if model.n <= SINGLE_THREAD_MAX_N else None, xp):
        stats = stream_stats(split, 1.0 / T, block, moments=moments, observables=observables, progress=wrap)
    return stats, xp


def thermodynamics(model: Model | str, T: float, *, backend: Any = None, block_size: int | None = None,
                   observables: dict[str, Callable] | None = None, progress: bool | None = None,
                   max_seconds: float | None = None) -> Thermo:
    """Exact thermodynamics of ``model`` (a model, a .npz path or a generator spec) at temperature T.

    Streams the 2^N states in tiles of at most ``block_size`` elements (memory bounded), with
    log-sum-exp throughout. Cost: 2^N exponentials plus O(N/2) flops per state for a pairwise model.
    ``observables`` maps names to functions of a (B, N) array of spins returning (B,) or (B, k) values;
    their Boltzmann means are returned in ``.observables``. Raises SizeError for a job that cannot fit.
    """
    model = resolve_model(model)
    T = check_temperature(T)
    names = list(observables or {})
    start = time.perf_counter()
    stats, xp = enumerate_stats(model, T, backend=backend, block_size=block_size,
                                observables=[observables[k] for k in names], progress=progress,
                                max_seconds=max_seconds)
    synchronize(xp)
    beta = 1.0 / T
    log_z, energy = to_float(stats.log_z), to_float(stats.energy)
    corr = to_numpy(stats.correlation).copy()
    np.fill_diagonal(corr, 1.0)
    return Thermo(n=model.n, T=T, log_z=log_z, free_energy=-T * log_z, energy=energy,
                  entropy=log_z + beta * energy, heat_capacity=beta * beta * to_float(stats.energy_var),
                  magnetization=to_numpy(stats.magnetization), correlation=corr,
                  observables={k: to_numpy(v) for k, v in zip(names, stats.observables)},
                  backend=backend_name(xp), seconds=time.perf_counter() - start)
