"""The library of bound states of a reduced (pairwise) model trained on data (theory.md section 3).

A pairwise model E(s) = -h.s - sum_{k<l} J_kl s_k s_l is fitted to the data (exact maximum likelihood by
default, at the fitting temperature T = 1), or given. Its bound states are the strict single-flip minima
of its exact zero-temperature landscape (:func:`thermopot.landscape.local_minima`); every one of the
2^N states belongs, by steepest descent, to the basin a of one stable state, and

    F_a = -T log sum_{s in a} exp(-E(s)/T),   weight_a = exp(-F_a/T) / Z,   m_a = <s>_a,

so that log Z = log sum_a exp(-F_a/T) exactly, the sum running over the strict minima AND the plateau
states (stable states with a zero-cost flip, kept apart). A minimum is a *training pattern* when it equals
one of the distinct patterns of the data, and a *spurious* ("false") state otherwise; for each minimum
the nearest pattern in Hamming distance d = (N - s.xi)/2 (ties: the heavier pattern), its weight w_mu
and, with labels, its majority class are recorded. The minima of the TAP free energy of the same model at
T (:func:`thermopot.solvers.find_minima`, "tap2" by default, or nMF) are matched to the landscape minima
by sign (:mod:`.mean_field_match`): TAP minimum m matches the library minimum s = sign(m) (unmatched when
some m_k = 0 or sign(m) is no minimum).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..checks import check_rng, check_temperature
from ..datasets.digits import Digits
from ..errors import ThermopotError
from ..landscape import Landscape, local_minima
from ..learning import Dataset, FitResult, as_dataset, fit
from ..models import Model, resolve_model
from ..results import Result
from ..states import spins_to_index
from .mean_field_match import matched_minima

#: default ridge penalty of the fit for the methods that take one ("exact", "pseudo"): a few distinct
#: patterns leave some pair moments on the boundary (C_kl = +-1), where the unregularised couplings diverge
DEFAULT_L2 = 1e-3
L2_METHODS = ("exact", "pseudo")


@dataclass(frozen=True)
class Library(Result):
    """Bound states of ``model`` at temperature ``T``: K strict minima sorted by energy (row a), the
    distinct training patterns (row mu) and the TAP minima (row i).

    Per minimum: states (K, N) int8, indices (state numbers), energies E_a, free_energies F_a, weights
    Z_a/Z, magnetizations m_a (K, N), basin_sizes, is_training, nearest_pattern (row mu), distance
    (Hamming to it), nearest_weight (w_mu), classes (majority class of the nearest pattern; None without
    labels). Per pattern: patterns (P, N), pattern_weights (sum 1), pattern_classes (or None),
    pattern_row (the minimum equal to the pattern, -1 if it is none), pattern_basin (the minimum whose
    basin holds the pattern, -1 for a plateau basin). Plateau states (non-strict stable states): their
    states, energies, free energies and basin sizes. Per TAP minimum (None without TAP): tap_m (I, N),
    tap_free_energies, tap_plefka_valid (second-order Plefka condition), tap_match (library row of
    sign(m), -1 if none), tap_nearest and tap_overlap (the minimum of largest overlap m.s_a / N).
    ``landscape`` is the full exact landscape (its ``basin`` maps every state to its stable state),
    ``fit`` the fit result (None for a given model).
    """

    model: Model
    T: float
    states: np.ndarray
    indices: np.ndarray
    energies: np.ndarray
    free_energies: np.ndarray
    weights: np.ndarray
    magnetizations: np.ndarray
    basin_sizes: np.ndarray
    is_training: np.ndarray
    nearest_pattern: np.ndarray
    distance: np.ndarray
    nearest_weight: np.ndarray
    classes: np.ndarray | None
    patterns: np.ndarray
    pattern_weights: np.ndarray
    pattern_classes: np.ndarray | None
    pattern_row: np.ndarray
    pattern_basin: np.ndarray
    plateau_states: np.ndarray
    plateau_energies: np.ndarray
    plateau_free_energies: np.ndarray
    plateau_basin_sizes: np.ndarray
    log_z: float
    tap_m: np.ndarray | None
    tap_free_energies: np.ndarray | None
    tap_plefka_valid: np.ndarray | None
    tap_match: np.ndarray | None
    tap_nearest: np.ndarray | None
    tap_overlap: np.ndarray | None
    landscape: Landscape
    fit: FitResult | None
    seconds: float = 0.0

    @property
    def n(self) -> int:
        """Number of spins N."""
        return int(self.model.n)

    @property
    def count(self) -> int:
        """Number K of strict minima (bound states)."""
        return int(self.states.shape[0])

    @property
    def training_count(self) -> int:
        """Minima that are training patterns."""
        return int(self.is_training.sum())

    @property
    def spurious_count(self) -> int:
        """Minima that are no training pattern (false states)."""
        return self.count - self.training_count

    @property
    def tap_count(self) -> int | None:
        """Number of TAP minima found (None when TAP was not run)."""
        return None if self.tap_match is None else int(len(self.tap_match))

    @property
    def tap_matched(self) -> int | None:
        """TAP minima whose sign(m) is a landscape minimum (None when TAP was not run)."""
        return None if self.tap_match is None else int((self.tap_match >= 0).sum())

    def rows_of(self, states: Any) -> np.ndarray:
        """Library row (B,) of the basin each state (B, N) of +-1 descends to by steepest descent;
        -1 for the basin of a plateau state."""
        s = np.asarray(to_numpy(states))
        if s.ndim != 2 or s.shape[1] != self.n:
            raise ThermopotError(f"states must have shape (B, N) with N = {self.n}, got {s.shape}")
        strict = self.landscape.strict
        row_of = np.full(strict.shape[0], -1, dtype=np.int64)
        row_of[strict] = np.arange(self.count)
        return row_of[self.landscape.basin[spins_to_index(s)]]

    def to_dict(self) -> dict:
        """JSON-ready fields: counts, the model's arrays, and one entry per minimum, pattern summary,
        plateau and TAP minimum (the 2^N basin map is left out)."""
        minima = [{"state": self.states[a], "index": self.indices[a], "energy": self.energies[a],
                   "free_energy": self.free_energies[a], "weight": self.weights[a], "basin_size": self.basin_sizes[a],
                   "is_training": self.is_training[a], "nearest_pattern": self.nearest_pattern[a],
                   "distance": self.distance[a], "nearest_weight": self.nearest_weight[a],
                   "class": None if self.classes is None else self.classes[a]}
                  for a in range(self.count)]
        tap = None
        if self.tap_match is not None:
            tap = [{"m": self.tap_m[i], "free_energy": self.tap_free_energies[i],
                    "plefka_valid": self.tap_plefka_valid[i], "match": self.tap_match[i],
                    "nearest": self.tap_nearest[i], "overlap": self.tap_overlap[i]}
                   for i in range(len(self.tap_match))]
        return self._json({"n": self.n, "T": self.T, "count": self.count, "training_count": self.training_count,
                           "spurious_count": self.spurious_count, "tap_count": self.tap_count,
                           "tap_matched": self.tap_matched, "log_z": self.log_z,
                           "model": {k: np.asarray(v) for k, v in self.model.to_arrays().items()},
                           "fit": None if self.fit is None else {k: v for k, v in self.fit.to_dict().items()
                                                                 if k not in ("h", "J")},
                           "minima": minima, "patterns": len(self.patterns),
                           "pattern_row": self.pattern_row, "pattern_basin": self.pattern_basin,
                           "plateaus": [{"state": self.plateau_states[b], "energy": self.plateau_energies[b],
                                         "free_energy": self.plateau_free_energies[b],
                                         "basin_size": self.plateau_basin_sizes[b]}
                                        for b in range(len(self.plateau_energies))],
                           "tap": tap, "seconds": self.seconds})


def dataset_and_labels(data: Any, labels: Any) -> tuple[Dataset, Any]:
    """The data as a Dataset, and the labels (a Digits object brings its own)."""
    if isinstance(data, Digits):
        return data.dataset, data.labels if labels is None else labels
    return as_dataset(data), labels


def majority_classes(data: Dataset, labels: Any) -> np.ndarray | None:
    """Majority class (by data weight; ties: the smallest class) of each distinct pattern, rows as in
    ``data.unique()``."""
    if labels is None:
        return None
    lab = np.asarray(to_numpy(labels))
    if lab.shape != (data.size,) or not np.issubdtype(lab.dtype, np.integer):
        raise ThermopotError(f"labels must be integers of shape ({data.size},), one per data row, "
                             f"got {lab.dtype} {lab.shape}")
    keep = data.weights > 0
    _, inverse = np.unique(data.samples[keep], axis=0, return_inverse=True)
    values, lab_idx = np.unique(lab[keep], return_inverse=True)
    counts = np.zeros((int(inverse.max()) + 1, len(values)))
    np.add.at(counts, (inverse.reshape(-1), lab_idx.reshape(-1)), data.weights[keep])
    return values[counts.argmax(axis=1)]


def nearest_patterns(states: np.ndarray, patterns: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row of the nearest pattern, Hamming distance) per state; ties go to the heavier pattern."""
    n = states.shape[1]
    dist = (n - states.astype(np.int64) @ patterns.astype(np.int64).T) // 2
    score = dist - 0.5 * weights[None, :] / weights.max()  # weight < 1 breaks ties only
    rows = score.argmin(axis=1)
    return rows, dist[np.arange(len(states)), rows]


