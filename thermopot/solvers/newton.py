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

import numpy as np

from ..backend import asarray, default_block_size, to_numpy
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


def spin_terms(x: Any, xp: Any) -> tuple[Any, Any]:
    """(m = tanh x, log 2 cosh x) from one exponential e = exp(-2|x|): m = sign(x) (1 - e) / (1 + e)
    (absolute error ~1e-16) and log 2 cosh x = |x| + log1p(e)."""
    a = xp.abs(x)
    e = xp.exp(-2.0 * a)
    return xp.sign(x) * ((1.0 - e) / (1.0 + e)), a + xp.log1p(e)


def value_and_gradient(R: Interaction, m: Any) -> tuple[Any, Any]:
    """(R(m), dR/dm), in one evaluation when the interaction offers ``value_and_gradient``."""
    both = getattr(R, "value_and_gradient", None)
    return both(m) if both is not None else (R.value(m), R.gradient(m))


def relax_batch(R: Interaction, x0: Any, T: float, xp: Any, *, tol: float = RELAX_TOL,
                max_iter: int = RELAX_ITERATIONS) -> Any:
    """Damped fixed-point iteration x <- x - a F(x), i.e. m <- tanh((1 - a) x + a beta h(m)), with a
    per-start step a (grown by 1.5 after a decrease of G, halved otherwise, at most 1). -F is a descent
    direction of G in x (dG/dx = D F / beta), so each start slides into a basin of a minimum at O(B N^2)
    per iteration for order <= 2; a start stops when max_k |m_k - tanh(beta h_k)| < tol (saturated
    spins, clipped at |x| = X_MAX, count as solved). Returns the relaxed x.

    Only the starts still moving are carried (their x, m, F, G and step, compacted as starts stop), and
    each iteration evaluates R and dR/dm once, at the trial point, whose m, F and G become the start's
    when the trial is accepted."""
    x = xp.clip(xp.asarray(x0, dtype=xp.float64), -X_MAX, X_MAX)
    beta = 1.0 / T
    xa = x + 0.0
    ma, lc = spin_terms(xa, xp)
    r, grad = value_and_gradient(R, ma)
    ga = -T * xp.sum(lc - xa * ma, axis=1) + r
    Fa = xa + beta * grad
    step = xp.full((x.shape[0],), 0.5)
    idx = xp.arange(x.shape[0])
    with Progress(None, max_iter, unit="iteration", desc=f"relax N={x.shape[1]}") as bar:  # when slow
        for _ in range(max_iter):
            u = xp.clip(xa - Fa, -X_MAX, X_MAX)  # beta h(m): the full step, and the residual's target
            mu, lu = spin_terms(u, xp)
            moving = xp.max(xp.abs(ma - mu), axis=1) >= tol  # |m - tanh(beta h)|
            if not bool(xp.all(moving)):
                x[idx[~moving]] = xa[~moving]
                if not bool(xp.any(moving)):
                    break
                idx, xa, ma, Fa, ga, step = idx[moving], xa[moving], ma[moving], Fa[moving], ga[moving], step[moving]
                u, mu, lu = u[moving], mu[moving], lu[moving]
            short = step < 1.0  # rows whose trial is not the full step u
            trial, mt, lc = u, mu, lu
            if bool(xp.any(short)):
                rows = xp.nonzero(short)[0]
                trial, mt, lc = trial + 0.0, mt + 0.0, lc + 0.0
                trial[rows] = xp.clip(xa[rows] - step[rows, None] * Fa[rows], -X_MAX, X_MAX)
                mt[rows], lc[rows] = spin_terms(trial[rows], xp)
            r, grad = value_and_gradient(R, mt)
            g_trial = -T * xp.sum(lc - trial * mt, axis=1) + r
            better = g_trial <= ga
            b2 = better[:, None]
            xa, ma = xp.where(b2, trial, xa), xp.where(b2, mt, ma)
            Fa = xp.where(b2, trial + beta * grad, Fa)
            ga = xp.where(better, g_trial, ga)
            step = xp.where(better, xp.minimum(1.0, 1.5 * step), 0.5 * step)
            bar.update()
        else:
            x[idx] = xa
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


