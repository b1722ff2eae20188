"""The multi-start engine for objectives seen one point at a time (scipy.optimize.minimize style): the
knowledge potentials Phi(theta), the reduced G(theta) and G(x) over the simplex are objectives of it.

Objective protocol (:class:`Objective`): ``value_grad(x) -> (f, df/dx)``, and ``hessian(x) -> d2f/dx2``
for the second-order methods. ``method`` chooses the local algorithm run from each start:

    "lbfgs"          L-BFGS (thermopot.learning.result.lbfgs) to max |gradient| <= gtol;
    "lbfgs-newton"   L-BFGS, then at most ``max_polish`` trust-region Newton steps with the exact Hessian
                     and the verdict of :func:`trust_region_polish` (thermopot.solvers.stationary);
    "newton"         the trust-region polish alone, for a start already in its basin;
    "simplex"        over the probability simplex through the domain map x = y^2 / |y|^2 (:mod:`.simplex`).

Every end point is an :class:`EndPoint`; the distinct ones come from the one de-duplication of
:mod:`.dedup` with the metric that suits the domain (:func:`distinct`). find_minima is the batched
counterpart for the mean-field potentials (all starts as one array program, in x = atanh m), sharing the
de-duplication and the classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np
from scipy.optimize import minimize

from ..learning.result import lbfgs
from .dedup import Metric, group_rows
from .simplex import minimise_on_simplex
from .stationary import KINDS, NOT_CONVERGED, classify_spectrum

METHODS = ("lbfgs", "lbfgs-newton", "newton", "simplex")


class Objective(Protocol):
    """A smooth function of one point x (d,): value and gradient; the Hessian for the Newton methods."""

    def value_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]: ...
    def hessian(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class EndPoint:
    """Where one start ended: x, f(x), the gradient (None for the simplex map), ``stationarity`` (max |gradient|;
    on the simplex the tangent gradient in the Fisher metric, max_s 2 sqrt(x_s) |f'_s - <f'>_x|), the Hessian
    eigenvalues (second-order methods, else None), the status ("minimum", "saddle", "degenerate",
    "not converged"; "converged" for the first-order methods, which do not classify) and the iterations."""

    x: np.ndarray
    value: float
    gradient: np.ndarray | None
    stationarity: float
    eigenvalues: np.ndarray | None
    status: str
    iterations: int


def local_minimum(objective: Objective, x0: np.ndarray, *, method: str, gtol: float, max_iter: int,
                  tol: float | Callable[[np.ndarray], float] = 0.0, rel_eig: float = 1e-9, max_polish: int = 200,
                  xp: Any = np) -> EndPoint:
    """One local minimisation of ``objective`` from ``x0`` by ``method`` (module docstring). ``tol``: the
    Newton decrement g^T H^-1 g a minimum needs (Newton methods), or a function of the point the polish
    starts from; ``xp``: the namespace the simplex objective receives its points on."""
    if method == "simplex":
        end = minimise_on_simplex(objective.value_grad, x0, gtol=gtol, max_iter=max_iter, xp=xp)
        return EndPoint(end.x, end.value, None, end.stationarity, None,
                        "converged" if end.converged else NOT_CONVERGED, end.iterations)
    x, used = np.asarray(x0, dtype=np.float64), 0
    if method in ("lbfgs", "lbfgs-newton"):
        x, value, grad, used, _ = lbfgs(objective.value_grad, x, gtol, max_iter)
        if method == "lbfgs":
            largest = float(np.max(np.abs(grad)))
            return EndPoint(x, value, grad, largest, None, "converged" if largest <= gtol else NOT_CONVERGED, used)
    x, value, grad, eig, _, status = trust_region_polish(
        objective.value_grad, objective.hessian, x, rel_eig=rel_eig, tol=tol(x) if callable(tol) else tol,
        gtol=gtol, max_steps=max_polish)
    return EndPoint(x, value, grad, float(np.max(np.abs(grad))), eig, status, used)


def multistart(objective: Objective, starts: Sequence[np.ndarray], *, method: str | Sequence[str],
               **options: Any) -> list[EndPoint]:
    """:func:`local_minimum` from every start; ``method`` one name, or one per start."""
    methods = [method] * len(starts) if isinstance(method, str) else list(method)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or len(methods) != len(starts):
        raise ValueError(f"method must be one of {METHODS} (or one per start), got {method!r}")
    return [local_minimum(objective, x0, method=m, **options) for x0, m in zip(starts, methods)]


def distinct(points: Sequence[EndPoint], tol: float, metric: Metric) -> tuple[list[int], np.ndarray]:
    """(index of the first end point of each group closer than ``tol`` under ``metric`` (.dedup), group of
    every end point: an index into that list)."""
    if not points:
        return [], np.zeros(0, dtype=np.int64)
    reps, labels = group_rows(np.array([p.x for p in points]), tol, metric)
    return [int(i) for i in reps], labels


def start_points(starts: int, members: Sequence[int], labels: np.ndarray, kept: Sequence[int]) -> np.ndarray:
    """(starts,) the row of a result each start ended at (its ``start_point``): start ``members[i]`` lies in
    group ``labels[i]`` (:func:`distinct`) and group ``kept[r]`` is row r; -1 for a start that is no member
    or whose group was not kept."""
    row_of_group = np.full(len(labels) + 1, -1, dtype=np.int64)
    row_of_group[np.asarray(kept, dtype=np.int64)] = np.arange(len(kept))
    out = np.full(starts, -1, dtype=np.int64)
    out[np.asarray(members, dtype=np.int64)] = row_of_group[np.asarray(labels, dtype=np.int64)]
    return out


def trust_region_polish(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], hess: Callable[[np.ndarray], np.ndarray],
                        theta: np.ndarray, *, rel_eig: float, tol: float, gtol: float,
                        max_steps: int = 200) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float, str]:
    """Second-order polish of an end point and its verdict.

    Runs a trust-region Newton method with the exact Hessian (scipy "trust-exact", which also descends
    where the Hessian is indefinite; "trust-krylov" where its subproblem solver fails) for at most
    ``max_steps`` steps, then classifies the end point by the Hessian eigenvalues with :mod:`.stationary` (threshold rel_eig x the largest eigenvalue).
    Returns (theta, value, gradient, eigenvalues, decrement, status): "minimum" (every eigenvalue >
    rel_eig x the largest and Newton decrement g^T H^-1 g <= tol), "degenerate" (an eigenvalue within
    rel_eig x the largest of zero, max |g| <= gtol: a plateau or a direction to infinity), "saddle" (a
    negative eigenvalue, max |g| <= gtol) or "not converged" (none of these)."""
    try:
        res = minimize(fun, theta, jac=True, hess=hess, method="trust-exact",
                       options={"gtol": 0.0, "maxiter": max_steps})
    except (UnboundLocalError, np.linalg.LinAlgError):  # SciPy's exact subproblem solver can fail on a
        # (nearly) singular Hessian; the Krylov trust region takes the same model without factorising it
        with np.errstate(invalid="ignore", divide="ignore"):  # a zero gradient makes its step 0/0
            res = minimize(fun, theta, jac=True, hess=hess, method="trust-krylov",
                           options={"gtol": 0.0, "maxiter": max_steps})
    theta = np.asarray(res.x) if np.all(np.isfinite(res.x)) else theta
    value, grad = fun(theta)
    eig, vecs = np.linalg.eigh(hess(theta))
    kind = KINDS[int(classify_spectrum(eig[0], rel_eig * max(float(eig[-1]), 0.0)))]
    if kind != "minimum":
        stationary = float(np.max(np.abs(grad))) <= gtol
        return theta, value, grad, eig, float("nan"), kind if stationary else NOT_CONVERGED
    decrement = float(np.sum((vecs.T @ grad) ** 2 / eig))
    return theta, value, grad, eig, decrement, "minimum" if decrement <= tol else NOT_CONVERGED

