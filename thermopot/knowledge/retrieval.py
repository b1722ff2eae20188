"""Retrieval from the library by Gibbs sampling, trapping times, and the measured face of ergodicity
breaking (theory.md section 3).

- :func:`retrieve`: B heat-bath chains at temperature T run for a number of sweeps from random states
  (or from the patterns, the minima, or given states); each final state is assigned to a library minimum
  by steepest descent on the exact landscape (``assign="descent"``: the basin it lies in; a plateau
  basin counts apart) or to the minimum of largest overlap q_a = s.xi_a / N (``assign="overlap"``).
  Result: a histogram over the minima and the fractions ending in training patterns, spurious states and
  plateau basins.
- :func:`trapping_times`: first-passage time (single-spin updates) out of the overlap ball
  q(s) = s.s_a / N >= threshold around minimum a, against T. The exact escape barrier B_a (the lowest
  single-flip pass out of the ball, :mod:`._retrieval_barrier`) predicts log tau ~ c + B_a / T at low T
  (Arrhenius); the least-squares slope of log tau against 1/T is reported next to it.
  :func:`trapping_vs_size`: the same out of the deepest training minimum of random-pattern data against N.
- :func:`pattern_frequencies`: B independent chains; each chain's visit frequencies of the training
  patterns f_mu^(b) and their pool over the chains, compared (total variation
  TV(p, q) = (1/2) sum_mu |p_mu - q_mu|, both normalised over the patterns) with the training weights w_mu
  and with the exact Boltzmann weights p_mu = exp(-E(xi_mu)/T) / Z of the model. At high T a single chain
  converges (TV small); at low T each chain stays in one basin, so its TV to the exact weights stays large
  while the pool over random starts can still be close: ergodicity breaking as measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..backend import to_numpy
from ..checks import check_count, check_seed, check_temperature
from ..datasets import random_patterns_dataset
from ..errors import ThermopotError
from ..exact import restricted_free_energies, thermodynamics
from ..learning import as_dataset
from ..models import Model, resolve_model
from ..progress import Progress
from ..results import Result
from ..sampling import Sampler, first_passage
from ..sampling.blocks import count_rows, sweep_blocks
from ..sampling.burn_in import BurnIn
from ..sampling.chains import burn_in_state
from ..states import spins_to_index, state_rows
from ._retrieval_barrier import escape_barrier, state_energies
from .library import Library, bound_states

ASSIGN = ("descent", "overlap")
STARTS = ("random", "patterns", "minima")
#: default number of minima followed by trapping_times (the lowest-energy training minima)
DEFAULT_TRAPS = 4


@dataclass(frozen=True)
class Retrieval(Result):
    """Where B chains ended: ``final_rows`` (B,) library rows (-1: a plateau basin), ``counts`` (K,) per
    minimum, ``plateau_count``, ``pattern_counts`` (P,) chains ending in the minimum that is pattern mu,
    and the fractions of chains ending in training minima, spurious minima and plateau basins."""

    T: float
    chains: int
    sweeps: int
    seed: int
    starts: str
    assign: str
    initial_states: np.ndarray
    final_states: np.ndarray
    final_rows: np.ndarray
    counts: np.ndarray
    plateau_count: int
    pattern_counts: np.ndarray
    training_fraction: float
    spurious_fraction: float
    plateau_fraction: float
    library: Library
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready fields (the library summarised by its counts)."""
        return self._json({"T": self.T, "chains": self.chains, "sweeps": self.sweeps, "seed": self.seed,
                           "starts": self.starts, "assign": self.assign, "counts": self.counts,
                           "plateau_count": self.plateau_count, "pattern_counts": self.pattern_counts,
                           "final_rows": self.final_rows, "training_fraction": self.training_fraction,
                           "spurious_fraction": self.spurious_fraction, "plateau_fraction": self.plateau_fraction,
                           "is_training": self.library.is_training, "minima": self.library.count,
                           "seconds": self.seconds})


def _library(library_or_model: Library | Model | str, T: float, backend: Any) -> Library:
    if isinstance(library_or_model, Library):
        return library_or_model
    return bound_states(None, T=T, model=library_or_model, tap=False, backend=backend)