def chord_matrices(R: Interaction, x: Any, T: float, xp: Any, *, floor: float = 1e-8) -> Any:
    """M = |K|^-1 (U, N, N) at the rows of x (K = D^1/2 R'' D^1/2 + T I, eigenvalues floored at
    floor * T as in :func:`newton_batch`), for the chord iteration of :func:`chord_batch`."""
    rows = hessian_rows(x.shape[1], xp)
    parts = []
    for i in range(0, x.shape[0], rows):
        lam, vec = xp.linalg.eigh(scaled_hessian(R, x[i:i + rows], T, xp))
        inv = 1.0 / xp.maximum(xp.abs(lam), floor * T)
        parts.append(vec @ (inv[:, :, None] * xp.swapaxes(vec, 1, 2)))
    return xp.concatenate(parts) if parts else xp.zeros((0, x.shape[1], x.shape[1]))


def chord_batch(R: Interaction, x0: Any, anchor_x: Any, anchor_of: Any, T: float, xp: Any, *, tol: float,
                step_tol: float, max_iter: int = 30, floor: float = 1e-8) -> NewtonState:
    """The chord (frozen-Hessian) form of :func:`newton_batch`: row i iterates
        x <- x - T D_a^-1/2 |K_a|^-1 D_a^1/2 F(x),
    with D_a, K_a taken once at its anchor a = anchor_of[i] (a converged point near it, rows of
    ``anchor_x``), so an iteration costs O(N^2) per row instead of an O(N^3) eigen-decomposition. It is
    Newton's step up to K(x) - K_a, so it contracts near the anchor; a row is converged under the test of
    :func:`newton_batch` (residual < tol and m moved by < step_tol), it stops (not converged) when its
    residual grows tenfold or after ``max_iter`` iterations. The anchors' matrices are formed one
    backend block at a time. Returns the state of every row."""
    beta = 1.0 / T
    x = xp.clip(xp.asarray(x0, dtype=xp.float64), -X_MAX, X_MAX)
    b = x.shape[0]
    converged = xp.zeros(b, dtype=bool)
    iterations = xp.zeros(b, dtype=xp.int64)
    res = residual(R, x, T, xp)
    anchor_of = np.asarray(to_numpy(anchor_of), dtype=np.int64)
    rows = hessian_rows(x.shape[1], xp)
    for lo in range(0, anchor_x.shape[0], rows):  # the anchors of one block, and their rows
        M = chord_matrices(R, anchor_x[lo:lo + rows], T, xp, floor=floor)
        sq_a = xp.sqrt(1.0 - xp.tanh(anchor_x[lo:lo + rows]) ** 2)
        mine = np.flatnonzero((anchor_of >= lo) & (anchor_of < lo + rows))
        active = mine[np.argsort(anchor_of[mine], kind="stable")]
        start_res = xp.take(res, asarray(active, xp, xp.int64))
        for it in range(max_iter + 1):
            if active.size == 0:
                break
            ia = asarray(active, xp, xp.int64)
            xa = xp.take(x, ia, axis=0)
            m = xp.tanh(xa)
            F = xa + beta * R.gradient(m)
            ra = xp.max(xp.abs(m - xp.tanh(xa - F)), axis=1)
            res[ia] = ra
            a = anchor_of[active] - lo
            sqa = xp.take(sq_a, asarray(a, xp, xp.int64), axis=0)
            z = sqa * F
            y = xp.empty_like(z)
            cuts = np.flatnonzero(np.diff(a)) + 1
            for s, e in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [a.size]])):
                y[s:e] = z[s:e] @ M[a[s]]
            step = xp.where(sqa > 1e-150, -(T / xp.maximum(sqa, 1e-300)) * y, -F)
            done = (ra < tol) & (xp.max(xp.abs((1.0 - m * m) * step), axis=1) < step_tol)
            converged[ia] = done
            keep = to_numpy(~done & (ra < 10.0 * start_res) & xp.isfinite(ra))
            if it == max_iter or not keep.any():
                break
            keep_x = asarray(keep, xp, bool)
            active, start_res = active[keep], start_res[keep_x]
            ia = asarray(active, xp, xp.int64)
            x[ia] = xp.clip(xa[keep_x] + step[keep_x], -X_MAX, X_MAX)
            iterations[ia] += 1
    return NewtonState(x=x, converged=converged, iterations=iterations, residual=res)
