"""The He-Lubchenko pipeline end to end (theory.md section 3): from a binary training set to its full
description, the knowledge potentials, the library of bound states of a reduced model, retrieval by Gibbs
chains, the under-representation threshold and the multiple-model remedy.

With ``method="exact"`` every step is computed exactly (enumeration of the 2^N states), so it takes
N <= MAX_SPINS; a larger data set is refused with the list of the steps that need the enumeration and the
advice to use ``method="sampled"`` (:mod:`.sampled_pipeline`: the same rows from chains, with error bars,
for any N). ``method="auto"`` is exact up to N = MAX_SPINS and sampled beyond. Constant columns (a spin
with one value in every sample: an infinite field, no information) are dropped and reported
(``constant_columns="refuse"`` refuses them instead).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_count, check_temperature
from ..datasets import (Digits, load_dataset, load_digits, noisy_patterns_dataset, random_patterns_dataset,
                        warn_few_samples)
from ..errors import SizeError, ThermopotError
from ..exact.guard import time_budget
from ..learning import Dataset, as_dataset
from ..results import Result
from ._inputs import resolve_labels, resolve_rare_target, stored_labels
from ._steps import run_steps
from .guard import check_knowledge
from .description import KnowledgeDescription, describe
from .library import Library, bound_states
from .rare import RareScan, rare_weight_scan
from .reduced_potentials import (FullMinima, MinimaCounts, PhiMinima, ReducedMinima, full_potential_minima,
                                 minima_counts, phi_minima, reduced_potential_minima)
from .remedy import Remedy, compare_remedy
from .retrieval import (BasinOccupancy, PatternFrequencies, Retrieval, Trapping, TrappingSize, basin_occupancy,
                        pattern_frequencies, retrieve, trapping_times, trapping_vs_size)
from .sampled_pipeline import (EM_METHODS, SAMPLED_FULL, SAMPLED_QUICK, SampledKnowledgeRun, SampledSettings,
                               run_sampled)

#: the largest N the exact pipeline takes (2^N-state tables, exact maximum likelihood per EM step)
MAX_SPINS = 20

#: steps that enumerate all 2^N states (named in the refusal of a data set with N > MAX_SPINS)
EXACT_STEPS = ("full description (2^N energies and couplings)", "Phi, G and their minima",
               "exact maximum-likelihood fit", "landscape of bound states", "KL(data || model)")

#: bundled data sets by name: (loader, description)
DATASETS = {
    "digits": (lambda: load_digits(16), "UCI handwritten digits binarised to 4x4 pixels (N = 16), all classes"),
    "clusters": (lambda: noisy_patterns_dataset(12, 4, 100, 0.08, seed=1),
                 "4 random centres of N = 12 spins, 100 copies each with 8% of the spins flipped (labelled)"),
    "digits25": (lambda: load_digits(25), "UCI handwritten digits binarised to 5x5 pixels (N = 25), all classes"),
    "digits64": (lambda: load_digits(64), "UCI handwritten digits at the full 8x8 pixels, binarised at each "
                 "pixel's median; the 3 pixels that never vary are dropped (N = 61)"),
}

#: methods of run_knowledge: "auto" is exact up to MAX_SPINS and sampled beyond
KNOWLEDGE_METHODS = ("exact", "sampled", "auto")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run (quick or full) and the temperatures of each step.

    The reduced-G minima need Delta_mu / T below about 12 to be resolved (the Hessian's condition number
    grows like exp(Delta_mu / T)): on the digits (Delta = 16) that means T >= 2-3, around the coexistence
    temperature. Their counts against T and M, which take many starts at many temperatures, use the
    small random-pattern set of ``COUNTS_DATA``."""

    T_fit: float = 1.0  #: temperature of the fitted reduced model (and of Phi, the library)
    T_reduced: float = 3.0  #: temperature of the reduced-G minima on the data (below T*)
    reduced_starts: int = 2  #: starts of the reduced-G minima: theta = 0, then random ones
    reduced_pattern_starts: int = 1  #: starts aligned with the most weighted patterns
    potential_starts: int = 4  #: starts of Phi and of G over the full simplex
    temperatures: tuple[float, ...] = tuple(np.round(np.geomspace(0.7, 6.0, 8), 3))  #: T grid of the counts
    m_values: tuple[int, ...] = (2, 3, 4, 5, 6)  #: numbers of patterns M of the counts
    m_temperature: float = 1.2  #: T of the counts against M
    counts_starts: int = 3
    counts_pattern_starts: int = 6
    T_retrieval: float = 0.5
    chains: int = 128
    sweeps: int = 200
    trap_temperatures: tuple[float, ...] = (0.3, 0.2, 0.15)  #: barrier / T = 2-7: the Arrhenius regime
    trap_chains: int = 128
    trap_updates: int = 200_000
    trap_sizes: tuple[int, ...] = (8, 10, 12)  #: N of the random-pattern sets of the trapping times against N
    trap_size_patterns: int = 3
    trap_size_T: float = 1.0
    trap_size_chains: int = 32
    frequency_sweeps: int = 2000
    occupancy_chains: int = 32
    occupancy_sweeps: int = 1000  #: basin occupancy of single chains at T_fit (ergodic) and min trap T (trapped)
    rare_factors: tuple[float, ...] = (1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01)
    samples: int = 2000
    em_iterations: int = 20
    em_prune: bool = True  #: drop mixture components with fewer samples than half their effective parameters


