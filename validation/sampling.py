"""Monte Carlo sampling against exact enumeration and a closed-form escape time (theory.md section 1).

Stationary averages: heat-bath chains (sequential scan) on a random pairwise model (N = 10, T = 1) give
magnetisations and the energy that must agree with :func:`thermopot.exact.thermodynamics` within 4 of
the sampler's own autocorrelation-aware standard errors (|z| < 4).

Escape time (golf course): one state (all +1) at energy -Delta, every other state at 0. In the well
every update proposes a flip costing Delta, accepted by the heat bath with p = 1/(1 + exp(Delta/T)),
whichever site is visited, so the escape time in single-spin updates (counting the one that leaves) is
geometric with mean 1/p = 1 + exp(Delta/T); the sampled mean must agree within 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np

from ..exact import thermodynamics
from ..models import MultiSpinModel, random_pairwise
from ..report import new_figure, save_figure
from ..sampling import first_passage, sample

#: allowed |z| = |sampled - exact| / stderr
Z_MAX = 4.0


def golf_course(n: int, depth: float) -> MultiSpinModel:
    """One state (index 0, all +1) at energy -depth, every other state at 0."""
    energies = np.zeros(2**n)
    energies[0] = -depth
    return MultiSpinModel.from_energy_table(energies)


def _stationary_checks(ctx, axes, n: int, T: float, chains: int, sweeps: int, figure: str) -> None:
    """Per-spin magnetisation and energy z-checks; draws sampled vs exact m with error bars and the
    differences with their 4-stderr tolerances on the two ``axes``."""
    seed = ctx.seed + 1
    model = random_pairwise(n, seed=seed)
    exact = thermodynamics(model, T, progress=False)
    res = sample(model, T, chains=chains, sweeps=sweeps, method="heat-bath", scan="sequential", seed=ctx.seed)
    tag = f"[random pairwise N={n} seed={seed}, T={T:g}, heat-bath sequential]"
    run = f"{chains} chains x {sweeps} sweeps"
    for k in range(n):
        se = float(res.magnetization_stderr[k])
        z = (res.magnetization[k] - exact.magnetization[k]) / se
        ctx.check(f"sampled <s_{k}> = exact {tag}", float(res.magnetization[k]), float(exact.magnetization[k]),
                  Z_MAX * se, figure=figure, note=f"tolerance 4 stderr = {Z_MAX * se:.2e} (z = {z:+.2f}); {run}, "
                                                  f"tau_int = {res.magnetization_tau[k]:.2f} sweeps")
    z = (res.energy - exact.energy) / res.energy_stderr
    ctx.check(f"sampled energy U = exact {tag}", res.energy, exact.energy, Z_MAX * res.energy_stderr, figure=figure,
              note=f"tolerance 4 stderr = {Z_MAX * res.energy_stderr:.2e} (z = {z:+.2f}); {run}, "
                   f"tau_int = {res.tau_int['energy']:.2f} sweeps")
    ax, ax_d = axes
    ax.errorbar(exact.magnetization, res.magnetization, yerr=res.magnetization_stderr, fmt="o", ms=4, capsize=2,
                label=f"sampled +- 1 stderr ({run})")
    lims = [min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1], ax.get_ylim()[1])]
    ax.plot(lims, lims, "k--", lw=1, label="sampled = exact")
    ax.set_xlabel("exact <s_k> (enumeration)")
    ax.set_ylabel("sampled <s_k>")
    ax.set_title(f"random pairwise N={n}, T={T:g}: heat bath, sequential scan", fontsize=9)
    ax.legend(fontsize=7)
    spins = np.arange(n)
    ax_d.errorbar(spins, res.magnetization - exact.magnetization, yerr=res.magnetization_stderr, fmt="o", ms=4,
                  capsize=2, label="sampled - exact +- 1 stderr")
    ax_d.fill_between(spins, -Z_MAX * res.magnetization_stderr, Z_MAX * res.magnetization_stderr, color="grey",
                      alpha=0.25, step="mid", label="tolerance: 4 stderr")
    ax_d.axhline(0.0, color="k", lw=1)
    ax_d.set_xlabel("spin k")
    ax_d.set_ylabel("sampled <s_k> - exact <s_k>")
    ax_d.set_title("differences against the sampler's own error bars", fontsize=9)
    ax_d.legend(fontsize=7)


def _escape_checks(ctx, ax, n: int, T: float, depths, scans, chains: int, figure: str) -> None:
    """Mean golf-course escape time against 1 + exp(Delta/T); draws the survival curves on ``ax``."""
    for depth in depths:
        expected = 1.0 + math.exp(depth / T)
        for scan in scans:
            res = first_passage(golf_course(n, depth), T, np.ones(n), chains=chains, threshold=1.0,
                                max_updates=100_000, method="heat-bath", scan=scan, seed=ctx.seed + 3)
            z = (res.mean - expected) / res.stderr
            ctx.check(f"golf-course escape time = 1 + exp(Delta/T) [N={n}, Delta={depth:g}, T={T:g}, heat-bath {scan}]",
                      res.mean, expected, Z_MAX * res.stderr, figure=figure,
                      note=f"tolerance 4 stderr = {Z_MAX * res.stderr:.3g} (z = {z:+.2f}); {res.hits} of {chains} "
                           f"chains escaped within {res.max_updates} updates")
            t = np.sort(res.times)
            survival = 1.0 - np.arange(1, t.size + 1) / t.size
            ax.step(t, survival, where="post", label=f"Delta={depth:g}, {scan} scan")
        grid = np.arange(0, 6 * expected)
        ax.plot(grid, (1.0 - 1.0 / expected) ** grid, "k:", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(1.0 / chains, 1.0)
    ax.set_xlabel("escape time t (single-spin updates)")
    ax.set_ylabel("P(escape time > t)")
    ax.set_title(f"golf course N={n}, T={T:g}: escape times\ndotted: geometric with mean 1 + exp(Delta/T)",
                 fontsize=9)
    ax.legend(fontsize=7)


def run(ctx) -> None:
    """Stationary averages (N = 10) and golf-course escape times (N = 6); quick: shorter runs."""
    q = ctx.quick
    figure = ctx.figure("sampled-vs-exact")
    fig, (ax_m, ax_d, ax_t) = new_figure(1, 3, size=(14.0, 4.2))
    _stationary_checks(ctx, (ax_m, ax_d), 10, 1.0, 64 if q else 128, 2000 if q else 10000, figure)
    _escape_checks(ctx, ax_t, 6, 1.0, (3.0,) if q else (3.0, 5.0), ("random", "sequential"), 3000 if q else 10000,
                   figure)
    save_figure(fig, figure)
