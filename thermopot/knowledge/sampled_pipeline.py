"""The He-Lubchenko pipeline without enumeration (``run_knowledge(data, method="sampled")``), for any N.

Each row of the exact pipeline (:mod:`.pipeline`) is computed here from chains, with its standard error
where it is estimated:

- description: the gap Delta = eps N, T* = Delta / log((2^N - M) / M) and the coexistence temperature are
  closed forms in the M pattern weights (:func:`.description.description_levels`); the 2^N energy table,
  the Walsh couplings and the minima of Phi and G over 2^N-dimensional simplices are not computed (their
  rows are None and ``not_computed`` names them).
- the model: a pairwise Boltzmann machine fitted at T = 1 by persistent contrastive divergence
  (:func:`thermopot.learning.pcd.fit_pcd`, started from pseudo-likelihood; ``fit_method="pseudo"`` keeps
  the pseudo-likelihood model) to the training part of the data; a share ``holdout`` of the samples is
  kept out for the held-out log-likelihood.
- log Z at T_fit by annealed importance sampling (``log_z``) and by thermodynamic integration on the
  tempering ladder of the bound states (``log_z_ti``); the mean log-likelihood of a set of samples is
  L = -<E>/T - log Z with se(L) = se(log Z).
- bound states: :func:`.sampled_library.sampled_bound_states` (descent of every pattern and of the
  tempering samples; F_a = -T (log Z + log P_a) with error bars).
- nMF and TAP minima: :func:`thermopot.solvers.find_minima` ("nmf", "tap2") at T_fit started from every
  distinct training pattern (m0 = 0.9 xi), each matched to the bound state equal to sign(m) or reported
  unmatched with the Hamming distance to the bound state of largest overlap (:mod:`.mean_field_match`).
- retrieval: B heat-bath chains from random states at T_retrieval, each final state descended to its
  single-flip-stable state; the fraction ending on a training pattern with its binomial standard error.
- pattern frequencies: visits of the distinct patterns by B chains at T_retrieval, total variation of each
  chain's frequencies and of their pool to the Boltzmann weights over the patterns, p_mu ~ exp(-E(xi_mu)/T)
  normalised over the patterns (log Z cancels, so this reference is exact at any N); se of the single-chain
  TV from the chains' spread, of the pooled TV from a bootstrap over whole chains
  (:func:`.sampled_errors.pooled_tv_stderr`).
- basin occupancy at T_fit and at T_trapped (the exact pipeline's coldest trapping temperature): each
  chain's share of sweeps in the basin of each bound state (by descent), against the tempering weights P_a
  at that temperature (an estimate, not the exact basin weight; at T_trapped from a second tempering
  library whose ladder starts there).
- the remedy: a mixture of K pairwise models (one per class when labels are given, else one per bound
  state reached from the heaviest patterns) fitted by EM with pseudo-likelihood (or PCD) M-steps, each
  warm-started (first from the single model) and limited to ``refit_max_iter`` iterations (a generalised EM
  step), and log Z_k by AIS in the E-step (a fall of the mean log-likelihood between iterations beyond 3
  standard errors is warned of: pseudo-likelihood M-steps can leave maximum likelihood);
  KL(data || model) = sum_mu w_mu log w_mu - L with se(KL) from the delta method, se^2 = sum_k (sum_mu w_mu r_mu,k)^2 se(log Z_k)^2; the coverages are the expected coverage
  of S independent samples from each component's chain pattern mass, with a delta-method se from the
  chains' spread (:func:`_coverage`, :mod:`.sampled_errors`). KL on the training patterns favours the
  larger model; the comparison to read is held out: the mean log-likelihood per held-out sample of each and
  the paired gain mixture - single with the spread over the held-out samples and the log Z errors in its
  se (:func:`_heldout_rows`; None without a held-out split).
- rare patterns: the target's weight is lowered by each factor (:mod:`.rare`), the model refitted by
  pseudo-likelihood (warm started from the previous factor's model, the first from the fitted model, at
  most ``refit_max_iter`` L-BFGS iterations); a pattern keeps its minimum when its stability margin is > 0, a class
  when a stable state reached by descent from the class's patterns or from the chains has its nearest
  pattern in the class; retrieval is the fraction of chain samples on the target. The thresholds' se combines
  the grid bracket and a bootstrap over each factor's chains (:func:`.sampled_errors.threshold_stderr`).

The data-independent studies of the exact pipeline (minima counts against T and M, escape times against
N, trapping times) are left to it (rows None, named in ``not_computed``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from ..checks import check_count, check_temperature
from ..errors import ThermopotError
from ..learning import ConvergenceWarning, Dataset, fit
from ..learning.mixture import (NOISE_Z, NOT_COUNTS_NOTE, DroppedComponent, component_l2, drop_note, em_stopped,
                                prune_components, warn_dropped, weights_are_counts)
from ..learning.result import BoundaryWarning
from ..models import PairwiseModel
from ..results import Result, jsonable
from ..sampling import Sampler
from ..sampling.blocks import count_rows, sweep_blocks
from ..sampling.burn_in import BurnIn
from ..sampling.chains import burn_in_state
from ..sampling.descent import descend
from ..sampling.free_energy import log_partition
from ..states import state_keys, state_rows
from ._steps import run_steps
from .description import description_levels
from .library import DEFAULT_L2, majority_classes, nearest_patterns
from .mean_field_match import MatchedMinima, matched_minima, pattern_starts
from .rare import check_factors, stability_margin, scaled_weights, target_rows, grid_threshold
from .retrieval import tv_distance
from .sampled_errors import (chain_mean, expected_coverage, mean_with_error, per_chain_rate, pooled_tv_stderr,
                             threshold_stderr)
from .sampled_library import SampledBoundStates, sampled_bound_states

__all__ = ["SampledSettings", "SAMPLED_QUICK", "SAMPLED_FULL", "SampledKnowledgeRun", "run_sampled",
           "sampled_mixture", "SampledMixture", "NOT_COMPUTED", "MIN_HOLDOUT_SAMPLES", "MixtureEMWarning", "EM_METHODS"]

#: rows of the exact pipeline that need the 2^N states (None on the sampled path), with the reason
NOT_COMPUTED = {
    "phi_minima": "Phi over the pairwise couplings needs log Z on a grid of couplings by enumeration",
    "full_potential_minima": "G over the full simplex of 2^N weights",
    "reduced_potential_minima": "G over the pairwise family needs the 2^N Boltzmann weights",
    "escape_time_vs_n": "a data-independent study of small random-pattern sets: run the exact pipeline",
}

#: the M-steps of the remedy's mixture EM (``SampledSettings.em_method``)
EM_METHODS = ("pseudo", "pcd")

#: the fewest samples on each side of a held-out split
MIN_HOLDOUT_SAMPLES = 10


class MixtureEMWarning(UserWarning):
    """The mixture's EM lowered its mean log-likelihood between two iterations beyond its error bar."""


