"""Exact maximum likelihood by enumeration (the Boltzmann machine learning rule, to convergence).

Minimised (convex in theta = (h, J_{k<l})):

    f(theta) = log Z(theta) - h.m - sum_{k<l} J_kl C_kl + (l2 / 2) |theta|^2,
    df/dh_k = <s_k>_theta - m_k + l2 h_k,     df/dJ_kl = <s_k s_l>_theta - C_kl + l2 J_kl,

with m, C the (weighted, optionally pseudocount-mixed) data moments and the model moments exact by
enumeration of the 2^N states (thermopot.exact.thermodynamics: one enumeration per evaluation). At the
optimum with l2 = 0 the model moments equal the data moments: the gradient IS the moment mismatch, so
``tol`` bounds it directly.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..backend import blas_threads, get_namespace
from ..checks import check_count
from ..exact import check_size, thermodynamics
from ..exact.guard import FIT_EVALUATION, time_limit
from ..exact.thermodynamics import SINGLE_THREAD_MAX_N
from ..models import PairwiseModel
from ..datasets.dataset import Dataset, as_dataset
from .result import FitResult, check_regularisers, data_moments, finish, lbfgs, pack, unpack


def fit_evaluations(n: int, max_iter: int) -> int:
    """Enumerations an exact fit of N spins is budgeted for by the size guard: min(max_iter,
    max(100, N (N + 1))), twice the number of parameters (L-BFGS from independent spins used 61 to 201
    objective evaluations on the data of benchmarks/guards.py, N = 10 to 16). A fit still running at the
    time limit stops there, not converged."""
    return min(max_iter, max(100, n * (n + 1)))


class _OutOfTime(Exception):
    """Raised inside the objective when the fit reaches its time limit."""


def independent_fields(m: np.ndarray) -> np.ndarray:
    """h_k = artanh(m_k): the exact fit with J = 0 (|m_k| clipped below 1)."""
    return np.arctanh(np.clip(m, -1 + 1e-12, 1 - 1e-12))


def fit_exact(data: Dataset | Any, weights: Any = None, *, l2: float = 0.0, pseudocount: float = 0.0,
              init: PairwiseModel | None = None, tol: float = 1e-7, max_iter: int = 5000,
              backend: Any = None, max_seconds: float | None = None) -> FitResult:
    """Exact maximum-likelihood pairwise model of ``data`` (a Dataset, +-1 array or .npz path).

    Starts from ``init`` (or independent spins, h = artanh(m), J = 0) and runs L-BFGS with the exact
    gradient until max |gradient| <= ``tol``. Refused with SizeError, naming the memory and the time,
    when ``fit_evaluations`` enumerations of the 2^N states do not fit in memory or in
    ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else one hour); a fit still running after
    ``max_seconds`` stops there and returns its best point, not converged (with a ConvergenceWarning).
    Constant columns are refused unless ``l2`` or ``pseudocount`` > 0.
    """
    start = time.perf_counter()
    data = as_dataset(data, weights)
    n = data.n
    limit = time_limit(max_seconds)
    max_iter = check_count(max_iter, "max_iter")
    check_size(n, backend, max_seconds=limit, cost=FIT_EVALUATION, passes=fit_evaluations(n, max_iter),
               what="exact maximum-likelihood fitting (one enumeration per objective evaluation)")
    check_regularisers(data, "exact", l2=l2, pseudocount=pseudocount)
    m, C = data_moments(data, pseudocount)
    target = pack(m, C)
    last: dict = {}
    best: dict = {"value": np.inf, "evaluations": 0}

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if best["evaluations"] and time.perf_counter() - start > limit:
            raise _OutOfTime
        model = PairwiseModel(*unpack(theta, n))
        th = thermodynamics(model, 1.0, backend=backend, progress=False)
        last.update(theta=theta.copy(), thermo=th)
        grad = pack(th.magnetization, th.correlation) - target + l2 * theta
        value = th.log_z - theta @ target + 0.5 * l2 * theta @ theta
        best["evaluations"] += 1
        if value < best["value"]:
            best.update(theta=theta.copy(), value=value, grad=grad, thermo=th)
        return value, grad

    theta0 = pack(init.h, init.J) if init is not None else pack(independent_fields(m), np.zeros((n, n)))
    try:
        # L-BFGS's vector work is small, and so are the tiles of the enumerations it calls up to N = 22
        with blas_threads(1 if n <= SINGLE_THREAD_MAX_N else None, get_namespace(backend)):
            theta, value, grad, iterations, message = lbfgs(objective, theta0, tol, max_iter)
    except _OutOfTime:
        theta, value, grad, iterations = best["theta"], best["value"], best["grad"], best["evaluations"]
        last.update(theta=theta, thermo=best["thermo"])
        message = (f"stopped at the time limit of {limit:g} s (max_seconds or THERMOPOT_MAX_SECONDS) after "
                   f"{iterations} objective evaluations; max |gradient| = {np.abs(grad).max():.3g}")
    model = PairwiseModel(*unpack(theta, n), meta={"fit": "exact"})
    thermo = last["thermo"] if np.array_equal(last.get("theta"), theta) else None
    return finish(model, "exact", data, start=start, iterations=iterations,
                  converged=bool(np.abs(grad).max() <= tol), objective=value, message=message,
                  options={"l2": l2, "pseudocount": pseudocount, "tol": tol}, pseudocount=pseudocount,
                  backend=backend, thermo=thermo)
