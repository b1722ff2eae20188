"""The Plefka expansion against the exact Gibbs potential, and its TAP equations (theory.md section 2).

Convergence in beta: at a fixed magnetisation m, |beta G_k(m) - beta G_exact(m)| = O(beta^(k+1)), with
G_k the order-k Plefka potential (:func:`thermopot.meanfield.gibbs_free_energy`) and G_exact the
Legendre transform of log Z in the fields (:func:`thermopot.exact.gibbs_potential`, Newton on the
fields to 1e-13). On a random pairwise model with fields (N = 6), the residual is averaged over a few
fixed random m (the mean of |residual| is c beta^(k+1) + O(beta^(k+2)) with c the mean of |c(m)|, so
a point where the leading coefficient c(m) happens to nearly vanish cannot spoil it), and the slope of
its log against log beta over high temperatures (T >= 16, where the next order bends the line by
< 0.1 on 60 random models tried) is fitted for each order and compared with k + 1.

TAP equations: the stationary points of G_2 found by :func:`thermopot.solvers.find_minima` ("tap2")
solve m_k = tanh(beta h_k + beta sum_l J_kl m_l - beta^2 m_k sum_l J_kl^2 (1 - m_l^2)) as written in
theory.md; conversely a fixed point of that equation (damped iteration) is a stationary point of G_2.
"""

from __future__ import annotations

import numpy as np

from ..exact import gibbs_potential
from ..meanfield import gibbs_free_energy, gibbs_gradient
from ..models import hopfield, random_pairwise, random_patterns
from ..report import new_figure, save_figure
from ..solvers import find_minima

#: allowed |fitted slope - (k + 1)|: the next order's correction bends the log-log line slightly
SLOPE_TOL = 0.3
#: Newton tolerance for the exact Gibbs potential (well below the smallest order-4 residual)
EXACT_TOL = 1e-13
#: allowed residual of the TAP equation / gradient at converged points (Newton stops at 1e-10)
TAP_TOL = 1e-9


def residuals(model, M: np.ndarray, temps, orders) -> np.ndarray:
    """Mean over the rows m of M of |beta G_k(m) - beta G_exact(m)|; rows: temperatures, columns: orders."""
    out = np.empty((len(temps), len(orders)))
    for a, T in enumerate(temps):
        exact = gibbs_potential(model, M, T, tol=EXACT_TOL).free_energy
        for b, k in enumerate(orders):
            out[a, b] = np.mean(np.abs(gibbs_free_energy(model, M, T, k) - exact)) / T
    return out


def tap_map(model, M: np.ndarray, T: float) -> np.ndarray:
    """tanh(beta h + beta J m - beta^2 m (J^2 (1 - m^2))) for the rows of M (theory.md section 2)."""
    b = 1.0 / T
    return np.tanh(b * model.h + b * M @ model.J - b * b * M * ((1.0 - M**2) @ (model.J**2)))


def _convergence_checks(ctx, n: int, points: int, temps, orders) -> None:
    """Slope of log mean residual against log beta for each order, with a log-log figure."""
    seed = ctx.seed + 4
    model = random_pairwise(n, seed=seed, h_std=0.5)
    M = ctx.rng(4).uniform(-0.6, 0.6, (points, n))
    res = residuals(model, M, temps, orders)
    betas = 1.0 / np.asarray(temps)
    path = ctx.figure("residual-vs-beta")
    fig, ax = new_figure(size=(5.2, 4.0))
    dense = np.geomspace(betas.min(), betas.max(), 50)
    label = f"random pairwise N={n} seed={seed}, {points} fixed m"
    for b, k in enumerate(orders):
        slope, intercept = np.polyfit(np.log(betas), np.log(res[:, b]), 1)
        ctx.check(f"|beta G_{k} - beta G_exact| ~ beta^{k + 1} (fitted slope) [{label}]", k + 1, slope,
                  SLOPE_TOL, figure=path,
                  note=f"least-squares slope of log mean residual vs log beta over T = "
                       f"{', '.join(f'{T:g}' for T in temps)}; residuals {', '.join(f'{r:.2e}' for r in res[:, b])}")
        ax.loglog(betas, res[:, b], "o", label=f"order {k}: slope {slope:.2f}")
        ax.loglog(dense, np.exp(intercept) * dense**slope, "-", lw=0.8, color=ax.lines[-1].get_color())
        ax.loglog(dense, res[0, b] * (dense / betas[0]) ** (k + 1), ":", lw=0.8, color=ax.lines[-1].get_color())
    ax.set_xlabel("beta = 1/T")
    ax.set_ylabel("mean over m of |beta G_k(m) - beta G_exact(m)|")
    ax.set_title(f"Plefka orders vs exact Gibbs potential\n{label}; dotted: slope k+1", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def _tap_checks(ctx) -> None:
    """Solver stationary points of G_2 solve theory.md's TAP equations; TAP fixed points are stationary."""
    cases = {"Hopfield N=12 p=2, T=0.5": (hopfield(random_patterns(12, 2, seed=ctx.seed)), 0.5),
             f"random pairwise N=8 seed={ctx.seed + 4}, T=1.3": (random_pairwise(8, seed=ctx.seed + 4), 1.3)}
    for label, (model, T) in cases.items():
        found = find_minima(model, T, method="tap2", starts=64, seed=ctx.seed)
        m = found.points
        ctx.check(f"tap2 stationary points solve the TAP equations [{label}]", m - tap_map(model, m, T),
                  0.0, TAP_TOL, note=f"{len(m)} stationary points ({found.count} minima); max |m - tanh(...)| "
                                     "of theory.md's equation over spins and points")
    model, T = random_pairwise(7, seed=ctx.seed + 4), 1.3
    m = np.zeros(model.n)
    for _ in range(2000):
        m = 0.5 * m + 0.5 * tap_map(model, m, T)
    label = f"random pairwise N=7 seed={ctx.seed + 4}, T={T:g}"
    ctx.check(f"TAP fixed point satisfies the TAP equation [{label}]", m - tap_map(model, m, T), 0.0, TAP_TOL,
              note="damped iteration m <- (m + tanh(...))/2, 2000 steps from m = 0")
    ctx.check(f"TAP fixed point is stationary for G_2: dG_2/dm = 0 [{label}]", gibbs_gradient(model, m, T, 2),
              0.0, TAP_TOL, note="max |dG_2/dm_k| from thermopot.meanfield")


def run(ctx) -> None:
    """Plefka convergence in beta (orders 1-4, N = 6) and the TAP equations (quick: 3 temperatures, 8 m)."""
    temps = (16.0, 32.0, 64.0) if ctx.quick else (16.0, 32.0, 64.0, 128.0)
    _convergence_checks(ctx, 6, 8 if ctx.quick else 16, temps, (1, 2, 3, 4))
    _tap_checks(ctx)
