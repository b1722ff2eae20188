"""The He-Lubchenko claims as experiments that can fail (theory.md section 3): one row per claim with the
experiment, the measured value with its error bar, a reference computed independently of the code under
test, a verdict and a figure.

Verdicts: "supported" when the measurement agrees with the claim beyond its error bar, "not supported"
when it contradicts it, "inconclusive at this size" when neither; a claim that cannot be run on the
data (no labels, too few samples for a held-out split) is "skipped" with the reason.

- C2-C3: minima of G over the pairwise family (the reduced description) on a temperature grid through T*,
  against the bound states of the pairwise model fitted to the same data (basins of its landscape with
  per-basin F_a at the same T): each reduced minimum's peak state is looked up among them.
- C5: the energy gap of the fitted model between its training patterns and the non-represented states
  (found, not imposed: no gap enters the fit), E_non - E_train averaged over each set, per spin, against
  N on planted data (N = 8..14, exact) and on the digits (4x4 exact, 5x5 pseudo-likelihood with uniformly
  drawn states); the fitted slope d gap / d N with its standard error.
- C6-C7: first-passage times at the model's own temperature T = 1 from its deepest bound state into the
  high-temperature phase (overlap with the start below 1/2) against N, and the exact escape barrier at two
  ridge penalties a decade apart (the barrier must not be set by the ridge).
- C8: chains started in another class reach a down-weighted class (its centre and the states one flip
  away) within S sweeps at a rate compared with S exact independent samples (1 - (1 - w)^S, w its exact
  Boltzmann weight), as the class's data weight falls.
- C9: persistent-chain (PCD) learning against the exact gradient: the bias of the fitted moments and the
  classes whose exact model weight the chains lose, with and without parallel tempering.
- C10: a mixture of pairwise models, one per free-energy minimum found without labels, against baselines
  with about as many parameters (a mixture of independent-site models, one model with higher-order
  couplings, one RBM with hidden units: thermopot.knowledge.baselines) and one pairwise model, on held-out
  data: mean log-likelihood per sample with its standard error (paired).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_count
from ..datasets import load_digits, noisy_patterns_dataset, random_patterns_dataset
from ..errors import ThermopotError
from ..learning import ConvergenceWarning, Dataset, fit
from ..learning.mixture import Mixture, fit_mixture
from ..progress import progress_bar
from ..results import Result, jsonable
from ..sampling.free_energy import log_partition
from ..sampling.passage import first_passage
from ..states import spins_to_index, state_rows
from ._retrieval_barrier import escape_barrier, state_energies
from .baselines import (HIDDEN_MAX_SPINS, fit_hidden_model, fit_walsh_model, hidden_units_for,
                        independent_site_mixture, site_log_prob)
from .description import describe
from .library import bound_states
from .pipeline import COUNTS_DATA, MAX_SPINS, resolve_data
from .sampled_errors import mean_with_error, seen_probability
from .sampled_pipeline import SAMPLED_QUICK, SampledSettings, sampled_mixture
from .reduced_potentials import reduced_potential_minima

#: C6-C7: mean escape times below this many sweeps at every N, with no significant growth, refute trapping
ESCAPE_SWEEPS = 100.0

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, SKIPPED = ("supported", "not supported", "inconclusive at this size",
                                                   "skipped")

#: the claim of each row, in the paper's words
SENTENCES = {
    "C2-C3": "Reducing the description gives several free-energy minima, mirrored in the model's own free energy.",
    "C5": "The represented patterns sit an extensive energy gap below the non-represented states.",
    "C6-C7": "Bound states prevent escape into the continuum (the high-temperature phase), increasingly with N.",
    "C8": "Access to under-represented patterns is limited by ergodicity breaking.",
    "C9": "Ergodicity breaking complicates learning: chains that trap bias the gradient.",
    "C10": "Several models, one per free-energy minimum, beat one model of the same size.",
}
#: method="sampled": why a claim whose reference needs the 2^N states is not run (reported inconclusive)
NEEDS_ENUMERATION = {
    "C2-C3": "the minima of G live on the 2^N-state simplex: the reduced potential needs the energy table",
    "C6-C7": "its reference, the escape barrier, is a minimax path over the 2^N-state energy table",
    "C8": "its reference, S exact independent samples, needs the class's exact Boltzmann weight (Z by enumeration)",
    "C9": "its reference is the exact maximum-likelihood fit and each model's exact class weights",
}
METHODS = ("exact", "sampled", "auto")  #: auto: exact up to N = MAX_SPINS (20), sampled beyond


@dataclass(frozen=True)
class ClaimRow(Result):
    """One claim: ``id`` and ``claim`` (the sentence), ``experiment``, ``measured`` (dict: value, error and
    the raw numbers), ``reference`` (what it is compared with, computed independently), ``verdict``,
    ``figure`` (a PNG path or None), ``note`` (the rule of the verdict, or why the claim was skipped)."""

    id: str
    claim: str
    experiment: str
    measured: dict
    reference: str
    verdict: str
    figure: str | None = None
    note: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class ClaimSizes:
    """Sizes of the experiments (QUICK_SIZES: the whole table in minutes on 2 cores)."""

    grid: tuple[float, ...] = (0.7, 1.2, 2.0, 3.5, 6.0)  #: T grid of C2-C3 (through T* ~ 2.1 of COUNTS_DATA)
    planted_n: tuple[int, ...] = (8, 10, 12, 14)  #: N of the planted data (C5, C6-C7)
    planted_copies: int = 60
    planted_flip: float = 0.1
    ridges: tuple[float, float] = (1e-2, 1e-3)  #: a decade of ridge penalties (C6-C7)
    passage_chains: int = 32
    passage_updates: int = 200_000
    rare_factors: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)
    rare_sweeps: int = 20  #: S: sweeps of the chains and exact samples of C8
    rare_chains: int = 64
    pcd_steps: int = 600
    pcd_chains: int = 64
    holdout: float = 0.5  #: fraction of the samples held out (C10)
    em_iterations: int = 15
    em_method: str = "pseudo"  #: M-step of the remedy's EM (the held-out scores are exact either way)
    baseline_l2: float = 1e-3  #: ridge of the higher-order and hidden-unit baselines (C10), as the pairwise fits'
    hidden_iterations: int = 300  #: L-BFGS iterations of the hidden-unit baseline (C10)
    uniform_states: int = 20_000  #: uniformly drawn states for the gap at N beyond enumeration
    sampled_n: tuple[int, ...] = (16, 24, 32, 48, 64)  #: N of the planted data of C5 with method="sampled"
    sampled: SampledSettings = SAMPLED_QUICK  #: EM and AIS sizes of C10 with method="sampled"


QUICK_SIZES = ClaimSizes()


@dataclass(frozen=True)
class ClaimTable(Result):
    """The rows, the data set they refer to, the seed, the seconds per claim and the method (exact, sampled)."""

    dataset: str
    rows: tuple[ClaimRow, ...]
    seed: int
    seconds: float
    sizes: ClaimSizes = field(default_factory=ClaimSizes)
    method: str = "exact"

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "seed": self.seed, "seconds": self.seconds, "method": self.method,
                "rows": [r.to_dict() for r in self.rows]}


def _verdict(value: float, error: float, *, positive_means_supported: bool = True, z: float = 2.0) -> str:
    """supported when value > z error, not supported when value < -z error, else inconclusive (signs flip
    with ``positive_means_supported=False``)."""
    v = value if positive_means_supported else -value
    if not math.isfinite(v):
        return INCONCLUSIVE
    if v > z * error:
        return SUPPORTED
    if v < -z * error:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _planted(n: int, sizes: ClaimSizes, seed: int) -> tuple[Dataset, np.ndarray]:
    data, labels = noisy_patterns_dataset(n, 3, sizes.planted_copies, sizes.planted_flip, seed=seed + n)
    return data, np.asarray(labels)


def _slope(x: np.ndarray, y: np.ndarray, err: np.ndarray | None = None) -> tuple[float, float]:
    """Least-squares slope of y against x and its standard error (weighted by 1/err^2 when given, else from
    the residuals)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if err is not None and np.all(np.asarray(err) > 0):
        w = 1.0 / np.asarray(err, float) ** 2
        xm = (w * x).sum() / w.sum()
        slope = (w * (x - xm) * y).sum() / (w * (x - xm) ** 2).sum()
        return float(slope), float(1.0 / math.sqrt((w * (x - xm) ** 2).sum()))
    p, cov = np.polyfit(x, y, 1, cov=len(x) > 3)
    return float(p[0]), (float(math.sqrt(cov[0, 0])) if len(x) > 3 else math.nan)


