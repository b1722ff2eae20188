"""Minima of mean-field and TAP free energies against the exact library of states (theory.md 1-2).

For models small enough to enumerate, every minimum found by :func:`thermopot.solvers.find_minima` is
matched to a basin a of the exact zero-temperature landscape (mutual nearest neighbours in m), with
the restricted free energy F_a and magnetisation m_a as its exact counterpart:
- Curie-Weiss (N = 16, T = 0.5) and Hopfield (N = 16, two patterns, T = 0.2): the Plefka-valid
  minima are exactly the exact basins (same count, all matched), with |m - m_a| and |F - F_a| / N small
  (mean field neglects the O(1) fluctuation part of F_a, so F differs by O(1), i.e. O(1/N) per spin);
- SK (N = 16, 18, T = 0.4): the lowest naive mean-field minimum is the exact ground basin (the basin of
  lowest F_a), within the O(1/sqrt(N)) accuracy of mean field per spin;
- the fraction of the exact Boltzmann weight carried by matched basins is reported;
- continuation in T (Curie-Weiss N = 16, nMF): two minima below T_c = (N-1)/N and one above, the
  ferromagnetic branches ending at T_c, with every branch's free energy and the exact F(T) in a figure;
- counting at T = 0 (SK, N = 10-16): the distinct states reached by find_minima's zero-temperature seeds
  (steepest single-flip descent from random spins, solvers.seeds) are single-flip stable and are all the
  states that exact enumeration counts (s_k h_k >= 0 for every k), instance by instance; the complexity
  log(count)/N of both is reported next to Tanaka-Edwards' annealed 0.1992 (N -> infinity).
"""

from __future__ import annotations

import numpy as np

from ..exact import thermodynamics
from ..models import curie_weiss, hopfield, random_patterns, sk
from ..report import new_figure, plot_branches, save_figure
from ..landscape import local_minima
from ..solvers import compare_with_exact, follow_minima
from ..solvers.counting import TANAKA_EDWARDS, complexity
from ..solvers.seeds import quench_states

#: max |m_k - m_a,k| allowed for a matched minimum of a mean-field (low-T, well separated) basin
M_TOL = 0.05
#: |F - F_a| / N allowed for the same
F_TOL = 0.005


def _plefka_valid_matched(cmp) -> tuple[np.ndarray, np.ndarray]:
    """(matched minima rows, matched basin rows) restricted to Plefka-valid minima."""
    keep = cmp.minima.plefka_valid[cmp.minimum]
    return cmp.minimum[keep], cmp.basin[keep]


def _library_checks(ctx, label: str, model, T: float, methods: tuple[str, ...]) -> None:
    n = model.n
    for method in methods:
        cmp = compare_with_exact(model, T, method=method, starts=64, seed=ctx.seed)
        valid = cmp.minima.is_minimum & cmp.minima.plefka_valid
        rows, basins = _plefka_valid_matched(cmp)
        tag = f"[{label}, {method}, T={T:g}]"
        ctx.check(f"number of Plefka-valid minima = exact basins {tag}", int(valid.sum()),
                  int(cmp.landscape.count), 0.0,
                  note=f"{cmp.minima.count} minima in all ({cmp.minima.count - int(valid.sum())} violate "
                       "Plefka's condition and are not counted)")
        ctx.check(f"matched minima m = exact basin m_a {tag}", cmp.minima.points[rows],
                  cmp.landscape.magnetization[basins], M_TOL,
                  note=f"{len(rows)} matched pairs; max |m - m_a| over spins and pairs")
        ctx.check(f"matched minima F/N = exact F_a/N {tag}", cmp.minima.free_energy[rows] / n,
                  cmp.landscape.free_energy[basins] / n, F_TOL)