def fit_options(method: str, l2: float | None) -> dict:
    """Options for :func:`thermopot.learning.fit`: ``l2`` (DEFAULT_L2 when None) for the methods that
    take it, nothing for the others."""
    if method in L2_METHODS:
        return {"l2": DEFAULT_L2 if l2 is None else l2}
    return {} if l2 is None else {"l2": l2}


def _resolve_fit(data: Dataset, model: Any, method: str, l2: float | None, backend: Any
                 ) -> tuple[Model, FitResult | None]:
    """The given model (checked against N) or the pairwise model fitted to the distinct patterns."""
    if model is not None:
        model = resolve_model(model)
        if model.n != data.n:
            raise ThermopotError(f"the model has N = {model.n} spins but the data have N = {data.n}")
        return model, None
    result = fit(data.unique(), method, backend=backend, **fit_options(method, l2))
    return result.model, result


def _landscape_fields(land: Landscape, T: float) -> dict:
    """Library fields of the strict minima and plateau states of the landscape (with F at T)."""
    strict, plateau = land.strict, ~land.strict
    log_z = float(np.logaddexp.reduce(-land.free_energy / T))
    return dict(states=land.states[strict], indices=land.indices[strict], energies=land.energies[strict],
                free_energies=land.free_energy[strict], weights=np.exp(-land.free_energy[strict] / T - log_z),
                magnetizations=land.magnetization[strict], basin_sizes=land.basin_size[strict],
                plateau_states=land.states[plateau], plateau_energies=land.energies[plateau],
                plateau_free_energies=land.free_energy[plateau], plateau_basin_sizes=land.basin_size[plateau],
                log_z=log_z)


