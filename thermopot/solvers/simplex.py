"""The simplex domain map of the multi-start engine (method "simplex" of :mod:`.local`): minimisation of a
smooth function f(x) over the interior of the probability simplex by L-BFGS in square-root coordinates
(used by :func:`thermopot.knowledge.full_potential_minima` for G; generic: it sees only f and its
gradient).

The simplex is parametrised by the unit sphere, x_s = y_s^2 / |y|^2, so that F(y) = f(x(y)) is an
unconstrained function with

    dF/dy_s = (2 y_s / |y|^2) (f'_s - <f'>_x),   f'_s = df/dx_s,   <f'>_x = sum_s x_s f'_s,

and u = f' - <f'>_x the gradient along the tangent space of the simplex. These coordinates suit
entropic functions: for G = sum x E + T sum x log x (Hessian T diag(1/x)) the Hessian in y at a
stationary point is 4 T on the tangent space of the sphere, whatever the spread of the weights x (the
Fisher metric is Euclidean in sqrt(x)), whereas softmax logits x = softmax(z) give T diag(x), with a
condition number max x / min x (1e8 on the digits at T = 1, where L-BFGS stalls far from the minimum).

At unit |y| the y-gradient is 2 sqrt(x_s) u_s (up to sign): the stopping test max_s 2 sqrt(x_s) |u_s| <= gtol
bounds the tangent gradient in the Fisher (Hellinger) metric. For a function with Hessian 4 T in y this
leaves |dy_s| <= gtol / (4 T), hence |dx_s| <= sqrt(x_s) gtol / (2 T) (+ dy^2) and f - f_min <= 2 T |dy|^2
<= n gtol^2 / (8 T) for n states; weights below (gtol / T)^2 are resolved in absolute, not relative, terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..backend import to_numpy
from ..learning.result import lbfgs

#: f(x) -> (f, df/dx) for x (n,) on the simplex (zero entries allowed where a weight underflows: their
#: gradient entries must be finite and are multiplied by 0)
Objective = Callable[[Any], tuple[float, Any]]

#: L-BFGS runs at most, each from the end point rescaled to |y| = 1: F(y) is scale invariant and its
#: gradient, orthogonal to y, lets |y| grow, which shrinks the y-gradient by 1 / |y|
ROUNDS = 4
#: L-BFGS runs to INNER x gtol on its own (unscaled) gradient, leaving room for the factor |y| >= 1
INNER = 0.1


@dataclass(frozen=True)
class SimplexPoint:
    """End point of one minimisation over the simplex."""

    x: np.ndarray  #: the weights (n,)
    value: float  #: f(x)
    stationarity: float  #: max_s 2 sqrt(x_s) |f'_s - <f'>_x|: the y-gradient at |y| = 1
    iterations: int  #: L-BFGS iterations
    converged: bool  #: stationarity <= gtol


def _weights(y: np.ndarray, xp: Any) -> Any:
    """x = y^2 / |y|^2 on the namespace xp."""
    y = xp.asarray(y)
    return y * y / xp.sum(y * y)


def _tangent(objective: Objective, x: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """(f, x as NumPy, u = f' - <f'>_x as NumPy)."""
    value, grad = objective(x)
    x_np, g = np.asarray(to_numpy(x)), np.asarray(to_numpy(grad), dtype=np.float64)
    return float(value), x_np, g - x_np @ g


def _gradient_steps(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], y: np.ndarray, gtol: float,
                    max_steps: int) -> tuple[np.ndarray, int]:
    """Barzilai-Borwein steps y <- y - a g on the unit sphere, a = |dy|^2 / (dy . dg), each kept only when it
    shrinks max |g| (halving a otherwise), until max |g| <= gtol: near a minimum where f changes by less
    than its own rounding, L-BFGS's line search on f stalls, while the gradient still points the way.
    Returns (y, steps taken)."""
    g = fun(y)[1]
    a = 0.1 / max(float(np.max(np.abs(g))), 1e-300) * float(np.max(np.abs(y)))
    for step in range(max_steps):
        if np.max(np.abs(g)) <= gtol:
            return y, step
        trial = y - a * g
        trial /= np.sqrt(trial @ trial)
        g_trial = fun(trial)[1]
        if np.max(np.abs(g_trial)) >= np.max(np.abs(g)):
            a *= 0.5
            continue
        dy, dg = trial - y, g_trial - g
        curvature = float(dy @ dg)
        y, g = trial, g_trial
        a = float(dy @ dy) / curvature if curvature > 0 else 2.0 * a
    return y, max_steps


def minimise_on_simplex(objective: Objective, x0: Any, *, gtol: float, max_iter: int,
                        xp: Any = np) -> SimplexPoint:
    """Minimise f over the simplex from the interior point ``x0`` (all x0_s > 0) by L-BFGS on
    y = sqrt(x) (module docstring), until max_s 2 sqrt(x_s) |f'_s - <f'>_x| <= ``gtol`` or ``max_iter``
    iterations in all (at most ``ROUNDS`` L-BFGS runs, each restarted at |y| = 1, then, if L-BFGS stalled
    above gtol because f no longer changes beyond its rounding, gradient-only steps: _gradient_steps);
    ``objective`` receives x on the namespace ``xp``."""
    def fun(y: np.ndarray) -> tuple[float, np.ndarray]:
        value, _, u = _tangent(objective, _weights(y, xp))
        return value, 2.0 * y / (y @ y) * u

    x = np.asarray(to_numpy(x0), dtype=np.float64)
    iterations, stationarity = 0, np.inf
    for _ in range(ROUNDS):
        y = np.sqrt(x / x.sum())
        y, _, _, used, _ = lbfgs(fun, y, INNER * gtol, max_iter - iterations)
        value, x, u = _tangent(objective, _weights(y, xp))
        iterations += used
        stationarity = float(np.max(2.0 * np.sqrt(x) * np.abs(u)))
        if stationarity <= gtol or iterations >= max_iter or used == 0:
            break
    if stationarity > gtol and iterations < max_iter:
        y, used = _gradient_steps(fun, np.sqrt(x), gtol, max_iter - iterations)
        value, x, u = _tangent(objective, _weights(y, xp))
        iterations += used
        stationarity = float(np.max(2.0 * np.sqrt(x) * np.abs(u)))
    return SimplexPoint(x=x, value=value, stationarity=stationarity, iterations=iterations,
                        converged=stationarity <= gtol)

