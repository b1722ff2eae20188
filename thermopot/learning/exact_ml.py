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

from ..exact import check_size, thermodynamics
from ..models import PairwiseModel
from ..datasets.dataset import Dataset, as_dataset
from .result import FitResult, check_regularisers, data_moments, finish, lbfgs, pack, unpack


def independent_fields(m: np.ndarray) -> np.ndarray:
    """h_k = artanh(m_k): the exact fit with J = 0 (|m_k| clipped below 1)."""
    return np.arctanh(np.clip(m, -1 + 1e-12, 1 - 1e-12))


def fit_exact(data: Dataset | Any, weights: Any = None, *, l2: float = 0.0, pseudocount: float = 0.0,
              init: PairwiseModel | None = None, tol: float = 1e-7, max_iter: int = 5000,
              backend: Any = None) -> FitResult:
    """Exact maximum-likelihood pairwise model of ``data`` (a Dataset, +-1 array or .npz path).

    Starts from ``init`` (or independent spins, h = artanh(m), J = 0) and runs L-BFGS with the exact
    gradient until max |gradient| <= ``tol``. Refused with SizeError when N does not pass the size
    guard; constant columns are refused unless ``l2`` or ``pseudocount`` > 0.
    """
    start = time.perf_counter()
    data = as_dataset(data, weights)
    n = data.n
    check_size(n, backend, what="exact maximum-likelihood fitting (one enumeration per iteration)")
    check_regularisers(data, "exact", l2=l2, pseudocount=pseudocount)
    m, C = data_moments(data, pseudocount)
    target = pack(m, C)
    last: dict = {}

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        model = PairwiseModel(*unpack(theta, n))
        th = thermodynamics(model, 1.0, backend=backend, progress=False)
        last.update(theta=theta.copy(), thermo=th)
        grad = pack(th.magnetization, th.correlation) - target + l2 * theta
        return th.log_z - theta @ target + 0.5 * l2 * theta @ theta, grad

    theta0 = pack(init.h, init.J) if init is not None else pack(independent_fields(m), np.zeros((n, n)))
    theta, value, grad, iterations, message = lbfgs(objective, theta0, tol, max_iter)
    model = PairwiseModel(*unpack(theta, n), meta={"fit": "exact"})
    thermo = last["thermo"] if np.array_equal(last.get("theta"), theta) else None
    return finish(model, "exact", data, start=start, iterations=iterations,
                  converged=bool(np.abs(grad).max() <= tol), objective=value, message=message,
                  options={"l2": l2, "pseudocount": pseudocount, "tol": tol}, pseudocount=pseudocount,
                  backend=backend, thermo=thermo)