# ---------------------------------------------------------------- C2-C3
def claim_minima(sizes: ClaimSizes, seed: int) -> ClaimRow:
    data = random_patterns_dataset(**COUNTS_DATA)
    d = describe(data)
    model = fit(data, "exact", l2=1e-3).model
    reduced, own, mapped, top = [], [], [], []
    for T in sizes.grid:
        red = reduced_potential_minima(d, T, starts=3, pattern_starts=6, seed=seed)
        lib = bound_states(data, model=model, T=T, tap=False)
        minima = set(np.asarray(lib.indices).tolist())
        reduced.append(red.count)
        own.append(int(lib.count))
        mapped.append(len({int(s) for s in red.state} & minima))
        top.append(float(np.max(lib.weights)))
    reduced, own, mapped = map(np.asarray, (reduced, own, mapped))
    low = int(np.argmin(sizes.grid))
    frac = mapped[low] / max(min(reduced[low], own[low]), 1)
    ok = reduced[low] >= 2 and reduced[-1] == 1 and frac >= 0.5
    bad = reduced[low] < 2 or frac == 0.0
    verdict = SUPPORTED if ok else NOT_SUPPORTED if bad else INCONCLUSIVE
    return ClaimRow("C2-C3", SENTENCES["C2-C3"],
                    f"G over the pairwise family minimised from {3 + 6} starts at T = {list(sizes.grid)} on "
                    f"{COUNTS_DATA['m']} random patterns (N = {COUNTS_DATA['n']}); the pairwise model fitted to them "
                    "(exact ML, ridge 1e-3): its bound states (single-flip minima, basins with F_a at the same T); each "
                    "reduced minimum's peak state looked up among them",
                    {"value": float(frac), "error": None, "T": list(sizes.grid), "reduced_minima": reduced.tolist(),
                     "model_minima": own.tolist(), "mapped": mapped.tolist(), "largest_basin_weight": top,
                     "T_star": d.t_star},
                    "the bound states of the fitted model by exact enumeration of its landscape (not the reduced G)",
                    verdict, None, "supported: >= 2 reduced minima at the lowest T, 1 at the highest, and at the lowest T the "
                    "reduced minima peak on at least half of the model's bound states (value: that fraction). The "
                    "model's basins are those of its zero-temperature landscape and exist at every T; only their "
                    "weights move (largest_basin_weight). The TAP free energy of this strongly coupled model "
                    "(|J| up to ~4) has a single near-paramagnetic minimum at every T of the grid, so it cannot "
                    "mirror the reduced minima")