@dataclass(frozen=True)
class SampledSettings:
    """Sizes of the sampled pipeline (QUICK or FULL) and the temperatures of each step."""

    T_fit: float = 1.0  #: model temperature of the library, log Z and the remedy
    fit_method: str = "pcd"  #: "pcd" or "pseudo"
    l2: float = DEFAULT_L2
    pcd_chains: int = 256
    pcd_steps: int = 2000
    holdout: float = 0.2  #: share of the samples kept out of the fit for the held-out log-likelihood
    ais_chains: int = 256
    ais_steps: int = 400
    ladder: int = 16  #: tempering temperatures of the bound states (and TI)
    ladder_chains: int = 16
    ladder_sweeps: int = 300
    T_retrieval: float = 0.5
    chains: int = 128
    sweeps: int = 200
    frequency_sweeps: int = 500
    occupancy_chains: int = 32
    occupancy_sweeps: int = 300
    T_trapped: float = 0.15  #: the second basin occupancy's temperature (the exact pipeline's min(trap_temperatures))
    rare_factors: tuple[float, ...] = (1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01)
    samples: int = 2000  #: chain samples of the coverage and retrieval rates
    em_iterations: int = 5  #: the most EM iterations of the remedy
    em_tol: float = 1e-4  #: EM stops when the mean log-likelihood rises by less than em_tol + em_noise_z se
    em_noise_z: float = NOISE_Z
    em_prune: bool = True  #: drop components with fewer samples than half their effective parameters
    em_method: str = "pseudo"  #: the mixture's M-step: "pseudo" or "pcd"
    max_components: int = 10
    refit_max_iter: int = 100  #: L-BFGS iterations of a warm-started pseudo-likelihood refit (EM M-step, rare scan)
    em_ais_chains: int = 64
    em_ais_steps: int = 200


SAMPLED_QUICK = SampledSettings()
SAMPLED_FULL = SampledSettings(pcd_chains=512, pcd_steps=4000, ais_chains=512, ais_steps=2000, ladder=24,
                               ladder_chains=32, ladder_sweeps=2000, chains=512, sweeps=1000,
                               frequency_sweeps=4000, occupancy_chains=128, occupancy_sweeps=2000,
                               rare_factors=(1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01),
                               samples=20_000, em_iterations=20, em_ais_chains=256, em_ais_steps=1000,
                               refit_max_iter=1000)


def _member(samples: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which samples equal one of ``states``, which states appear among the samples)."""
    a, b = state_keys(samples), state_keys(states)
    return np.isin(a, b), np.isin(b, a)


def _split(data: Dataset, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a random share ``holdout`` of the rows of positive weight held out."""
    rows = np.flatnonzero(data.weights > 0)
    if holdout == 0:
        return rows, rows[:0]
    if not 0 < holdout < 1:
        raise ThermopotError(f"holdout must be a share in [0, 1), got {holdout!r}")
    held = int(round(holdout * rows.size))
    if held < MIN_HOLDOUT_SAMPLES or rows.size - held < MIN_HOLDOUT_SAMPLES:
        raise ThermopotError(f"too few samples for a held-out split: {rows.size} samples with holdout = {holdout:g} "
                             f"leave {held} held out and {rows.size - held} for the fit (at least "
                             f"{MIN_HOLDOUT_SAMPLES} each); give more samples or holdout = 0 (--holdout 0)")
    perm = np.random.default_rng([seed, 77]).permutation(rows)
    return np.sort(perm[held:]), np.sort(perm[:held])


def _mean_energy(model: PairwiseModel, data: Dataset, T: float) -> float:
    return float(data.probabilities @ np.asarray(model.energy(data.samples.astype(np.float64)))) / T


def _fit(data: Dataset, s: SampledSettings, seed: int, backend: Any, method: str | None = None,
         init: PairwiseModel | None = None, l2: float | None = None) -> Any:
    """A fit by ``method`` (default ``s.fit_method``) with penalty ``l2`` (default ``s.l2``)."""
    method, l2 = method or s.fit_method, s.l2 if l2 is None else l2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", BoundaryWarning)
        if method == "pcd":
            return fit(data, "pcd", l2=l2, chains=s.pcd_chains, steps=s.pcd_steps, seed=seed, init=init,
                       backend=backend)
        if method == "pseudo":
            limit = {} if init is None else {"max_iter": s.refit_max_iter}
            return fit(data.unique(), "pseudo", l2=l2, init=init, backend=backend, **limit)
    raise ThermopotError(f"fit_method must be 'pcd' or 'pseudo', got {method!r}")


def _at_T(model: PairwiseModel, T: float) -> PairwiseModel:
    return model if T == 1.0 else PairwiseModel(model.h / T, model.J / T)


def _chain_samples(model: PairwiseModel, T: float, size: int, chains: int, seed: int, backend: Any,
                   burn_in: BurnIn = None) -> np.ndarray:
    """``size`` states (size, N) from ``chains`` heat-bath chains at T after ``burn_in`` sweeps (the rule of
    :mod:`thermopot.sampling.burn_in` for the ceil(size / chains) recorded sweeps), one record per chain
    per sweep."""
    chains = min(chains, size)
    sweeps = math.ceil(size / chains)
    sampler = Sampler(model, T, backend=backend)
    state, _ = burn_in_state(sampler, sampler.init(chains=chains, seed=seed), burn_in, sweeps=sweeps)
    out: list[np.ndarray] = []

    def keep(block: np.ndarray) -> None:
        out.append(block.reshape(-1, model.n).copy())

    with sweep_blocks(keep, chains=chains, n=model.n, sweeps=sweeps) as observe:
        sampler.run(state, sweeps, record=False, observe=observe)
    return np.concatenate(out)[:size]