def _initial(library: Library, starts: Any, chains: int) -> tuple[Any, str]:
    """Initial states (None: the sampler draws uniform random states) and the name of the choice."""
    if isinstance(starts, str):
        if starts not in STARTS:
            raise ThermopotError(f"unknown starts {starts!r}; choose one of {', '.join(STARTS)} or give "
                                 "(B, N) states")
        if starts == "random":
            return None, starts
        pool = library.patterns if starts == "patterns" else library.states
        if len(pool) == 0:
            raise ThermopotError(f"starts={starts!r} needs at least one {starts[:-1]}; the library has none")
        return pool[np.arange(chains) % len(pool)].astype(np.float64), starts
    return starts, "given"


def retrieve(library_or_model: Library | Model | str, T: float, *, chains: int = 128, sweeps: int = 100,
             seed: int = 0, starts: Any = "random", assign: str = "descent",
             backend: Any = None) -> Retrieval:
    """Run ``chains`` heat-bath chains (sequential scan) for ``sweeps`` sweeps at T from ``starts``
    ("random", "patterns", "minima" cycled over the chains, or (B, N) states) and assign each final
    state to a library minimum by steepest descent (``assign="descent"``) or largest overlap
    (``"overlap"``). A model instead of a library gets a library without data (every minimum spurious)."""
    start = time.perf_counter()
    T = check_temperature(T)
    if assign not in ASSIGN:
        raise ThermopotError(f"unknown assign {assign!r}; choose one of {', '.join(ASSIGN)}")
    chains = check_count(chains, "chains")
    library = _library(library_or_model, T, backend)
    initial, start_name = _initial(library, starts, chains)
    sampler = Sampler(library.model, T, backend=backend)
    state = sampler.init(chains=chains, initial=initial, seed=check_seed(seed))
    first = state.spins.astype(np.int8)
    final = sampler.run(state, check_count(sweeps, "sweeps"), record=False).spins.astype(np.int8)
    if assign == "descent":
        rows = library.rows_of(final)
    else:
        rows = np.argmax(final.astype(np.int64) @ library.states.T.astype(np.int64), axis=1)
    counts = np.bincount(rows[rows >= 0], minlength=library.count)
    ends_training = rows[rows >= 0][library.is_training[rows[rows >= 0]]]
    pattern_counts = np.bincount(library.nearest_pattern[ends_training], minlength=len(library.patterns))
    training = int(counts[library.is_training].sum())
    plateau = int((rows < 0).sum())
    return Retrieval(T=T, chains=chains, sweeps=int(sweeps), seed=int(state.seed), starts=start_name,
                     assign=assign, initial_states=first, final_states=final, final_rows=rows,
                     counts=counts, plateau_count=plateau, pattern_counts=pattern_counts,
                     training_fraction=training / chains,
                     spurious_fraction=(chains - training - plateau) / chains,
                     plateau_fraction=plateau / chains, library=library,
                     seconds=time.perf_counter() - start)


@dataclass(frozen=True)
class Trapping(Result):
    """Escape times out of the minima ``rows`` (R,) of a library at temperatures ``T`` (nT,).

    ``mean_time`` (nT, R): censoring-aware mean first-passage time in single-spin updates
    (sum_b min(t_b, max_updates) / hits; inf when no chain escaped), ``hits`` (nT, R) chains that escaped,
    ``barrier`` (R,) exact escape barrier B_a, ``slope`` and ``intercept`` (R,): least-squares fit
    log mean_time = intercept + slope / T over the temperatures where some chain escaped (NaN with
    fewer than two such temperatures)."""

    T: np.ndarray
    rows: np.ndarray
    states: np.ndarray
    mean_time: np.ndarray
    hits: np.ndarray
    chains: int
    threshold: float
    max_updates: int
    barrier: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    seed: int
    seconds: float = 0.0