# ---------------------------------------------------------------- C5
def _gap(model, patterns: np.ndarray, rng: np.random.Generator, uniform: int) -> tuple[float, float]:
    """(mean E over the non-represented states - mean E over the training patterns, standard error):
    all 2^N states when N <= 16, else ``uniform`` uniformly drawn ones (patterns removed)."""
    n = model.n
    e_train = np.asarray(model.energy(patterns.astype(float)), float)
    if n <= 16:
        table = np.asarray(state_energies(model), float)
        mask = np.ones(table.size, bool)
        mask[spins_to_index(patterns)] = False
        e_non = table[mask]
    else:
        s = rng.choice([-1, 1], size=(uniform, n)).astype(np.int8)
        s = s[state_rows(s, patterns) < 0]
        e_non = np.asarray(model.energy(s.astype(float)), float)
    gap = float(e_non.mean() - e_train.mean())
    se = math.sqrt(e_non.var() / e_non.size + e_train.var(ddof=1) / max(e_train.size - 1, 1))
    return gap, se


def _planted_fit(n: int, ridge: float, sizes: ClaimSizes, seed: int, method: str) -> Any:
    """The pairwise model of the planted data at N = n: exact ML (method "exact"), else pseudo-likelihood."""
    return fit(_planted(n, sizes, seed)[0], "exact" if method == "exact" else "pseudo", l2=ridge).model


def claim_gap(data: Dataset, name: str, sizes: ClaimSizes, seed: int, models: dict, *,
              method: str = "exact") -> ClaimRow:
    """C5; ``method="sampled"``: planted N = ``sizes.sampled_n``, pseudo-likelihood fits, the data at any N
    (the digits also at 8x8) and uniformly drawn states for the non-represented ones beyond N = 16."""
    rng = np.random.default_rng(seed)
    ns, gaps, errs = [], [], []
    planted_n = sizes.planted_n if method == "exact" else sizes.sampled_n
    for n in planted_n:
        planted, _ = _planted(n, sizes, seed)
        g, e = _gap(models[(n, sizes.ridges[1])], planted.unique().samples, rng, sizes.uniform_states)
        ns.append(n), gaps.append(g), errs.append(e)
    slope, slope_se = _slope(np.array(ns), np.array(gaps), np.array(errs))
    extra = {}
    sets = [(name, data)]  # beyond N = 16: a pseudo-likelihood fit and uniformly drawn states (see _gap)
    if name == "digits":
        sets = [("digits 4x4", data), ("digits 5x5", load_digits(25).dataset)]
        if method == "sampled":
            sets.append(("digits 8x8", load_digits(64).dataset))
    for label, ds in sets:
        fit_method = "exact" if ds.n <= 16 and method == "exact" else "pseudo"
        model = fit(ds, fit_method, l2=1e-3).model
        g, e = _gap(model, ds.unique().samples, rng, sizes.uniform_states)
        extra[label] = {"n": ds.n, "gap": g, "error": e, "per_spin": g / ds.n, "per_spin_error": e / ds.n,
                        "fit": fit_method}
    verdict = _verdict(slope, slope_se)
    how = ("exact ML" if method == "exact" else "pseudo-likelihood") + f", ridge {sizes.ridges[1]:g}"
    return ClaimRow("C5", SENTENCES["C5"],
                    f"pairwise models fitted ({how}; no gap imposed) to 3 planted centres with "
                    f"{sizes.planted_copies} copies each ({sizes.planted_flip:g} flips) at N = {list(planted_n)} and "
                    f"to {name}; mean energy of the non-represented states (all 2^N up to N = 16, else "
                    f"{sizes.uniform_states} uniformly drawn) minus that of the training patterns",
                    {"value": slope, "error": slope_se, "n": ns, "gap": gaps, "gap_error": errs, "datasets": extra,
                     "method": method},
                    "zero growth (a gap that does not grow with N is not extensive); standard errors of the two means",
                    verdict, None, "value: fitted d gap / d N (per spin) with its standard error; supported when "
                    "it exceeds 2 standard errors")