def _retrieval(model: PairwiseModel, patterns: np.ndarray, s: SampledSettings, seed: int, backend: Any) -> dict:
    sampler = Sampler(model, s.T_retrieval, backend=backend)
    final = sampler.run(sampler.init(chains=s.chains, seed=seed), s.sweeps, record=False).spins.astype(np.int8)
    landed = descend(model, final, backend=backend).states
    hit, _ = _member(landed, patterns)
    p = float(hit.mean())
    return {"T": s.T_retrieval, "chains": s.chains, "sweeps": s.sweeps, "training_fraction": p,
            "training_fraction_stderr": math.sqrt(p * (1 - p) / s.chains),
            "distinct_end_states": int(np.unique(state_keys(landed)).size)}


def _frequencies(model: PairwiseModel, unique: Dataset, s: SampledSettings, seed: int, backend: Any) -> dict:
    """Visits of the patterns by single chains at T_retrieval against p_mu ~ exp(-E_mu / T) over them, after
    the burn-in rule's sweeps (:mod:`thermopot.sampling.burn_in`)."""
    T = s.T_retrieval
    energy = np.asarray(model.energy(unique.samples.astype(np.float64)))
    reference = np.exp(-(energy - energy.min()) / T)
    sampler = Sampler(model, T, backend=backend)
    state, burn_in = burn_in_state(sampler, sampler.init(chains=s.chains, seed=seed), None, sweeps=s.frequency_sweeps)
    visits = np.zeros((s.chains, unique.size), dtype=np.int64)
    with sweep_blocks(lambda block: count_rows(visits, state_rows(block, unique.samples)), chains=s.chains,
                      n=model.n, sweeps=s.frequency_sweeps) as observe:
        sampler.run(state, s.frequency_sweeps, record=False, observe=observe)
    tv_chain = tv_distance(visits, reference)
    met = tv_chain[np.isfinite(tv_chain)]  # a chain that met no pattern has no frequencies (NaN): left out
    pooled = visits.sum(axis=0)
    return {"T": T, "chains": s.chains, "sweeps": s.frequency_sweeps, "burn_in": burn_in,
            "tv_chain_exact": tv_chain.tolist(), "single_chain_tv": float(met.mean()) if met.size else None,
            "single_chain_tv_stderr": float(met.std(ddof=1) / math.sqrt(met.size)) if met.size > 1 else None,
            "pooled_tv": float(tv_distance(pooled, reference)) if pooled.sum() else None,
            "pooled_tv_stderr": pooled_tv_stderr(visits, reference, seed=[seed, 11]) if pooled.sum() else None,
            "pattern_mass": float(pooled.sum() / (s.chains * s.frequency_sweeps))}


def _occupancy(model: PairwiseModel, library: SampledBoundStates, s: SampledSettings, seed: int,
               backend: Any) -> dict:
    """Each chain's time in each bound state's basin at the library's temperature (by descent) against the
    tempering P_a, after the burn-in rule's sweeps (:mod:`thermopot.sampling.burn_in`)."""
    T = library.T
    other = len(library.states)
    sampler = Sampler(model, T, backend=backend)
    state, burn_in = burn_in_state(sampler, sampler.init(chains=s.occupancy_chains, seed=seed), None,
                                   sweeps=s.occupancy_sweeps)
    counts = np.zeros((s.occupancy_chains, other + 1), dtype=np.int64)

    def record(block: np.ndarray) -> None:
        rows = state_rows(descend(model, block.reshape(-1, model.n), backend=backend).states, library.states)
        count_rows(counts, np.where(rows < 0, other, rows).reshape(block.shape[:2]))

    with sweep_blocks(record, chains=s.occupancy_chains, n=model.n, sweeps=s.occupancy_sweeps) as observe:
        sampler.run(state, s.occupancy_sweeps, record=False, observe=observe)
    reference = np.append(library.weight, max(0.0, 1.0 - library.weight.sum()))
    tv = 0.5 * np.abs(counts / s.occupancy_sweeps - reference).sum(axis=1)
    return {"T": T, "chains": s.occupancy_chains, "sweeps": s.occupancy_sweeps, "burn_in": burn_in,
            "tv_chain": tv.tolist(),
            "tv_chain_mean": float(tv.mean()), "tv_chain_stderr": float(tv.std(ddof=1) / math.sqrt(tv.size))}


def _log_z(model: PairwiseModel, T: float, chains: int, steps: int, seed: int, backend: Any) -> tuple[float, float]:
    res = log_partition(model, T, method="ais", chains=chains, steps=steps, seed=seed, backend=backend)
    return res.log_z, res.log_z_stderr


def _initial_responsibilities(train: Dataset, labels: np.ndarray | None, single: PairwiseModel,
                              s: SampledSettings, backend: Any) -> tuple[Dataset, np.ndarray, str]:
    """Rows and (M, K) starting responsibilities of EM: by class (labels), else by the stable state each
    distinct pattern descends to (the ``max_components`` heaviest such states; the rest share evenly)."""
    eps = 0.1
    if labels is not None:
        classes, cls = np.unique(labels, return_inverse=True)
        k = len(classes)
        resp = np.full((train.size, k), eps / k)
        resp[np.arange(train.size), cls.reshape(-1)] += 1 - eps
        return train, resp, "classes"
    unique = train.unique()
    ends = state_keys(descend(single, unique.samples, backend=backend).states)
    names, inverse = np.unique(ends, return_inverse=True)
    mass = np.bincount(inverse.reshape(-1), weights=unique.weights)
    top = np.argsort(-mass, kind="stable")[:s.max_components]
    k = len(top)
    comp = np.full(len(names), -1)
    comp[top] = np.arange(k)
    label = comp[inverse.reshape(-1)]
    resp = np.full((unique.size, k), 1.0 / k)
    inside = label >= 0
    resp[inside] = eps / k
    resp[inside, label[inside]] += 1 - eps
    return unique, resp, "minima"