#: the data set of the minima counts against T and M: 6 random patterns of N = 8, weights 0.8^mu
COUNTS_DATA = {"n": 8, "m": 6, "weights": 0.8, "seed": 5}

QUICK = Settings()
FULL = Settings(reduced_starts=4, reduced_pattern_starts=4, potential_starts=16,
                temperatures=tuple(np.round(np.geomspace(0.6, 8.0, 14), 3)), counts_starts=8,
                chains=512, sweeps=1000, trap_temperatures=(0.35, 0.3, 0.25, 0.2, 0.17, 0.15), trap_chains=256,
                trap_updates=400_000, trap_sizes=(8, 10, 12, 14, 16), trap_size_chains=64, frequency_sweeps=10_000,
                occupancy_chains=128, occupancy_sweeps=4000,
                rare_factors=(1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01, 0.005),
                samples=20_000, em_iterations=50)


@dataclass(frozen=True)
class KnowledgeRun(Result):
    """Every result of one pipeline run; :meth:`summary` holds the fixed JSON fields of ``thermopot
    knowledge`` and :meth:`to_dict` adds each step's own fields."""

    dataset: str
    data: Dataset
    labels: np.ndarray | None
    settings: Settings
    description: KnowledgeDescription
    phi: PhiMinima
    full: FullMinima
    reduced: ReducedMinima
    counts: MinimaCounts
    library: Library
    retrieval: Retrieval
    trapping: Trapping
    trapping_size: TrappingSize
    frequencies: PatternFrequencies
    occupancy_ergodic: BasinOccupancy
    occupancy_trapped: BasinOccupancy
    rare: RareScan
    remedy: Remedy
    seconds: dict
    dropped_columns: tuple = ()

    def summary(self) -> dict:
        """n, patterns (M), gap, T_star, the minima counts of Phi, of G over the full simplex and over
        the reduced family, the library's training and spurious minima, KL and coverage of one model
        and of the mixture, and the under-representation threshold weight."""
        d = self.description
        return {"dataset": self.dataset, "n": d.n, "patterns": d.m, "samples": int(self.data.size),
                "gap": d.gap, "T_star": d.t_star, "T_coexistence": d.t_coexistence,
                "phi_minima": self.phi.count, "full_potential_minima": self.full.count,
                "reduced_potential_minima": self.reduced.count, "reduced_potential_T": self.reduced.T,
                "training_minima": self.library.training_count, "spurious_minima": self.library.spurious_count,
                "kl_single": self.remedy.kl_single, "kl_mixture": self.remedy.kl_mixture,
                "coverage_single": self.remedy.coverage_single, "coverage_mixture": self.remedy.coverage_mixture,
                "class_coverage_single": self.remedy.class_coverage_single,
                "class_coverage_mixture": self.remedy.class_coverage_mixture,
                "mixture_components": self.remedy.k,
                "rare_weight_threshold": self.rare.threshold_weight,
                "rare_target": {"by": self.rare.by, "target": self.rare.target,
                                "base_weight": self.rare.base_weight},
                "labelled": self.labels is not None,
                "phi_starts": self.phi.starts, "full_potential_starts": self.full.starts,
                "reduced_potential_starts": self.reduced.starts, "retrieval_chains": int(self.retrieval.chains),
                "remedy_samples": int(self.remedy.samples),
                "rare_retrieval_threshold": self.rare.retrieval_threshold_weight,
                "retrieval_training_fraction": self.retrieval.training_fraction,
                "single_chain_tv": float(np.nanmean(self.frequencies.tv_chain_exact)),
                "pooled_tv": float(self.frequencies.tv_pooled_exact),
                "basin_tv_single_chain": {str(o.T): float(o.tv_chain.mean())
                                          for o in (self.occupancy_ergodic, self.occupancy_trapped)},
                "escape_time_vs_n": {"n": self.trapping_size.n.tolist(), "T": self.trapping_size.T,
                                     "mean_time": self.trapping_size.mean_time.tolist(),
                                     "barrier": self.trapping_size.barrier.tolist()},
                "method": "exact", "T": self.library.T, "log_z": self.library.log_z, "log_z_stderr": 0.0,
                "dropped_columns": list(self.dropped_columns), "bound_states": self._bound_states()}

    def _bound_states(self) -> list[dict]:
        """The library's strict minima as {state, free_energy, free_energy_stderr (0: exact), weight,
        training, nearest_pattern_distance}, by free energy."""
        lib = self.library
        order = np.argsort(lib.free_energies, kind="stable")
        return [{"state": lib.states[a].tolist(), "free_energy": float(lib.free_energies[a]),
                 "free_energy_stderr": 0.0, "weight": float(lib.weights[a]), "training": bool(lib.is_training[a]),
                 "nearest_pattern_distance": int(lib.distance[a])} for a in order]

    def to_dict(self) -> dict:
        """The summary plus every step's fields and the seconds spent in each step."""
        steps = {name: getattr(self, name) for name in
                 ("description", "phi", "full", "reduced", "counts", "library", "retrieval", "trapping",
                  "trapping_size", "frequencies", "occupancy_ergodic", "occupancy_trapped", "rare", "remedy")}
        return self._json({**self.summary(), "steps": steps, "seconds": self.seconds})