# ---------------------------------------------------------------- C6-C7
def claim_escape(sizes: ClaimSizes, seed: int, models: dict) -> ClaimRow:
    threshold = 0.5
    rows = {}
    for ridge in sizes.ridges:
        taus, ses, barriers, hits = [], [], [], []
        for n in sizes.planted_n:
            model = models[(n, ridge)]
            lib = bound_states(model=model, T=1.0, tap=False)
            a = int(np.argmin(lib.energies))
            barriers.append(escape_barrier(state_energies(model), n, int(lib.indices[a]), threshold))
            fp = first_passage(model, 1.0, lib.states[a].astype(float), threshold=threshold,
                               max_updates=sizes.passage_updates, chains=sizes.passage_chains, seed=seed + n)
            taus.append(fp.mean_censored / n), hits.append(fp.hits)  # in sweeps: N updates each
            ses.append(1.0 / math.sqrt(max(fp.hits, 1)))
        rows[ridge] = {"tau": taus, "log_tau_error": ses, "barrier": barriers, "hits": hits}
    ns = np.array(sizes.planted_n)
    main = rows[sizes.ridges[1]]
    slope, slope_se = _slope(ns, np.log(main["tau"]), np.array(main["log_tau_error"]))
    b0, b1 = (np.array(rows[r]["barrier"]) for r in sizes.ridges)
    ridge_change = float(np.max(np.abs(b0 - b1) / np.maximum(b1, 1e-12)))
    verdict = _verdict(slope, slope_se)
    if verdict == INCONCLUSIVE and max(main["tau"]) < ESCAPE_SWEEPS:
        verdict = NOT_SUPPORTED  # no growth within the error bar, and escape is fast at every N
    if ridge_change > 0.1:
        verdict = INCONCLUSIVE if verdict == SUPPORTED else verdict
    return ClaimRow("C6-C7", SENTENCES["C6-C7"],
                    f"{sizes.passage_chains} heat-bath chains at the model's own T = 1 from its deepest bound state "
                    f"until the overlap with it drops below {threshold:g} (the high-temperature phase), censored at "
                    f"{sizes.passage_updates} updates; planted data at N = {list(sizes.planted_n)}, ridge penalties "
                    f"{list(sizes.ridges)}", {"value": slope, "error": slope_se, "n": ns.tolist(),
                                              "ridges": {str(k): v for k, v in rows.items()},
                                              "barrier_ridge_change": ridge_change},
                    "no growth of log(first-passage time) with N; the exact escape barrier (minimax path on the energy "
                    "table) at two ridges", verdict, None,
                    f"value: d log(tau) / d N (tau in sweeps of N updates) with its standard error (1/sqrt(hits) per point); "
                    f"supported when > 2 standard errors, not supported when < -2 standard errors or when it is "
                    f"within them and every chain escapes in under {ESCAPE_SWEEPS} sweeps on average; supported "
                    f"also needs the barrier to move by <= 10% over the decade of ridges (it moved "
                    f"{ridge_change:.1%})")


