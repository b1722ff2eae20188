"""Under-represented patterns lose their place in a reduced model (theory.md section 3, He and Lubchenko).

The weight of one target is lowered step by step and a pairwise model is refitted at every step. The
target is one pattern (``by="pattern"``: every data row equal to row ``target`` of the data) or one class
(``by="class"``: every row of every distinct pattern whose majority label is ``target``, so that whole
patterns are scaled). With the data weights normalised to p (sum 1) and the target's total weight w_t,
the factor f gives

    p'_m = f p_m                             (target rows),
    p'_m = p_m (1 - f w_t) / (1 - w_t)       (the other rows, renormalised),

so the target's weight is exactly f w_t (relative weight f) and the rest keep their proportions. At each
f the refitted model E (at the fitting temperature 1, warm-started from the previous step) is read at T:

- minimum: a pattern is a strict single-flip minimum iff its stability margin
  min_k dE_k(xi_t) = min_k [E(xi_t with s_k flipped) - E(xi_t)] is > 0; a class keeps a minimum iff some
  strict minimum of the exact landscape (:func:`thermopot.landscape.local_minima`) has its nearest
  training pattern (Hamming distance; ties: the heavier pattern) in the class. A pattern's class is the
  majority label of its rows in the ORIGINAL data (fixed along the scan).
- exact weight: p_T(target) = sum_{xi in target} exp(-E(xi)/T) / Z_T (log-sum-exp enumeration).
- retrieval: the fraction r of S independent exact samples of p_T (:func:`thermopot.learning.sample_exact`)
  equal to a target pattern; E[r] = p_T(target) and its standard error is sqrt(p_T (1 - p_T) / S).
  Exact sampling, not Gibbs chains from random starts, on purpose: it measures what the fitted
  distribution itself assigns to the target, free of mixing times and of basin sizes (those are the
  ergodicity-breaking measurements of :mod:`thermopot.knowledge.retrieval`), so the retrieval rate has a
  known binomial error and the thresholds below depend on the weight only.

Thresholds (grid sorted from the largest factor down): the minimum threshold is the largest grid factor
f_lost at which the target has no minimum, bracketed by the next larger grid factor f_kept (which has
one); for a pattern the margin is interpolated linearly in log f between the two to its zero crossing.
The retrieval threshold is the largest grid factor at which no sample hits the target (depends on S).
Absolute weights are f w_t.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..checks import check_rng, check_temperature
from ..errors import ThermopotError
from ..landscape import flip_tolerance, local_minima
from ..learning import ConvergenceWarning, Dataset, fit, sample_exact
from ..models import PairwiseModel
from ..progress import Progress
from ..results import Result
from ..checks import check_count
from ..states import spins_to_index
from ._rare_common import at_temperature
from .library import dataset_and_labels, fit_options, majority_classes, nearest_patterns

BY = ("pattern", "class")
#: methods whose fit takes a warm start (``init``)
WARM_METHODS = ("exact", "pseudo")


@dataclass(frozen=True)
class RareScan(Result):
    """A weight scan of one target, one entry per grid factor (sorted from the largest down).

    ``factors`` f (relative weight), ``weights`` f w_t (absolute); ``has_minimum``; ``margin`` (pattern:
    min_k dE_k at the pattern; None for a class); ``class_minima`` (class: number of strict minima whose
    nearest pattern is in the class; None for a pattern); ``boltzmann_weight`` p_T(target) exact;
    ``retrieval_rate``, ``retrieval_count`` out of ``samples`` exact samples, ``retrieval_stderr``
    sqrt(p_T (1 - p_T) / S). Thresholds (module docstring): ``threshold_bracket`` (f_lost, f_kept) with
    None for a side the grid does not reach, ``threshold_factor`` f_lost (None when the target keeps a
    minimum on the whole grid), ``threshold_weight`` its absolute weight, ``threshold_interpolated`` (pattern
    only: zero crossing of the margin in log f, None without a bracket); the same for retrieval
    (``retrieval_threshold_*``: no sample hit the target).
    """

    by: str
    target: Any
    target_patterns: np.ndarray
    base_weight: float
    factors: np.ndarray
    weights: np.ndarray
    has_minimum: np.ndarray
    margin: np.ndarray | None
    class_minima: np.ndarray | None
    boltzmann_weight: np.ndarray
    retrieval_rate: np.ndarray
    retrieval_count: np.ndarray
    retrieval_stderr: np.ndarray
    samples: int
    T: float
    method: str
    options: dict
    fit_converged: np.ndarray
    threshold_factor: float | None
    threshold_bracket: tuple[float | None, float | None]
    threshold_weight: float | None
    threshold_interpolated: float | None
    retrieval_threshold_factor: float | None
    retrieval_threshold_bracket: tuple[float | None, float | None]
    retrieval_threshold_weight: float | None
    retrieval: str = "exact"
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready fields (for a class, ``target_patterns`` is their number: it can be hundreds)."""
        out = super().to_dict()
        if self.by == "class":
            out["target_patterns"] = len(self.target_patterns)
        return out