def _arrhenius(T: np.ndarray, times: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of log t = intercept + slope / T by least squares over finite times."""
    ok = np.isfinite(times)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(1.0 / T[ok], np.log(times[ok]), 1)
    return float(slope), float(intercept)


def _trap_rows(library: Library, rows: Sequence[int] | None) -> np.ndarray:
    """The minima to follow: the given rows, or the DEFAULT_TRAPS lowest training minima (lowest minima
    when none is a training pattern)."""
    if rows is None:
        pool = np.flatnonzero(library.is_training)
        pool = pool if len(pool) else np.arange(library.count)
        return pool[:DEFAULT_TRAPS]
    r = np.asarray(rows, dtype=np.int64).reshape(-1)
    if len(r) == 0 or (r < 0).any() or (r >= library.count).any():
        raise ThermopotError(f"rows must be library rows in 0..{library.count - 1}, got {list(rows)!r}")
    return r


def trapping_times(model: Model | str | None, library: Library, T_values: Sequence[float], *,
                   rows: Sequence[int] | None = None, chains: int = 32, threshold: float = 0.5,
                   max_updates: int = 100_000, seed: int = 0, backend: Any = None) -> Trapping:
    """First-passage times (heat bath, random scan) of ``chains`` chains started at each minimum in
    ``rows`` (default: the lowest training minima) until the overlap with it drops below ``threshold``,
    for each T in ``T_values``, with the exact barrier B_a and the Arrhenius fit (module docstring).
    ``model`` defaults to the library's model (another model measures escape from the same states)."""
    start = time.perf_counter()
    base = check_count(seed, "seed", minimum=0)  # chain (i, j) uses seed + 1000 i + j
    model = library.model if model is None else resolve_model(model)
    if model.n != library.n:
        raise ThermopotError(f"the model has N = {model.n} spins but the library N = {library.n}")
    temps = np.array([check_temperature(t) for t in np.atleast_1d(T_values)], dtype=np.float64)
    if not -1.0 < float(threshold) <= 1.0:
        raise ThermopotError(f"threshold is an overlap in (-1, 1], got {threshold!r}")
    trap = _trap_rows(library, rows)
    table = state_energies(model, backend)
    barrier = np.array([escape_barrier(table, model.n, int(library.indices[a]), float(threshold))
                        for a in trap])
    mean = np.empty((len(temps), len(trap)))
    hits = np.empty((len(temps), len(trap)), dtype=np.int64)
    with Progress(None, len(temps) * len(trap), unit="escape run", desc="trapping times") as bar:  # when slow
        for i, T in enumerate(temps):
            for j, a in enumerate(trap):
                fp = first_passage(model, T, library.states[a].astype(np.float64), threshold=float(threshold),
                                   max_updates=max_updates, chains=chains, seed=base + 1000 * i + j,
                                   backend=backend)
                mean[i, j], hits[i, j] = fp.mean_censored, fp.hits
                bar.update()
    fits = [_arrhenius(temps, mean[:, j]) for j in range(len(trap))]
    return Trapping(T=temps, rows=trap, states=library.states[trap], mean_time=mean, hits=hits,
                    chains=int(chains), threshold=float(threshold), max_updates=int(max_updates),
                    barrier=barrier, slope=np.array([f[0] for f in fits]),
                    intercept=np.array([f[1] for f in fits]), seed=base,
                    seconds=time.perf_counter() - start)


@dataclass(frozen=True)
class TrappingSize(Result):
    """Escape from the deepest training minimum of random-pattern data against N: per size ``n``,
    ``mean_time`` (censoring-aware, updates), ``hits``, exact ``barrier``, and the library counts."""

    n: np.ndarray
    T: float
    mean_time: np.ndarray
    hits: np.ndarray
    barrier: np.ndarray
    minima: np.ndarray
    training: np.ndarray
    chains: int
    threshold: float
    max_updates: int
    seed: int


def trapping_vs_size(sizes: Sequence[int], patterns: int, T: float, *, chains: int = 32,
                     threshold: float = 0.5, max_updates: int = 100_000, seed: int = 0,
                     l2: float | None = None, backend: Any = None) -> TrappingSize:
    """For each N in ``sizes``: ``patterns`` random patterns of N spins (uniform weights, ``seed``), the
    fitted library, and :func:`trapping_times` at T out of its lowest-energy training minimum."""
    if len(sizes) == 0:
        raise ThermopotError("trapping_vs_size needs at least one size N")
    seed = check_count(seed, "seed", minimum=0)  # one integer drives every size (see trapping_times)
    out = []
    for n in sizes:
        data = random_patterns_dataset(int(n), patterns, seed=seed)
        library = bound_states(data, T=T, l2=l2, tap=False, backend=backend)
        trap = trapping_times(None, library, [T], rows=_trap_rows(library, None)[:1], chains=chains,
                              threshold=threshold, max_updates=max_updates, seed=seed, backend=backend)
        out.append((trap.mean_time[0, 0], trap.hits[0, 0], trap.barrier[0], library.count,
                    library.training_count))
    cols = list(zip(*out))
    return TrappingSize(n=np.array(sizes, dtype=np.int64), T=check_temperature(T),
                        mean_time=np.array(cols[0]), hits=np.array(cols[1], dtype=np.int64),
                        barrier=np.array(cols[2]), minima=np.array(cols[3], dtype=np.int64),
                        training=np.array(cols[4], dtype=np.int64), chains=int(chains),
                        threshold=float(threshold), max_updates=int(max_updates), seed=int(seed))


@dataclass(frozen=True)
class PatternFrequencies(Result):
    """Visit frequencies of the P training patterns by B independent chains.

    ``visits`` (B, P): recorded sweeps each chain spent on each pattern (of ``sweeps``); ``exact`` (P,)
    Boltzmann probabilities p_mu of the patterns; ``training`` (P,) weights w_mu. TVs compare the
    frequencies normalised over the patterns with w and with p / sum(p): ``tv_chain_exact`` and
    ``tv_chain_training`` (B,) per chain (NaN for a chain that never visited a pattern), ``tv_pooled_*``
    for the visits summed over the chains. ``pattern_mass`` (B,): fraction of each chain's sweeps on
    any pattern, against ``exact_mass`` = sum_mu p_mu."""

    T: float
    chains: int
    sweeps: int
    burn_in: int
    seed: int
    patterns: np.ndarray
    training: np.ndarray
    exact: np.ndarray
    visits: np.ndarray
    tv_chain_exact: np.ndarray
    tv_chain_training: np.ndarray
    tv_pooled_exact: float
    tv_pooled_training: float
    pattern_mass: np.ndarray
    exact_mass: float
    seconds: float = 0.0

    @property
    def pooled(self) -> np.ndarray:
        """Pooled visit frequencies (P,) over all recorded sweeps of all chains (not renormalised)."""
        return self.visits.sum(axis=0) / (self.chains * self.sweeps)

    def to_dict(self) -> dict:
        """JSON-ready fields (the patterns as a count)."""
        return {**super().to_dict(), "patterns": len(self.patterns)}


def tv_distance(counts: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """TV distance of the rows of counts (normalised) to reference (normalised); NaN for empty rows."""
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = counts / total
    return 0.5 * np.abs(f - reference / reference.sum()).sum(axis=-1)


def pattern_frequencies(model: Model | str, data: Any, T: float, *, chains: int = 64, sweeps: int = 1000,
                        burn_in: BurnIn = None, seed: int = 0, backend: Any = None) -> PatternFrequencies:
    """Visit frequencies of the distinct patterns of ``data`` by ``chains`` independent heat-bath chains
    from uniform random states, after ``burn_in`` unrecorded sweeps (None, an integer or "mser": the rule
    of :mod:`thermopot.sampling.burn_in`; the result's ``burn_in`` says how many), one record
    per sweep; compared with the training weights and the exact Boltzmann weights (module docstring)."""
    start = time.perf_counter()
    model = resolve_model(model)
    T = check_temperature(T)
    unique = as_dataset(data).unique()
    if unique.n != model.n:
        raise ThermopotError(f"the model has N = {model.n} spins but the data have N = {unique.n}")
    sweeps = check_count(sweeps, "sweeps")
    log_z = thermodynamics(model, T, backend=backend, progress=False).log_z
    exact = np.exp(-to_numpy(model.energy(unique.samples.astype(np.float64))) / T - log_z)
    sampler = Sampler(model, T, backend=backend)
    state, used = burn_in_state(sampler, sampler.init(chains=chains, seed=check_seed(seed)), burn_in, sweeps=sweeps)
    visits = np.zeros((state.chains, unique.size), dtype=np.int64)
    with sweep_blocks(lambda block: count_rows(visits, state_rows(block, unique.samples)), chains=state.chains,
                      n=model.n, sweeps=sweeps) as observe:
        sampler.run(state, sweeps, record=False, observe=observe)
    pooled = visits.sum(axis=0)
    return PatternFrequencies(T=T, chains=state.chains, sweeps=sweeps, burn_in=used, seed=int(state.seed),
                              patterns=unique.samples, training=unique.probabilities, exact=exact,
                              visits=visits, tv_chain_exact=tv_distance(visits, exact),
                              tv_chain_training=tv_distance(visits, unique.probabilities),
                              tv_pooled_exact=float(tv_distance(pooled, exact)),
                              tv_pooled_training=float(tv_distance(pooled, unique.probabilities)),
                              pattern_mass=visits.sum(axis=1) / sweeps, exact_mass=float(exact.sum()),
                              seconds=time.perf_counter() - start)


@dataclass(frozen=True)
class BasinOccupancy(Result):
    """Time each of B chains spent in each basin of a library, against the exact basin weights.

    ``occupancy`` (B, K + 1): fraction of the recorded sweeps chain b spent in the basin of minimum a
    (column K: the basins of plateau states); ``exact`` (K + 1,): Boltzmann weight Z_a / Z of the same
    basins at T; ``tv_chain`` (B,): total-variation distance of each chain's occupancy from ``exact``;
    ``tv_pooled``: the same for the occupancy averaged over the chains. An ergodic chain has tv_chain ->
    0 as it runs longer; a chain trapped in basin a keeps tv_chain = 1 - Z_a / Z (ergodicity breaking)."""

    T: float
    chains: int
    sweeps: int
    burn_in: int
    seed: int
    occupancy: np.ndarray
    exact: np.ndarray
    tv_chain: np.ndarray
    tv_pooled: float
    seconds: float = 0.0


def basin_occupancy(library: Library, T: float, *, chains: int = 32, sweeps: int = 1000, burn_in: BurnIn = None,
                    seed: int = 0, backend: Any = None) -> BasinOccupancy:
    """Heat-bath chains from uniform random states (``burn_in`` unrecorded sweeps by the rule of
    :mod:`thermopot.sampling.burn_in`, reported as the result's ``burn_in``; then one record per sweep): the
    fraction of time each spends in each basin of ``library`` (its exact steepest-descent basins) against the exact basin weights Z_a / Z at T (enumeration)."""
    start = time.perf_counter()
    T = check_temperature(T)
    sweeps = check_count(sweeps, "sweeps")
    k = library.count
    strict = library.landscape.strict
    label_of_row = np.full(strict.shape[0], k, dtype=np.int64)
    label_of_row[strict] = np.arange(k)
    labels = label_of_row[library.landscape.basin]
    parts = restricted_free_energies(library.model, T, labels, backend=backend)
    exact = np.zeros(k + 1)
    exact[np.asarray(parts.labels)] = to_numpy(parts.weight)
    sampler = Sampler(library.model, T, backend=backend)
    state, used = burn_in_state(sampler, sampler.init(chains=chains, seed=check_seed(seed)), burn_in, sweeps=sweeps)
    counts = np.zeros((state.chains, k + 1), dtype=np.int64)
    with sweep_blocks(lambda block: count_rows(counts, labels[spins_to_index(block)]), chains=state.chains,
                      n=library.model.n, sweeps=sweeps) as observe:
        sampler.run(state, sweeps, record=False, observe=observe)
    occupancy = counts / sweeps
    pooled = occupancy.mean(axis=0)
    return BasinOccupancy(T=T, chains=state.chains, sweeps=sweeps, burn_in=used, seed=int(state.seed),
                          occupancy=occupancy, exact=exact, tv_chain=0.5 * np.abs(occupancy - exact).sum(axis=1),
                          tv_pooled=float(0.5 * np.abs(pooled - exact).sum()), seconds=time.perf_counter() - start)
