"""Exact enumeration against thermodynamic identities and closed forms (theory.md sections 1, 2, 5).

Identities: F = U - TS, dF/dT = -S, C = dU/dT (central differences in T), dm_k/dh_l = beta chi_kl
(central differences in the fields), spin-flip symmetry log Z(h) = log Z(-h) and m = 0 at h = 0.
Closed forms: independent spins log Z = sum_k log(2 cosh beta h_k); finite-N Curie-Weiss summed over
the magnetisation M with binomial multiplicities, E = -(J/2N)(M^2 - N) - h M (zero diagonal); the 1D
ring by its 2x2 transfer matrix; the SK annealed free energy -beta f = log 2 + beta^2/4 for T > 1;
the ground-state limit log Z -> -beta E_0 + log(degeneracy) at T = 0.01 with couplings of scale 1e3;
and the exact Gibbs potential, whose minimum G(<s>) = F is reached with zero conjugate field.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp

from ..exact import gibbs_potential, thermodynamics
from ..models import (PairwiseModel, curie_weiss, random_multispin, random_pairwise, ring, sk)
from ..report import new_figure, save_figure
from ..states import all_states

#: relative accuracy expected of enumeration against a closed form (float64 log-sum-exp)
REL_TOL = 1e-9


def _tol(values) -> float:
    """Absolute tolerance REL_TOL * max(1, max |values|)."""
    return REL_TOL * max(1.0, float(np.max(np.abs(values))))


def _over(temps) -> str:
    """A note naming a temperature grid."""
    if len(temps) <= 4:
        return "over T = " + ", ".join(f"{T:g}" for T in temps)
    return f"over {len(temps)} temperatures in [{min(temps):g}, {max(temps):g}]"


def _series(model, temps, field: str) -> np.ndarray:
    """One Thermo field of ``model`` over a grid of temperatures."""
    return np.array([getattr(thermodynamics(model, T, progress=False), field) for T in temps])


# ---------------------------------------------------------------- closed forms

def independent_log_z(h: np.ndarray, T: float) -> float:
    """log Z = sum_k log(2 cosh(beta h_k)) for J = 0."""
    b = np.asarray(h) / T
    return float(np.sum(np.logaddexp(b, -b)))


def curie_weiss_closed_form(n: int, j: float, h: float, T: float) -> dict:
    """Finite-N Curie-Weiss by a sum over M = sum s with multiplicity binom(N, (N - M)/2):
    E(M) = -(J/2N)(M^2 - N) - h M; returns log_z, energy U, heat_capacity C and magnetisation <M>/N."""
    down = np.arange(n + 1)
    M = n - 2.0 * down
    E = -(j / (2.0 * n)) * (M * M - n) - h * M
    logw = gammaln(n + 1.0) - gammaln(down + 1.0) - gammaln(n - down + 1.0) - E / T
    log_z = logsumexp(logw)
    p = np.exp(logw - log_z)
    U = float(p @ E)
    return {"log_z": float(log_z), "energy": U, "heat_capacity": float(p @ (E - U) ** 2) / T**2,
            "magnetization": float(p @ M) / n}


def ring_log_z(n: int, j: float, h: float, T: float) -> float:
    """1D periodic chain: log Z = log tr(A^N) = log(l1^N + l2^N), A_ss' = exp(beta(J s s' + h (s+s')/2))."""
    b = 1.0 / T
    A = np.array([[np.exp(b * (j + h)), np.exp(-b * j)], [np.exp(-b * j), np.exp(b * (j - h))]])
    lam = np.linalg.eigvalsh(A)  # ascending; |l2| < l1 (Perron-Frobenius)
    l1, l2 = lam[1], lam[0]
    return float(n * np.log(l1) + np.log1p((l2 / l1) ** n))


def sk_annealed(T: float) -> float:
    """SK annealed free energy per spin, -beta f = log 2 + beta^2 / 4 (equals the quenched one for T > 1)."""
    return float(np.log(2.0) + 0.25 / T**2)


# ---------------------------------------------------------------- identities

def _identity_checks(ctx, label: str, model, temps) -> None:
    """F = U - TS (the Gibbs-Shannon S = -sum_s p log p summed here from the energy table: the engine's own
    S = log Z' + <x> makes U - TS = F for any <x>) and the temperature derivatives dF/dT = -S, C = dU/dT by
    central differences."""
    th = [thermodynamics(model, T, progress=False) for T in temps]
    F = np.array([t.free_energy for t in th])
    E = np.asarray(model.energy(all_states(model.n, backend="numpy")))
    log_p = [-E / T - logsumexp(-E / T) for T in temps]
    S = np.array([-np.exp(lp) @ lp for lp in log_p])
    ctx.check(f"F = U - TS [{label}]", [t.energy - t.T * s for t, s in zip(th, S)], F, _tol(F),
              note=_over(temps) + "; U and F from the engine, S = -sum p log p from the 2^N energies")
    dT = 1e-4
    up = [thermodynamics(model, T + dT, progress=False) for T in temps]
    down = [thermodynamics(model, T - dT, progress=False) for T in temps]
    dF = np.array([(a.free_energy - b.free_energy) / (2 * dT) for a, b in zip(up, down)])
    dU = np.array([(a.energy - b.energy) / (2 * dT) for a, b in zip(up, down)])
    note = f"central difference, dT = {dT:g}; error O(dT^2)"
    ctx.check(f"dF/dT = -S [{label}]", [-t.entropy for t in th], dF, 1e-6 * model.n, note=note)
    ctx.check(f"C = dU/dT [{label}]", [t.heat_capacity for t in th], dU, 1e-6 * model.n, note=note)


def _susceptibility_check(ctx, label: str, model, T: float) -> None:
    """dm_k/dh_l = beta chi_kl, with chi the connected correlation, by central differences in h_l."""
    eps = 1e-5
    th = thermodynamics(model, T, progress=False)
    jac = np.empty((model.n, model.n))
    for l in range(model.n):
        e = np.zeros(model.n)
        e[l] = eps
        m_up = thermodynamics(model.with_fields(e), T, progress=False).magnetization
        m_down = thermodynamics(model.with_fields(-e), T, progress=False).magnetization
        jac[:, l] = (m_up - m_down) / (2 * eps)
    ctx.check(f"dm_k/dh_l = beta chi_kl [{label}, T={T:g}]", th.connected / T, jac, 1e-7,
              note=f"N x N matrix, central difference in the fields with step {eps:g}")


def _symmetry_checks(ctx, n: int) -> None:
    """Pairwise terms are even in s: Z(h) = Z(-h); at h = 0 every magnetisation vanishes."""
    model = random_pairwise(n, seed=ctx.seed + 1)
    flipped = PairwiseModel(-model.h, model.J)
    a, b = (thermodynamics(m, 0.7, progress=False).log_z for m in (model, flipped))
    ctx.check(f"log Z(h) = log Z(-h) [random N={n}, T=0.7]", a, b, _tol(a))
    m0 = thermodynamics(sk(n, seed=ctx.seed + 2), 0.5, progress=False).magnetization
    ctx.check(f"m = 0 at h = 0 [SK N={n}, T=0.5]", np.zeros(n), m0, 1e-12)


# ---------------------------------------------------------------- closed forms

def _independent_checks(ctx, n: int, temps) -> None:
    h = ctx.rng(3).normal(0.0, 1.0, size=n)
    model = PairwiseModel(h, np.zeros((n, n)))
    exact = _series(model, temps, "log_z")
    ctx.check(f"independent spins log Z = sum log 2cosh(beta h) [N={n}]",
              [independent_log_z(h, T) for T in temps], exact, _tol(exact), note=_over(temps))
    m = thermodynamics(model, 0.8, progress=False).magnetization
    ctx.check(f"independent spins m = tanh(beta h) [N={n}, T=0.8]", np.tanh(h / 0.8), m, 1e-12)


def _curie_weiss_checks(ctx, n: int, temps) -> None:
    j, h = 1.0, 0.05
    model = curie_weiss(n, j=j, h=h)
    th = [thermodynamics(model, T, progress=False) for T in temps]
    cf = [curie_weiss_closed_form(n, j, h, T) for T in temps]
    fig_path = ctx.figure("curie-weiss-thermo")
    for key in ("log_z", "energy", "heat_capacity", "magnetization"):
        exact = np.array([getattr(t, key) if key != "magnetization" else t.magnetization.mean() for t in th])
        ctx.check(f"Curie-Weiss {key} = binomial sum [N={n}, h={h}]", [c[key] for c in cf], exact,
                  _tol(exact), figure=fig_path, note=_over(temps) + f", J = {j}")
    dense = np.linspace(min(temps), max(temps), 200)
    cfd = [curie_weiss_closed_form(n, j, h, T) for T in dense]
    fig, axes = new_figure(1, 2, size=(9.0, 3.6))
    U_line = np.array([c["energy"] for c in cfd])
    F_line = -dense * np.array([c["log_z"] for c in cfd])
    curves = {"F": (F_line, [t.free_energy for t in th]), "U": (U_line, [t.energy for t in th]),
              "TS": (U_line - F_line, [t.T * t.entropy for t in th])}
    for label, (line, pts) in curves.items():
        axes[0].plot(dense, np.array(line) / n, label=f"{label}/N closed form")
        axes[0].plot(temps, np.array(pts) / n, "o", ms=4, mfc="none", color=axes[0].lines[-1].get_color(),
                     label=f"{label}/N enumeration")
    axes[1].plot(dense, [c["heat_capacity"] / n for c in cfd], label="C/N closed form")
    axes[1].plot(temps, [t.heat_capacity / n for t in th], "o", mfc="none", label="C/N enumeration")
    axes[1].axvline(j, color="grey", ls=":", label="T_c = J (N -> inf)")
    for ax in axes:
        ax.set_xlabel("T")
        ax.legend(fontsize=7)
    fig.suptitle(f"Curie-Weiss N={n}, J={j}, h={h}: enumeration vs binomial sum")
    save_figure(fig, fig_path)


def _curie_weiss_log_z_figure(ctx, sizes, temps) -> str:
    """log Z / N against T for several N: closed form lines, enumeration markers (one check per N)."""
    path = ctx.figure("curie-weiss-logz")
    fig, ax = new_figure()
    dense = np.linspace(min(temps), max(temps), 200)
    for n in sizes:
        line = [curie_weiss_closed_form(n, 1.0, 0.0, T)["log_z"] / n for T in dense]
        ax.plot(dense, line, label=f"N={n} closed form")
        exact = _series(curie_weiss(n), temps, "log_z")
        ax.plot(temps, exact / n, "o", mfc="none", color=ax.lines[-1].get_color(), label=f"N={n} enumeration")
        ctx.check(f"Curie-Weiss log Z = binomial sum [N={n}, h=0]",
                  [curie_weiss_closed_form(n, 1.0, 0.0, T)["log_z"] for T in temps], exact, _tol(exact),
                  figure=path, note=_over(temps))
    ax.set_xlabel("T")
    ax.set_ylabel("log Z / N")
    ax.set_title("Curie-Weiss (J=1, h=0): log Z per spin")
    ax.legend(fontsize=7)
    save_figure(fig, path)
    return path


def _ring_checks(ctx, n: int, temps) -> None:
    path = ctx.figure("ring-logz")
    fig, ax = new_figure()
    dense = np.linspace(min(temps), max(temps), 200)
    for j, h in ((1.0, 0.3), (-0.7, 0.2)):
        exact = _series(ring(n, j=j, h=h), temps, "log_z")
        ctx.check(f"ring log Z = transfer matrix [N={n}, J={j}, h={h}]",
                  [ring_log_z(n, j, h, T) for T in temps], exact, _tol(exact), figure=path,
                  note=_over(temps))
        ax.plot(dense, [ring_log_z(n, j, h, T) / n for T in dense], label=f"J={j}, h={h} transfer matrix")
        ax.plot(temps, exact / n, "o", mfc="none", color=ax.lines[-1].get_color(), label="enumeration")
    ax.set_xlabel("T")
    ax.set_ylabel("log Z / N")
    ax.set_title(f"1D ring, N={n}")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def _sk_annealed_checks(ctx, n: int, seeds: int, temps) -> None:
    """Seed-averaged log Z / N of SK against the annealed limit log 2 + beta^2/4 for T > 1.

    At finite N the annealed value is E[Z] = 2^N exp(beta^2 (N-1)/4) and log Z - log E[Z] has mean
    (log(1 - beta^2) + beta^2)/4 and variance sigma^2 = (-log(1 - beta^2) - beta^2)/2 (Aizenman,
    Lebowitz and Ruelle 1987), so the tolerance per spin is the O(1/N) bias plus 4 standard errors."""
    path = ctx.figure("sk-annealed")
    per_seed = np.array([[thermodynamics(sk(n, seed=ctx.seed + 100 + s), T, progress=False).log_z / n
                          for T in temps] for s in range(seeds)])
    mean, std = per_seed.mean(axis=0), per_seed.std(axis=0, ddof=1)
    for T, value in zip(temps, mean):
        if T <= 1.0:
            continue
        b2 = 1.0 / T**2
        sigma = np.sqrt(0.5 * (-np.log1p(-b2) - b2))
        tol = (b2 / 4 + abs(np.log1p(-b2) + b2) / 4 + 4 * sigma / np.sqrt(seeds)) / n
        ctx.check(f"SK -beta f -> log 2 + beta^2/4 [N={n}, {seeds} seeds, T={T:g}]", sk_annealed(T), value,
                  tol, figure=path, note=f"loose: finite-N bias beta^2/4N plus 4 sigma/(N sqrt(seeds)), "
                  f"sigma = {sigma:.3f} (Aizenman-Lebowitz-Ruelle fluctuations of log Z)")
    fig, ax = new_figure()
    dense = np.linspace(min(temps), max(temps), 200)
    ax.plot(dense, [sk_annealed(T) for T in dense], label="annealed log 2 + beta^2/4")
    ax.errorbar(temps, mean, yerr=std, fmt="o", mfc="none", capsize=2, label=f"enumeration N={n}, {seeds} seeds")
    ax.axvline(1.0, color="grey", ls=":", label="T = 1")
    ax.set_xlabel("T")
    ax.set_ylabel("-beta f = log Z / N")
    ax.set_title("SK: quenched vs annealed free energy")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def _low_temperature_checks(ctx, n: int) -> None:
    """T = 0.01 with couplings of scale 1e3: every output finite, log Z = -beta E_0 + log g up to the
    excited-state correction, bounded by 2^N exp(-beta gap) / g."""
    T = 0.01
    models = {"SK j=1e3, h=0": sk(n, seed=ctx.seed + 4, j=1e3),
              "random h,J ~ 1e3": random_pairwise(n, seed=ctx.seed + 5, h_std=1e3, j_std=1e3)}
    states = all_states(n, backend="numpy")
    for label, model in models.items():
        E = np.asarray(model.energy(states))
        E0 = E.min()
        ground = np.abs(E - E0) <= 1e-9 * max(1.0, abs(E0))
        g = int(ground.sum())
        gap = float((E[~ground] - E0).min())
        th = thermodynamics(model, T, progress=False)
        values = np.concatenate([[th.log_z, th.free_energy, th.energy, th.entropy, th.heat_capacity],
                                 th.magnetization, th.correlation.ravel()])
        ctx.check(f"finite outputs at T={T} [{label}, N={n}]", 0.0, float((~np.isfinite(values)).sum()), 0.0,
                  note="number of non-finite values among log Z, F, U, S, C, m, <ss>")
        limit = -E0 / T + np.log(g)
        tol = 1e-12 * abs(limit) + 2.0**n * np.exp(-gap / T) / g
        ctx.check(f"log Z = -beta E_0 + log g at T={T} [{label}, N={n}]", limit, th.log_z, tol,
                  note=f"degeneracy g = {g}, gap/T = {gap / T:.3g}")


def _gibbs_checks(ctx, n: int) -> None:
    """The exact G(m) is convex with its minimum F at m = <s>, zero field there and Hessian T chi^-1, the
    Hessian against central differences of the field dG/dm in m (T != 1, so that T chi^-1 differs from
    chi^-1 / T)."""
    T, eps = 0.7, 1e-6
    model = random_pairwise(n, seed=ctx.seed + 6)
    th = thermodynamics(model, T, progress=False)
    g = gibbs_potential(model, th.magnetization, T)
    label = f"random N={n}, T={T:g}"
    ctx.check(f"G(<s>) = F [{label}]", th.free_energy, g.free_energy, 1e-9 * max(1.0, abs(th.free_energy)))
    ctx.check(f"dG/dm = 0 at m = <s> [{label}]", np.zeros(n), g.field, 1e-7)
    steps = eps * np.eye(n)
    fields = gibbs_potential(model, th.magnetization + np.concatenate([steps, -steps]), T, tol=1e-13).field
    jac = (fields[:n] - fields[n:]).T / (2 * eps)
    ctx.check(f"d2G/dm2 = T chi^-1 at m = <s> [{label}]", g.hessian, jac, 1e-6 * max(1.0, float(np.abs(jac).max())),
              note=f"against central differences of the field dG/dm in m, step {eps:g}")
    rng = ctx.rng(7)
    points = np.clip(th.magnetization + rng.normal(0.0, 0.3, size=(8, n)), -0.95, 0.95)
    values = np.atleast_1d(gibbs_potential(model, points, T).free_energy)
    ctx.check(f"G(m) >= F at 8 random m [{label}]", 0.0, float(np.sum(values < th.free_energy - 1e-10)), 0.0,
              note="number of points below the minimum F (G is convex with one minimum)")


def run(ctx) -> None:
    """All thermodynamics checks (quick: N <= 16; full: N up to 20)."""
    q = ctx.quick
    temps = (0.5, 1.0, 2.0)
    _identity_checks(ctx, f"random pairwise N={10 if q else 14}",
                     random_pairwise(10 if q else 14, seed=ctx.seed + 10), temps)
    _identity_checks(ctx, f"random 3-spin N={8 if q else 12}",
                     random_multispin(8 if q else 12, order=3, seed=ctx.seed + 11), temps)
    _susceptibility_check(ctx, "random pairwise N=8", random_pairwise(8, seed=ctx.seed + 12), 0.8)
    _susceptibility_check(ctx, "random 3-spin N=6", random_multispin(6, order=3, seed=ctx.seed + 13), 0.8)
    _symmetry_checks(ctx, 10 if q else 14)
    grid = tuple(float(T) for T in np.round(np.linspace(0.3, 2.5, 12 if q else 23), 3))
    _independent_checks(ctx, 12, grid)
    _curie_weiss_checks(ctx, 16 if q else 20, grid)
    _curie_weiss_log_z_figure(ctx, (4, 8, 12) if q else (4, 8, 12, 16), grid)
    _ring_checks(ctx, 12 if q else 16, grid)
    _sk_annealed_checks(ctx, 16 if q else 18, 4 if q else 8,
                        (0.4, 0.7, 1.0, 1.5, 2.0, 3.0) if q else (0.3, 0.5, 0.7, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0))
    _low_temperature_checks(ctx, 10 if q else 14)
    _gibbs_checks(ctx, 6 if q else 8)