def _pattern_fields(land: Landscape, row_of_index: dict, patterns: np.ndarray, weights: np.ndarray,
                    pattern_classes: np.ndarray | None) -> dict:
    """Classification of the minima against the patterns, and where each pattern lies."""
    states, index = land.states[land.strict], land.indices[land.strict]
    row_of = np.full(len(land.energies), -1, dtype=np.int64)
    row_of[land.strict] = np.arange(len(index))
    pattern_index = spins_to_index(patterns)
    fields = dict(patterns=patterns, pattern_weights=weights, pattern_classes=pattern_classes,
                  pattern_row=np.array([row_of_index.get(int(i), -1) for i in pattern_index], dtype=np.int64),
                  pattern_basin=row_of[land.basin[pattern_index]], is_training=np.isin(index, pattern_index))
    if len(patterns) == 0:
        none = np.full(len(states), -1, dtype=np.int64)
        return dict(fields, nearest_pattern=none, distance=none, nearest_weight=np.zeros(len(states)),
                    classes=None)
    nearest, distance = nearest_patterns(states, patterns, weights)
    return dict(fields, nearest_pattern=nearest, distance=distance, nearest_weight=weights[nearest],
                classes=None if pattern_classes is None else pattern_classes[nearest])


def _tap_minima(model: Model, T: float, states: np.ndarray, *, method: str, starts: int, init: Any, seed: Any,
                backend: Any) -> dict:
    """The TAP (or nMF) minima at T (:func:`.mean_field_match.matched_minima`): m, F, Plefka validity, the
    library row of sign(m) (-1 if none), and the library minimum of largest overlap m.s_a / N with that
    overlap."""
    found = matched_minima(model, T, states=states, method=method, starts=starts, init=init, seed=seed, backend=backend)
    return dict(tap_m=found.m, tap_free_energies=found.free_energies, tap_plefka_valid=found.plefka_valid,
                tap_match=found.match, tap_nearest=found.nearest, tap_overlap=found.overlap)