def _likelihood_stderr(w: np.ndarray, r: np.ndarray, log_z_stderr: Any) -> float:
    """se of the mean log-likelihood L = sum_mu w_mu log sum_k W_k p_k(mu) from the errors of the log Z_k alone
    (delta method): se^2 = sum_k (sum_mu w_mu r_mu,k)^2 se(log Z_k)^2 with the responsibilities r (M, K)."""
    return math.sqrt(float(np.sum((w @ r) ** 2 * np.asarray(log_z_stderr, dtype=np.float64) ** 2)))


def _warn_em_drop(history: list[float], stderr: list[float], em_method: str, kept: int | None = None,
                  dropped_at: Any = ()) -> None:
    """A MixtureEMWarning for the largest fall of the EM's mean log-likelihood between two iterations that
    exceeds 3 of its combined standard errors: an EM step with exact M-steps never lowers it, but a
    pseudo-likelihood M-step can (its optimum is not the likelihood's), and the mixture then ends worse.
    ``kept``: the iteration (from 1) whose mixture EM returns (default the last). A fall into an iteration of
    ``dropped_at`` (from 1: components dropped before its M-step, a smaller mixture) is not such a step and is
    not warned of."""
    h, se = np.asarray(history), np.asarray(stderr)
    if h.size < 2:
        return
    kept = h.size if kept is None else kept
    drop = h[:-1] - h[1:]
    drop[[i for i in range(drop.size) if i + 2 in set(dropped_at)]] = -np.inf
    bound = 3.0 * np.hypot(se[:-1], se[1:])
    i = int(np.argmax(drop - bound))
    if drop[i] > bound[i]:
        warnings.warn(f"mixture EM ({em_method} M-steps): the mean log-likelihood fell from {h[i]:.4g} to "
                      f"{h[i + 1]:.4g} (+- {se[i + 1]:.2g}) between iterations {i + 1} and {i + 2} of {h.size}, "
                      f"the mixture kept is iteration {kept}'s ({h[kept - 1]:.4g}); an EM step with "
                      "maximum-likelihood M-steps cannot lower it: "
                      "the mixture is not the likelihood's (use em_method='pcd', `--em-method pcd`, or a larger l2)",
                      MixtureEMWarning, stacklevel=3)


@dataclass(frozen=True)
class SampledMixture(Result):
    """The remedy's EM (:func:`sampled_mixture`): the surviving components and their weights W, the mean
    log-likelihood per iteration with its standard error (from the AIS log Z_k), where K came from
    ("classes" or "minima"), ``initial_k`` components at the start and those ``dropped`` (with why),
    ``iterations`` run and whether the stopping rule ended them (``converged``) before ``em_iterations``
    (also True when a single component was left: EM has nothing left to iterate, the mixture is the single
    model; ``iterations`` is then 0 when the pruning of the initial responsibilities left one, and whether
    that model's own fit converged is the pipeline's ``fit`` step's ``converged``, not this flag), and how it
    ended in words (``message``)."""

    models: tuple[PairwiseModel, ...]
    weights: np.ndarray
    history: np.ndarray
    history_stderr: np.ndarray
    source: str
    initial_k: int
    dropped: tuple[DroppedComponent, ...]
    iterations: int
    converged: bool
    message: str
    _omit = ("models",)


def sampled_mixture(train: Dataset, labels: np.ndarray | None, single: PairwiseModel, s: SampledSettings, *,
                    seed: int, backend: Any = None) -> SampledMixture:
    """EM for a mixture of pairwise models with pseudo-likelihood or PCD M-steps and AIS log Z_k
    (``em_ais_chains``, ``em_ais_steps``), started from the classes or the stable states of ``single``;
    component k's M-step has the penalty l2 / W_k (the single model's prior on every component:
    :func:`~thermopot.learning.mixture.component_l2`). Before every M-step the components with fewer
    samples than half their effective parameters are dropped (``em_prune``;
    :func:`~thermopot.learning.mixture.prune_components`, a ComponentDropWarning says which); EM stops
    after ``em_iterations`` or when the mean log-likelihood rises by less than ``em_tol`` plus ``em_noise_z``
    standard errors of the rise between two iterations without a drop
    (:func:`~thermopot.learning.mixture.em_stopped`); when it fell by more than ``em_noise_z`` standard
    errors (an M-step that left maximum likelihood, not convergence) the mixture of the iteration before is
    kept and ``converged`` is False. When one component is left the mixture is ``single``
    itself (a mixture of one is the single model, which the pipeline fitted by PCD; an EM step would refit it
    by the M-step's method) and EM ends there. A fall beyond 3 of its standard errors (from the
    log Z_k, :func:`_likelihood_stderr`) gets a MixtureEMWarning (:func:`_warn_em_drop`)."""
    check_count(s.em_iterations, "em_iterations")
    em_data, resp, source = _initial_responsibilities(train, labels, single, s, backend)
    k0 = resp.shape[1]
    models: list[PairwiseModel | None] = [None] * k0
    ids = np.arange(k0)
    history, history_stderr, dropped = [], [], []
    kept = None  # the iteration whose mixture is returned when not the last
    converged = False
    for it in range(s.em_iterations):
        now: list[DroppedComponent] = []
        if s.em_prune:
            keep, resp, now = prune_components(em_data.samples, em_data.weights, resp, s.l2, iteration=it + 1,
                                               ids=ids)
            ids, models, dropped = ids[keep], [models[c] for c in keep], dropped + now
            if len(models) == 1:  # a mixture of one is the single model, fitted by the better method
                models, W, converged = [single], np.ones(1), True
                message = "one component left: the mixture is the single model"
                break
        comp_w = em_data.weights[:, None] * resp
        for c in range(len(models)):
            if comp_w[:, c].sum() <= 1e-12 * em_data.total_weight and models[c] is not None:
                continue
            weighted = em_data.with_weights(comp_w[:, c])
            models[c] = _fit(weighted, s, seed + 31 * int(ids[c]) + it, backend, method=s.em_method,
                             init=single if models[c] is None else models[c],
                             l2=component_l2(s.l2, comp_w[:, c], em_data.total_weight)).model
        W = comp_w.sum(axis=0) / comp_w.sum()
        lz = [_log_z(m, 1.0, s.em_ais_chains, s.em_ais_steps, seed + int(ids[c]), backend)
              for c, m in enumerate(models)]
        lp = np.stack([np.log(max(W[c], 1e-300)) - np.asarray(m.energy(em_data.samples.astype(np.float64)))
                       - lz[c][0] for c, m in enumerate(models)], axis=1)
        total = logsumexp(lp, axis=1, keepdims=True)
        history.append(float(em_data.probabilities @ total[:, 0]))
        resp = np.exp(lp - total)
        history_stderr.append(_likelihood_stderr(em_data.probabilities, resp, [z[1] for z in lz]))
        if not now and em_stopped(history, history_stderr, tol=s.em_tol, noise_z=s.em_noise_z):
            rise, se = history[-1] - history[-2], float(np.hypot(history_stderr[-1], history_stderr[-2]))
            converged = rise >= -s.em_noise_z * se
            if converged:
                message = f"converged: rise {rise:.3g} below em_tol + {s.em_noise_z:g} x its standard error {se:.3g}"
            else:  # an M-step left maximum likelihood: the iterate before it is the better mixture
                models, W, kept = *previous, len(history) - 1
                message = (f"stopped: the mean log-likelihood fell by {-rise:.3g}, more than {s.em_noise_z:g} x its "
                           f"standard error {se:.3g}; the mixture of iteration {len(history) - 1} is kept")
            break
        previous = (list(models), W)
    else:
        message = f"stopped after em_iterations = {s.em_iterations}"
    _warn_em_drop(history, history_stderr, s.em_method, kept, {d.iteration for d in dropped})
    warn_dropped(dropped, k0)
    if dropped:
        message += f"; {drop_note(dropped, k0)}"
    elif s.em_prune and not weights_are_counts(em_data.weights):
        message += f"; {NOT_COUNTS_NOTE}"
    return SampledMixture(tuple(models), W, np.array(history), np.array(history_stderr), source, k0, tuple(dropped),
                          len(history), converged, message)


