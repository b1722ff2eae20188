"""Symmetrised pseudo-likelihood: every conditional P(s_k | s_rest) at once, one symmetric J.

With local fields F_mk = h_k + sum_l J_kl s_ml and p_m = w_m / W, the minimised objective is

    f(theta) = sum_m p_m sum_k log(1 + exp(-2 s_mk F_mk)) + (l2 / 2) |theta|^2,

(minus the mean log pseudo-likelihood, sum_k log P(s_k | s_rest) = -sum_k log(1 + exp(-2 s_k F_k))),
with the analytic gradient, G_mk = -2 p_m s_mk sigma(-2 s_mk F_mk) and A = G^T S:

    df/dh_k = sum_m G_mk + l2 h_k,      df/dJ_kl = A_kl + A_lk + l2 J_kl   (k < l),

so the couplings are symmetric by construction (no per-row regressions to average afterwards). One
evaluation is two (M, N) x (N, N) products, on NumPy or CuPy; L-BFGS on all parameters at once.
Consistent: as M -> infinity it recovers the generating model, at no enumeration cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import asarray, blas_limit, blas_threads, get_namespace, to_float, to_numpy
from ..models import PairwiseModel
from ..datasets.dataset import Dataset, as_dataset
from .exact_ml import independent_fields
from .result import FitResult, check_regularisers, finish, lbfgs, pack, unpack


def pseudolikelihood_objective(data: Dataset, l2: float = 0.0, backend: Any = None,
                               ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """theta -> (f(theta), df/dtheta) for the data set (duplicate rows merged first when that shrinks it),
    theta = (h, J_{k<l}) as in ``thermopot.learning.result.pack``."""
    n = data.n
    xp = get_namespace(backend)
    rows = data.compact()
    S = asarray(rows.samples, xp)
    p = asarray(rows.probabilities, xp)
    iu = np.triu_indices(n, 1)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        h, J = unpack(theta, n)
        x = 2.0 * S * (S @ asarray(J, xp) + asarray(h, xp)[None, :])  # 2 s_mk F_mk
        value = to_float(xp.sum(p @ xp.logaddexp(0.0, -x)))
        G = (-S * (1.0 - xp.tanh(0.5 * x))) * p[:, None]  # -2 p s sigma(-x), sigma(-x) = (1 - tanh(x/2))/2
        A = to_numpy(G.T @ S)
        grad = np.concatenate([to_numpy(xp.sum(G, axis=0)), (A + A.T)[iu]]) + l2 * theta
        return value + 0.5 * l2 * theta @ theta, grad

    return objective


def fit_pseudolikelihood(data: Dataset | Any, weights: Any = None, *, l2: float = 0.0,
                         init: PairwiseModel | None = None, tol: float = 1e-6, max_iter: int = 5000,
                         backend: Any = None) -> FitResult:
    """Symmetrised pseudo-likelihood pairwise model of ``data`` (a Dataset, +-1 array or .npz path).

    L-BFGS from ``init`` (or independent spins) until max |gradient| <= ``tol``. Constant columns are
    refused unless l2 > 0.
    """
    start = time.perf_counter()
    data = as_dataset(data, weights)
    check_regularisers(data, "pseudo", l2=l2, allowed=("l2",))
    n = data.n
    m, _ = data.moments()
    theta0 = pack(init.h, init.J) if init is not None else pack(independent_fields(m), np.zeros((n, n)))
    objective = pseudolikelihood_objective(data, l2, backend)
    rows = data.compact().size
    with blas_threads(blas_limit(4.0 * rows * n * n), get_namespace(backend)):  # two (M, N) x (N, N) products
        theta, value, grad, iterations, message = lbfgs(objective, theta0, tol, max_iter)
    model = PairwiseModel(*unpack(theta, n), meta={"fit": "pseudo"})
    return finish(model, "pseudo", data, start=start, iterations=iterations,
                  converged=bool(np.abs(grad).max() <= tol), objective=value, message=message,
                  options={"l2": l2, "tol": tol}, backend=backend)
