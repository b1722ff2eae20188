"""Starts for :func:`thermopot.solvers.find_minima` that reach TAP states in the spin-glass phase.

Uniform random starts (the default of find_minima) relax by descent of the free energy; in the spin-glass
phase of SK the TAP free energy is lowest at the Plefka-invalid paramagnet m = 0 (G_2(0) = -T N log 2 -
beta N J^2 / 4, below every physical state once T < ~0.6), so nearly every start ends there. ``seeds=``
chooses starts that already lie in the basin of a state, and runs the Bolthausen iteration of :mod:`.amp`
on them first (order 2, pairwise models), which converges onto a TAP solution without descending the free
energy; the starts it does not converge are then relaxed and polished as usual.

Strategies (``SEEDS``)::

    "quench"   zero-temperature quenches: uniform random spins descended by steepest single flips to
               single-flip-stable states s (thermopot.sampling.descend), started at m = tanh(beta h^loc(s))
               with h^loc = h + J s (the T = 0 local minima, dressed with their local fields);
    "nmf"      the end points of the naive mean-field relaxation from the quenched states (the nMF
               minima: the route that found the q = 0.674 state of issue 14);
    "thermal"  the time averages of ``THERMAL_WINDOW`` sweeps of heat-bath chains at T, after
               ``THERMAL_BURN_IN`` sweeps from random spins: each chain has fallen into a valley of the
               Gibbs measure, whose magnetisations are what a TAP state describes;
    "random"   m uniform in (-1, 1): find_minima's plain starts.

:func:`state_overlap` checks a state found this way with chains started in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, to_numpy
from ..checks import check_count, check_integer, check_rng
from ..errors import ThermopotError
from ..models import Model, PairwiseModel
from ..results import Result
from ..sampling import Sampler, descend
from ..sampling.burn_in import BurnIn, mser_burn_in, resolve_burn_in
from .amp import M_MAX, bolthausen
from .newton import X_MAX, relax_batch
from .objective import free_energy_interaction

__all__ = ["SEEDS", "seed_magnetisations", "seeded_starts", "amp_starts", "quench_states", "state_overlap",
           "StateOverlap", "mser_burn_in"]

#: the seeding strategies of find_minima(seeds=...)
SEEDS = ("quench", "nmf", "thermal", "random")
#: unrecorded heat-bath sweeps before the thermal seeds are averaged
THERMAL_BURN_IN = 200
#: sweeps averaged per thermal seed
THERMAL_WINDOW = 100
#: largest |m| of a seed (strictly inside (-1, 1))
SEED_MAX = 1.0 - 1e-6


def check_seeds(seeds: str) -> str:
    if seeds not in SEEDS:
        raise ThermopotError(f"unknown seeds strategy {seeds!r}; choose one of {', '.join(SEEDS)}")
    return seeds


def quench_states(model: Model, *, starts: int, seed: Any = None, xp: Any = np) -> np.ndarray:
    """``starts`` single-flip-stable states (int8, with repeats) from uniform random spins by steepest descent
    (``seed``: None, an integer >= 0 or a numpy Generator)."""
    rng = check_rng(seed)
    spins = 1 - 2 * rng.integers(0, 2, size=(starts, model.n))
    return descend(model, spins, backend=xp).states


def seed_magnetisations(model: Model, T: float, *, seeds: str, starts: int, seed: Any = None,
                        xp: Any = np) -> np.ndarray:
    """(starts, N) magnetisations strictly inside (-1, 1) of the strategy ``seeds`` (module docstring)."""
    check_seeds(seeds)
    rng = check_rng(seed)
    if seeds == "random":
        return rng.uniform(-1.0, 1.0, size=(starts, model.n)) * SEED_MAX
    if seeds == "thermal":
        sampler = Sampler(model, T, backend=xp)
        state = sampler.run(sampler.init(chains=starts, seed=rng), THERMAL_BURN_IN, record=False, progress=False)
        total = np.zeros((starts, model.n))
        for _ in range(THERMAL_WINDOW):
            state = sampler.run(state, 1, record=False, progress=False)
            total += state.spins
        return np.clip(total / THERMAL_WINDOW, -SEED_MAX, SEED_MAX)
    s = quench_states(model, starts=starts, seed=rng, xp=xp).astype(np.float64)
    fields = s @ model.J + model.h if isinstance(model, PairwiseModel) else 0.5 * s * model.flip_energy_changes(s)
    x = np.clip(fields / T, -X_MAX, X_MAX)
    if seeds == "nmf":
        R = free_energy_interaction(model, T, 1, xp)
        x = to_numpy(relax_batch(R, asarray(x, xp), T, xp))
    return np.clip(np.tanh(x), -SEED_MAX, SEED_MAX)


def seeded_starts(model: Model, T: float, *, order: int, seeds: str, starts: int, seed: Any = None,
                  xp: Any = np) -> np.ndarray:
    """The starts find_minima(seeds=...) runs from: the seeds, each replaced by the end point of the
    Bolthausen iteration when that converged (order 2, pairwise models; :mod:`.amp`)."""
    m0 = seed_magnetisations(model, T, seeds=seeds, starts=starts, seed=seed, xp=xp)
    return amp_starts(model, T, m0=m0, order=order, xp=xp)


def amp_starts(model: Model, T: float, *, m0: np.ndarray, order: int = 2, xp: Any = np) -> np.ndarray:
    """The rows of ``m0`` (magnetisations strictly inside (-1, 1)), each replaced by the end point of the
    Bolthausen iteration when that converged (order 2, pairwise models; :mod:`.amp`): the starts of
    find_minima(seeds=...) for any seeds."""
    if order != 2 or not isinstance(model, PairwiseModel):
        return m0
    amp = bolthausen(model, T, m0=m0, damping=0.5, tol=1e-9, max_iter=500, backend=xp)
    out = np.where(amp.converged[:, None], amp.m, m0)
    return np.clip(out, -M_MAX, M_MAX)


@dataclass(frozen=True)
class StateOverlap(Result):
    """Chains started in a TAP state m: ``overlap`` (sweeps,) the mean over chains of (1/N) sum_k m_k s_k
    after each sweep (the whole series, start-up included), ``burn_in`` the sweeps discarded before the
    average, ``mean`` and ``stderr`` the average of the overlap over the remaining sweeps and the chains
    (error over the chains' time averages), ``q`` = (1/N) sum_k m_k^2 (the TAP prediction of the mean
    overlap) and ``stable``: |mean - q| <= 3 stderr."""

    overlap: np.ndarray
    burn_in: int
    mean: float
    stderr: float
    q: float
    stable: bool
    sweeps: int
    chains: int
    start: str
    T: float
    backend: str
    seconds: float
    seed: Any
    converged: bool
    message: str


def state_overlap(model: Model, T: float, *, m: Any, chains: int = 32, sweeps: int = 100, start: str = "sign",
                  burn_in: BurnIn = "mser", seed: Any = None) -> StateOverlap:
    """Run ``chains`` heat-bath chains at T for ``sweeps`` sweeps from sign(m) (``start="sign"``) or from
    spins drawn with P(s_k = 1) = (1 + m_k) / 2 (``start="sample"``) and follow their overlap with m
    (a TAP state keeps it at q within the error bar).

    A chain started at sign(m) begins at overlap (1/N) sum_k |m_k| > q and relaxes towards q over a few to
    tens of sweeps; averaging from the first sweep biases the mean upwards. ``burn_in`` sweeps are
    therefore discarded first: an integer in [0, sweeps - 1], or ``"mser"`` (the default here: this run
    keeps its whole series, so the window is chosen after it, from the chain-averaged overlap, by
    :func:`~thermopot.sampling.burn_in.resolve_burn_in` and :func:`~thermopot.sampling.burn_in.mser_burn_in`,
    at most half of the sweeps); None is the sampling default, max(sweeps // 5, 100), which must leave a
    sweep."""
    m = np.asarray(to_numpy(m), dtype=np.float64)
    if m.shape != (model.n,) or not np.isfinite(m).all() or (np.abs(m) > 1).any():
        raise ThermopotError(f"m must be a magnetisation vector of shape ({model.n},) in [-1, 1], got {m.shape}")
    if start not in ("sign", "sample"):
        raise ThermopotError(f"start must be 'sign' or 'sample', got {start!r}")
    chains, sweeps = check_count(chains, "chains", 2), check_count(sweeps, "sweeps")
    if not (isinstance(burn_in, str) and burn_in == "mser"):  # refused before the chains run
        check_integer(resolve_burn_in(burn_in, sweeps), "burn_in", 0, sweeps - 1)
    rng = check_rng(seed)
    begin = time.perf_counter()
    initial = (np.repeat(np.where(m >= 0, 1.0, -1.0)[None], chains, 0) if start == "sign"
               else np.where(rng.random((chains, model.n)) < (1 + m) / 2, 1.0, -1.0))
    sampler = Sampler(model, T)
    state = sampler.init(initial=initial, seed=rng)
    series = np.empty((sweeps, chains))
    for w in range(sweeps):
        state = sampler.run(state, 1, record=False, progress=False)
        series[w] = state.spins @ m / model.n
    overlap = series.mean(axis=1)
    skip = resolve_burn_in(burn_in, sweeps, series=overlap)
    per_chain = series[skip:].mean(axis=0)
    mean, stderr, q = float(per_chain.mean()), float(per_chain.std(ddof=1) / np.sqrt(chains)), float(np.mean(m * m))
    stable = abs(mean - q) <= 3 * stderr
    return StateOverlap(overlap=overlap, burn_in=skip, mean=mean, stderr=stderr, q=q, stable=bool(stable),
                        sweeps=sweeps, chains=chains, start=start, T=T, backend="numpy",
                        seconds=time.perf_counter() - begin, seed=None, converged=True,
                        message=f"overlap {mean:.4f} +- {stderr:.4f} against q = {q:.4f} over sweeps {skip}-{sweeps}")
