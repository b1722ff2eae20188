"""Closed-form inversions of the mean-field and TAP equations (no iterations, one matrix inverse).

With m the data magnetisations and C_kl = <s_k s_l> - m_k m_l the connected correlations (linear
response: C = d m / d h), write c = C^-1.

Naive mean field, m_k = tanh(h_k + sum_l J_kl m_l), gives (C^-1)_kl = -J_kl for k != l:

    J_kl = -c_kl,      h_k = artanh(m_k) - sum_l J_kl m_l.

TAP (second order; Kappen and Rodriguez, Neural Comput. 10, 1137 (1998); Tanaka, Phys. Rev. E 58,
2302 (1998)), m_k = tanh(h_k + sum_l J_kl m_l - m_k sum_l J_kl^2 (1 - m_l^2)), gives for k != l

    c_kl = -J_kl - 2 J_kl^2 m_k m_l,

a quadratic in J_kl; the root continuous with naive mean field (J -> -c as m_k m_l -> 0) is

    J_kl = -2 c_kl / (1 + sqrt(1 - 8 c_kl m_k m_l)),

and h_k = artanh(m_k) - sum_l J_kl m_l + m_k sum_l J_kl^2 (1 - m_l^2). When 1 - 8 c_kl m_k m_l < 0 the
equation has no real root; the pair gets the J that minimises |c_kl + J + 2 J^2 m_k m_l|, namely
-1 / (4 m_k m_l), and the fit is reported as not converged.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import ThermopotError
from ..models import PairwiseModel
from ..datasets.dataset import Dataset, as_dataset
from .result import FitResult, check_regularisers, data_moments, finish


def _inverse_connected(data: Dataset, method: str, pseudocount: float) -> tuple[np.ndarray, np.ndarray]:
    """(m, C^-1) of the (pseudocount-mixed) data, refusing a singular connected correlation matrix."""
    check_regularisers(data, method, pseudocount=pseudocount, allowed=("pseudocount",))
    m, raw = data_moments(data, pseudocount)
    C = raw - np.outer(m, m)
    try:
        chol = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        chol = None
    if chol is None or np.diag(chol).min() < 1e-7 * np.sqrt(np.diag(C).max()):
        raise ThermopotError(
            f"{method} inversion needs an invertible connected correlation matrix C = <ss> - m m^T, but C is "
            "singular (identical or opposite columns, or fewer distinct samples than spins); "
            "regularise with pseudocount > 0")
    inv = np.linalg.inv(C)
    return m, 0.5 * (inv + inv.T)


def fit_nmf(data: Dataset | Any, weights: Any = None, *, pseudocount: float = 0.0,
            backend: Any = None) -> FitResult:
    """Naive mean-field inversion: J = -C^-1 off the diagonal, h = artanh(m) - J m."""
    start = time.perf_counter()
    data = as_dataset(data, weights)
    m, c = _inverse_connected(data, "nmf", pseudocount)
    J = -c
    np.fill_diagonal(J, 0.0)
    model = PairwiseModel(np.arctanh(m) - J @ m, J, meta={"fit": "nmf"})
    return finish(model, "nmf", data, start=start, iterations=0, converged=True,
                  options={"pseudocount": pseudocount}, pseudocount=pseudocount, backend=backend)


def fit_tap(data: Dataset | Any, weights: Any = None, *, pseudocount: float = 0.0,
            backend: Any = None) -> FitResult:
    """TAP inversion: J_kl = -2 c_kl / (1 + sqrt(1 - 8 c_kl m_k m_l)), fields with the Onsager term."""
    start = time.perf_counter()
    data = as_dataset(data, weights)
    m, c = _inverse_connected(data, "tap", pseudocount)
    mm = np.outer(m, m)
    disc = 1.0 - 8.0 * c * mm
    off = ~np.eye(data.n, dtype=bool)
    complex_roots = (disc < 0) & off
    J = -2.0 * c / (1.0 + np.sqrt(np.maximum(disc, 0.0)))
    J[complex_roots] = -1.0 / (4.0 * mm[complex_roots])
    np.fill_diagonal(J, 0.0)
    h = np.arctanh(m) - J @ m + m * ((J * J) @ (1.0 - m * m))
    pairs = int(complex_roots.sum()) // 2
    message = (f"{pairs} pair(s) have no real TAP solution (1 - 8 c_kl m_k m_l < 0); their couplings are "
               "set to -1/(4 m_k m_l)") if pairs else ""
    model = PairwiseModel(h, J, meta={"fit": "tap"})
    return finish(model, "tap", data, start=start, iterations=0, converged=not pairs, message=message,
                  options={"pseudocount": pseudocount}, pseudocount=pseudocount, backend=backend)
