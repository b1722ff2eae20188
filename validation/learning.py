"""Inverse Ising learning against a known model (theory.md section 1, docs/architecture.md "fit").

Exact samples (:func:`thermopot.learning.sample_exact`) of a random pairwise model at T = 1 are fitted by
exact maximum likelihood (:func:`thermopot.learning.fit_exact`) and by pseudo-likelihood
(:func:`thermopot.learning.fit_pseudolikelihood`):
- the ML model reproduces the data moments <s_k> and <s_k s_l> (checked by an independent enumeration of
  the fitted model), which is the ML stationarity condition;
- both recover the couplings with an rms error below 0.05;
- the ML rms error matches the asymptotic (Cramer-Rao) prediction sqrt(tr(I^-1)_JJ / (M P)), with I the
  covariance of the sufficient statistics (s_k, s_k s_l) under the true model (the Fisher information
  per sample), M samples and P = N(N-1)/2 couplings. The rms is pooled over CRAMER_RAO_SETS independent
  data sets; its tolerance is Z_MAX of its own standard deviation, also from I: the squared errors sum to
  sum_i lambda_i chi^2_1 with lambda_i the eigenvalues of (I^-1)_JJ / M, so the mean square has relative
  standard deviation sqrt(2 sum lambda^2) / sum lambda per set, the rms half that, and R sets sqrt(R) less.
"""

from __future__ import annotations

import numpy as np

from ..exact import thermodynamics
from ..learning import as_dataset, fit_exact, fit_pseudolikelihood, sample_exact
from ..models import random_pairwise
from ..report import new_figure, save_figure
from ..states import all_states

#: allowed rms error of the fitted couplings
RMS_TOL = 0.05
#: allowed mismatch between the ML model's moments and the data's
MOMENT_TOL = 1e-6
#: independent data sets the Cramer-Rao check pools its rms over, and its tolerance in standard deviations
CRAMER_RAO_SETS = 8
Z_MAX = 4.0


def rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square of a - b."""
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def cramer_rao_rms(model, size: int) -> tuple[float, float]:
    """(predicted rms error of ML couplings from ``size`` samples at T = 1, its relative standard deviation over
    data sets): sqrt(tr(I^-1)_JJ / (size P)) and sqrt(2 sum lambda^2) / (2 sum lambda), lambda the eigenvalues
    of (I^-1)_JJ, I = Cov(s_k, s_k s_l) under ``model`` by enumeration (module docstring)."""
    n = model.n
    k, l = np.triu_indices(n, 1)
    s = all_states(n, backend="numpy")
    log_w = -np.asarray(model.energy(s))
    p = np.exp(log_w - log_w.max())
    p /= p.sum()
    stats = np.concatenate([s, s[:, k] * s[:, l]], axis=1)
    centred = stats - p @ stats
    inverse = np.linalg.inv(centred.T @ (centred * p[:, None]))
    lam = np.linalg.eigvalsh(inverse[n:, n:])
    return float(np.sqrt(lam.sum() / (size * k.size))), float(np.sqrt(2.0 * np.sum(lam**2)) / (2.0 * lam.sum()))


def run(ctx) -> None:
    """Exact ML and pseudo-likelihood on exact samples (quick: N = 10, 40000 samples; full: N = 12, 160000)."""
    n, size = (10, 40_000) if ctx.quick else (12, 160_000)
    truth = random_pairwise(n, seed=ctx.seed + 1)
    samples = sample_exact(truth, size, seed=ctx.seed + 2)
    iu = np.triu_indices(n, 1)
    tag = f"[random pairwise N={n} seed={ctx.seed + 1}, {size} exact samples]"
    figure = ctx.figure("fitted-vs-true-couplings")

    ml = fit_exact(samples)
    m, C = as_dataset(samples).moments()
    fitted = thermodynamics(ml.model, 1.0, progress=False)
    ctx.check(f"ML model <s_k> = data <s_k> {tag}", fitted.magnetization, m, MOMENT_TOL,
              note=f"enumeration of the fitted model; fit converged = {ml.converged} in {ml.iterations} iterations")
    ctx.check(f"ML model <s_k s_l> = data <s_k s_l> {tag}", fitted.correlation[iu], C[iu], MOMENT_TOL,
              note="all pairs k < l")
    err_ml = rms(ml.model.J[iu], truth.J[iu])
    predicted, spread = cramer_rao_rms(truth, size)
    errors = [ml.model.J[iu] - truth.J[iu]] + [fit_exact(sample_exact(truth, size, seed=ctx.seed + 100 + r)).model.J[iu]
                                               - truth.J[iu] for r in range(CRAMER_RAO_SETS - 1)]
    pooled = float(np.sqrt(np.mean(np.square(errors))))
    spread /= np.sqrt(CRAMER_RAO_SETS)
    ctx.check(f"ML couplings: rms error < {RMS_TOL} {tag}", err_ml, 0.0, RMS_TOL, figure=figure,
              note=f"rms over {iu[0].size} couplings of scale {rms(truth.J[iu], 0.0):.3f}; h rms error "
                   f"{rms(ml.model.h, truth.h):.4f}")
    ctx.check(f"ML couplings: rms error = Cramer-Rao prediction [random pairwise N={n} seed={ctx.seed + 1}, "
              f"{CRAMER_RAO_SETS} sets of {size} exact samples]", predicted, pooled, Z_MAX * spread * predicted,
              figure=figure, note=f"sqrt(tr(I^-1)_JJ / (M P)), I = Fisher information per sample by enumeration; rms "
                                  f"pooled over {CRAMER_RAO_SETS} data sets (the first {err_ml:.4f}); tolerance "
                                  f"{Z_MAX:g} x its relative standard deviation {spread:.3f} (module docstring)")
    pl = fit_pseudolikelihood(samples)
    err_pl = rms(pl.model.J[iu], truth.J[iu])
    ctx.check(f"pseudo-likelihood couplings: rms error < {RMS_TOL} {tag}", err_pl, 0.0, RMS_TOL, figure=figure,
              note=f"converged = {pl.converged}; rms distance to the ML couplings "
                   f"{rms(pl.model.J[iu], ml.model.J[iu]):.4f}")

    fig, ax = new_figure(size=(5.0, 4.4))
    ax.plot(truth.J[iu], ml.model.J[iu], "o", ms=4, mfc="none", label=f"exact ML (rms error {err_ml:.4f})")
    ax.plot(truth.J[iu], pl.model.J[iu], "x", ms=4, label=f"pseudo-likelihood (rms error {err_pl:.4f})")
    lims = [truth.J[iu].min() - 0.05, truth.J[iu].max() + 0.05]
    ax.plot(lims, lims, "k--", lw=1, label="fitted = true")
    ax.set_xlabel("true J_kl")
    ax.set_ylabel("fitted J_kl")
    ax.set_title(f"N={n}, {size} exact samples; Cramer-Rao rms {predicted:.4f}", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, figure)
