"""Batched saddle-free Newton iteration for stationary points of mean-field free energies.

The free energy is split as G(m) = -T S(m) + R(m), with S the entropy of independent spins and R the
interaction part (energy, Onsager and higher Plefka terms). The solver works in x = atanh(m), where
stationarity reads
    F(x) = x - beta h(m) = 0,   h = -dR/dm   (the TAP/mean-field equations m = tanh(beta h(m))),
and the Hessian of G in m, H = T diag(1/(1-m^2)) + R'', is congruent to the symmetric, well-conditioned
    K = D^1/2 H D^1/2 = T I + D^1/2 R'' D^1/2,   D = diag(1 - m^2)
(same inertia, so the signs of K's eigenvalues classify the point). The step
    dx = -(1/beta) D^-1/2 |K|^-1 D^1/2 F,   |K| = V max(|Lambda|, floor) V^T,
is Newton's step near a minimum, is a descent direction for G everywhere (it moves away from saddles),
and reduces to x <- beta h(m) for saturated spins (D -> 0), so |m| near 1 never stalls it. A
backtracking line search on G keeps every start descending. All starts are one array program; converged
starts leave the active set.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Protocol

from ..backend import default_block_size
from ..progress import Progress

#: |x| is kept below this so that m = tanh(x) stays strictly inside (-1, 1) in float64
X_MAX = 18.0
#: the relaxation stops a start when max_k |m_k - tanh(beta h_k)| < RELAX_TOL; starts closer than this
#: afterwards share one Newton run
RELAX_TOL = 1e-6
#: the relaxation's iteration budget
RELAX_ITERATIONS = 2000


class Interaction(Protocol):
    """The interaction part R(m) of a free energy, batched over rows of m (B, N)."""

    def value(self, m: Any) -> Any: ...
    def gradient(self, m: Any) -> Any: ...
    def hessian(self, m: Any) -> Any: ...


def entropy_of_x(x: Any, xp: Any, m: Any = None) -> Any:
    """S = sum_k [log(2 cosh x_k) - x_k tanh x_k], the entropy of independent spins with m = tanh x
    (pass ``m`` when it is at hand), stable for any x (log 2 cosh x = |x| + log(1 + exp(-2|x|)))."""
    a = xp.abs(x)
    return xp.sum(a + xp.log1p(xp.exp(-2.0 * a)) - x * (xp.tanh(x) if m is None else m), axis=-1)


def free_energy_of_x(R: Interaction, x: Any, T: float, xp: Any) -> Any:
    """G = -T S(x) + R(tanh x), rows of x."""
    m = xp.tanh(x)
    return -T * entropy_of_x(x, xp, m) + R.value(m)


def residual(R: Interaction, x: Any, T: float, xp: Any) -> Any:
    """max_k |m_k - tanh(beta h_k(m))| per row: the stationarity (TAP) equations themselves."""
    m = xp.tanh(x)
    return xp.max(xp.abs(m - xp.tanh(-R.gradient(m) / T)), axis=-1)


def scaled_hessian(R: Interaction, x: Any, T: float, xp: Any) -> Any:
    """K = T I + D^1/2 R'' D^1/2 (B, N, N): congruent to the Hessian of G in m."""
    m = xp.tanh(x)
    sq = xp.sqrt(1.0 - m * m)
    n = x.shape[-1]
    return T * xp.eye(n)[None, :, :] + sq[:, :, None] * R.hessian(m) * sq[:, None, :]


def hessian_rows(n: int, xp: Any) -> int:
    """Points per batch of N x N Hessians (and their eigen-decompositions): the backend's block of
    elements (see backend.default_block_size), so memory stays bounded whatever the number of points."""
    return max(1, default_block_size(xp) // (n * n))


def relax_batch(R: Interaction, x0: Any, T: float, xp: Any, *, tol: float = RELAX_TOL,
                max_iter: int = RELAX_ITERATIONS) -> Any:
    """Damped fixed-point iteration x <- x - a F(x), i.e. m <- tanh((1 - a) x + a beta h(m)), with a
    per-start step a (grown by 1.5 after a decrease of G, halved otherwise, at most 1). -F is a descent
    direction of G in x (dG/dx = D F / beta), so each start slides into a basin of a minimum at O(B N^2)
    per iteration for order <= 2; a start stops when max_k |m_k - tanh(beta h_k)| < tol (saturated
    spins, clipped at |x| = X_MAX, count as solved). Returns the relaxed x."""
    x = xp.clip(xp.asarray(x0, dtype=xp.float64), -X_MAX, X_MAX)
    beta = 1.0 / T
    step = xp.full((x.shape[0],), 0.5)
    g = free_energy_of_x(R, x, T, xp)
    active = xp.arange(x.shape[0])
    with Progress(None, max_iter, unit="iteration", desc=f"relax N={x.shape[1]}") as bar:  # when slow
        for _ in range(max_iter):
            xa = xp.take(x, active, axis=0)
            ma = xp.tanh(xa)
            F = xa + beta * R.gradient(ma)
            moving = xp.max(xp.abs(ma - xp.tanh(xa - F)), axis=1) >= tol  # |m - tanh(beta h)|
            if not bool(xp.any(moving)):
                break
            active, xa, F = active[moving], xa[moving], F[moving]
            a = xp.take(step, active)
            trial = xp.clip(xa - a[:, None] * F, -X_MAX, X_MAX)
            g_trial = free_energy_of_x(R, trial, T, xp)
            better = g_trial <= xp.take(g, active)
            x[active] = xp.where(better[:, None], trial, xa)
            g[active] = xp.where(better, g_trial, xp.take(g, active))
            step[active] = xp.where(better, xp.minimum(1.0, 1.5 * a), 0.5 * a)
            bar.update()
    return x


@dataclass
class NewtonState:
    """Per-start iterate, status and iteration count."""

    x: Any
    converged: Any
    iterations: Any
    residual: Any


def newton_batch(R: Interaction, x0: Any, T: float, xp: Any, *, tol: float = 1e-10, step_tol: float = 1e-7,
                 max_iter: int = 200, max_step: float = 36.0, floor: float = 1e-8) -> NewtonState:
    """Run the saddle-free Newton iteration from every row of x0 until the residual is below ``tol``
    AND the Newton step moves m by less than ``step_tol`` (near a degenerate, e.g. critical, minimum the
    residual ~ |m - m*|^3 is tiny long before m has converged). Rows are independent: more than
    :func:`hessian_rows` of them are run in chunks of that many (bounded memory; the same results up to
    the rounding of the batched products)."""
    beta = 1.0 / T
    x = xp.clip(xp.asarray(x0, dtype=xp.float64), -X_MAX, X_MAX)
    b, rows = x.shape[0], hessian_rows(x.shape[1], xp)
    if b > rows:
        parts = []
        with Progress(None, b, unit="point", desc=f"Newton N={x.shape[1]}") as bar:  # shown when slow
            for i in range(0, b, rows):
                parts.append(newton_batch(R, x[i:i + rows], T, xp, tol=tol, step_tol=step_tol,
                                          max_iter=max_iter, max_step=max_step, floor=floor))
                bar.update(parts[-1].x.shape[0])
        return NewtonState(*(xp.concatenate([getattr(p, f.name) for p in parts])
                             for f in fields(NewtonState)))
    converged = xp.zeros(b, dtype=bool)
    iterations = xp.zeros(b, dtype=xp.int64)
    res = residual(R, x, T, xp)
    active = xp.arange(b)
    for it in range(max_iter + 1):  # the last pass only tests convergence
        if active.shape[0] == 0:
            break
        xa = xp.take(x, active, axis=0)
        m = xp.tanh(xa)
        sq = xp.sqrt(1.0 - m * m)
        F = xa + beta * R.gradient(m)
        lam, vec = xp.linalg.eigh(scaled_hessian(R, xa, T, xp))
        inv = 1.0 / xp.maximum(xp.abs(lam), floor * T)
        rhs = xp.sum(vec * (sq * F)[:, :, None], axis=1)           # V^T D^1/2 F
        y = xp.sum(vec * (inv * rhs)[:, None, :], axis=2)          # V |L|^-1 V^T D^1/2 F
        step = -(T / sq) * y
        # where sq underflows the step is the plain fixed-point update -F
        step = xp.where(sq > 1e-150, step, -F)
        scale = xp.minimum(1.0, max_step / xp.maximum(xp.max(xp.abs(step), axis=1), 1e-300))
        step = step * scale[:, None]
        done = (xp.take(res, active) < tol) & (xp.max(xp.abs((sq * sq) * step), axis=1) < step_tol)
        converged[active] = done
        keep = ~done
        active, xa, step, scale, inv, rhs = (active[keep], xa[keep], step[keep], scale[keep], inv[keep],
                                             rhs[keep])
        if active.shape[0] == 0 or it == max_iter:
            break
        g0 = free_energy_of_x(R, xa, T, xp)
        slope = -T * xp.sum((T * inv) * rhs * rhs, axis=1) * scale  # (dG/dx) . step, <= 0 (T * T overflows)
        t = xp.ones(active.shape[0])
        accepted = xp.zeros(active.shape[0], dtype=bool)
        new_x = xa
        for _ in range(30):
            trial = xp.clip(xa + t[:, None] * step, -X_MAX, X_MAX)
            ok = (free_energy_of_x(R, trial, T, xp) <= g0 + 1e-4 * t * slope + 1e-13 * xp.abs(g0)) & ~accepted
            new_x = xp.where(ok[:, None], trial, new_x)
            accepted = accepted | ok
            if bool(xp.all(accepted)):
                break
            t = xp.where(accepted, t, 0.5 * t)
        x[active] = new_x
        iterations[active] += 1
        res[active] = residual(R, new_x, T, xp)
    return NewtonState(x=x, converged=converged, iterations=iterations, residual=res)