def resolve_data(data: Any, labels: Any = None, *,
                 binary01: bool = False) -> tuple[str, Dataset, np.ndarray | None]:
    """(name, data set, labels or None) from a bundled name (``DATASETS``), a ``.npz`` path (its
    ``labels`` array, when stored, gives the labels), a :class:`~thermopot.datasets.Digits`, a Dataset,
    an (M, N) array of +-1 (0/1 with ``binary01``: 1 -> +1, 0 -> -1) or a (data, labels) pair. ``labels``
    overrides them (``_inputs.resolve_labels``: an array, a file, the name of an array in the data file, or
    False/"none" for no labels). An array or file of fewer samples than spins gets a DataWarning naming its
    shape (:func:`~thermopot.datasets.warn_few_samples`: often a transposed array)."""
    path, stored = None, None
    if isinstance(data, str) and data in DATASETS:
        name, data = data, DATASETS[data][0]()
    elif isinstance(data, (str, os.PathLike)):
        if not Path(data).exists():
            raise ThermopotError(f"unknown data set {str(data)!r}: neither a bundled name "
                                 f"({', '.join(DATASETS)}) nor an existing .npz file")
        path = os.fspath(data)
        name, data, stored = path, load_dataset(data, binary01=binary01), stored_labels(data)
    else:
        name = type(data).__name__
    given = path is not None or not isinstance(data, (Dataset, Digits))  # as the user gave it, not deliberate
    if isinstance(data, Digits):
        dataset, stored = data.dataset, np.asarray(data.labels)
    elif isinstance(data, tuple):
        dataset, stored = as_dataset(data[0], binary01=binary01), np.asarray(data[1])
    else:
        dataset = as_dataset(data, binary01=binary01)
    if given:
        warn_few_samples(dataset, f"data set {name!r}", stacklevel=4)
    return name, dataset, resolve_labels(labels, stored, dataset.size, path)