# ---------------------------------------------------------------- C8
def claim_access(sizes: ClaimSizes, seed: int) -> ClaimRow:
    n = 12
    data, labels = noisy_patterns_dataset(n, 3, sizes.planted_copies * 2, sizes.planted_flip, seed=seed + 100)
    samples, labels = data.samples, np.asarray(labels)
    centre = np.sign(samples[labels == 0].sum(axis=0) + 0.5).astype(np.int8)
    other = np.sign(samples[labels == 1].sum(axis=0) + 0.5).astype(np.int8)
    targets = np.vstack([centre, centre * np.where(np.eye(n, dtype=bool), -1, 1)]).astype(np.int8)
    weights, rates, rate_se, exact_rates = [], [], [], []
    for f in sizes.rare_factors:
        w = np.where(labels == 0, f, 1.0)
        model = fit(Dataset(samples, w), "exact", l2=1e-3).model
        table = np.asarray(state_energies(model), float)
        p = np.exp(-table - np.logaddexp.reduce(-table))
        weight = float(p[spins_to_index(targets)].sum())
        fp = first_passage(model, 1.0, other.astype(float), targets=targets, max_updates=sizes.rare_sweeps * n,
                           chains=sizes.rare_chains, seed=seed + int(1000 * f))
        rate = fp.hits / sizes.rare_chains
        weights.append(weight), rates.append(rate)
        rate_se.append(math.sqrt(max(rate * (1 - rate), 1.0 / sizes.rare_chains) / sizes.rare_chains))
        exact_rates.append(1.0 - (1.0 - weight) ** sizes.rare_sweeps)
    weights, rates, rate_se, exact_rates = map(np.asarray, (weights, rates, rate_se, exact_rates))
    limited = (exact_rates >= 0.5) & (rates + 2 * rate_se < exact_rates)
    if limited.any():
        threshold, reason = float(weights[limited].max()), ("largest class weight at which S exact samples reach "
                                                             "the class with probability >= 1/2 and chains reach it "
                                                             "less often by more than 2 standard errors")
        if limited[int(np.argmax(weights))]:
            reason += "; it is the largest weight scanned (the data weight), so the regime may extend above it"
        verdict = SUPPORTED
    else:
        threshold = None
        if np.all(rates + 2 * rate_se >= exact_rates - 2 * rate_se):
            reason, verdict = "chains reached the class as often as exact samples at every weight", NOT_SUPPORTED
        else:
            reason, verdict = ("chains fall short of exact sampling only where exact sampling itself does not reach "
                               "the class in S samples"), INCONCLUSIVE
    return ClaimRow("C8", SENTENCES["C8"],
                    f"class 0 of 3 planted classes (N = {n}) down-weighted by {list(sizes.rare_factors)}; exact ML fit; "
                    f"{sizes.rare_chains} chains at T = 1 from the centre of class 1, hitting class 0's centre or a "
                    f"state one flip away within {sizes.rare_sweeps} sweeps",
                    {"value": threshold, "error": None, "sweeps": sizes.rare_sweeps, "weights": weights.tolist(), "chain_rate": rates.tolist(),
                     "chain_rate_error": rate_se.tolist(), "exact_rate": exact_rates.tolist(), "reason": reason},
                    "1 - (1 - w)^S: S exact independent samples from the same model, w its exact weight (enumeration)",
                    verdict, None, f"value: threshold weight ({reason})")


# ---------------------------------------------------------------- C9
def claim_pcd(sizes: ClaimSizes, seed: int) -> ClaimRow:
    n = 12
    data, labels = noisy_patterns_dataset(n, 3, sizes.planted_copies, 0.05, seed=seed + 200)
    exact = fit(data, "exact", l2=1e-3).model
    results = {}
    for name, tempering in (("pcd", None), ("pcd + tempering", [1.0, 1.4, 2.0, 2.8])):
        model = fit(data, "pcd", l2=1e-3, chains=sizes.pcd_chains, steps=sizes.pcd_steps, tempering=tempering,
                    seed=seed).model
        results[name] = model
    labels = np.asarray(labels)
    rows, per_sample = {}, {}
    for name, model in (("exact", exact), *results.items()):
        table = np.asarray(state_energies(model), float)
        logp = -table - np.logaddexp.reduce(-table)
        idx = spins_to_index(data.samples)
        ll = logp[idx]
        per_sample[name] = ll
        class_w = [float(np.exp(np.logaddexp.reduce(logp[np.unique(idx[labels == c])]))) for c in range(3)]
        rows[name] = {"log_likelihood": float(ll.mean()), "error": float(ll.std(ddof=1) / math.sqrt(ll.size)),
                      "class_weight": class_w}
    paired = per_sample["exact"] - per_sample["pcd"]
    diff, err = float(paired.mean()), float(paired.std(ddof=1) / math.sqrt(paired.size))
    lost = [c for c in range(3) if rows["pcd"]["class_weight"][c] < 0.1 * rows["exact"]["class_weight"][c]]
    verdict = SUPPORTED if (diff > 2 * err or lost) else NOT_SUPPORTED
    return ClaimRow("C9", SENTENCES["C9"],
                    f"pairwise fits of 3 well separated planted classes (N = {n}, 5% flips): exact gradient (ML) "
                    f"against persistent chains ({sizes.pcd_chains} chains, {sizes.pcd_steps} steps), with and "
                    "without parallel tempering",
                    {"value": diff, "error": err, "models": rows, "lost_classes": lost},
                    "the exact maximum-likelihood fit (enumeration) and each model's exact class weights",
                    verdict, None, "value: training log-likelihood lost by PCD per sample (exact evaluation, paired standard "
                    "error); supported when > 2 standard errors or a class keeps < 10% of its exact-fit weight, else "
                    "not supported (no bias measurable: the chains did not trap at the model's temperature)")


# ---------------------------------------------------------------- C10
REMEDY = "mixture of pairwise (k from the minima)"