def check_factors(factors: Any) -> np.ndarray:
    try:
        f = np.array(factors, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ThermopotError(f"factors must be positive numbers, got {factors!r}") from None
    if f.size == 0:
        raise ThermopotError("factors must hold at least one weight factor")
    if not (np.isfinite(f).all() and (f > 0).all()):
        raise ThermopotError(f"weight factors must be finite and > 0 (a factor 0 removes the target from "
                             f"the data), got {f.tolist()!r}")
    return np.unique(f)[::-1]


def target_rows(data: Dataset, labels: Any, target: Any, by: str) -> tuple[np.ndarray, Any]:
    """Boolean mask of the target rows and the target as reported (row index or class)."""
    if by == "pattern":
        if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
            raise ThermopotError(f"by='pattern' needs target = a row index of the data, got {target!r}")
        if not 0 <= target < data.size:
            raise ThermopotError(f"target row {target} is outside the data (rows 0..{data.size - 1})")
        if data.weights[target] <= 0:
            raise ThermopotError(f"target row {target} has weight 0: it is not in the data")
        return (data.samples == data.samples[target]).all(axis=1) & (data.weights > 0), int(target)
    if labels is None:
        raise ThermopotError("by='class' needs labels (one class per data row), or a Digits data set")
    lab = np.asarray(labels)
    if lab.shape != (data.size,):
        raise ThermopotError(f"labels must have shape ({data.size},), one per data row, got {lab.shape}")
    if not ((lab == target) & (data.weights > 0)).any():
        raise ThermopotError(f"class {target!r} is not among the labels of the data "
                             f"({sorted(np.unique(lab).tolist())})")
    # whole patterns: the rows of every distinct pattern whose majority class is the target, so that the
    # scaled weight, the patterns whose model weight is measured and the class minima all mean one thing
    keep = data.weights > 0
    _, inverse = np.unique(data.samples[keep], axis=0, return_inverse=True)
    mask = np.zeros(data.size, dtype=bool)
    mask[np.flatnonzero(keep)] = majority_classes(data, lab)[inverse.reshape(-1)] == target
    if not mask.any():
        raise ThermopotError(f"class {target!r} is the majority class of no pattern: it has no pattern to scale")
    return mask, target


def scaled_weights(p: np.ndarray, mask: np.ndarray, factor: float, w_t: float) -> np.ndarray:
    """p'_m = f p_m on the target rows, p_m (1 - f w_t) / (1 - w_t) elsewhere."""
    return np.where(mask, factor * p, p * (1.0 - factor * w_t) / (1.0 - w_t))


def stability_margin(model: PairwiseModel, pattern: np.ndarray) -> float:
    """Stability margin min_k dE_k of a pattern (> 0: a strict single-flip minimum)."""
    return float(np.min(model.flip_energy_changes(pattern.astype(np.float64))))


def _class_minima(model: PairwiseModel, data: Dataset, pattern_class: np.ndarray, target: Any,
                  backend: Any) -> int:
    """Number of strict minima of ``model`` whose nearest distinct pattern of ``data`` (rows as in
    ``data.unique()``, classes ``pattern_class``) is of class ``target``."""
    land = local_minima(model, backend=backend)
    unique = data.unique()
    nearest, _ = nearest_patterns(land.states[land.strict], unique.samples, unique.weights)
    return int((pattern_class[nearest] == target).sum())


def grid_threshold(lost: np.ndarray, factors: np.ndarray
               ) -> tuple[float | None, tuple[float | None, float | None], int]:
    """(largest factor with ``lost``, its bracket (f_lost, next larger factor), its position or -1)."""
    where = np.flatnonzero(lost)
    if len(where) == 0:
        return None, (None, float(factors[-1])), -1
    i = int(where[0])
    return float(factors[i]), (float(factors[i]), float(factors[i - 1]) if i > 0 else None), i


def rare_weight_scan(data: Any, target: Any, factors: Sequence[float], *, by: str = "pattern",
                     labels: Any = None, T: float = 1.0, method: str = "exact", l2: float | None = None,
                     retrieval_samples: int = 1000, seed: Any = 0, backend: Any = None) -> RareScan:
    """Lower the weight of ``target`` by each of ``factors`` (module docstring formulas), refit the pairwise
    model by ``method`` (see :func:`thermopot.learning.fit`; ``l2`` defaults to the library's DEFAULT_L2
    for "exact" and "pseudo") and record, at temperature ``T``: whether the target keeps a minimum, its
    exact Boltzmann weight, and its retrieval rate in ``retrieval_samples`` exact samples (``seed``).

    ``data``: Dataset, +-1 array, .npz path or Digits (which brings its labels). ``by="pattern"``: target
    is a row index of the data (the pattern of that row, with all its duplicates); ``by="class"``: target
    is a class label (``labels`` (M,) or the Digits labels).
    """
    start = time.perf_counter()
    if by not in BY:
        raise ThermopotError(f"by must be one of {', '.join(BY)}, got {by!r}")
    T = check_temperature(T)
    samples = check_count(retrieval_samples, "retrieval_samples", 1)
    f = check_factors(factors)
    dataset, labels = dataset_and_labels(data, labels)
    mask, target = target_rows(dataset, labels, target, by)
    p = dataset.probabilities
    w_t = float(p[mask].sum())
    if w_t >= 1.0 - 1e-12:
        raise ThermopotError("the target holds all the data weight: there is nothing to renormalise")
    if f[0] * w_t >= 1.0:
        raise ThermopotError(f"factor {f[0]:g} would give the target a weight {f[0] * w_t:g} >= 1 "
                             f"(its weight is {w_t:g}); factors must be < {1.0 / w_t:g}")
    target_patterns = np.unique(dataset.samples[mask], axis=0)
    target_index = spins_to_index(target_patterns)
    pattern_class = majority_classes(dataset, labels) if by == "class" else None
    options = fit_options(method, l2)
    rng = check_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("margin", "class_minima", "has_min", "p", "count", "conv")}
    model = None
    with Progress(None, len(f), unit="weight", desc="rare-weight scan") as bar:  # shown when slow
        for factor in f:
            reweighted = Dataset(dataset.samples, scaled_weights(p, mask, float(factor), w_t))
            warm = {"init": model} if method in WARM_METHODS and model is not None else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                result = fit(reweighted.unique(), method, backend=backend, **options, **warm)
            model = result.model
            rows["conv"].append(result.converged)
            if by == "pattern":
                rows["margin"].append(stability_margin(model, target_patterns[0]))
                rows["has_min"].append(rows["margin"][-1] > flip_tolerance(model))
            else:
                rows["class_minima"].append(_class_minima(model, reweighted, pattern_class, target, backend))
                rows["has_min"].append(rows["class_minima"][-1] > 0)
            mix = at_temperature([model], [1.0], T, backend)
            rows["p"].append(float(np.exp(mix.log_prob(target_patterns)).sum()))
            drawn = sample_exact(model, samples, T=T, seed=rng, backend=backend)
            rows["count"].append(int(np.isin(spins_to_index(drawn), target_index).sum()))
            bar.update()
    has_min = np.array(rows["has_min"])
    prob = np.array(rows["p"])
    count = np.array(rows["count"], dtype=np.int64)
    t_f, t_br, t_i = grid_threshold(~has_min, f)
    interp = None
    if by == "pattern" and t_i > 0:
        g_lo, g_hi = rows["margin"][t_i], rows["margin"][t_i - 1]
        lf_lo, lf_hi = np.log(f[t_i]), np.log(f[t_i - 1])
        interp = float(np.exp(lf_lo + (lf_hi - lf_lo) * (0.0 - g_lo) / (g_hi - g_lo)))
    r_f, r_br, _ = grid_threshold(count == 0, f)
    return RareScan(by=by, target=target, target_patterns=target_patterns, base_weight=w_t, factors=f,
                    weights=f * w_t, has_minimum=has_min,
                    margin=np.array(rows["margin"]) if by == "pattern" else None,
                    class_minima=np.array(rows["class_minima"]) if by == "class" else None,
                    boltzmann_weight=prob, retrieval_rate=count / samples, retrieval_count=count,
                    retrieval_stderr=np.sqrt(prob * (1.0 - prob) / samples), samples=samples, T=T,
                    method=method, options=options, fit_converged=np.array(rows["conv"]),
                    threshold_factor=t_f, threshold_bracket=t_br,
                    threshold_weight=None if t_f is None else t_f * w_t, threshold_interpolated=interp,
                    retrieval_threshold_factor=r_f, retrieval_threshold_bracket=r_br,
                    retrieval_threshold_weight=None if r_f is None else r_f * w_t,
                    seconds=time.perf_counter() - start)