def _check_size(name: str, data: Dataset) -> None:
    """Refuse N > MAX_SPINS, naming what would need the 2^N enumeration."""
    if data.n > MAX_SPINS:
        raise SizeError(f"data set {name!r} has N = {data.n} spins; the exact knowledge pipeline takes "
                        f"N <= {MAX_SPINS} (2^{data.n} = {2**data.n:.3g} states). Not computed: "
                        f"{'; '.join(EXACT_STEPS)}. Use the sampled pipeline: run_knowledge(data, "
                        "method='sampled') or `thermopot knowledge DATA --method sampled` (or --method auto).")


def _guard(data: Dataset, labels: np.ndarray | None, method: str, settings: Any, backend: Any,
           max_seconds: float | None) -> None:
    """The size and time guard of the whole run (:func:`.guard.check_knowledge`)."""
    check_knowledge(data.n, data.size, distinct=data.unique().size,
                    classes=None if labels is None else len(np.unique(labels)), method=method,
                    settings=settings, backend=backend, max_seconds=max_seconds)


def drop_constant_columns(name: str, data: Dataset, how: str = "drop") -> tuple[Dataset, tuple[int, ...]]:
    """(data without its constant columns, the dropped column indices); ``how="refuse"`` refuses them.
    A warning names the dropped columns."""
    constant = data.constant_columns()
    if constant.size == 0:
        return data, ()
    if how not in ("drop", "refuse"):
        raise ThermopotError(f"constant_columns must be 'drop' or 'refuse', got {how!r}")
    if how == "refuse" or constant.size == data.n:
        raise ThermopotError(f"data set {name!r} has {constant.size} constant column(s) {constant.tolist()} "
                             "(one value in every sample: no information, an infinite field)"
                             + ("; every column is constant" if constant.size == data.n else
                                "; drop them (constant_columns='drop')"))
    keep = np.setdiff1d(np.arange(data.n), constant)
    warnings.warn(f"data set {name!r}: dropped {constant.size} constant column(s) {constant.tolist()}; "
                  f"N = {keep.size} remain", UserWarning, stacklevel=3)
    return Dataset(data.samples[:, keep], data.weights), tuple(int(c) for c in constant)


def _rare_target(data: Dataset, labels: np.ndarray | None) -> tuple[Any, str]:
    """The under-represented target: the least frequent class when labels exist, else the row of the
    pattern of largest weight (so that lowering it can take its minimum away)."""
    if labels is not None:
        classes, counts = np.unique(labels, return_counts=True)
        return int(classes[np.argmin(counts)]), "class"
    unique = data.unique()
    heaviest = unique.samples[np.argmax(unique.weights)]
    return int(np.flatnonzero((data.samples == heaviest).all(axis=1))[0]), "pattern"


