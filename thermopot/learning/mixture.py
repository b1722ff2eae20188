"""Mixtures of pairwise models (theory.md section 3, the remedy: several models at once).

    P(s) = sum_k W_k exp(-E_k(s)) / Z_k,       sum_k W_k = 1,

sampled by picking component k with probability W_k and then sampling within it (exactly, from its
Boltzmann table), and fitted by expectation-maximisation:

    E-step   r_mk = W_k P_k(s_m) / P(s_m)                         (responsibilities, log-sum-exp)
    M-step   W_k = sum_m w_m r_mk / W,   model_k = fit to the data with weights w_m r_mk and penalty l2 / W_k,

each M-step warm-started from the previous model_k. The fit of component k is normalised to its own
weight (its objective is a mean over its share W_k of the data), so the penalty l2 / W_k is the same
Gaussian prior, (l2 / 2) |theta_k|^2 per unit of the whole data, on every component as on a single model
fitted to all of it with l2 (:func:`component_l2`; MAP-EM). With exact maximum likelihood in the M-step
every iteration can only raise the penalised mean log-likelihood L - (l2 / 2) sum_k |theta_k|^2,
L = sum_m p_m log P(s_m); with pseudo-likelihood the M-step is approximate and the monotonicity is not
guaranteed. (A penalty l2 on every component's mean objective would be a prior W_k times weaker on a
component of weight W_k: small components overfit.) The E-step needs every log Z_k, so mixtures are
exact-enumeration sized (size guard).

Components that carry (almost) no data are dropped (``prune=True``, :func:`prune_components`), by the
annihilation rule of minimum message length (Figueiredo and Jain, IEEE TPAMI 24, 381 (2002)): component k
is dropped when its effective count n_k = sum_m w_m r_mk (in the units of the data's weights: samples
when they are counts) falls below half its effective number of parameters d_k,

    n_k < d_k / 2,    d_k = 1 + sum_i W_k v_ik / (W_k v_ik + l2),

where i runs over the N (N + 1) / 2 statistics s_i, s_i s_j of a pairwise model and v_ik is the variance of
statistic i in component k's share of the data (1 - <s_i>^2, 1 - <s_i s_j>^2 with the weights w_m r_mk).
d_k is MacKay's number of well-determined parameters, sum_i lambda_i / (lambda_i + alpha), with the
Fisher information of n_k samples replaced by its diagonal n_k v_ik and alpha = l2 M the Gaussian prior
of the penalty l2 / W_k (per unit of the whole data): a direction counts fully when the component's data
pin it down better than the prior, not at all when the prior does. The diagonal never counts fewer than
MacKay's gamma (the diagonal is majorised by the eigenvalues and x / (x + alpha) is concave): on the
digits at 4x4 (one component per class, l2 = 1e-3, the exact Fisher by enumeration) d_k = 133-136
against gamma = 107-132, so the rule leans towards dropping by up to a quarter of the parameters. The 1 is the component's weight
W_k, which has no prior: a component holding less than half a sample goes whatever the prior (without
it, d_k -> 0 with W_k when l2 > 0 and an empty component could stay). With l2 = 0, d_k is one more than
the number of statistics that vary in the component's data (at most N (N + 1) / 2, Figueiredo and
Jain's count of a component's parameters).
The rule ranks K only where one component can pass it: when a component holding all the data would have
fewer samples than half its effective parameters (M < d / 2, e.g. N = 256 from 800 samples: d ~ 32896), the
parameter cost of the asymptotic code length exceeds the whole data, every K >= 1 fails alike and the rule
cannot choose among them; d_k is then the weight's 1 alone, and only components of less than half a sample
go. Components are dropped one at a time, the one with the fewest samples first, each drop followed by the
E-step of the smaller mixture (the others' responsibilities renormalised, so its samples go to them
before the next is judged: Figueiredo and Jain's sequential annihilation), and the last one never.
The likelihood may fall at an iteration with a drop (a smaller model), so the stopping rule skips it.
The rule counts samples: it applies when the data's weights are sample counts (whole numbers, e.g. unit
weights or the counts of merged duplicates); normalised weights (the knowledge pipeline's w_mu, summing to 1)
say nothing of how many samples there were, so with them no component is dropped (the fit's message says so).

Stopping (:func:`em_stopped`): EM stops when the mean log-likelihood rises by less than
``tol + noise_z * se`` between two iterations with the same components, se = sqrt(se_t^2 + se_{t-1}^2)
the standard error of the change from the log Z_k estimates (0 with exact log Z_k: the rule is then
the plain tol on the change of the mean, a per-sample quantity). On the sampled path a rise within the
noise of the E-step is no evidence that EM is still climbing.

Initialisation: K given, responsibilities drawn from a flat Dirichlet (``init="random"``); or from the
basins of a single model fitted to all the data (``init="basins"``, the default when K is not given):
one component per strict single-flip minimum (the K lowest when K is given), each sample's
responsibility (1 - eps) on the component of the basin it lies in plus eps / K on every component.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy.special import logsumexp

from ..backend import get_namespace
from ..checks import check_rng
from ..errors import ThermopotError
from ..exact import check_size, thermodynamics
from ..exact.guard import ENUMERATION, FIT_EVALUATION, LANDSCAPE, check_budget, estimate
from ..landscape import local_minima
from ..models import PairwiseModel
from ..progress import Progress
from ..results import Result
from ..states import spins_to_index
from ..datasets.dataset import Dataset, as_dataset
from .exact_sampling import sample_exact
from .fit import METHODS
from .result import BoundaryWarning, ConvergenceWarning, boundary_note

#: share of the initial responsibility spread evenly over all components (basin initialisation)
INIT_SMOOTHING = 0.1
#: M-step methods (need a warm start and weighted data)
EM_METHODS = ("exact", "pseudo")
#: float64 arrays of shape (samples, K) alive at once (component log-probabilities, their log-sum-exp,
#: responsibilities, component weights and the temporaries of the E-step)
SAMPLE_K_ARRAYS = 8
#: float64 arrays of shape (samples, N) alive at once (the data, a weighted copy per M-step, the
#: pseudo-likelihood's local fields and their gradients)
SAMPLE_N_ARRAYS = 12
#: objective evaluations budgeted per warm-started exact M-step after the first iteration (a cold fit is
#: budgeted at exact_ml.fit_evaluations)
WARM_EVALUATIONS = 30
#: default z of the stopping rule: EM stops when the rise is below tol + NOISE_Z standard errors of it
NOISE_Z = 2.0
#: pseudo-likelihood M-step: seconds per sample, spin and parameter-vector pass, and passes per M-step
PSEUDO_SECONDS, PSEUDO_PASSES = 2e-8, 200


def estimate_mixture(n: int, samples: int, k: int, *, method: str = "exact", basins: bool = False,
                     max_iter: int = 200, xp: Any = None) -> tuple[float, float]:
    """(bytes, seconds) :func:`fit_mixture` needs for ``samples`` distinct rows of N = n spins and K = k
    components: memory is the largest single step (an exact fit's enumeration, the E-step's enumeration,
    the basin landscape when ``basins``) plus the (samples, K) and (samples, N) arrays and K models; time
    is max_iter EM iterations of K M-steps (a cold fit in the first, WARM_EVALUATIONS enumerations per
    warm exact fit after it) and K enumerations each (an upper bound: EM usually stops far earlier)."""
    from .exact_ml import fit_evaluations  # noqa: PLC0415

    xp = get_namespace(xp)
    steps = [estimate(n, xp, cost=ENUMERATION)[0]]
    if method == "exact" or basins:
        steps.append(estimate(n, xp, cost=FIT_EVALUATION)[0])
    if basins:
        steps.append(estimate(n, xp, cost=LANDSCAPE)[0])
    memory = max(steps) + 8.0 * (SAMPLE_K_ARRAYS * samples * k + SAMPLE_N_ARRAYS * samples * n + 4 * k * n * n)
    one = estimate(n, xp, cost=FIT_EVALUATION)[1]  # seconds of one objective evaluation
    if method == "exact":
        fits = k * one * (fit_evaluations(n, 5000) + (max_iter - 1) * WARM_EVALUATIONS)
    else:
        fits = k * max_iter * PSEUDO_PASSES * PSEUDO_SECONDS * samples * n * n
    first = one * fit_evaluations(n, 5000) + estimate(n, xp, cost=LANDSCAPE)[1] if basins else 0.0
    return memory, first + fits + max_iter * k * estimate(n, xp, cost=ENUMERATION)[1]


@dataclass(frozen=True)
class Mixture(Result):
    """K pairwise models with weights W (K,) and their exact log partition functions (K,)."""

    models: tuple[PairwiseModel, ...]
    weights: np.ndarray
    log_z: np.ndarray

    @classmethod
    def from_models(cls, models: Any, weights: Any, *, backend: Any = None) -> "Mixture":
        """A mixture with log Z_k computed by exact enumeration (size guard applies)."""
        models = tuple(models)
        if not models or not all(isinstance(m, PairwiseModel) for m in models):
            raise ThermopotError("a mixture needs at least one PairwiseModel")
        n = models[0].n
        if any(m.n != n for m in models):
            raise ThermopotError(f"mixture components must have the same N, got {[m.n for m in models]}")
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(models),) or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ThermopotError(f"mixture weights must be {len(models)} finite numbers >= 0 with a positive "
                                 f"sum, got {w!r}")
        check_size(n, backend, what="the exact log-likelihood of a mixture")
        log_z = np.array([thermodynamics(m, 1.0, backend=backend, progress=False).log_z for m in models])
        return cls(models, w / w.sum(), log_z)

    @property
    def k(self) -> int:
        """Number of components K."""
        return len(self.models)

    @property
    def n(self) -> int:
        """Number of spins N."""
        return self.models[0].n

    def component_log_prob(self, samples: Any) -> np.ndarray:
        """log W_k - E_k(s_m) - log Z_k, shape (M, K), for +-1 samples (M, N)."""
        s = as_dataset(samples).samples.astype(np.float64)
        if s.shape[1] != self.n:
            raise ThermopotError(f"samples have N = {s.shape[1]} spins, the mixture N = {self.n}")
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        return np.stack([log_w[k] - np.asarray(m.energy(s)) - self.log_z[k]
                         for k, m in enumerate(self.models)], axis=1)

    def log_prob(self, samples: Any) -> np.ndarray:
        """log P(s_m) = log sum_k W_k exp(-E_k(s_m)) / Z_k, shape (M,)."""
        return logsumexp(self.component_log_prob(samples), axis=1)

    def log_likelihood(self, data: Dataset | Any, weights: Any = None) -> float:
        """Mean log-likelihood sum_m p_m log P(s_m) of (weighted) data."""
        data = as_dataset(data, weights)
        return float(data.probabilities @ self.log_prob(data.samples))

    def responsibilities(self, samples: Any) -> np.ndarray:
        """r_mk = W_k P_k(s_m) / P(s_m), shape (M, K)."""
        lp = self.component_log_prob(samples)
        return np.exp(lp - logsumexp(lp, axis=1, keepdims=True))

    def sample(self, size: int, *, seed: Any = None, backend: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``size`` exact samples (size, N) int8 and their component labels (size,)."""
        if int(size) != size or size < 0:
            raise ThermopotError(f"size must be an integer >= 0, got {size!r}")
        rng = check_rng(seed)
        labels = rng.choice(self.k, size=int(size), p=self.weights)
        out = np.empty((int(size), self.n), dtype=np.int8)
        for k in np.unique(labels):
            rows = labels == k
            out[rows] = sample_exact(self.models[k], int(rows.sum()), seed=rng, backend=backend)
        return out, labels

    def to_dict(self) -> dict:
        """JSON-ready fields: weights, log_z and every component's h and J."""
        return self._json({"k": self.k, "n": self.n, "weights": self.weights, "log_z": self.log_z,
                           "models": [{"h": m.h, "J": m.J} for m in self.models]})