def _site_baseline(train: np.ndarray, test: np.ndarray, budget: int, sizes: ClaimSizes,
                   rng: np.random.Generator) -> tuple[str, np.ndarray, int]:
    """(name, held-out log p per sample, parameters) of the independent-site mixture with at least ``budget``
    parameters (exact at any N)."""
    n = train.shape[1]
    k_site = min(max(1, math.ceil((budget + 1) / (n + 1))), len(train))
    pi, m = independent_site_mixture(train, k_site, sizes.em_iterations, seed=rng)
    log_p = np.logaddexp.reduce(np.log(pi) + site_log_prob(test.astype(float), m), axis=1)
    return f"mixture of {len(pi)} independent-site models", log_p, len(pi) * (n + 1) - 1


def _baselines(train: np.ndarray, test: np.ndarray, budget: int, sizes: ClaimSizes, seed: int,
               rng: np.random.Generator) -> tuple[dict, dict, list[str]]:
    """Held-out log p per sample (name -> (S,)), parameter counts and notes of the baselines with about
    ``budget`` parameters: an independent-site mixture (at least as many), one model with higher-order
    couplings (exactly as many, up to 2^N - 1), one RBM (at least as many; N <= HIDDEN_MAX_SPINS)."""
    n = train.shape[1]
    site, log_p, count = _site_baseline(train, test, budget, sizes, rng)
    ll, counts, notes = {site: log_p}, {site: count}, []
    models = [fit_walsh_model(train, min(budget, 2**n - 1), l2=sizes.baseline_l2)]
    if budget > 2**n - 1:
        notes.append(f"the higher-order model has all 2^N - 1 = {2**n - 1} couplings, fewer than {budget}")
    if n <= HIDDEN_MAX_SPINS:
        models.append(fit_hidden_model(train, hidden_units_for(budget, n), l2=sizes.baseline_l2, seed=seed,
                                       max_iter=sizes.hidden_iterations))
    else:
        notes.append(f"the hidden-unit baseline is not run at N = {n} > {HIDDEN_MAX_SPINS} (its exact fit "
                     "enumerates the 2^N visible states per hidden unit)")
    for model in models:
        ll[model.name], counts[model.name] = model.log_prob(test), model.parameters
        if not model.converged:
            notes.append(f"{model.name}: not converged in {model.iterations} iterations")
    return ll, counts, notes


