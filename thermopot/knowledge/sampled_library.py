"""The library of bound states without enumeration: zero-temperature descent, tempering occupancies and
per-basin free energies with error bars, for any N.

The bound states are the single-flip-stable states reached by steepest descent
(:func:`thermopot.sampling.descent.descend`, the basins of :mod:`thermopot.landscape`) from

- every distinct training pattern (a pattern that is itself stable is a represented training pattern;
  one that descends elsewhere ends in a false state or in another pattern's basin), and
- the samples of a parallel-tempering run at the model's temperature T (every recorded sweep, every
  column), which finds the basins that carry Boltzmann weight whether or not a pattern leads there.

The basin occupancy P_a is the fraction of the T-level samples that descend to state a, one estimate per
tempering column (the columns are independent replicas) and the mean over them with its standard error.
The same run gives log Z by thermodynamic integration over its ladder
(:func:`thermopot.sampling.free_energy.ladder_log_z`: the columns' spread and the ladder's quadrature
error in its standard error), so that the per-basin free energy is

    F_a = -T log Z_a = -T (log Z + log P_a),   se(F_a) = T sqrt(se(log Z)^2 + (se(P_a) / P_a)^2)

(a basin seen in no sample has P_a = 0 and F_a = +inf). With enumeration these are the exact F_a of
:func:`thermopot.landscape.local_minima` (``T=``); the validation compares the two.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import get_namespace
from ..checks import check_count, check_temperature
from ..datasets.dataset import Dataset, as_dataset
from ..errors import ThermopotError
from ..models import Model, resolve_model
from ..results import Result
from ..sampling.blocks import count_rows, sweep_blocks
from ..sampling.descent import descend
from ..sampling.free_energy import default_T_max, ladder_log_z
from ..sampling.tempering import ParallelTempering, tempering_burn_in
from ..states import state_keys, state_rows

__all__ = ["SampledBoundStates", "sampled_bound_states"]


@dataclass(frozen=True)
class SampledBoundStates(Result):
    """Bound states (K, N) int8 sorted by free energy, with ``energies``, ``weight`` (P_a) and
    ``weight_stderr``, ``free_energy`` and ``free_energy_stderr``, ``training`` (the state is a training
    pattern), ``nearest_pattern_distance`` (Hamming distance to the closest pattern), ``from_patterns``
    (reached by descent from a pattern); ``log_z`` and ``log_z_stderr`` at ``T``."""

    states: np.ndarray
    energies: np.ndarray
    weight: np.ndarray
    weight_stderr: np.ndarray
    free_energy: np.ndarray
    free_energy_stderr: np.ndarray
    training: np.ndarray
    nearest_pattern_distance: np.ndarray
    from_patterns: np.ndarray
    log_z: float
    log_z_stderr: float
    T: float
    chains: int
    sweeps: int
    seconds: float
    swap_rate: np.ndarray | None = None
    ladder: np.ndarray | None = None
    _null_nonfinite = True  # to_dict: the free energies of unseen basins as None

    def to_dict(self) -> dict:
        """``bound_states`` as a list of {state, energy, free_energy, free_energy_stderr, weight, weight_stderr,
        training, nearest_pattern_distance} (free energies of unseen basins as None), plus log_z, log_z_stderr."""
        states = [{"state": self.states[a], "energy": self.energies[a],
                   "free_energy": self.free_energy[a], "free_energy_stderr": self.free_energy_stderr[a],
                   "weight": self.weight[a], "weight_stderr": self.weight_stderr[a], "training": self.training[a],
                   "nearest_pattern_distance": self.nearest_pattern_distance[a]} for a in range(len(self.energies))]
        return self._json({"bound_states": states, "log_z": self.log_z, "log_z_stderr": self.log_z_stderr,
                           "T": self.T, "chains": self.chains, "sweeps": self.sweeps, "seconds": self.seconds,
                           "swap_rate": self.swap_rate, "ladder": self.ladder})


class _Library:
    """Stable states found so far (rows numbered in the order of first appearance), with per-column sample
    counts."""

    def __init__(self, n: int, columns: int):
        self.states = np.zeros((0, n), dtype=np.int8)
        self.energies = np.zeros(0)
        self.counts = np.zeros((columns, 0), dtype=np.int64)

    def rows(self, states: np.ndarray, energies: np.ndarray) -> np.ndarray:
        """The library row of each state (M, N), adding the new ones in the order they first appear."""
        keys = state_keys(states)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        known = state_rows(states[first], self.states)
        new = np.flatnonzero(known < 0)
        new = new[np.argsort(first[new], kind="stable")]
        known[new] = len(self.states) + np.arange(new.size)
        self.states = np.concatenate([self.states, states[first[new]].astype(np.int8)])
        self.energies = np.concatenate([self.energies, np.asarray(energies, dtype=np.float64)[first[new]]])
        if self.counts.shape[1] < len(self.states):
            grown = np.zeros((self.counts.shape[0], len(self.states)), dtype=np.int64)
            grown[:, :self.counts.shape[1]] = self.counts
            self.counts = grown
        return known[inverse.reshape(-1)]


def sampled_bound_states(model: Model | str, data: Dataset | Any, T: float = 1.0, *, temperatures: int = 16,
                         T_max: float | None = None, chains: int = 16, sweeps: int = 2000, seed: Any = 0,
                         compiled_kernel: bool | None = None, backend: Any = None) -> SampledBoundStates:
    """Bound states of ``model`` at temperature ``T`` from the training ``data`` and a tempering run of
    ``chains`` columns on a ladder of ``temperatures`` from T to ``T_max`` (see the module docstring)."""
    t0 = time.perf_counter()
    model = resolve_model(model)
    data = as_dataset(data)
    if data.n != model.n:
        raise ThermopotError(f"data have N = {data.n} spins, the model N = {model.n}")
    T = check_temperature(T)
    sweeps = check_count(sweeps, "sweeps", 2)
    xp = get_namespace(backend)
    patterns = data.unique().samples.astype(np.int8)
    library = _Library(model.n, chains)
    from_patterns = descend(model, patterns, backend=xp)
    pattern_rows = library.rows(from_patterns.states, from_patterns.energies)
    top = default_T_max(model, T) if T_max is None else check_temperature(T_max)
    pt = ParallelTempering(model, np.geomspace(T, top, check_count(temperatures, "temperatures", 2)),
                           chains=chains, seed=seed, compiled_kernel=compiled_kernel, backend=xp)
    tempering_burn_in(pt, None, sweeps=sweeps)  # the burn-in rule (sampling.burn_in)

    def record(block: np.ndarray) -> None:  # (w, B, N): the T-level states of w sweeps
        landed = descend(model, block.reshape(-1, model.n), backend=xp)
        rows = library.rows(landed.states, landed.energies)  # first: it may grow library.counts
        count_rows(library.counts, rows)

    with sweep_blocks(record, chains=chains, n=model.n, sweeps=sweeps) as observe:
        pt.run(sweeps, progress=False, observe=lambda energies, cold: observe(cold))
    swap_rate = pt.swap_rates(warn=True)
    log_z, log_z_se, _ = ladder_log_z(pt)
    p = library.counts / sweeps
    weight, weight_se = p.mean(axis=0), p.std(axis=0, ddof=1) / math.sqrt(chains)
    with np.errstate(divide="ignore", invalid="ignore"):
        free = np.where(weight > 0, -T * (log_z + np.log(weight)), np.inf)
        free_se = np.where(weight > 0, T * np.sqrt(log_z_se**2 + (weight_se / weight) ** 2), np.inf)
    states = library.states
    distance = (model.n - states.astype(np.int64) @ patterns.T.astype(np.int64)) // 2
    order = np.lexsort((library.energies, free))
    found = np.zeros(len(states), dtype=bool)
    found[pattern_rows] = True
    return SampledBoundStates(
        states=states[order], energies=library.energies[order], weight=weight[order],
        weight_stderr=weight_se[order], free_energy=free[order], free_energy_stderr=free_se[order],
        training=(distance.min(axis=1) == 0)[order], nearest_pattern_distance=distance.min(axis=1)[order],
        from_patterns=found[order], log_z=log_z, log_z_stderr=log_z_se, T=T, chains=chains, sweeps=sweeps,
        seconds=time.perf_counter() - t0, swap_rate=swap_rate, ladder=pt.temperatures.copy())