@dataclass(frozen=True)
class MixtureFit(Result):
    """An EM fit: the mixture, the mean log-likelihood after every iteration, and how it ended
    (``initial_k`` components at the start, ``dropped`` those removed by :func:`prune_components`, with
    why; ``unconverged_steps``: component M-steps that stopped short of their tolerance; EM stays valid as a
    generalised EM since each M-step still improves on its warm start; ``boundary_pairs``: pairs of
    columns the data never show in one of their joint values, whose component couplings diverge
    without l2, see :meth:`~thermopot.datasets.Dataset.boundary_pairs`)."""

    mixture: Mixture
    log_likelihood: float
    history: np.ndarray
    iterations: int
    converged: bool
    method: str
    init: str
    seconds: float
    unconverged_steps: int = 0
    boundary_pairs: int = 0
    message: str = ""
    initial_k: int = 0
    dropped: tuple[DroppedComponent, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready fields: the mixture's, then the fit's."""
        return {**self.mixture.to_dict(), **self._json({f.name: getattr(self, f.name) for f in fields(self)
                                                        if f.name != "mixture"})}


class ComponentDropWarning(UserWarning):
    """EM dropped mixture components that carried too little data (minimum message length rule)."""


@dataclass(frozen=True)
class DroppedComponent(Result):
    """A component dropped by :func:`prune_components`: its index among the initial components, the EM
    iteration before whose M-step it was dropped (1 = from the initial responsibilities), its effective
    count n_k, its effective number of parameters d_k and the rule ("mml": n_k < d_k / 2; "weight": fewer
    than half a sample, where the data are too few for the mml rule, M < d / 2)."""

    component: int
    iteration: int
    count: float
    parameters: float
    rule: str = "mml"


def effective_parameters(samples: Any, component_weights: Any, l2: float) -> np.ndarray:
    """d_k = 1 + sum_i W_k v_ik / (W_k v_ik + l2) (K,) over the N (N + 1) / 2 statistics s_i, s_i s_j of
    component k, v_ik their variances under the weights ``component_weights`` (M, K) = w_m r_mk and
    W_k = sum_m w_m r_mk / sum_m w_m (module docstring); with l2 = 0, 1 + the number of statistics that
    vary. The 1 counts the weight W_k."""
    s = np.asarray(samples, dtype=np.float64)
    cw = np.asarray(component_weights, dtype=np.float64)
    shares = cw.sum(axis=0) / cw.sum()
    upper = np.triu_indices(s.shape[1], 1)
    out = np.ones(cw.shape[1])
    for k in range(cw.shape[1]):
        if shares[k] <= 0:
            continue
        p = cw[:, k] / cw[:, k].sum()
        m, c = s.T @ p, (s * p[:, None]).T @ s
        v = np.clip(np.concatenate([1.0 - m ** 2, 1.0 - c[upper] ** 2]), 0.0, None)
        out[k] += np.count_nonzero(v > 1e-12) if not l2 else float(np.sum(shares[k] * v / (shares[k] * v + l2)))
    return out


#: the fit's message when pruning was asked for but the weights are not sample counts
NOT_COUNTS_NOTE = "no component dropped: the weights are not sample counts (whole numbers), the unit of the rule"


def weights_are_counts(weights: Any) -> bool:
    """Whether data weights are sample counts (whole numbers), the unit of :func:`prune_components`' n_k."""
    w = np.asarray(weights, dtype=np.float64)
    return bool(np.all(w == np.round(w)))


def prune_components(samples: Any, weights: Any, resp: np.ndarray, l2: float, *, iteration: int,
                     ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[DroppedComponent]]:
    """(indices kept (sorted), their responsibilities (M, K'), the dropped components): while some
    component has n_k = sum_m w_m r_mk < d_k / 2 (:func:`effective_parameters`), the one of them with the
    fewest samples is dropped and the responsibilities of the others renormalised (the E-step of the
    smaller mixture, so its samples go to the others before the next is judged), as in the sequential
    annihilation of Figueiredo and Jain; the last component is never dropped. When even one component
    holding all the data would be below its d / 2 (the rule's regime ends: module docstring), d_k is the
    weight's 1 alone. A row whose responsibility underflowed to 0 on every other component is shared evenly
    among them. ``ids`` names the
    current components by their initial index. Weights that are not sample counts
    (``weights_are_counts``: whole numbers) drop nothing."""
    keep = np.arange(resp.shape[1])
    w = np.asarray(weights, dtype=np.float64)
    dropped: list[DroppedComponent] = []
    if not weights_are_counts(w):
        return keep, resp, dropped
    whole = float(w.sum()) >= effective_parameters(samples, w[:, None], l2)[0] / 2
    while keep.size > 1:
        cw = w[:, None] * resp
        count = cw.sum(axis=0)
        d = effective_parameters(samples, cw, l2) if whole else np.ones(cw.shape[1])
        below = np.flatnonzero(count < d / 2)
        if below.size == 0:
            break
        k = int(below[np.argmin(count[below])])
        dropped.append(DroppedComponent(int(ids[keep[k]]), int(iteration), float(count[k]), float(d[k]),
                                        "mml" if whole else "weight"))
        keep = np.delete(keep, k)
        resp = np.delete(resp, k, axis=1)
        rest = resp.sum(axis=1, keepdims=True)
        resp = np.where(rest > 0, resp / np.where(rest > 0, rest, 1.0), 1.0 / keep.size)
    return keep, resp, dropped


def em_stopped(history: Any, stderr: Any, *, tol: float, noise_z: float = NOISE_Z) -> bool:
    """Whether EM stops after the last iteration: the mean log-likelihood rose by less than
    tol + noise_z * sqrt(se_t^2 + se_{t-1}^2) over the last two entries of ``history`` (with their
    standard errors ``stderr``; zeros for exact log Z)."""
    if len(history) < 2:
        return False
    rise = history[-1] - history[-2]
    return bool(rise < tol + noise_z * float(np.hypot(stderr[-1], stderr[-2])))


def drop_note(dropped: list[DroppedComponent], initial: int) -> str:
    """One line on the dropped components ("" when none): how many of the initial K and why."""
    if not dropped:
        return ""
    worst = ", ".join(f"#{d.component} at iteration {d.iteration} (n = {d.count:.3g} < d/2 = "
                      f"{d.parameters / 2:.3g})" for d in dropped[:4])
    more = f" and {len(dropped) - 4} more" if len(dropped) > 4 else ""
    return (f"{len(dropped)} of {initial} mixture components dropped, carrying fewer samples than half their "
            f"effective parameters (minimum message length, Figueiredo-Jain): {worst}{more}; "
            f"{initial - len(dropped)} {'remains' if initial - len(dropped) == 1 else 'remain'}")


def warn_dropped(dropped: list[DroppedComponent], initial: int, stacklevel: int = 3) -> None:
    """A ComponentDropWarning with :func:`drop_note` when any component was dropped."""
    if dropped:
        warnings.warn(drop_note(dropped, initial), ComponentDropWarning, stacklevel=stacklevel)


def basin_responsibilities(model: PairwiseModel, data: Dataset, k: int | None = None, *,
                           backend: Any = None) -> np.ndarray:
    """Initial responsibilities (M, K) from the steepest-descent basins of ``model``'s strict minima
    (the K lowest in energy when ``k`` is given): (1 - eps) on the sample's basin plus eps / K."""
    land = local_minima(model, backend=backend)
    strict_rows = np.flatnonzero(land.strict)  # rows of the energy-sorted stable states
    if k is not None:
        if k > len(strict_rows):
            raise ThermopotError(f"K = {k} components asked for basin initialisation, but the single fitted "
                                 f"model has only {len(strict_rows)} strict minima; use init='random'")
        strict_rows = strict_rows[:k]
    if len(strict_rows) == 0:
        raise ThermopotError("the single fitted model has no strict minimum to start a mixture from; "
                             "give K and use init='random'")
    component = np.full(len(land.energies), -1)
    component[strict_rows] = np.arange(len(strict_rows))
    K = len(strict_rows)
    label = component[land.basin[spins_to_index(data.samples)]]
    resp = np.full((data.size, K), 1.0 / K)
    inside = label >= 0
    resp[inside] = INIT_SMOOTHING / K
    resp[inside, label[inside]] += 1.0 - INIT_SMOOTHING
    return resp


def _initial_responsibilities(data: Dataset, k: int | None, init: Any, method: str, l2: float,
                              seed: Any, backend: Any) -> tuple[np.ndarray, str]:
    if isinstance(init, str) and init == "basins":
        options = {"l2": l2, "backend": backend}
        single = METHODS[method](data, **options).model
        return basin_responsibilities(single, data, k, backend=backend), "basins"
    if isinstance(init, str) and init == "random":
        if k is None:
            raise ThermopotError("init='random' needs the number of components K")
        return check_rng(seed).dirichlet(np.ones(k), size=data.size), "random"
    if isinstance(init, str):
        raise ThermopotError(f"unknown mixture initialisation {init!r}; use 'basins', 'random' or an "
                             "array of responsibilities (M, K)")
    resp = np.array(init, dtype=np.float64)
    if resp.ndim != 2 or resp.shape[0] != data.size or (k is not None and resp.shape[1] != k):
        raise ThermopotError(f"initial responsibilities must have shape (M, K) = ({data.size}, "
                             f"{k if k is not None else 'K'}), got {resp.shape}")
    if not np.isfinite(resp).all() or (resp < 0).any() or not np.allclose(resp.sum(axis=1), 1.0):
        raise ThermopotError("initial responsibilities must be >= 0 with every row summing to 1")
    return resp, "given"


def component_l2(l2: float, component_weights: Any, total_weight: float) -> float:
    """The M-step penalty of a component whose samples carry ``component_weights`` (w_m r_mk) out of
    ``total_weight``: l2 / W_k with W_k = sum_m w_m r_mk / total_weight (module docstring), 0 when l2 is."""
    return l2 * total_weight / float(np.sum(component_weights)) if l2 else 0.0


def fit_mixture(data: Dataset | Any, k: int | None = None, *, weights: Any = None, method: str = "exact",
                init: Any = None, l2: float = 0.0, tol: float = 1e-6, max_iter: int = 200, seed: Any = None,
                prune: bool = True, backend: Any = None) -> MixtureFit:
    """EM fit of a mixture of K pairwise models to (weighted) binary data.

    ``k``: number of components; None takes one per strict minimum of a single model fitted to all the
    data. ``init``: "basins" (default when ``k`` is None), "random" (default otherwise; ``seed``) or an
    (M, K) array of responsibilities. ``method``: the M-step, "exact" or "pseudo". ``prune``: drop the
    components that carry fewer samples than half their effective parameters (module docstring,
    :func:`prune_components`; a ComponentDropWarning says which), before every M-step; only when the weights are
    sample counts (whole numbers, ``weights_are_counts``; normalised weights carry no sample size). Stops when the mean
    log-likelihood rises by less than ``tol`` in one iteration without a drop (:func:`em_stopped`, exact
    log Z: no noise term); reports (flag and warning) when ``max_iter`` is reached first.
    """
    start = time.perf_counter()
    if method not in EM_METHODS:
        raise ThermopotError(f"the EM M-step method must be one of {', '.join(EM_METHODS)}, got {method!r}")
    if k is not None and (int(k) != k or k < 1):
        raise ThermopotError(f"K must be an integer >= 1, got {k!r}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ThermopotError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    data = as_dataset(data, weights)
    check_size(data.n, backend, what="EM for a mixture (exact log Z of every component)")
    init = init if init is not None else ("basins" if k is None else "random")
    if isinstance(init, str):
        data = data.compact()  # given responsibilities refer to the rows as given
    what = f"EM for a mixture of N={data.n} spins, {data.size} rows"

    def guard(components: int) -> None:
        memory, seconds = estimate_mixture(data.n, data.size, components, method=method,
                                           basins=isinstance(init, str) and init == "basins",
                                           max_iter=int(max_iter), xp=backend)
        check_budget(memory, seconds, f"{what}, K={components}", backend,
                     rate=f"assuming all {int(max_iter)} EM iterations")

    guard(k if k is not None else 1)
    resp, init_name = _initial_responsibilities(data, k, init, method, l2, seed, backend)
    K = resp.shape[1]
    if k is None:
        guard(K)
    fit_k = METHODS[method]
    models: list[PairwiseModel | None] = [None] * K
    ids = np.arange(K)
    history: list[float] = []
    dropped: list[DroppedComponent] = []
    converged, unconverged = False, 0
    bar = Progress(None, int(max_iter), unit="EM iteration", desc=f"mixture K={K}")  # shown when slow
    for it in range(int(max_iter)):
        now: list[DroppedComponent] = []
        if prune:
            keep, resp, now = prune_components(data.samples, data.weights, resp, l2, iteration=it + 1, ids=ids)
            ids, models = ids[keep], [models[c] for c in keep]
            dropped += now
        comp_w = data.weights[:, None] * resp
        for c in range(len(models)):
            if models[c] is not None and comp_w[:, c].sum() <= 1e-12 * data.total_weight:
                continue  # an emptied component keeps its model (its weight is ~0)
            try:
                with warnings.catch_warnings():  # counted here, and the boundary said once below
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", BoundaryWarning)
                    penalty = component_l2(l2, comp_w[:, c], data.total_weight)
                    step = fit_k(data.with_weights(comp_w[:, c]), l2=penalty, init=models[c], backend=backend)
                models[c], unconverged = step.model, unconverged + (not step.converged)
            except ThermopotError as exc:
                raise ThermopotError(f"mixture component {ids[c]}: {exc}") from None
        mixture = Mixture.from_models(models, comp_w.sum(axis=0), backend=backend)
        lp = mixture.component_log_prob(data.samples)
        total = logsumexp(lp, axis=1, keepdims=True)
        history.append(float(data.probabilities @ total[:, 0]))
        resp = np.exp(lp - total)
        bar.update()
        if not now and em_stopped(history, np.zeros(len(history)), tol=tol):
            converged = True
            break
    bar.close()
    warn_dropped(dropped, K)
    boundary = data.boundary_pairs() if l2 == 0 else np.zeros((0, 2), dtype=int)
    if len(boundary):
        warnings.warn(f"mixture fit: {boundary_note(boundary, 'l2 > 0')}", BoundaryWarning, stacklevel=2)
    message = (f"converged: log-likelihood change < tol = {tol:g}" if converged else
               f"EM did not converge in {max_iter} iterations (last change "
               f"{history[-1] - history[-2] if len(history) > 1 else float('nan'):.3g})")
    if not converged:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    if dropped:
        message += f"; {drop_note(dropped, K)}"
    elif prune and not weights_are_counts(data.weights):
        message += f"; {NOT_COUNTS_NOTE}"
    return MixtureFit(mixture=mixture, log_likelihood=history[-1], history=np.array(history),
                      iterations=len(history), converged=converged, method=method, init=init_name,
                      boundary_pairs=len(boundary), initial_k=K, dropped=tuple(dropped),
                      seconds=time.perf_counter() - start, unconverged_steps=unconverged, message=message)
