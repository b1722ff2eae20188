"""Standard errors of the sampled pipeline's rows that are read off chain samples: coverages, pooled TV and
the rare-pattern thresholds (:mod:`.sampled_pipeline`).

Chain samples are correlated, so every error bar here comes from the spread between B independent chains
(each from its own random start), never from the pooled samples as if they were independent:

- chain mean: a rate x measured by each chain b (x_b: the share of its recorded sweeps on a set of states)
  gives x = mean_b x_b with se(x) = sd_b(x_b) / sqrt(B), at least 1 / n over n records in all (a rate
  with no hit has spread 0 but is known only to one record; :func:`chain_mean`).
- coverage: the exact pipeline counts the patterns (classes) drawn at least once in S independent samples
  of the model; its expectation is C = (1/G) sum_g [1 - (1 - P_g)^S] over the G groups g (one pattern
  each, or the patterns of one class), P_g = sum_{mu in g} p_mu. For a mixture sum_k W_k p_k, each
  component's p_k(mu) = r_k pi_k(mu): pi_k(mu) = exp(-E_k(mu)/T) / sum_nu exp(-E_k(nu)/T) over the patterns
  is exact (log Z_k cancels) and the pattern mass r_k is a chain mean. The sampled row is C at the chain
  estimates r_k, with se^2 = sum_k (dC/dr_k)^2 se(r_k)^2 (delta method), dC/dr_k = (1/G) sum_g S (1 -
  P_g)^(S-1) W_k Pi_kg, Pi_kg = sum_{mu in g} pi_k(mu) (:func:`expected_coverage`).
- pooled TV: TV(f, p) of the visits f pooled over the chains; se = the standard deviation of the same TV
  over R bootstrap resamples of the chains (whole chains drawn with replacement; :func:`pooled_tv_stderr`).
- thresholds on the factor grid: the reported weight w_t f_lost is the lower end of the bracket (f_lost,
  f_kept) holding the crossing; with the crossing uniform in the bracket, the reported value's RMS error
  from the grid is w_t (f_kept - f_lost) / sqrt(3). The sampling part is the standard deviation of the
  threshold over R bootstrap resamples of each factor's chains (a resample whose scan never loses the
  target counts as weight 0, the lower bound). se^2 = se_boot^2 + (grid term)^2; None when the grid does not
  bracket the threshold (:func:`threshold_stderr`).

One formula is not about chains: a mean over n independent held-out samples (a held-out log-likelihood, or
the paired difference of two models' log-likelihoods on the same samples) whose values also carry the errors
of estimated log Z's. With weights p_i = w_i / sum w, mean = sum_i p_i v_i has variance sigma^2 sum_i p_i^2 for
independent v_i of variance sigma^2, and E[sum_i p_i^2 (v_i - mean)^2] = sigma^2 S2 (1 - 2 S3 / S2 + S2) with
S2 = sum p^2, S3 = sum p^3, so se^2 = sum_i p_i^2 (v_i - mean)^2 / (1 - 2 S3 / S2 + S2) + sum_j e_j^2 is
unbiased (equal weights: var(v) / n with ddof 1), e_j the log Z errors of the models in v (each model's own,
independent AIS runs; :func:`mean_with_error`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ThermopotError
from .rare import grid_threshold
from .retrieval import tv_distance

__all__ = ["chain_mean", "per_chain_rate", "expected_coverage", "pooled_tv_stderr", "threshold_stderr",
           "grid_error", "mean_with_error", "BOOTSTRAP_REPLICATES"]

#: bootstrap resamples of the chains behind the pooled-TV and threshold errors
BOOTSTRAP_REPLICATES = 200


def per_chain_rate(hit: np.ndarray, chains: int) -> np.ndarray:
    """(B,) share of each chain's records that hit, for records ordered sweep by sweep (record j is chain
    j mod B, as ``sampled_pipeline._chain_samples`` lays them out)."""
    owner = np.arange(len(hit)) % chains
    return np.bincount(owner, weights=np.asarray(hit, dtype=np.float64), minlength=chains) / np.bincount(
        owner, minlength=chains)


def chain_mean(per_chain: np.ndarray, records: int) -> tuple[float, float]:
    """(mean_b x_b, max(sd_b(x_b) / sqrt(B), 1 / records)): a rate over ``records`` chain records and its
    chain-to-chain standard error, never below one record's worth (when no chain hits, or every chain
    always does, the spread is 0 but the rate is only known to 1 / records)."""
    x = np.asarray(per_chain, dtype=np.float64)
    spread = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.inf
    return float(x.mean()), max(spread, 1.0 / records)


def seen_probability(p: Any, draws: int) -> np.ndarray:
    """1 - (1 - p)^draws: the chance that ``draws`` independent samples contain an outcome of probability
    ``p`` (elementwise; computed as -expm1(draws log1p(-p)), accurate for tiny p and huge draws)."""
    return -np.expm1(draws * np.log1p(-np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0 - 1e-16)))


def expected_coverage(relative: Sequence[np.ndarray], weights: np.ndarray, rate: np.ndarray, rate_stderr: np.ndarray,
                      samples: int, groups: np.ndarray | None = None, n_groups: int | None = None
                      ) -> tuple[float, float]:
    """(C, se(C)) of the module docstring: ``relative`` (K of (M,)) the pi_k over the M patterns, ``weights``
    W_k, ``rate`` r_k with ``rate_stderr``, S = ``samples``; ``groups`` (M,) the group index of each pattern
    (None: every pattern its own group) out of ``n_groups`` (default: the groups present)."""
    pi = np.stack([np.asarray(p, dtype=np.float64) for p in relative])          # (K, M)
    W, r, se_r = (np.asarray(v, dtype=np.float64) for v in (weights, rate, rate_stderr))
    g = np.arange(pi.shape[1]) if groups is None else np.asarray(groups)
    G = int(g.max()) + 1 if n_groups is None else int(n_groups)
    Pi = np.stack([np.bincount(g, weights=row, minlength=G) for row in pi])  # (K, G)
    P = (W * r) @ Pi
    value = float(seen_probability(P, samples).sum() / G)
    slope = samples * np.exp((samples - 1) * np.log1p(-np.clip(P, 0.0, 1.0 - 1e-16)))  # dC_g / dP_g
    grad = W * (Pi @ slope) / G
    return value, float(math.sqrt(np.sum(grad ** 2 * se_r ** 2)))


def bootstrap_chains(chains: int, replicates: int, seed: Any) -> np.ndarray:
    """(R, B) how often each chain is drawn in each of R resamples of B chains with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(chains, np.full(chains, 1.0 / chains), size=replicates).astype(np.float64)


