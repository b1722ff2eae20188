"""The multiple-model remedy (theory.md section 3, He and Lubchenko): one reduced pairwise model against a
mixture of K reduced models, P(s) = sum_k W_k exp(-E_k(s)) / Z_k (:func:`thermopot.learning.fit_mixture`).

Both are fitted to the same data and read at temperature T (E -> E / T, module ``_rare_common``); with
the M distinct training patterns xi^mu of data weight w_mu (sum 1) they are compared on

- KL(data || model) = sum_mu w_mu log(w_mu / p_model(xi^mu)) = -H(w) - L,   H(w) = -sum_mu w_mu log w_mu,
  L = sum_mu w_mu log p_model(xi^mu) the mean log-likelihood, with exact log-probabilities by enumeration
  (log Z_k by log-sum-exp; :meth:`thermopot.learning.Mixture.log_prob`); KL >= 0 (Gibbs inequality);
- coverage: in S exact samples of the model (:meth:`Mixture.sample`; the single model is sampled as the
  K = 1 mixture, so a K = 1 mixture equal to it gives the same samples), the fraction of the distinct
  training patterns drawn at least once; with labels, the fraction of classes of which at least one
  pattern (class of a pattern: the majority label of its rows) is drawn;
- rare patterns R (``rare``: None = every pattern of the lowest data weight; an integer r = the r
  lowest-weight patterns; or row indices of the data): the fraction of the S samples that hit R
  (``rare_rate``), against its data weight w_R = sum_{mu in R} w_mu and its exact model weight
  p_model(R) (``rare_prob``), and the fraction of R drawn at least once (``rare_coverage``).

K: an integer, "minima" (one component per strict single-flip minimum of the single fitted model; EM
started from their basins) or "classes" (one per label; EM started from the labels, responsibility
(1 - eps) on the row's class plus eps / K). None picks "classes" when labels are given, else "minima".
An integer K starts from the basins of the K lowest minima when the single model has that many, else
from random responsibilities (``seed``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..checks import check_rng, check_temperature
from ..errors import ThermopotError
from ..landscape import local_minima
from ..learning import ConvergenceWarning, Dataset, Mixture, basin_responsibilities, fit, fit_mixture
from ..learning.mixture import EM_METHODS, INIT_SMOOTHING
from ..results import Result
from ..checks import check_count
from ..states import spins_to_index
from ._rare_common import at_temperature, hit_fraction
from .library import dataset_and_labels, fit_options, majority_classes

K_CHOICES = ("minima", "classes")


@dataclass(frozen=True)
class Remedy(Result):
    """Single reduced model against a K-component mixture (module docstring for every formula).

    ``entropy`` H(w) of the distinct patterns; ``kl_*`` KL(data || model); ``log_likelihood_*`` L;
    ``coverage_*`` fraction of the ``patterns`` distinct patterns drawn in ``samples`` samples;
    ``class_coverage_*`` fraction of the classes drawn (None without labels); ``pattern_rate_*`` fraction of
    the samples that are training patterns; ``rare_rows`` (rows of the distinct patterns, as in
    ``Dataset.unique()``), ``rare_weight`` w_R, ``rare_prob_*`` exact p(R), ``rare_rate_*`` sampled
    fraction, ``rare_coverage_*``; ``k`` and ``k_source`` ("given", "minima", "classes");
    ``single_minima`` strict minima of the single model; ``mixture_weights`` W_k; ``k`` is the number of
    components that survived EM, ``k_initial`` the number it started from and ``components_dropped`` those it
    dropped (:func:`thermopot.learning.prune_components`: fewer samples than half their effective
    parameters); EM ``em_iterations``, ``em_converged``; ``single`` and ``mixture`` are the fitted objects (at the fitting temperature 1).
    """

    k: int
    k_source: str
    T: float
    samples: int
    patterns: int
    entropy: float
    kl_single: float
    kl_mixture: float
    log_likelihood_single: float
    log_likelihood_mixture: float
    coverage_single: float
    coverage_mixture: float
    class_coverage_single: float | None
    class_coverage_mixture: float | None
    pattern_rate_single: float
    pattern_rate_mixture: float
    rare_rows: np.ndarray
    rare_weight: float
    rare_prob_single: float
    rare_prob_mixture: float
    rare_rate_single: float
    rare_rate_mixture: float
    rare_coverage_single: float
    rare_coverage_mixture: float
    single_minima: int
    mixture_weights: np.ndarray
    em_iterations: int
    em_converged: bool
    k_initial: int
    components_dropped: tuple
    method: str
    options: dict
    seconds_single: float
    seconds_mixture: float
    single: Any = None
    mixture: Mixture | None = None
    _omit = ("single", "mixture")  # to_dict: the fitted models themselves are left out


def _rare_rows(rare: Any, dataset: Dataset, unique: Dataset) -> np.ndarray:
    """Rows of the distinct patterns (``unique`` order) that form the rare set."""
    w = unique.probabilities
    if rare is None:
        return np.flatnonzero(w <= w.min() * (1 + 1e-9))
    if isinstance(rare, (int, np.integer)) and not isinstance(rare, (bool, np.bool_)):
        if not 1 <= rare <= unique.size:
            raise ThermopotError(f"rare = {rare} lowest-weight patterns asked for, the data have "
                                 f"{unique.size} distinct patterns")
        return np.sort(np.argsort(w, kind="stable")[:int(rare)])
    rows = np.asarray(rare)
    if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ThermopotError(f"rare must be None, a count, or a non-empty list of data row indices, "
                             f"got {rare!r}")
    if rows.min() < 0 or rows.max() >= dataset.size:
        raise ThermopotError(f"rare rows must lie in 0..{dataset.size - 1}, got {rows.tolist()!r}")
    if (dataset.weights[rows] <= 0).any():
        raise ThermopotError("rare rows must have positive weight (a row of weight 0 is not in the data)")
    row_of = {int(i): r for r, i in enumerate(spins_to_index(unique.samples))}
    return np.unique([row_of[int(i)] for i in spins_to_index(dataset.samples[rows])])


def _classes(dataset: Dataset, labels: Any) -> np.ndarray | None:
    """The sorted classes with positive data weight (a class seen only in rows of weight 0 is not in the
    data); None without labels."""
    return None if labels is None else np.unique(np.asarray(to_numpy(labels))[dataset.weights > 0])


def _components(k: Any, classes: np.ndarray | None) -> tuple[int | None, str]:
    """(K, or None for "minima" until the single model is fitted; the source of K). ``classes``: those
    with positive weight (K = their number for "classes")."""
    if k is None:
        k = "classes" if classes is not None else "minima"
    if isinstance(k, str):
        if k not in K_CHOICES:
            raise ThermopotError(f"k must be an integer >= 1 or one of {', '.join(K_CHOICES)}, got {k!r}")
        if k == "minima":
            return None, "minima"
        if classes is None:
            raise ThermopotError("k='classes' needs labels (one class per data row), or a Digits data set")
        return len(classes), "classes"
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ThermopotError(f"k must be an integer >= 1 or one of {', '.join(K_CHOICES)}, got {k!r}")
    return int(k), "given"


def _initial(k_source: str, k: int, dataset: Dataset, labels: Any, classes: np.ndarray | None,
             single_model: Any, single_minima: int, seed: Any, backend: Any) -> tuple[Dataset, Any]:
    """The data rows EM runs on and its initial responsibilities (or "random"). From the classes: a
    row of class c (one of ``classes``) gets 1 - eps + eps / K on c and eps / K elsewhere; a row whose
    class has no positive weight (the row itself has weight 0) gets 1 / K everywhere."""
    if k_source == "classes":
        lab = np.asarray(to_numpy(labels))
        cls = np.minimum(np.searchsorted(classes, lab), k - 1)
        known = np.flatnonzero(classes[cls] == lab)
        resp = np.full((dataset.size, k), INIT_SMOOTHING / k)
        resp[known, cls[known]] += 1.0 - INIT_SMOOTHING
        resp[classes[cls] != lab] = 1.0 / k
        return dataset, resp
    unique = dataset.unique()
    if k <= single_minima:
        return unique, basin_responsibilities(single_model, unique, k, backend=backend)
    return unique, check_rng(seed).dirichlet(np.ones(k), size=unique.size)


def _scores(model: Mixture, unique: Dataset, rare_rows: np.ndarray, pattern_class: np.ndarray | None,
            n_classes: int | None, samples: int, seed: Any, backend: Any) -> dict:
    """KL, log-likelihood, coverage and rare-pattern scores of one model (a Mixture) on the distinct
    patterns ``unique`` (module docstring)."""
    patterns, w = unique.samples, unique.probabilities
    log_p = model.log_prob(patterns)
    drawn, _ = model.sample(samples, seed=seed, backend=backend)
    rate, seen = hit_fraction(drawn, patterns)
    rare_rate, rare_seen = hit_fraction(drawn, patterns[rare_rows])
    classes = None if pattern_class is None else len(np.unique(pattern_class[seen])) / n_classes
    return {"log_likelihood": float(w @ log_p), "kl": float(w @ (np.log(w) - log_p)),
            "coverage": float(seen.mean()), "pattern_rate": rate,
            "class_coverage": classes,
            "rare_prob": float(np.exp(log_p[rare_rows]).sum()), "rare_rate": rare_rate,
            "rare_coverage": float(rare_seen.mean())}


def compare_remedy(data: Any, *, k: Any = None, T: float = 1.0, method: str = "exact",
                   l2: float | None = None, samples: int = 2000, seed: Any = 0, labels: Any = None,
                   rare: Any = None, max_iter: int = 20, tol: float = 1e-4, prune: bool = True,
                   backend: Any = None) -> Remedy:
    """Fit one pairwise model and a mixture of K pairwise models to ``data`` and compare them at ``T``
    on KL(data || model), pattern and class coverage in ``samples`` exact samples, and the retrieval of
    the ``rare`` patterns (module docstring for the formulas and the choices of ``k`` and ``rare``).

    ``data``: Dataset, +-1 array, .npz path or Digits (which brings its labels). ``method``: "exact" or
    "pseudo" (the EM M-step and the single fit); ``l2`` defaults to the library's DEFAULT_L2. EM stops
    when the mean log-likelihood rises by less than ``tol`` or after ``max_iter`` iterations; ``prune`` drops
    the components that carry too little data (:func:`~thermopot.learning.fit_mixture`). ``seed``
    drives the samples (the same stream for both models) and a random EM start.
    """
    T = check_temperature(T)
    samples = check_count(samples, "samples", 1)
    if method not in EM_METHODS:
        raise ThermopotError(f"method must be one of {', '.join(EM_METHODS)} (the EM M-step), got {method!r}")
    dataset, labels = dataset_and_labels(data, labels)
    pattern_class = majority_classes(dataset, labels)
    unique = dataset.unique()
    rare_rows = _rare_rows(rare, dataset, unique)
    classes = _classes(dataset, labels)
    k, k_source = _components(k, classes)
    options = fit_options(method, l2)

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = fit(unique, method, backend=backend, **options).model
    single_minima = local_minima(single, backend=backend).count
    seconds_single = time.perf_counter() - start

    start = time.perf_counter()
    if k is None:
        if single_minima == 0:
            raise ThermopotError("the single fitted model has no strict minimum: give k (an integer)")
        k = single_minima
    em_data, init = _initial(k_source, k, dataset, labels, classes, single, single_minima, seed, backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        em = fit_mixture(em_data, k, method=method, init=init, l2=options.get("l2", 0.0), tol=tol, prune=prune,
                         max_iter=max_iter, backend=backend)
    seconds_mixture = time.perf_counter() - start

    w = unique.probabilities
    entropy = float(-w @ np.log(w))
    n_classes = None if classes is None else len(classes)
    out: dict[str, Any] = {}
    for name, models, weights in (("single", [single], [1.0]),
                                  ("mixture", em.mixture.models, em.mixture.weights)):
        scores = _scores(at_temperature(models, weights, T, backend), unique, rare_rows, pattern_class,
                         n_classes, samples, seed, backend)
        out.update({f"{key}_{name}": value for key, value in scores.items()})
    return Remedy(k=em.mixture.k, k_initial=k, components_dropped=em.dropped, k_source=k_source, T=T, samples=samples, patterns=unique.size, entropy=entropy,
                  rare_rows=rare_rows, rare_weight=float(w[rare_rows].sum()), single_minima=single_minima,
                  mixture_weights=em.mixture.weights, em_iterations=em.iterations, em_converged=em.converged,
                  method=method, options=options, seconds_single=seconds_single,
                  seconds_mixture=seconds_mixture, single=single, mixture=em.mixture, **out)