def _coverage(comps: list[PairwiseModel], weights: np.ndarray, patterns: np.ndarray, groups: np.ndarray | None,
              n_groups: int | None, s: SampledSettings, T: float, rng: np.random.Generator, seed: int, backend: Any
              ) -> tuple[tuple[float, float], tuple[float | None, float | None], np.ndarray]:
    """((coverage, se), (class coverage, se) or (None, None) without ``groups``, the chain samples drawn):
    ``s.samples`` chain samples at T split over the components by a multinomial draw (at least 2 each, so
    that each has 2 chains), each component's pattern mass r_k a chain mean, then the expected coverage of S
    independent samples and its delta-method se (:func:`.sampled_errors.expected_coverage`)."""
    counts = np.maximum(rng.multinomial(s.samples, weights / weights.sum()), 2)
    parts = [_chain_samples(m, T, int(c), s.chains, seed + 7 * i, backend)
             for i, (m, c) in enumerate(zip(comps, counts))]
    rates = [chain_mean(per_chain_rate(_member(d, patterns)[0], min(s.chains, len(d))), len(d)) for d in parts]
    energies = [-np.asarray(m.energy(patterns.astype(np.float64))) / T for m in comps]
    relative = [np.exp(e - logsumexp(e)) for e in energies]
    cover = dict(relative=relative, weights=weights / weights.sum(), rate=[r[0] for r in rates],
                 rate_stderr=[r[1] for r in rates], samples=s.samples)
    by_class = (None, None) if groups is None else expected_coverage(**cover, groups=groups, n_groups=n_groups)
    return expected_coverage(**cover), by_class, np.concatenate(parts)


