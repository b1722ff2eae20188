"""Chains at temperatures of their own: the engine under parallel tempering (:mod:`.tempering`),
annealed importance sampling (:mod:`.free_energy`) and persistent contrastive divergence
(:mod:`thermopot.learning.pcd`).

C chains of single-spin updates (heat bath or Metropolis, sequential or random scan) where chain c
runs at temperature T_c. As the sampler (:mod:`.chains`), the engine is a configuration plus a state:
:class:`Ensemble` is frozen (model, method, scan, kernel), :class:`EnsembleState` holds the chains
(spins, kernel bookkeeping, accepted flips, the temperature of each chain, the seed and the sweeps
done), and

    state = ensemble.init(states, seed=seed, temperatures=T)     # T: (C,)
    state = ensemble.run(state.at(T_new), sweeps)               # a new state; the given one is left as it was
    E = ensemble.energies(state)

A learning step that changes the couplings is a new configuration, ``ensemble.with_model(model)``,
whose ``adopt(state)`` recomputes the state's bookkeeping for the new model (the chains keep their spins).

Sweeps use the compiled CPU kernel (:mod:`.compiled`) on NumPy when numba is installed, else the
array path's kernels (:mod:`.kernels`) with per-chain flip thresholds r_c(u) = T_c log((1 - u) / u)
(heat bath) or -T_c log u (Metropolis); both draw the counter-based Philox numbers of :mod:`.philox`
keyed by the state's seed, with the sweeps done as the counter, so they give the same chains. The
bookkeeping is recomputed from the spins every REFRESH_SWEEPS sweeps (counted by the state).

Algorithms that act between every two sweeps (the swaps of parallel tempering, the weights of AIS)
work, within one call of theirs, on the working copy :meth:`Ensemble.work` returns: it holds copies of
a state's arrays, sweeps them in place and hands them to a new state at the end (the same split as
``Sampler.run`` and its working copy), so a state is never changed after it is made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, partial
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray, backend_name, get_namespace, to_numpy
from ..checks import check_choice, check_count
from ..errors import ThermopotError
from ..models import Model, PairwiseModel, resolve_model
from . import budget, checkpoint, compiled
from .kernels import METHODS, REFRESH_SWEEPS, SCANS, flip_thresholds, make_kernel
from .philox import philox_key, sweep_numbers
from .state import SpinArrays

__all__ = ["Ensemble", "EnsembleState", "EnsembleWork"]


@dataclass(frozen=True, eq=False)
class EnsembleState(SpinArrays):
    """The chains of an :class:`Ensemble` at one moment (module docstring); made by ``Ensemble.init``,
    advanced by ``Ensemble.run(state, sweeps)`` into a new state.

    ``s`` (C, N) spins, ``cache`` the kernel bookkeeping (local fields (C, N) or Walsh products (C, K))
    and ``flips`` (C,) the accepted flips per chain are on the backend and must not be changed in place
    (``spins`` gives a NumPy copy); ``temperatures`` (C,)
    float64: the temperature of each chain for the next sweeps; ``seed``: the integer the Philox numbers
    derive from; ``sweeps_done``: sweeps run (the Philox counter); ``model``: the model the bookkeeping
    belongs to."""

    s: Any
    cache: Any
    flips: Any
    temperatures: np.ndarray
    seed: int
    model: Model
    sweeps_done: int = 0

    def at(self, temperatures: Any) -> "EnsembleState":
        """This state with the chains at ``temperatures`` (C,) (positive and finite) for the next sweeps."""
        t = np.array(temperatures, dtype=np.float64).reshape(-1)
        if t.shape != (self.chains,) or not np.all(np.isfinite(t) & (t > 0)):
            raise ThermopotError(f"temperatures must be {self.chains} positive finite numbers (one per chain), "
                                 f"got shape {np.shape(temperatures)}")
        return replace(self, temperatures=t)

    def __repr__(self) -> str:
        return f"EnsembleState(chains={self.chains}, n={self.n}, seed={self.seed}, sweeps_done={self.sweeps_done})"


class EnsembleWork:
    """The working copy that :meth:`Ensemble.run` (and, within one call, tempering and AIS) changes in
    place: copies of a state's spins, bookkeeping and flip counts on the ensemble's kernel for the
    state's chain count. :meth:`state` hands them to a new :class:`EnsembleState` (run no further
    after it)."""

    def __init__(self, ensemble: "Ensemble", state: EnsembleState):
        if not ensemble.owns(state):
            raise ThermopotError("this state belongs to another model (its bookkeeping does not fit this ensemble; "
                                 "use ensemble.adopt(state))")
        xp = ensemble.xp
        self.ensemble, self.seed, self.sweeps_done = ensemble, state.seed, state.sweeps_done
        self.s = xp.asarray(state.s, dtype=xp.float64, copy=True)
        self.kernel = kernel = ensemble.kernel(state.chains)
        kernel.load_cache(xp.asarray(state.cache, copy=True))
        kernel.flips = xp.asarray(state.flips, copy=True)
        self.key = kernel.key = philox_key(state.seed)
        self.set_temperatures(state.temperatures)

    def set_temperatures(self, temperatures: np.ndarray) -> None:
        """Temperatures (C,) of the chains for the next sweeps."""
        self.temperatures = np.array(temperatures, dtype=np.float64)
        if self.ensemble.compiled:
            self.kernel.temperatures[:] = self.temperatures
        else:
            self._thresholds_T = self.ensemble.xp.asarray(self.temperatures)[None, :]

    def sweep(self, sweeps: int = 1) -> None:
        """``sweeps`` sweeps of every chain at its temperature (the compiled kernel runs them up to the
        next refresh of the bookkeeping in one call)."""
        ensemble, kernel = self.ensemble, self.kernel
        done = 0
        while done < sweeps:
            if ensemble.compiled:
                chunk = min(sweeps - done, REFRESH_SWEEPS - self.sweeps_done % REFRESH_SWEEPS)
                kernel.advance(self.s, chunk, self.sweeps_done)
            else:
                chunk = 1
                u, sites = sweep_numbers(self.key, self.sweeps_done, ensemble.model.n, int(self.s.shape[0]),
                                         ensemble.xp, ensemble.scan == "random")
                kernel.sweep(self.s, flip_thresholds(ensemble.method, u, self._thresholds_T, ensemble.xp), sites,
                             None)
            done += chunk
            self.sweeps_done += chunk
            if self.sweeps_done % REFRESH_SWEEPS == 0:
                kernel.refresh(self.s)

    def energies(self) -> Any:
        """Energies (C,) of the current spins, on the backend."""
        return self.kernel.energy(self.s)

    def state(self) -> EnsembleState:
        """The chains as they are now, as a state (sharing this copy's arrays)."""
        return EnsembleState(s=self.s, cache=self.kernel.cache(), flips=self.kernel.flips,
                             temperatures=self.temperatures, seed=self.seed, model=self.ensemble.model,
                             sweeps_done=self.sweeps_done)


@dataclass(eq=False, init=False, repr=False)
class Ensemble:
    """The configuration of C chains of single-spin sweeps at temperatures of their own: frozen, with the
    chains themselves in an :class:`EnsembleState` (module docstring).

    ``method``: "heat-bath" or "metropolis"; ``scan``: "sequential" or "random"; ``compiled_kernel``:
    use the compiled CPU kernel (None: on NumPy when numba is installed). The ensemble keeps one update
    kernel per chain count and loads a state's bookkeeping into it at each run (a cache of buffers,
    not of chains), so one Ensemble runs one state at a time."""

    model: Model
    method: str
    scan: str
    compiled: bool
    xp: ModuleType

    def __init__(self, model: Model | str, *, method: str = "heat-bath", scan: str = "sequential",
                 compiled_kernel: bool | None = None, backend: Any = None):
        put = partial(object.__setattr__, self)
        put("_kernels", {})
        put("model", resolve_model(model))
        put("method", check_choice(method, "method", METHODS))
        put("scan", check_choice(scan, "scan", SCANS))
        put("xp", get_namespace(backend))
        on_numpy = backend_name(self.xp) == "numpy"
        use = on_numpy and compiled.available() if compiled_kernel is None else bool(compiled_kernel)
        if use and not on_numpy:
            raise ThermopotError("the compiled CPU kernel runs on NumPy only")
        if use and not compiled.available():
            raise ThermopotError("compiled_kernel=True needs numba (pip install 'thermopot[fast]')")
        put("compiled", use)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to {name!r}: an Ensemble is frozen (use with_model for new couplings)")

    def __repr__(self) -> str:
        return (f"Ensemble(n={self.model.n}, method={self.method!r}, scan={self.scan!r}, "
                f"compiled={self.compiled})")

    @cached_property
    def model_sha256(self) -> str:
        """SHA-256 of the model's arrays."""
        return checkpoint.model_digest(self.model)

    def owns(self, state: EnsembleState) -> bool:
        """Whether the bookkeeping of ``state`` belongs to this ensemble's model: the same model object,
        or one with the same arrays (SHA-256)."""
        return state.model is self.model or (state.n == self.model.n
                                             and checkpoint.model_digest(state.model) == self.model_sha256)

    def kernel(self, chains: int, s: Any = None) -> Any:
        """The cached update kernel for ``chains`` chains (made for the spins ``s`` when there is none yet;
        a run replaces its bookkeeping)."""
        if chains not in self._kernels:
            s = self.xp.ones((chains, self.model.n), dtype=self.xp.float64) if s is None else s
            self._kernels[chains] = (compiled.compiled_kernel(self.model, s, self.xp, T=1.0, method=self.method,
                                                              scan=self.scan, key=philox_key(0))
                                     if self.compiled else make_kernel(self.model, s, self.xp))
        return self._kernels[chains]

    def _bookkeeping(self, s: Any) -> Any:
        """The kernel bookkeeping of the spins s (C, N) under this ensemble's model (a new kernel computes
        it when made; a cached one recomputes it)."""
        chains = int(s.shape[0])
        if chains in self._kernels:
            self._kernels[chains].refresh(s)
        return self.kernel(chains, s).cache()

    def init(self, states: Any, *, seed: int, temperatures: Any = None) -> EnsembleState:
        """The state of chains started at ``states`` (C, N) of +-1, at ``temperatures`` (C,) (default 1),
        with Philox numbers keyed by ``seed``. Refuses (SizeError) chains that would not fit in memory."""
        budget.check_run(self.model, int(states.shape[0]), self.xp)  # memory only: the caller knows the sweeps
        s = asarray(np.array(to_numpy(states), dtype=np.float64, order="C"), self.xp)  # a copy, row-major
        chains = int(s.shape[0])
        state = EnsembleState(s=s, cache=self._bookkeeping(s), flips=self.xp.zeros(chains, dtype=self.xp.int64),
                              temperatures=np.ones(chains), seed=int(seed), model=self.model)
        return state if temperatures is None else state.at(temperatures)

    def with_model(self, model: Model) -> "Ensemble":
        """This configuration for another model of the same size (new couplings after a learning step);
        a state continues under it after :meth:`adopt`."""
        model = resolve_model(model)
        if model.n != self.model.n:
            raise ThermopotError(f"the new model has N = {model.n} spins, this ensemble's N = {self.model.n}")
        new = Ensemble(model, method=self.method, scan=self.scan, compiled_kernel=self.compiled, backend=self.xp)
        if isinstance(model, PairwiseModel) and isinstance(self.model, PairwiseModel):
            # the cached kernels (buffers) move to the new configuration with its couplings; this one
            # makes new ones from its own model if it runs again (what a learning step costs: a copy of
            # h and J, no new kernel)
            for kernel in self._kernels.values():
                kernel.load_couplings(model)
            new._kernels.update(self._kernels)
            self._kernels.clear()
        return new

    def adopt(self, state: EnsembleState) -> EnsembleState:
        """``state`` (of this ensemble's size, maybe of another model) with its bookkeeping recomputed for
        this ensemble's model: the chains keep their spins, temperatures, seed and sweeps done."""
        if state.n != self.model.n:
            raise ThermopotError(f"the state has N = {state.n} spins, this ensemble's model N = {self.model.n}")
        return replace(state, cache=self._bookkeeping(state.s), model=self.model)

    def work(self, state: EnsembleState) -> EnsembleWork:
        """A working copy of ``state`` for an algorithm that acts between sweeps within one call (see the
        module docstring): ``sweep()``, ``set_temperatures(T)``, ``energies()``, then ``state()``. It
        sweeps on the ensemble's cached kernel, so use one working copy (or run) at a time."""
        return EnsembleWork(self, state)

    def run(self, state: EnsembleState, sweeps: int = 1) -> EnsembleState:
        """``sweeps`` sweeps of the chains of ``state`` at its temperatures; returns the new state and
        leaves ``state`` as it was."""
        work = EnsembleWork(self, state)
        work.sweep(check_count(sweeps, "sweeps", 0))
        return work.state()

    def energies(self, state: EnsembleState) -> Any:
        """Energies (C,) of the chains of ``state``, on the backend (from its bookkeeping)."""
        kernel = self.kernel(state.chains)
        kernel.load_cache(state.cache)
        return kernel.energy(state.s)