def bound_states(data: Any = None, *, T: float = 1.0, model: Model | str | None = None,
                 method: str = "exact", l2: float | None = None, labels: Any = None, tap: bool = True,
                 tap_starts: int = 256, tap_method: str = "tap2", tap_init: Any = None, seed: Any = 0,
                 backend: Any = None) -> Library:
    """The library of bound states of the pairwise model of ``data`` at temperature ``T``.

    ``data``: a Dataset, a (M, N) +-1 array, a .npz path or a :class:`~thermopot.datasets.Digits` (whose
    labels are used unless ``labels`` is given); None only together with ``model`` (no patterns: every
    minimum is spurious). ``model``: use this model instead of fitting one by ``method`` (see
    :func:`thermopot.learning.fit`; ``l2`` defaults to DEFAULT_L2 for "exact" and "pseudo"). ``labels``:
    (M,) integer class of each data row. ``tap``: also find the minima of ``tap_method`` ("tap2", or "nmf",
    ...) from ``tap_starts`` random starts (``seed``), or from the rows of ``tap_init`` (e.g.
    :func:`~thermopot.knowledge.mean_field_match.pattern_starts` of the patterns), and match them by sign.
    Strict minima F_a and plateaus F_b satisfy
    log Z = log sum exp(-F/T) over both (module docstring).
    """
    start = time.perf_counter()
    rng = check_rng(seed)
    T = check_temperature(T)
    fitted = None
    if data is None:
        if model is None:
            raise ThermopotError("give the data to fit, or a model (with data=None: no training patterns)")
        model = resolve_model(model)
        patterns, weights, pattern_classes = np.zeros((0, model.n), np.int8), np.zeros(0), None
    else:
        dataset, labels = dataset_and_labels(data, labels)
        model, fitted = _resolve_fit(dataset, model, method, l2, backend)
        unique = dataset.unique()
        patterns, weights = unique.samples, unique.probabilities
        pattern_classes = majority_classes(dataset, labels)
    land = local_minima(model, T=T, backend=backend)
    row_of_index = {int(i): a for a, i in enumerate(land.indices[land.strict])}
    tap_fields = dict.fromkeys(("tap_m", "tap_free_energies", "tap_plefka_valid", "tap_match",
                                "tap_nearest", "tap_overlap"))
    if tap:
        tap_fields = _tap_minima(model, T, land.states[land.strict], method=tap_method, starts=tap_starts,
                                 init=tap_init, seed=rng, backend=backend)
    return Library(model=model, T=T, **_landscape_fields(land, T),
                   **_pattern_fields(land, row_of_index, patterns, weights, pattern_classes),
                   **tap_fields, landscape=land, fit=fitted, seconds=time.perf_counter() - start)