def _log_prob(comps: list[PairwiseModel], weights: np.ndarray, samples: np.ndarray, T: float,
              log_zs: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(log p(x) = log sum_k W_k exp(-E_k(x)/T - log Z_k) of each sample, the (S, K) responsibilities)."""
    lpc = np.stack([np.log(max(weights[c], 1e-300)) - np.asarray(m.energy(samples.astype(np.float64))) / T
                    - log_zs[c][0] for c, m in enumerate(comps)], axis=1)
    log_p = logsumexp(lpc, axis=1)
    return log_p, np.exp(lpc - log_p[:, None])


#: the held-out rows of the remedy, None without a held-out split (``SampledKnowledgeRun.summary``)
HELDOUT_ROWS = ("heldout_log_likelihood_single", "heldout_log_likelihood_mixture", "remedy_heldout_gain")
NO_HELDOUT = "no held-out split (holdout = 0, `--holdout 0`): the remedy is compared on its training patterns only"


def _heldout_rows(heldout: Dataset | None, single: PairwiseModel, single_log_z: tuple[float, float],
                  models: list[PairwiseModel], W: np.ndarray, log_zs: list[tuple[float, float]], T: float,
                  same: bool) -> dict:
    """The remedy held out: the mean log-likelihood per held-out sample of the single model and of the mixture,
    L = sum_i p_i log p(x_i), from the same log Z_k estimates as the training rows, and the paired gain
    mixture - single = sum_i p_i [log p_mix(x_i) - log p_single(x_i)] (:func:`.sampled_errors.mean_with_error`:
    the spread over the held-out samples plus the log Z errors, the mixture's by the delta method
    e^2 = sum_k (sum_i p_i r_ik)^2 se(log Z_k)^2, :func:`_likelihood_stderr`). ``*_log_z_stderr`` is the part of
    each error from log Z alone (the error against an exact evaluation on these same samples). A mixture that
    is the single model (``same``) has the single model's rows and the gain 0 +- 0. All None without
    ``heldout``."""
    names = [f"{row}{end}" for row in HELDOUT_ROWS for end in ("", "_stderr")]
    if heldout is None:
        return {**dict.fromkeys(names), "heldout_samples": 0}
    p = heldout.probabilities
    log_single, r_single = _log_prob([single], np.ones(1), heldout.samples, T, [single_log_z])
    log_mix, r_mix = _log_prob(models, W, heldout.samples, T, log_zs)
    z_single = _likelihood_stderr(p, r_single, [single_log_z[1]])
    z_mix = _likelihood_stderr(p, r_mix, [z[1] for z in log_zs])
    single_row = mean_with_error(log_single, heldout.weights, log_z_errors=(z_single,))
    mix_row = single_row if same else mean_with_error(log_mix, heldout.weights, log_z_errors=(z_mix,))
    gain = (0.0, 0.0) if same else mean_with_error(log_mix - log_single, heldout.weights,
                                                   log_z_errors=(z_mix, z_single))
    return {**dict(zip(names, (*single_row, *mix_row, *gain))), "heldout_samples": int(heldout.size),
            "heldout_log_z_stderr_single": z_single, "heldout_log_z_stderr_mixture": z_single if same else z_mix}


def _remedy(train: Dataset, labels: np.ndarray | None, single: PairwiseModel, single_log_z: tuple[float, float],
            rare_rows: np.ndarray, s: SampledSettings, seed: int, backend: Any, *,
            heldout: Dataset | None = None) -> dict:
    """EM for a mixture (:func:`sampled_mixture`), then KL and coverage of the single model and of the mixture
    at T_fit (module docstring), and both held out on ``heldout`` with the paired gain (:func:`_heldout_rows`);
    a mixture that EM reduced to the single model gets the single model's rows (the same estimates, not a
    second AIS and chain run of the same model)."""
    T = s.T_fit
    em = sampled_mixture(train, labels, single, s, seed=seed, backend=backend)
    models, W = list(em.models), em.weights
    unique = train.unique()
    w = unique.probabilities
    entropy = float(-w @ np.log(w))
    out: dict[str, Any] = {"k": len(models), "k_source": em.source, "k_initial": em.initial_k,
                           "components_dropped": [d.to_dict() for d in em.dropped],
                           "em_iterations": em.iterations, "em_converged": em.converged, "em_message": em.message,
                           "em_method": s.em_method,
                           "em_history": em.history.tolist(), "em_history_stderr": em.history_stderr.tolist(),
                           "mixture_weights": W.tolist(), "patterns": unique.size, "entropy": entropy, "T": T}
    pattern_class = None
    n_classes = None
    if labels is not None:
        pattern_class = majority_classes(train, labels)
        n_classes = len(np.unique(labels))
    rng = np.random.default_rng([seed, 5])
    same = len(models) == 1 and models[0] is single  # EM left one component: the mixture is the single model
    mixture_log_zs = [single_log_z] if same else [_log_z(m, T, s.ais_chains, s.ais_steps, seed + 100 + c, backend)
                                                  for c, m in enumerate(models)]
    for name, comps, weights, log_zs in (("single", [single], np.ones(1), [single_log_z]),
                                         ("mixture", models, W, mixture_log_zs)):
        if name == "mixture" and same:  # its rows are the single model's, not a second estimate of them
            out.update({key.replace("_single", "_mixture"): value for key, value in list(out.items())
                        if "_single" in key})
            break
        log_p, r = _log_prob(comps, weights, unique.samples, T, log_zs)
        se = _likelihood_stderr(w, r, [z[1] for z in log_zs])
        L = float(w @ log_p)
        groups = None if pattern_class is None else np.searchsorted(np.unique(labels), pattern_class)
        (coverage, coverage_se), class_coverage, drawn = _coverage(comps, weights, unique.samples, groups,
                                                                   n_classes, s, T, rng, seed, backend)
        hit, _ = _member(drawn, unique.samples)
        rare_hit, rare_seen = _member(drawn, unique.samples[rare_rows])
        out.update({f"log_likelihood_{name}": L, f"log_likelihood_{name}_stderr": se,
                    f"kl_{name}": -entropy - L, f"kl_{name}_stderr": se,
                    f"coverage_{name}": coverage, f"coverage_{name}_stderr": coverage_se,
                    f"pattern_rate_{name}": float(hit.mean()),
                    f"class_coverage_{name}": class_coverage[0], f"class_coverage_{name}_stderr": class_coverage[1],
                    f"rare_rate_{name}": float(rare_hit.mean()), f"rare_coverage_{name}": float(rare_seen.mean()),
                    f"rare_prob_{name}": float(np.exp(log_p[rare_rows]).sum())})
    out["rare_weight"] = float(w[rare_rows].sum())
    out.update(_heldout_rows(heldout, single, single_log_z, models, W, mixture_log_zs, T, same))
    return out


def _rare(train: Dataset, labels: np.ndarray | None, s: SampledSettings, seed: int, backend: Any,
          start: PairwiseModel | None = None) -> dict:
    """The under-representation scan on the sampled path (module docstring)."""
    by = "class" if labels is not None else "pattern"
    if by == "class":
        classes, counts = np.unique(labels, return_counts=True)
        target = int(classes[np.argmin(counts)])
    else:
        unique = train.unique()
        heaviest = unique.samples[np.argmax(unique.weights)]
        target = int(np.flatnonzero((train.samples == heaviest).all(axis=1))[0])
    f = check_factors(s.rare_factors)
    mask, target = target_rows(train, labels, target, by)
    p = train.probabilities
    w_t = float(p[mask].sum())
    target_patterns = np.unique(train.samples[mask], axis=0)
    pattern_class = majority_classes(train, labels) if by == "class" else None
    unique = train.unique()
    model = start
    chains = min(s.chains, s.samples)
    has_min, margin, class_minima, rate, chain_rate, chain_minimum = [], [], [], [], [], []
    for i, factor in enumerate(f):
        reweighted = Dataset(train.samples, scaled_weights(p, mask, float(factor), w_t))
        model = _fit(reweighted, s, seed, backend, method="pseudo", init=model).model
        at_T = _at_T(model, s.T_fit)
        drawn = _chain_samples(at_T, 1.0, s.samples, s.chains, seed + i, backend)
        if by == "pattern":
            margin.append(stability_margin(at_T, target_patterns[0]))
            has_min.append(margin[-1] > 0)
        else:
            stable = descend(at_T, np.concatenate([target_patterns, drawn]), backend=backend).states
            stable, inverse = np.unique(stable, axis=0, return_inverse=True)
            nearest, _ = nearest_patterns(stable, unique.samples, unique.weights)
            in_class = pattern_class[nearest] == target
            class_minima.append(int(in_class.sum()))
            has_min.append(class_minima[-1] > 0)
            # per chain: does it reach a class minimum (one reached from a target pattern counts for every chain)
            row_in = in_class[inverse.reshape(-1)]
            own = np.bincount(np.arange(len(drawn)) % chains, weights=row_in[len(target_patterns):], minlength=chains)
            chain_minimum.append((own > 0) | bool(row_in[:len(target_patterns)].any()))
        hit, _ = _member(drawn, target_patterns)
        rate.append(float(hit.mean()))
        chain_rate.append(per_chain_rate(hit, chains))
    has_min, rate = np.array(has_min), np.array(rate)
    t_f, t_br, _ = grid_threshold(~has_min, f)
    r_f, r_br, _ = grid_threshold(rate == 0, f)
    t_se = threshold_stderr(lambda x: x == 0, np.array(chain_minimum, dtype=np.float64) if by == "class"
                            else has_min[:, None].astype(np.float64), f, w_t, seed=[seed, 13])
    r_se = threshold_stderr(lambda x: x == 0, np.array(chain_rate), f, w_t, seed=[seed, 17])
    return {"by": by, "target": target, "base_weight": w_t, "factors": f.tolist(), "weights": (f * w_t).tolist(),
            "has_minimum": has_min.tolist(), "margin": margin or None, "class_minima": class_minima or None,
            "retrieval_rate": rate.tolist(), "retrieval_stderr": np.sqrt(rate * (1 - rate) / s.samples).tolist(),
            "samples": s.samples, "retrieval": "chains",
            "threshold_factor": t_f, "threshold_bracket": t_br, "threshold_weight": None if t_f is None else t_f * w_t,
            "threshold_weight_stderr": t_se,
            "retrieval_threshold_factor": r_f, "retrieval_threshold_bracket": r_br,
            "retrieval_threshold_weight": None if r_f is None else r_f * w_t,
            "retrieval_threshold_weight_stderr": r_se}


#: the approximate free energies whose minima are started from the patterns, with their JSON prefix
MEAN_FIELD_METHODS = {"nmf": "nmf", "tap2": "tap"}


def _mean_field(model: PairwiseModel, patterns: np.ndarray, library: SampledBoundStates, T: float,
                backend: Any) -> dict[str, MatchedMinima]:
    """nMF and TAP (order 2) minima at T started from every distinct training pattern (m0 = 0.9 xi) and
    matched by sign to the sampled bound states (:mod:`.mean_field_match`), by method. The pipeline's guard
    (:mod:`.guard`, step ``mean_field``) budgets the step's typical cost; find_minima's own guard checks
    each method against the run's time limit (its max_seconds, else THERMOPOT_MAX_SECONDS, else one hour) assuming every start its
    own Newton run (about 80 s for 800 starts at N = 256, against 0.5-0.7 s measured)."""
    init = pattern_starts(patterns)
    return {method: matched_minima(model, T, states=library.states, method=method, init=init, backend=backend)
            for method in MEAN_FIELD_METHODS}


def _mean_field_rows(found: dict[str, MatchedMinima]) -> dict:
    """Summary rows of each method (prefix "tap" for TAP2, as the exact library's JSON, and "nmf"): starts,
    count, matched, unmatched (rows) and the minima, whose ``match``/``nearest`` index ``bound_states``."""
    out = {}
    for method, prefix in MEAN_FIELD_METHODS.items():
        res = found[method]
        out.update({f"{prefix}_starts": res.starts, f"{prefix}_count": res.count, f"{prefix}_matched": res.matched,
                    f"{prefix}_unmatched": res.unmatched.tolist(), prefix: res.rows()})
    return out


@dataclass(frozen=True)
class SampledKnowledgeRun(Result):
    """Every result of one sampled run; :meth:`summary` has the fixed JSON rows of the exact pipeline (same
    names, ``*_stderr`` next to the estimated ones) plus method, log_z, log_z_stderr and bound_states."""

    dataset: str
    data: Dataset
    train: Dataset
    heldout: Dataset | None
    labels: np.ndarray | None
    settings: SampledSettings
    model: PairwiseModel
    fit: dict
    levels: dict
    log_z: float
    log_z_stderr: float
    library: SampledBoundStates
    steps: dict
    seconds: dict
    dropped_columns: tuple = ()
    mean_field: dict | None = None  #: method -> MatchedMinima of the nMF/TAP minima from the patterns

    def summary(self) -> dict:
        """The rows of the exact pipeline's summary, with error bars, and the sampled fields."""
        st, lib, s = self.steps, self.library, self.settings
        remedy, rare = st["remedy"], st["rare"]
        occupancies = (st["occupancy"], st["occupancy_trapped"])
        out = {"dataset": self.dataset, "method": "sampled", "n": self.levels["n"],
               "patterns": self.levels["patterns"], "samples": int(self.data.size),
               "gap": self.levels["gap"], "T_star": self.levels["T_star"],
               "T_coexistence": self.levels["T_coexistence"],
               "phi_minima": None, "full_potential_minima": None, "reduced_potential_minima": None,
               "reduced_potential_T": None,
               "training_minima": int(lib.training.sum()), "spurious_minima": int((~lib.training).sum()),
               "log_z": self.log_z, "log_z_stderr": self.log_z_stderr, "log_z_ti": lib.log_z,
               "log_z_ti_stderr": lib.log_z_stderr, "T": s.T_fit}
        for key in ("kl_single", "kl_mixture", "coverage_single", "coverage_mixture", "class_coverage_single",
                    "class_coverage_mixture", *HELDOUT_ROWS):
            out[key], out[f"{key}_stderr"] = remedy[key], remedy[f"{key}_stderr"]
        out.update({"mixture_components": remedy["k"],
                    "rare_weight_threshold": rare["threshold_weight"],
                    "rare_weight_threshold_stderr": rare["threshold_weight_stderr"],
                    "rare_retrieval_threshold_stderr": rare["retrieval_threshold_weight_stderr"],
                    "rare_target": {"by": rare["by"], "target": rare["target"], "base_weight": rare["base_weight"]},
                    "labelled": self.labels is not None,
                    "phi_starts": None, "full_potential_starts": None, "reduced_potential_starts": None,
                    "retrieval_chains": int(s.chains), "remedy_samples": int(s.samples),
                    "rare_retrieval_threshold": rare["retrieval_threshold_weight"],
                    "retrieval_training_fraction": st["retrieval"]["training_fraction"],
                    "retrieval_training_fraction_stderr": st["retrieval"]["training_fraction_stderr"],
                    "single_chain_tv": st["frequencies"]["single_chain_tv"],
                    "single_chain_tv_stderr": st["frequencies"]["single_chain_tv_stderr"],
                    "pooled_tv": st["frequencies"]["pooled_tv"],
                    "pooled_tv_stderr": st["frequencies"]["pooled_tv_stderr"],
                    "basin_tv_single_chain": {str(o["T"]): o["tv_chain_mean"] for o in occupancies},
                    "basin_tv_single_chain_stderr": {str(o["T"]): o["tv_chain_stderr"] for o in occupancies},
                    "escape_time_vs_n": None,
                    "log_likelihood_train": st["likelihood"]["train"],
                    "log_likelihood_heldout": st["likelihood"]["heldout"],
                    "log_likelihood_stderr": self.log_z_stderr,
                    "dropped_columns": list(self.dropped_columns),
                    "fit": self.fit,
                    "not_computed": {**NOT_COMPUTED, **(dict.fromkeys(HELDOUT_ROWS, NO_HELDOUT)
                                                        if remedy["heldout_samples"] == 0 else {})},
                    "bound_states": lib.to_dict()["bound_states"]})
        if self.mean_field is not None:
            out.update(_mean_field_rows(self.mean_field))
        return out

    def to_dict(self) -> dict:
        """The summary plus every step's fields and the seconds of each step."""
        return jsonable({**self.summary(), "steps": self.steps, "seconds": self.seconds})


def run_sampled(name: str, dataset: Dataset, labels: np.ndarray | None, *, settings: SampledSettings,
                seed: int = 0, backend: Any = None, progress: bool = True,
                dropped_columns: tuple = ()) -> SampledKnowledgeRun:
    """The sampled pipeline on a resolved data set (see :func:`.pipeline.run_knowledge`)."""
    s = settings
    for T in (s.T_fit, s.T_retrieval, s.T_trapped):
        check_temperature(T)
    for name_, v in (("pcd_chains", s.pcd_chains), ("samples", s.samples), ("chains", s.chains),
                     ("em_iterations", s.em_iterations)):
        check_count(v, name_)
    train_rows, held_rows = _split(dataset, s.holdout, seed)
    train = Dataset(dataset.samples[train_rows], dataset.weights[train_rows])
    heldout = Dataset(dataset.samples[held_rows], dataset.weights[held_rows]) if held_rows.size else None
    train_labels = None if labels is None else np.asarray(labels)[train_rows]
    unique = train.unique()
    results: dict[str, Any] = {}

    def fit_step():
        res = _fit(train, s, seed, backend)
        results["model"] = res.model
        return {"method": s.fit_method, "l2": s.l2, "converged": bool(res.converged),
                "diagnostics": getattr(res, "diagnostics", None) or {}}

    def log_z_step():
        lz = _log_z(_at_T(results["model"], 1.0), s.T_fit, s.ais_chains, s.ais_steps, seed, backend)
        results["log_z"] = lz
        return {"log_z": lz[0], "log_z_stderr": lz[1], "method": "ais", "chains": s.ais_chains, "steps": s.ais_steps}

    def likelihood_step():
        m, lz = results["model"], results["log_z"][0]
        return {"train": -_mean_energy(m, train, s.T_fit) - lz,
                "heldout": None if heldout is None else -_mean_energy(m, heldout, s.T_fit) - lz,
                "stderr": results["log_z"][1], "heldout_samples": 0 if heldout is None else int(heldout.size)}

    def bound_states_at(T: float) -> SampledBoundStates:
        return sampled_bound_states(results["model"], train, T, temperatures=s.ladder, chains=s.ladder_chains,
                                    sweeps=s.ladder_sweeps, seed=seed, backend=backend)

    def library_step():
        lib = bound_states_at(s.T_fit)
        results["library"] = lib
        return {"count": int(lib.states.shape[0]), "training": int(lib.training.sum()),
                "log_z_ti": lib.log_z, "log_z_ti_stderr": lib.log_z_stderr, "seconds": lib.seconds}

    def mean_field_step():
        found = _mean_field(results["model"], unique.samples, results["library"], s.T_fit, backend)
        results["mean_field"] = found
        return {method: {k: v for k, v in res.to_dict().items() if k != "minima"} for method, res in found.items()}

    def rare_rows():
        w = unique.probabilities
        return np.flatnonzero(w <= w.min() * (1 + 1e-9))

    steps = {
        "fit": fit_step,
        "log_z": log_z_step,
        "likelihood": likelihood_step,
        "library": library_step,
        "mean_field": mean_field_step,
        "retrieval": lambda: _retrieval(results["model"], unique.samples, s, seed, backend),
        "frequencies": lambda: _frequencies(results["model"], unique, s, seed, backend),
        "occupancy": lambda: _occupancy(results["model"], results["library"], s, seed, backend),
        "occupancy_trapped": lambda: _occupancy(results["model"], bound_states_at(s.T_trapped), s, seed, backend),
        "rare": lambda: _rare(train, train_labels, s, seed, backend, start=results["model"]),
        "remedy": lambda: _remedy(train, train_labels, _at_T(results["model"], 1.0), results["log_z"], rare_rows(), s,
                                  seed, backend, heldout=heldout),
    }
    out, seconds = run_steps(steps, "knowledge (sampled)", progress)
    return SampledKnowledgeRun(dataset=name, data=dataset, train=train, heldout=heldout, labels=labels, settings=s,
                               model=results["model"], fit=out.pop("fit"), levels=description_levels(train),
                               log_z=results["log_z"][0], log_z_stderr=results["log_z"][1],
                               library=results["library"], steps=out, seconds=seconds,
                               dropped_columns=tuple(dropped_columns), mean_field=results["mean_field"])