def pooled_tv_stderr(visits: np.ndarray, reference: np.ndarray, *, replicates: int = BOOTSTRAP_REPLICATES,
                     seed: Any = 0) -> float:
    """sd over bootstrap resamples of the chains (rows of ``visits`` (B, P)) of TV(pooled visits, reference)."""
    counts = bootstrap_chains(visits.shape[0], replicates, seed) @ np.asarray(visits, dtype=np.float64)
    tv = tv_distance(counts, np.asarray(reference, dtype=np.float64))
    tv = tv[np.isfinite(tv)]
    return float(tv.std(ddof=1)) if tv.size > 1 else math.nan


def threshold_stderr(lost: Callable[[np.ndarray], np.ndarray], per_chain: np.ndarray, factors: np.ndarray,
                     base_weight: float, *, replicates: int = BOOTSTRAP_REPLICATES, seed: Any = 0) -> float | None:
    """se of a grid threshold w_t f_lost (module docstring). ``per_chain`` (F, B): each factor's per-chain
    statistic; ``lost`` maps the (F,) statistics of a resample (chain means) to the (F,) booleans "target
    lost" (``knowledge.rare.grid_threshold``)."""
    x = np.asarray(per_chain, dtype=np.float64)
    f_lost, (lo, hi), _ = grid_threshold(lost(x.mean(axis=1)), factors)
    if f_lost is None or hi is None:
        return None
    rng = np.random.default_rng(seed)
    n_f, b = x.shape
    picks = rng.integers(0, b, size=(replicates, n_f, b))
    means = np.take_along_axis(np.broadcast_to(x, (replicates, n_f, b)), picks, axis=2).mean(axis=2)
    boot = np.array([grid_threshold(lost(m), factors)[0] or 0.0 for m in means]) * base_weight
    return float(math.hypot(boot.std(ddof=1), grid_error(lo, hi, base_weight)))


def grid_error(f_lost: float, f_kept: float, base_weight: float) -> float:
    """RMS distance w_t (f_kept - f_lost) / sqrt(3) of a crossing uniform in the bracket from its lower end."""
    return base_weight * (f_kept - f_lost) / math.sqrt(3.0)


def mean_with_error(values: Any, weights: Any = None, *, log_z_errors: Sequence[float] = ()) -> tuple[float, float]:
    """(mean, se) of per-sample ``values`` over independent samples (module docstring): mean = sum_i p_i v_i,
    se^2 = sum_i p_i^2 (v_i - mean)^2 / (1 - 2 S3 / S2 + S2) + sum_j e_j^2 with p_i = w_i / sum w, S2 = sum p^2,
    S3 = sum p^3 (equal weights without ``weights``: se^2 = var(v, ddof=1) / n + sum_j e_j^2) and e_j the
    ``log_z_errors`` of the estimated log Z's in the values. For a paired gain pass the per-sample differences
    of two models on the same samples and both models' log Z errors."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != v.shape or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ThermopotError(f"weights must be {v.size} finite non-negative numbers, one per value")
    n = int(np.count_nonzero(w))
    if n < 2:
        raise ThermopotError(f"a mean with a standard error needs at least 2 samples of positive weight, got {n}")
    p = w / w.sum()
    mean = float(p @ v)
    s2, s3 = float(p @ p), float(np.sum(p**3))
    spread = float(p**2 @ (v - mean) ** 2) / (1.0 - 2.0 * s3 / s2 + s2)
    return mean, math.sqrt(spread + float(np.sum(np.square(np.asarray(log_z_errors, dtype=np.float64)))))
