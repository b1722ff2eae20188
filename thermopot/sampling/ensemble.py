"""Chains at temperatures of their own: the engine under parallel tempering (:mod:`.tempering`) and
annealed importance sampling (:mod:`.free_energy`).

C chains of single-spin updates (heat bath or Metropolis, sequential or random scan) where chain c
runs at temperature T_c, set between sweeps. Sweeps use the compiled CPU kernel (:mod:`.compiled`) on
NumPy when numba is installed, else the array path's kernels (:mod:`.kernels`) with per-chain flip
thresholds r_c(u) = T_c log((1 - u) / u) (heat bath) or -T_c log u (Metropolis); both draw the
counter-based Philox numbers of :mod:`.philox` keyed by the seed, so they give the same chains.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray, backend_name
from ..errors import ThermopotError
from ..models import Model, PairwiseModel
from . import compiled
from . import budget
from .kernels import REFRESH_SWEEPS, flip_thresholds, make_kernel
from .philox import philox_key, sweep_numbers


class Ensemble:
    """``states`` (C, N) of +-1 run by single-spin sweeps, chain c at ``temperatures[c]``.

    ``compiled_kernel``: use the compiled CPU kernel (None: on NumPy when numba is installed)."""

    def __init__(self, model: Model, states: Any, xp: ModuleType, *, method: str, scan: str, seed: int,
                 compiled_kernel: bool | None = None):
        self.model, self.xp, self.method, self.scan = model, xp, method, scan
        budget.check_run(model, int(states.shape[0]), xp)  # memory only: the caller knows the sweeps
        self.s = asarray(states, xp)
        self.key = philox_key(seed)
        on_numpy = backend_name(xp) == "numpy"
        use = on_numpy and compiled.available() if compiled_kernel is None else bool(compiled_kernel)
        if use and not on_numpy:
            raise ThermopotError("the compiled CPU kernel runs on NumPy only")
        if use and not compiled.available():
            raise ThermopotError("compiled_kernel=True needs numba (pip install 'thermopot[fast]')")
        self.kernel = (compiled.compiled_kernel(model, self.s, xp, T=1.0, method=method, scan=scan, key=self.key)
                       if use else make_kernel(model, self.s, xp))
        self.compiled = use
        self.sweeps_done = 0
        self.set_temperatures(np.ones(int(states.shape[0])))

    def set_couplings(self, h: np.ndarray, J: np.ndarray) -> None:
        """New fields and couplings of a pairwise model for the next sweeps (a learning step): the
        chains keep their states, the local fields are recomputed."""
        self.model = PairwiseModel(h, J)
        self.kernel.h[...] = asarray(self.model.h, self.xp)
        self.kernel.J[...] = asarray(self.model.J, self.xp)
        self.kernel.refresh(self.s)

    def set_temperatures(self, temperatures: np.ndarray) -> None:
        """Temperatures (C,) of the chains for the next sweeps."""
        if self.compiled:
            self.kernel.temperatures[:] = temperatures
        else:
            self._thresholds_T = asarray(temperatures, self.xp)[None, :]

    def sweep(self) -> None:
        """One sweep of every chain at its temperature."""
        if self.compiled:
            self.kernel.advance(self.s, 1, self.sweeps_done)
        else:
            u, sites = sweep_numbers(self.key, self.sweeps_done, self.model.n, int(self.s.shape[0]), self.xp,
                                     self.scan == "random")
            self.kernel.sweep(self.s, flip_thresholds(self.method, u, self._thresholds_T, self.xp), sites, None)
        self.sweeps_done += 1
        if self.sweeps_done % REFRESH_SWEEPS == 0:
            self.kernel.refresh(self.s)

    def energies(self) -> Any:
        """Energies (C,) of the current states, on the backend."""
        return self.kernel.energy(self.s)