def _remedy_split(data: Dataset, sizes: ClaimSizes,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | ClaimRow:
    """(training, held-out samples), rows repeated by their integer weights; the skipped row when too few."""
    samples = np.repeat(data.samples, np.round(data.weights).astype(int), axis=0) \
        if np.allclose(data.weights, np.round(data.weights)) else data.samples
    held = max(1, int(round(sizes.holdout * len(samples))))
    if len(samples) - held < 2 or held < 2:
        return ClaimRow("C10", SENTENCES["C10"], "-", {"value": None}, "-", SKIPPED, None,
                        f"data set too small for a held-out split ({len(samples)} samples)")
    order = rng.permutation(len(samples))
    return samples[order[held:]], samples[order[:held]]


def pattern_coverage(log_p: np.ndarray, test: np.ndarray, draws: int) -> tuple[float, float]:
    """Expected fraction of the distinct held-out patterns that ``draws`` independent samples of a model contain,
    mean over the patterns of 1 - (1 - p_x)^draws from the model's log p of each held-out sample, with the standard
    error over the patterns."""
    first = np.unique(test, axis=0, return_index=True)[1]
    covered = seen_probability(np.exp(np.asarray(log_p, float)[first]), draws)
    return float(covered.mean()), float(covered.std(ddof=1) / math.sqrt(covered.size)) if covered.size > 1 else 0.0


def _remedy_row(train: np.ndarray, test: np.ndarray, k: int, ll: dict, counts: dict, log_z_error: dict,
                how: str, reference: str, notes: list[str], *, complete: bool) -> ClaimRow:
    """The C10 row: paired gains of the remedy over every other model (standard error of the mean difference,
    plus the log Z errors of the two models when sampled: :func:`.sampled_errors.mean_with_error`), the value
    being the gain over the strongest;
    supported only when ``complete`` (every baseline ran) and every gain exceeds 2 errors."""
    gains = {}
    for name in ll:
        if name != REMEDY:
            if ll[name] is ll[REMEDY]:  # the remedy is this model itself (EM pruned it to one): one estimate
                gains[name] = {"gain": 0.0, "error": 0.0}
                continue
            gain, error = mean_with_error(ll[REMEDY] - ll[name],
                                          log_z_errors=(log_z_error.get(REMEDY, 0.0), log_z_error.get(name, 0.0)))
            gains[name] = {"gain": gain, "error": error}
    verdicts = {_verdict(g["gain"], g["error"]) for g in gains.values()}
    verdict = (NOT_SUPPORTED if NOT_SUPPORTED in verdicts else SUPPORTED if verdicts == {SUPPORTED} and complete
               else INCONCLUSIVE)
    strongest = min(gains, key=lambda name: gains[name]["gain"])
    rows = {name: dict(zip(("held_out_log_likelihood", "error"),
                           mean_with_error(v, log_z_errors=(log_z_error.get(name, 0.0),))), parameters=counts[name])
            for name, v in ll.items()}
    for name, v in ll.items():  # coverage by as many samples as the training set has
        rows[name]["pattern_coverage"], rows[name]["pattern_coverage_error"] = pattern_coverage(v, test, len(train))
    baselines = [name for name in ll if name not in (REMEDY, "one pairwise model")]
    return ClaimRow("C10", SENTENCES["C10"],
                    f"{len(train)} training / {len(test)} held-out samples; mixture of K = {k} pairwise models ({how}) "
                    f"against baselines with about its {counts[REMEDY]} parameters ({'; '.join(baselines)}) and one "
                    "pairwise model; each model's expected coverage of the distinct held-out patterns by as many samples as the "
                    "training set", {"value": gains[strongest]["gain"], "error": gains[strongest]["error"],
                                       "strongest": strongest, "gains": gains, "models": rows, "k": k},
                    reference, verdict, None,
                    "value: held-out log-likelihood per sample of the remedy minus that of the strongest baseline "
                    "(paired standard error; every gain in 'gains'); supported when it beats every baseline by 2 "
                    "standard errors, not supported when it loses to any by 2 standard errors"
                    + "".join(f"; {note}" for note in notes))


def _pair_count(n: int, k: int) -> int:
    """Parameters of a mixture of k pairwise models of n spins (fields, couplings, k - 1 weights)."""
    return k * (n + n * (n - 1) // 2) + k - 1


def claim_remedy(data: Dataset, sizes: ClaimSizes, seed: int) -> ClaimRow:
    rng = np.random.default_rng(seed)
    split = _remedy_split(data, sizes, rng)
    if isinstance(split, ClaimRow):
        return split
    train, test = split
    single = fit(train, "exact", l2=1e-3).model
    mix = fit_mixture(train, None, method=sizes.em_method, l2=1e-3, max_iter=sizes.em_iterations, seed=seed).mixture
    params = _pair_count(data.n, mix.k)
    ll = {REMEDY: np.asarray(mix.log_prob(test), float),
          "one pairwise model": np.asarray(Mixture.from_models([single], [1.0]).log_prob(test), float)}
    counts = {REMEDY: params, "one pairwise model": _pair_count(data.n, 1)}
    base_ll, base_counts, notes = _baselines(train, test, params, sizes, seed, rng)
    ll.update(base_ll), counts.update(base_counts)
    return _remedy_row(train, test, mix.k, ll, counts, {}, "K = the strict minima of one model, no labels; EM; "
                       f"baselines' ridge {sizes.baseline_l2:g}", "held-out exact log-likelihood of the baselines on "
                       "the same samples (paired)", notes, complete=True)


def claim_remedy_sampled(data: Dataset, sizes: ClaimSizes, seed: int) -> ClaimRow:
    """C10 without the 2^N states: pseudo-likelihood fits, the mixture by :func:`sampled_mixture`, log Z of
    every pairwise model by AIS (its error added to the paired one); the independent-site mixture is exact.
    The RBM and higher-order baselines need enumeration: without them the claim cannot be supported here."""
    rng = np.random.default_rng(seed)
    split = _remedy_split(data, sizes, rng)
    if isinstance(split, ClaimRow):
        return split
    train, test = split
    settings = sizes.sampled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = fit(Dataset(train).unique(), "pseudo", l2=1e-3).model
    em = sampled_mixture(Dataset(train), None, single, settings, seed=seed)
    models, W = list(em.models), em.weights
    same = len(models) == 1 and models[0] is single  # EM left the single model itself: its log Z, not a second AIS
    z = [log_partition(m, 1.0, method="ais", chains=settings.ais_chains, steps=settings.ais_steps,
                       seed=seed + 100 + c) for c, m in enumerate([single] if same else [single, *models])]
    z = z * 2 if same else z
    x = test.astype(float)
    lpc = np.stack([math.log(max(W[c], 1e-300)) - np.asarray(m.energy(x)) - z[1 + c].log_z
                    for c, m in enumerate(models)], axis=1)
    log_p = np.logaddexp.reduce(lpc, axis=1)
    share = np.exp(lpc - log_p[:, None]).mean(axis=0)  # d mean log p / d log Z_k = -share_k
    params = _pair_count(data.n, len(models))
    site, site_log_p, site_count = _site_baseline(train, test, params, sizes, rng)
    single_log_p = -np.asarray(single.energy(x)) - z[0].log_z
    ll = {REMEDY: single_log_p if same else log_p, "one pairwise model": single_log_p, site: site_log_p}
    counts = {REMEDY: params, "one pairwise model": _pair_count(data.n, 1), site: site_count}
    log_z_error = {REMEDY: math.sqrt(float(np.sum(share**2 * np.array([r.log_z_stderr for r in z[1:]]) ** 2))),
                   "one pairwise model": z[0].log_z_stderr}
    return _remedy_row(train, test, len(models), ll, counts, log_z_error,
                       f"pseudo-likelihood EM from the stable states of one model (at most "
                       f"{settings.max_components}), log Z_k by AIS ({settings.ais_chains} chains, {settings.ais_steps} "
                       "steps)", "held-out log-likelihood of the baselines on the same samples (paired), log Z of "
                       "the pairwise models by AIS, the independent-site mixture exact",
                       ["the RBM and higher-order baselines need the 2^N states and are not run: at this size the "
                        "claim is at best inconclusive"], complete=False)


# ---------------------------------------------------------------- the table
CLAIMS = ("C2-C3", "C5", "C6-C7", "C8", "C9", "C10")


def _needs_enumeration(claim: str) -> ClaimRow:
    """The row of a claim that method="sampled" does not run: inconclusive, with the reason."""
    return ClaimRow(claim, SENTENCES[claim], "not run with method='sampled'", {"value": None, "error": None},
                    "-", INCONCLUSIVE, None, f"inconclusive at this size: {NEEDS_ENUMERATION[claim]}; "
                    "method='exact' runs it on planted data")


def claims(data: Any = "digits", *, seed: int = 0, sizes: Any = None, only: Any = None, method: str = "exact",
           progress: bool = False) -> ClaimTable:
    """Run the claim experiments (all of CLAIMS or those in ``only``, a list or a comma-separated string) and
    return the table (figures: :func:`thermopot.claim_figures.draw_claims`); ``sizes``: a ``ClaimSizes``
    (default ``QUICK_SIZES``). ``data`` drives C5 and C10
    (see :func:`thermopot.knowledge.resolve_data`); the others use planted data of growing N.
    ``method="sampled"`` runs without the 2^N states, for data of any N: C5 with pseudo-likelihood fits at
    planted N = ``sizes.sampled_n`` and on the data; the claims whose references need enumeration are
    reported "inconclusive at this size" with the reason (``NEEDS_ENUMERATION``). ``"auto"``: exact for
    data of N <= 20, sampled beyond (the table's ``method`` says which ran)."""
    seed = check_count(seed, "seed", minimum=0)
    sizes = sizes or QUICK_SIZES
    if method not in METHODS:
        raise ThermopotError(f"unknown claims method {method!r}; use one of {', '.join(METHODS)}")
    chosen = list(CLAIMS) if only is None else [c.strip() for c in (only.split(",") if isinstance(only, str) else only)]
    unknown = [c for c in chosen if c not in CLAIMS]
    if unknown or not chosen:
        raise ThermopotError(f"unknown claim {', '.join(unknown) or repr(only)}; known: {', '.join(CLAIMS)}")
    name, dataset, _labels = resolve_data(data)
    if method == "auto":
        method = "exact" if dataset.n <= MAX_SPINS else "sampled"
    start = time.perf_counter()
    models: dict = {}
    wanted = {"C5"} if method == "sampled" else {"C5", "C6-C7"}
    if wanted & set(chosen):
        for n in sizes.planted_n if method == "exact" else sizes.sampled_n:
            for ridge in sizes.ridges if "C6-C7" in wanted & set(chosen) else sizes.ridges[1:]:
                models[(n, ridge)] = _planted_fit(n, ridge, sizes, seed, method)
    run = {"C2-C3": lambda: claim_minima(sizes, seed),
           "C5": lambda: claim_gap(dataset, name, sizes, seed, models, method=method),
           "C6-C7": lambda: claim_escape(sizes, seed, models),
           "C8": lambda: claim_access(sizes, seed),
           "C9": lambda: claim_pcd(sizes, seed),
           "C10": (lambda: claim_remedy(dataset, sizes, seed)) if method == "exact"
           else (lambda: claim_remedy_sampled(dataset, sizes, seed))}
    if method == "sampled":
        run.update({c: (lambda c=c: _needs_enumeration(c)) for c in NEEDS_ENUMERATION})
    rows = []
    bar = progress_bar(len(chosen), unit="claim", desc="claims", enabled=progress)
    for c in chosen:
        t0 = time.perf_counter()
        rows.append(dataclasses.replace(run[c](), seconds=round(time.perf_counter() - t0, 3)))
        bar.update()
    bar.close()
    return ClaimTable(dataset=name, rows=tuple(rows), seed=seed, seconds=round(time.perf_counter() - start, 3),
                      sizes=sizes, method=method)


__all__ = ["CLAIMS", "METHODS", "NEEDS_ENUMERATION", "ClaimRow", "ClaimSizes", "ClaimTable", "QUICK_SIZES", "claims"]
