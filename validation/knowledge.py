"""Knowledge as ergodicity breaking (theory.md section 3): the He-Lubchenko pipeline on the bundled digits
(N = 16, 1797 images, 1284 distinct patterns), every claim against exact enumeration.

- Full description: the Walsh couplings of E_mu = -T0 log w_mu with the continuum at E_gap are the pattern
  sums 2^-N sum_mu Delta_mu chi_alpha(xi^mu); a uniform shift moves only J_{}; the order-2 truncation is
  the Krawtchouk form and lies within its bound; half the Boltzmann weight is garbage at T* = Delta /
  log((2^N - M)/M) for equal weights (random patterns) and at the exact coexistence root for the digits.
- Potentials: Phi over the pairwise couplings has one minimum (= exact maximum likelihood); G over the full
  simplex has one minimum (x = p, G = A); G over the weights reachable by the pairwise family has several
  (each with a positive-definite Hessian) below T* and one far above it.
- Library: per-basin free energies of the fitted model add up to log Z; training patterns and false states.
- Retrieval: chains pooled over random starts put the exact Boltzmann mass on the training patterns; at
  T = 1 every single chain's basin occupancy approaches the exact basin weights, at T = 0.15 single chains
  keep their own basin statistics (ergodicity breaking); trapping times follow Arrhenius with the exact
  escape barrier.
- Under-representation and remedy: lowering the rarest class takes its minima away; a mixture of models
  has a lower KL(data || model) and covers more patterns than one model.
"""

from __future__ import annotations

import math

import numpy as np

from ..datasets import random_patterns_dataset
from ..exact import thermodynamics
from ..knowledge import describe, run_knowledge
from ..knowledge.description import (coupling_residual, krawtchouk_residual, shift_residual,
                                    truncation_scale)
from ..knowledge.pipeline import COUNTS_DATA
from ..report import label_axes, new_figure, save_figure

#: identities of the full description (float64 sums of 2^N terms)
IDENTITY_TOL = 1e-10
#: allowed |z| of a sampled mean against its exact value
Z_MAX = 4.0
#: Arrhenius slope against the exact escape barrier, relative, on top of 4 statistical standard errors of
#: the fitted slope: the prefactor's T dependence (the number of escape paths) corrects the slope of log tau
#: against 1/T by O(T/B), up to 1/2 here (T <= 0.3, barriers 0.62-1.1); measured with 128 chains over seeds
#: 0-2: ratios 0.87-1.31, the shallowest minimum (B = 0.62) always the highest
ARRHENIUS_REL = 0.3