def run_knowledge(data: Any = "digits", *, quick: bool = True, seed: int = 0, backend: Any = None,
                  settings: Settings | SampledSettings | None = None, progress: bool = True,
                  method: str = "exact", T: float | None = None, holdout: float | None = None,
                  constant_columns: str = "drop", labels: Any = None, rare_target: str | None = None,
                  max_seconds: float | None = None, binary01: bool = False,
                  em_method: str | None = None, em_prune: bool | None = None) -> KnowledgeRun | SampledKnowledgeRun:
    """Run the whole pipeline on ``data`` (see :func:`resolve_data`) with the QUICK or FULL sizes (or
    ``settings``); ``seed`` drives every random start and chain. Progress goes to stderr.

    ``method``: "exact" (enumeration, N <= MAX_SPINS), "sampled" (chains, any N; see
    :mod:`.sampled_pipeline`) or "auto" (exact up to MAX_SPINS, sampled beyond). ``T``: the temperature of
    the fitted model's library (T_fit; default 1). ``holdout``: share of the samples kept out of the fit
    (sampled only; default 0.2). ``em_method``: the M-step of the sampled remedy's mixture EM, "pseudo"
    (pseudo-likelihood, the default) or "pcd" (sampled only). ``em_prune`` (both methods; default the
    settings', True): whether the remedy's EM drops the components that carry fewer samples than half their
    effective parameters (:func:`~thermopot.learning.prune_components`); False keeps every initial
    component. ``constant_columns``: "drop" (reported in ``dropped_columns``) or "refuse".
    ``binary01``: the samples are 0/1 (mapped 1 -> +1, 0 -> -1); 0/1 data without it are refused.
    ``labels``: the class labels (default: those the data bring, e.g. a ``labels`` array in the .npz file);
    ``rare_target`` (exact method): the class or pattern the under-representation scan lowers ("class:C",
    "pattern:ROW", "pattern:+-+...", or a bare value; default: the smallest class, else the heaviest pattern).
    ``max_seconds``: the longest run the size and time guard (:mod:`.guard`) admits (default
    THERMOPOT_MAX_SECONDS, else one hour); a run that needs more, or more memory than is free, is refused
    before any step runs, with a SizeError naming both amounts and the costliest steps. The same limit
    then holds for every guarded call the steps make (solvers, fits, enumerations, chains: their own
    guards, through :func:`~thermopot.exact.guard.time_budget`), in place of THERMOPOT_MAX_SECONDS.
    """
    seed = check_count(seed, "seed", minimum=0)  # an integer: the trapping chains use seed + 1000 i + j
    if method not in KNOWLEDGE_METHODS:
        raise ThermopotError(f"method must be one of {', '.join(KNOWLEDGE_METHODS)}, got {method!r}")
    if em_prune is not None and not isinstance(em_prune, (bool, np.bool_)):
        raise ThermopotError(f"em_prune must be True or False, got {em_prune!r}")
    name, dataset, labels = resolve_data(data, labels, binary01=binary01)
    dataset, dropped = drop_constant_columns(name, dataset, constant_columns)
    if method == "auto":
        method = "exact" if dataset.n <= MAX_SPINS else "sampled"
    if method == "sampled":
        if rare_target is not None:
            raise ThermopotError("rare_target is an option of the exact pipeline; the sampled pipeline lowers "
                                 "the smallest class (or the heaviest pattern)")
        s = settings if isinstance(settings, SampledSettings) else (SAMPLED_QUICK if quick else SAMPLED_FULL)
        if T is not None:
            s = dataclasses.replace(s, T_fit=check_temperature(T))
        if holdout is not None:
            s = dataclasses.replace(s, holdout=holdout)
        if em_method is not None:
            if em_method not in EM_METHODS:
                raise ThermopotError(f"em_method must be one of {', '.join(EM_METHODS)}, got {em_method!r}")
            s = dataclasses.replace(s, em_method=em_method)
        if em_prune is not None:
            s = dataclasses.replace(s, em_prune=bool(em_prune))
        _guard(dataset, labels, "sampled", s, backend, max_seconds)
        with time_budget(max_seconds):
            return run_sampled(name, dataset, labels, settings=s, seed=seed, backend=backend, progress=progress,
                               dropped_columns=dropped)
    for option, value in (("holdout", holdout), ("em_method", em_method)):
        if value:
            raise ThermopotError(f"{option} is an option of the sampled pipeline (method='sampled')")
    s = settings if isinstance(settings, Settings) else (QUICK if quick else FULL)
    if T is not None:
        s = dataclasses.replace(s, T_fit=check_temperature(T))
    if em_prune is not None:
        s = dataclasses.replace(s, em_prune=bool(em_prune))
    for T_ in (s.T_fit, s.T_reduced, s.T_retrieval, s.m_temperature, s.trap_size_T, *s.temperatures,
               *s.trap_temperatures):
        check_temperature(T_)
    _check_size(name, dataset)
    _guard(dataset, labels, "exact", s, backend, max_seconds)
    results: dict[str, Any] = {}
    target, by = (resolve_rare_target(rare_target, dataset.samples, dataset.weights, labels)
                  or _rare_target(dataset, labels))
    steps = {
        "description": lambda: describe(dataset, backend=backend),
        "phi": lambda: phi_minima(dataset, s.T_fit, starts=s.potential_starts, seed=seed, backend=backend),
        "full": lambda: full_potential_minima(results["description"], s.T_fit, starts=s.potential_starts,
                                              seed=seed, backend=backend),
        "reduced": lambda: reduced_potential_minima(results["description"], s.T_reduced, starts=s.reduced_starts,
                                                    pattern_starts=s.reduced_pattern_starts, seed=seed,
                                                    backend=backend),
        "counts": lambda: minima_counts(random_patterns_dataset(**COUNTS_DATA), s.temperatures,
                                        m_values=s.m_values, m_temperature=s.m_temperature, starts=s.counts_starts,
                                        pattern_starts=s.counts_pattern_starts, seed=seed, backend=backend),
        "library": lambda: bound_states(dataset, T=s.T_fit, labels=labels, seed=seed, backend=backend),
        "retrieval": lambda: retrieve(results["library"], s.T_retrieval, chains=s.chains, sweeps=s.sweeps,
                                      seed=seed, backend=backend),
        "trapping": lambda: trapping_times(None, results["library"], s.trap_temperatures, chains=s.trap_chains,
                                           max_updates=s.trap_updates, seed=seed, backend=backend),
        "trapping_size": lambda: trapping_vs_size(s.trap_sizes, s.trap_size_patterns, s.trap_size_T,
                                                  chains=s.trap_size_chains, max_updates=s.trap_updates, seed=seed,
                                                  backend=backend),
        "frequencies": lambda: pattern_frequencies(results["library"].model, dataset, s.T_retrieval,
                                                   chains=s.chains, sweeps=s.frequency_sweeps, seed=seed,
                                                   backend=backend),
        "occupancy_ergodic": lambda: basin_occupancy(results["library"], s.T_fit, chains=s.occupancy_chains,
                                                     sweeps=s.occupancy_sweeps, seed=seed, backend=backend),
        "occupancy_trapped": lambda: basin_occupancy(results["library"], min(s.trap_temperatures),
                                                     chains=s.occupancy_chains, sweeps=s.occupancy_sweeps, seed=seed,
                                                     backend=backend),
        "rare": lambda: rare_weight_scan(dataset, target, s.rare_factors, by=by, labels=labels, T=s.T_fit,
                                         retrieval_samples=s.samples, seed=seed, backend=backend),
        "remedy": lambda: compare_remedy(dataset, labels=labels, T=s.T_fit, samples=s.samples, max_iter=s.em_iterations,
                                         prune=s.em_prune, seed=seed, backend=backend),
    }
    with time_budget(max_seconds):
        _, seconds = run_steps(steps, "knowledge", progress, results)
    return KnowledgeRun(dataset=name, data=dataset, labels=labels, settings=s, seconds=seconds,
                        dropped_columns=dropped, **results)