def _ground_basin_checks(ctx, seeds: list[int], n: int, T: float) -> None:
    fig, (ax_f, ax_d) = new_figure(1, 2, size=(10, 4))
    results = []
    for seed in seeds:
        cmp = compare_with_exact(sk(n, seed=seed), T, method="nmf", starts=128, seed=ctx.seed)
        results.append((seed, cmp))
        ax_f.plot(cmp.landscape.free_energy[cmp.basin] / n, cmp.minima.free_energy[cmp.minimum] / n, "o",
                  ms=4, label=f"seed {seed}")
        ax_d.hist(cmp.distance, bins=10, alpha=0.6, label=f"seed {seed}")
    lims = ax_f.get_xlim()
    ax_f.plot(lims, lims, "k--", lw=1)
    ax_f.set_xlabel("exact F_a / N (basin)")
    ax_f.set_ylabel("nMF F / N (matched minimum)")
    ax_d.set_xlabel("rms |m - m_a| of matched pairs")
    ax_d.set_ylabel("pairs")
    for ax in (ax_f, ax_d):
        ax.legend(fontsize=7)
    fig.suptitle(f"SK N={n}, T={T:g}: naive mean-field minima against exact basins")
    figure = save_figure(fig, ctx.figure("sk-minima-vs-basins"))
    for seed, cmp in results:
        land = cmp.landscape
        lowest = int(np.flatnonzero(cmp.minima.is_minimum)[0])
        matched = cmp.basin[cmp.minimum == lowest]
        basin = int(matched[0]) if matched.size else int(np.argmax(land.free_energy))
        weight = np.exp(-(land.free_energy - land.free_energy.min()) / T)
        tag = f"[SK N={n} seed={seed}, nmf, T={T:g}]"
        ctx.check(f"lowest nMF minimum lies in the exact ground basin (F_a = min F_a) {tag}",
                  float(land.free_energy[basin]), float(land.free_energy.min()), 1e-9, figure=figure,
                  note=f"{len(cmp.minimum)} of {cmp.minima.count} minima matched to {land.count} basins, "
                       f"carrying {weight[cmp.basin].sum() / weight.sum():.0%} of the exact weight")
        ctx.check(f"lowest nMF minimum m = ground basin m_a {tag}", cmp.minima.points[lowest],
                  land.magnetization[basin], 0.25,
                  note="max over spins of |m_k - m_a,k|; mean field is accurate to "
                       f"O(1/sqrt(N)) = {1 / np.sqrt(n):.2f} per spin here")


def _continuation_checks(ctx, n: int) -> None:
    """Curie-Weiss nMF minima followed in T: two branches that meet at T_c = (N-1)/N (pitchfork), one
    minimum above; with the exact F(T) for comparison in the figure."""
    temps = np.linspace(0.5, 1.3, 17 if ctx.quick else 41)
    model = curie_weiss(n)
    branches = follow_minima(model, temps, method="nmf", starts=32, seed=ctx.seed)
    exact = np.array([thermodynamics(model, T, progress=False).free_energy for T in temps])
    figure = plot_branches(branches, ctx.figure("curie-weiss-continuation"), exact=(temps, exact))
    tc = (n - 1) / n
    expected = np.where(temps < tc, 2, 1)
    ctx.check(f"number of nMF minima against T = 2 below T_c, 1 above [Curie-Weiss N={n}]", branches.count,
              expected, 0.0, figure=figure, note=f"T_c = (N-1)/N = {tc:.4f}; grid step {temps[1] - temps[0]:.3g}")
    merged = [b.T[-1] for b in branches.branches if b.end == "merged"]
    ctx.check(f"ferromagnetic branches end at T_c [Curie-Weiss N={n}]", merged[0] if merged else np.inf, tc,
              temps[1] - temps[0], note="last temperature of the branch that merges into the paramagnetic "
                                        "minimum, within one grid step of T_c")


def _counting_checks(ctx, sizes: tuple[int, ...], instances: int, starts: int) -> None:
    """Quench seeds against exact enumeration of the single-flip-stable states of SK instances."""
    rng = ctx.rng(14)
    for n in sizes:
        exact, found, unstable, missing = [], [], 0, 0
        for _ in range(instances):
            model = sk(n, seed=int(rng.integers(2**62)))
            stable = local_minima(model).states
            seeds = np.unique(quench_states(model, starts=starts, seed=rng), axis=0)
            unstable += int((~np.all(seeds * (seeds.astype(float) @ model.J) >= 0, axis=1)).sum())
            known = {row.tobytes() for row in stable}
            missing += len(known - {row.tobytes() for row in seeds})
            exact.append(stable.shape[0])
            found.append(seeds.shape[0])
        sigma, err, annealed, annealed_err = complexity(exact, n)
        tag = f"[SK N={n}, {instances} instances, {starts} quench starts]"
        ctx.check(f"quench seeds are single-flip stable {tag}", unstable, 0, 0.0)
        # the complexity log(count) / N follows from the counts, so it is a note of this check, not a check
        ctx.check(f"quench seeds reach every exactly enumerated stable state {tag}", np.array(found),
                  np.array(exact), 0.0, note=f"{missing} states missed; exact counts {exact}; complexity quenched "
                                             f"{sigma:.4f} +- {err:.4f}, annealed {annealed:.4f} +- {annealed_err:.4f}; "
                                             f"Tanaka-Edwards (N -> infinity, annealed) {TANAKA_EDWARDS}")


def run(ctx) -> None:
    """Register the minima-versus-exact-library checks."""
    _library_checks(ctx, "Curie-Weiss N=16", curie_weiss(16), 0.5, ("nmf", "tap2", "tap3"))
    xi = random_patterns(16, 2, seed=ctx.seed)
    _library_checks(ctx, "Hopfield N=16 p=2", hopfield(xi), 0.2, ("nmf", "tap2"))
    _ground_basin_checks(ctx, [0, 1] if ctx.quick else [0, 1, 2, 3], 16 if ctx.quick else 18, 0.4)
    _continuation_checks(ctx, 16)
    _counting_checks(ctx, (10, 12) if ctx.quick else (12, 14, 16), 4 if ctx.quick else 10, 4000)