def slope_stderr(T: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Standard error of the least-squares slope of log(mean escape time) against 1/T, per minimum: the
    escape times are exponential, so log(mean of n) has variance 1/n; T (nT,), hits (nT, R) -> (R,)."""
    x = 1.0 / np.asarray(T, dtype=float)
    dx = x - x.mean()
    var = 1.0 / np.maximum(np.asarray(hits, dtype=float), 1.0)
    return np.sqrt((dx[:, None] ** 2 * var).sum(axis=0)) / (dx ** 2).sum()
#: largest TV distance of an ergodic chain's basin occupancy (1000 sweeps, 34 basins) from the exact weights
ERGODIC_TV = 0.2


def _description_checks(ctx, run, figure: str) -> None:
    d = run.description
    tag = f"[{run.dataset}: N={d.n}, M={d.m}]"
    ctx.check(f"Walsh couplings = 2^-N sum_mu Delta_mu chi_alpha(xi^mu), J_{{}} = -E_gap + 2^-N sum Delta_mu {tag}",
              coupling_residual(d), 0.0, IDENTITY_TOL, figure=figure, note="max over all 2^N subsets alpha")
    ctx.check(f"uniform energy shift changes only J_{{}} {tag}", shift_residual(d, 1.0), 0.0, IDENTITY_TOL,
              figure=figure, note="for alpha != {} the gap enters only through the depths Delta_mu")
    ctx.check(f"order-2 Walsh truncation = Krawtchouk form {tag}", krawtchouk_residual(d, 2), 0.0, IDENTITY_TOL,
              figure=figure, note="E_2(s) = E_gap - 2^-N sum_mu Delta_mu sum_{j<=2} K_j(d_mu(s); N)")
    scale = truncation_scale(d, 2)
    ctx.bound(f"order-2 truncation: max |E_2 - E_gap| <= 2^-N sum_mu Delta_mu sum_(j<=2) C(N,j) {tag}",
              scale.max_deviation, upper=scale.bound, figure=figure,
              note=f"deviation {scale.max_deviation:.3g} = {scale.max_deviation / d.gap:.3g} Delta; one pattern's "
                   f"scale is {scale.per_pattern_over_gap:.2g} Delta: a truncated model keeps almost nothing")
    equal = describe(random_patterns_dataset(12, 6, seed=ctx.seed + 1))
    ctx.check("half the Boltzmann weight is garbage at T* = Delta / log((2^N - M)/M) [6 equal-weight random "
              "patterns, N=12]", float(equal.garbage_weight(equal.t_star)), 0.5, 1e-9, figure=figure,
              note="garbage weight by the Boltzmann sums of the full description; T* by the closed form")
    ctx.check(f"half the Boltzmann weight is garbage at the exact coexistence temperature {tag}",
              float(d.garbage_weight(d.t_coexistence)), 0.5, 1e-9, figure=figure,
              note=f"unequal weights: root T = {d.t_coexistence:.4g} of A_lib = A_cont, against the equal-weight "
                   f"formula T* = {d.t_star:.4g}")
    T = np.geomspace(0.5, 3.0 * d.t_coexistence, 60)
    ax_a, ax_g = new_figure(1, 2, size=(11.0, 4.0))[1]
    ax_a.plot(T, [d.library_free_energy(t) for t in T], label="library A_lib(T)")
    ax_a.plot(T, [d.continuum_free_energy(t) for t in T], label="continuum A_cont(T)")
    ax_g.semilogx(T, d.garbage_weight(T), "k")
    for ax in (ax_a, ax_g):
        ax.axvline(d.t_star, color="grey", ls="--", lw=1, label=f"T* = {d.t_star:.3g}")
        ax.axvline(d.t_coexistence, color="C3", ls=":", lw=1, label=f"exact coexistence {d.t_coexistence:.3g}")
        ax.set_xlabel("T")
        ax.legend(fontsize=7)
    ax_a.set_ylabel("free energy")
    ax_a.set_title(f"{run.dataset}: library against continuum (gap Delta = {d.gap:g})", fontsize=9)
    ax_g.set_ylabel("Boltzmann weight of the non-represented states")
    ax_g.set_title("garbage weight of the full description", fontsize=9)
    save_figure(ax_a.figure, figure)


def _potential_checks(ctx, run, figure: str) -> None:
    tag = f"[{run.dataset}]"
    phi, full, red, counts = run.phi, run.full, run.reduced, run.counts
    ctx.check(f"Phi over the pairwise couplings has exactly one minimum (convex) {tag}", phi.count, 1, 0,
              figure=figure, note=f"{phi.starts} random starts at T = {phi.T:g}; {phi.rejected} end points rejected")
    ctx.check(f"every start of Phi ends at a verified minimum (no end point rejected) {tag}", phi.rejected, 0, 0,
              figure=figure, note="rejected: gradient above tolerance or Hessian not positive definite")
    ctx.check(f"the minimum of Phi is the exact maximum-likelihood fit (theta = T theta_ML) {tag}",
              math.inf if phi.ml_difference is None else phi.ml_difference, 0.0, 1e-4 * phi.T, figure=figure,
              note="max |theta_min - T theta_ML|")
    ctx.check(f"G over the full simplex has exactly one minimum {tag}", full.count, 1, 0, figure=figure,
              note=f"{full.starts} random starts, L-BFGS on sqrt(x) with G and its gradient only, T = {full.T:g}")
    ctx.check(f"every start on the full simplex converged {tag}", int(np.sum(~np.asarray(full.converged))), 0, 0,
              figure=figure)
    ctx.check(f"its minimum is the Boltzmann distribution: G = A {tag}", full.G, full.A, 1e-9 * max(1.0, abs(full.A)),
              figure=figure, note=f"max |x - p_full| = {full.weight_error:.2e}")
    ctx.bound(f"G over the pairwise family has several minima at T = {red.T:g} < T* {tag}", red.count, lower=2,
              figure=figure, note=f"{red.count} verified minima ({red.library} library, {red.continuum} continuum), "
                                  f"{red.plateaus} plateaus not counted, {red.starts} starts")
    ctx.bound(f"every reduced-G minimum lies above A (Gibbs inequality, G - A = T KL) {tag}", red.kl, lower=0.0,
              figure=figure)
    cd = (f"[{COUNTS_DATA['m']} random patterns, N={COUNTS_DATA['n']}, weights {COUNTS_DATA['weights']:g}^mu, "
          f"seed {COUNTS_DATA['seed']}]")
    ctx.check(f"one reduced-G minimum far above T* {cd}", counts.counts[-1], 1, 0, figure=figure,
              note=f"T = {counts.temperatures[-1]:g}, T* = {counts.t_star:.3g}")
    ctx.bound(f"several reduced-G minima below T* {cd}", counts.counts[0], lower=2, figure=figure,
              note=f"T = {counts.temperatures[0]:g}: {counts.counts[0]} minima, {counts.retrieved[0]} patterns retrieved")
    fig, (ax_t, ax_m) = new_figure(1, 2, size=(11.0, 4.0))
    for key, label in (("counts", "verified minima"), ("library", "library minima"), ("continuum", "continuum minima")):
        ax_t.plot(counts.temperatures, getattr(counts, key), "o-", label=label)
        ax_m.plot(counts.m_values, getattr(counts, key + "_m"), "o-", label=label)
    ax_t.axvline(counts.t_star, color="grey", ls="--", lw=1, label=f"T* = {counts.t_star:.3g}")
    ax_t.set_xscale("log")
    ax_t.set_xlabel("T")
    ax_m.set_xlabel("number of patterns M (the most weighted)")
    for ax in (ax_t, ax_m):
        ax.set_ylabel("minima of G over the pairwise family")
        ax.legend(fontsize=7)
    ax_t.set_title(f"{cd}\nminima against T (Phi and G over the full simplex: always 1)", fontsize=9)
    ax_m.set_title(f"minima against M at T = {counts.m_temperature:g}", fontsize=9)
    save_figure(fig, figure)


def _draw_states(axes, states: np.ndarray, titles: list[str]) -> None:
    """Draw +-1 states as square images (N a square) on ``axes``; unused axes are hidden."""
    side = math.isqrt(states.shape[1]) if states.size else 0
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(states) and side * side == states.shape[1]:
            ax.imshow(states[i].reshape(side, side), cmap="gray_r", vmin=-1, vmax=1)
            ax.set_title(titles[i], fontsize=6)


def _library_checks(ctx, run, figure: str) -> None:
    lib = run.library
    tag = f"[{run.dataset}, fitted pairwise model, T={lib.T:g}]"
    F = np.concatenate([lib.free_energies, lib.plateau_free_energies])
    exact = thermodynamics(lib.model, lib.T, progress=False)
    log_z = float(np.logaddexp.reduce(-F / lib.T))
    ctx.check(f"per-basin free energies add up: log sum_a exp(-F_a/T) = log Z {tag}", log_z, exact.log_z, 1e-10,
              figure=figure, note=f"{lib.count} strict minima ({lib.training_count} training patterns, "
                                  f"{lib.spurious_count} false states) and {len(lib.plateau_free_energies)} plateaus")
    fig, axes = new_figure(3, 8, size=(12.0, 5.6))
    order = np.argsort(lib.free_energies)
    shown = order[:24]
    titles = [f"{'T' if lib.is_training[a] else 'S'}{'' if lib.classes is None else lib.classes[a]} "
              f"F={lib.free_energies[a]:.2f}" for a in shown]
    _draw_states(np.ravel(axes), lib.states[shown], titles)
    fig.suptitle(f"{run.dataset}: the {len(shown)} lowest of {lib.count} bound states of the fitted model "
                 f"(T: training pattern, S: false state; digit of the nearest pattern; F_a at T = {lib.T:g})",
                 fontsize=9)
    save_figure(fig, figure)


def _retrieval_checks(ctx, run, figure: str) -> None:
    fr, trap, ret, lib = run.frequencies, run.trapping, run.retrieval, run.library
    tag = f"[{run.dataset}, T={fr.T:g}, {fr.chains} chains x {fr.sweeps} sweeps]"
    mass = fr.pattern_mass
    se = float(mass.std(ddof=1) / math.sqrt(mass.size))
    ctx.check(f"chains pooled over random starts: weight on the training patterns = exact {tag}", float(mass.mean()),
              fr.exact_mass, Z_MAX * se, figure=figure,
              note=f"tolerance 4 stderr over independent chains = {Z_MAX * se:.2g}; one chain's pattern frequencies "
                   f"are {np.nanmean(fr.tv_chain_exact):.3g} (TV) from the exact weights, the pool {fr.tv_pooled_exact:.3g}")
    hot, cold = run.occupancy_ergodic, run.occupancy_trapped
    ctx.bound(f"ergodic at T = {hot.T:g}: every single chain's basin occupancy approaches the exact basin weights "
              f"[{run.dataset}, {hot.chains} chains x {hot.sweeps} sweeps]", hot.tv_chain, upper=ERGODIC_TV,
              figure=figure, note=f"TV(chain occupancy, exact Z_a/Z) over {lib.count} basins: mean "
                                  f"{hot.tv_chain.mean():.3f}, max {hot.tv_chain.max():.3f}; bound: sampling noise of "
                                  f"{hot.sweeps} correlated sweeps")
    trapped = 1.0 - float(cold.exact.max())
    ctx.bound(f"ergodicity broken at T = {cold.T:g}: single chains keep their own basin statistics "
              f"[{run.dataset}, {cold.chains} chains x {cold.sweeps} sweeps]", float(cold.tv_chain.mean()),
              lower=0.5 * trapped, figure=figure,
              note=f"mean TV {cold.tv_chain.mean():.3f} (min {cold.tv_chain.min():.3f}); a chain trapped for the whole "
                   f"run has TV = 1 - Z_a/Z >= {trapped:.3f}; bound: half of that (escapes take ~1e4 updates here)")
    ok = np.isfinite(trap.slope)
    rel_se = float(np.max(slope_stderr(trap.T, trap.hits)[ok] / trap.barrier[ok])) if ok.any() else math.inf
    ctx.check(f"Arrhenius: d log(escape time) / d(1/T) / exact escape barrier = 1 [{run.dataset}, T = "
              f"{', '.join(f'{t:g}' for t in trap.T)}]", trap.slope[ok] / trap.barrier[ok], 1.0,
              ARRHENIUS_REL + Z_MAX * rel_se, figure=figure,
              note=f"{int(ok.sum())} deepest training minima, {trap.chains} chains each, overlap threshold "
                   f"{trap.threshold:g}; barriers {np.round(trap.barrier[ok], 3).tolist()}, slopes "
                   f"{np.round(trap.slope[ok], 3).tolist()}; tolerance {ARRHENIUS_REL:g} (the prefactor's T "
                   f"dependence, O(T/B)) + 4 x {rel_se:.3f} (largest relative standard error of a fitted slope)")
    fig, (ax_h, ax_t, ax_n, ax_o, ax_f) = new_figure(1, 5, size=(25.0, 4.2))
    colors = np.where(lib.is_training, "C0", "C3")
    ax_h.bar(np.arange(lib.count), ret.counts, color=colors)
    ax_h.set_xlabel("bound state (by energy; blue: training pattern, red: false state)")
    ax_h.set_ylabel("chains ending in its basin")
    ax_h.set_title(f"retrieval from random starts: T = {ret.T:g}, {ret.chains} chains x {ret.sweeps} sweeps\n"
                   f"{ret.training_fraction:.2f} training, {ret.spurious_fraction:.2f} false states", fontsize=9)
    for r in range(len(trap.rows)):
        line, = ax_t.semilogy(1.0 / trap.T, trap.mean_time[:, r], "o", label=f"minimum {trap.rows[r]}: "
                              f"barrier {trap.barrier[r]:.2f}, slope {trap.slope[r]:.2f}")
        if np.isfinite(trap.slope[r]):
            x = np.linspace(1.0 / trap.T.max(), 1.0 / trap.T.min(), 20)
            ax_t.semilogy(x, np.exp(trap.intercept[r] + trap.slope[r] * x), "-", color=line.get_color(), lw=1)
    label_axes(ax_t, "1/T", "mean escape time (single-spin updates)", "trapping in the bound states (Arrhenius)")
    size = run.trapping_size
    done = size.hits > 0
    ax_n.semilogy(size.n[done], size.mean_time[done], "o-", label=f"mean escape time (T = {size.T:g})")
    ax_n.semilogy(size.n, np.exp(size.barrier / size.T), "k--", lw=1, label="exp(exact barrier / T)")
    ax_n.set_xlabel("N")
    ax_n.set_ylabel("single-spin updates")
    ax_n.set_title(f"escape from the deepest training minimum against N\n({run.settings.trap_size_patterns} random "
                   f"patterns; {size.chains} chains, censored at {size.max_updates})", fontsize=9)
    ax_n.legend(fontsize=7)
    bins = np.linspace(0.0, 1.0, 41)
    ax_o.hist(hot.tv_chain, bins=bins, alpha=0.7, label=f"T = {hot.T:g} (ergodic)")
    ax_o.hist(cold.tv_chain, bins=bins, alpha=0.7, label=f"T = {cold.T:g} (trapped)")
    ax_o.axvline(trapped, color="k", ls="--", lw=1, label="trapped for the whole run: >= 1 - max Z_a/Z")
    label_axes(ax_o, "TV(one chain's basin occupancy, exact basin weights)", "chains",
               "ergodicity breaking: single chains against the exact weights", legend=7)
    single = fr.visits[0] / fr.sweeps
    ax_f.loglog(fr.exact, np.maximum(fr.pooled, 1e-7), "o", ms=3, label="pooled over chains")
    ax_f.loglog(fr.exact, np.maximum(single, 1e-7), ".", ms=3, alpha=0.6, label="one chain")
    lims = [fr.exact[fr.exact > 0].min(), fr.exact.max()]
    ax_f.plot(lims, lims, "k--", lw=1, label="= exact")
    label_axes(ax_f, "exact Boltzmann weight of training pattern mu", "sampled frequency (1e-7: never visited)",
               f"pattern frequencies at T = {fr.T:g}", legend=7)
    save_figure(fig, figure)


def _remedy_checks(ctx, run, figure: str) -> None:
    rem, rare = run.remedy, run.rare
    tag = f"[{run.dataset}, K = {rem.k} models ({rem.k_source})]"
    ctx.bound(f"a mixture of models has a lower KL(data || model) than one model {tag}", rem.kl_mixture,
              upper=rem.kl_single, figure=figure, note=f"exact KL: single {rem.kl_single:.4g}, mixture {rem.kl_mixture:.4g}")
    ctx.bound(f"a mixture of models covers at least as many training patterns {tag}", rem.coverage_mixture,
              lower=rem.coverage_single, figure=figure,
              note=f"{rem.samples} exact samples each: single {rem.coverage_single:.3g}, mixture {rem.coverage_mixture:.3g}")
    rtag = f"[{run.dataset}, {rare.by} {rare.target}]"
    ctx.check(f"the under-represented {rare.by} has a minimum at its data weight {rtag}", int(rare.has_minimum[0]), 1, 0,
              figure=figure)
    ctx.check(f"lowering its weight takes every minimum away {rtag}", int(rare.has_minimum[-1]), 0, 0, figure=figure,
              note=f"threshold weight {rare.threshold_weight} (factor bracket {rare.threshold_bracket})")
    ctx.bound(f"its exact Boltzmann weight falls with its data weight {rtag}", rare.boltzmann_weight[-1],
              upper=rare.boltzmann_weight[0], figure=figure)
    fig, (ax_c, ax_r) = new_figure(1, 2, size=(11.0, 4.0))
    names = ["pattern coverage", "class coverage", "rare patterns hit"]
    single = [rem.coverage_single, rem.class_coverage_single or 0.0, rem.rare_coverage_single]
    mixture = [rem.coverage_mixture, rem.class_coverage_mixture or 0.0, rem.rare_coverage_mixture]
    x = np.arange(len(names))
    ax_c.bar(x - 0.2, single, 0.4, label=f"one model (KL {rem.kl_single:.3g})")
    ax_c.bar(x + 0.2, mixture, 0.4, label=f"mixture of {rem.k} (KL {rem.kl_mixture:.3g})")
    ax_c.set_xticks(x, names, fontsize=8)
    ax_c.set_ylabel(f"fraction covered by {rem.samples} samples")
    ax_c.set_title("the multiple-model remedy", fontsize=9)
    ax_c.legend(fontsize=7)
    ax_r.loglog(rare.weights, np.maximum(rare.boltzmann_weight, 1e-12), "o-", label="exact model weight")
    ax_r.loglog(rare.weights, np.maximum(rare.retrieval_rate, 1e-12), "s:", label="sampled retrieval rate")
    lost = ~np.asarray(rare.has_minimum, bool)
    ax_r.loglog(rare.weights[lost], np.maximum(rare.boltzmann_weight[lost], 1e-12), "rx", ms=10, label="no minimum")
    if rare.threshold_weight is not None:
        ax_r.axvline(rare.threshold_weight, color="grey", ls="--", lw=1, label="threshold")
    label_axes(ax_r, f"data weight of {rare.by} {rare.target}", "weight in the fitted model",
               "under-representation", legend=7)
    save_figure(fig, figure)


def run(ctx) -> None:
    """The pipeline on the digits (quick: few starts, short chains) and its checks."""
    result = run_knowledge("digits", quick=ctx.quick, seed=ctx.seed, progress=False)
    _description_checks(ctx, result, ctx.figure("description"))
    _potential_checks(ctx, result, ctx.figure("potential-minima"))
    _library_checks(ctx, result, ctx.figure("bound-states"))
    _retrieval_checks(ctx, result, ctx.figure("retrieval"))
    _remedy_checks(ctx, result, ctx.figure("remedy"))

