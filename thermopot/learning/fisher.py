"""The data's Fisher matrix as a preconditioner of the pairwise model's likelihood gradient (an
approximate natural gradient, Amari 1998).

With the sufficient statistics phi(s) = (s_1..s_N, s_k s_l for k < l in row order) the mean
log-likelihood's Hessian is -(Cov_model(phi) + l2 I). Maximum likelihood matches <phi>_model to
<phi>_data, and the data's covariance stands in for the model's:

    F = Cov_data(phi) + (l2 + damping) I,        step  theta <- theta + lr F^{-1} g.

Plain gradient steps contract a direction of curvature lambda by (1 - lr lambda) per step; on clustered
data the curvature spans more than three decades (planted N = 20: 0.005 to 38), so a schedule that is
stable along the steepest directions leaves the flattest ones near their starting values. F^{-1} g
contracts every direction at about the rate lr. ``damping`` (default :data:`FISHER_DAMPING`) bounds
F^{-1} by 1 / (l2 + damping): without it the chains' noise in directions of data variance near zero is
amplified by up to 1 / l2.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ..datasets.dataset import Dataset

FISHER_DAMPING = 0.01
#: the largest number of parameters N(N + 1)/2 for which ``precondition="auto"`` uses F (N = 64: a
#: 2080 x 2080 matrix, 35 MB, whose solve costs 2 P^2 flops a step)
FISHER_MAX_PARAMETERS = 2080
ROW_BLOCK = 4096


def statistics(s: np.ndarray) -> np.ndarray:
    """phi(s) (B, N(N + 1)/2) of the rows of s (B, N): the spins, then s_k s_l for k < l in row order."""
    iu = np.triu_indices(s.shape[1], 1)
    return np.concatenate([s, s[:, iu[0]] * s[:, iu[1]]], axis=1)


def fisher_matrix(data: Dataset, *, l2: float, damping: float = FISHER_DAMPING) -> np.ndarray:
    """F = Cov_data(phi) + (l2 + damping) I under the data's weights, summed over blocks of rows."""
    p = data.probabilities
    size = data.n * (data.n + 1) // 2
    second, mean = np.zeros((size, size)), np.zeros(size)
    for start in range(0, data.size, ROW_BLOCK):
        phi = statistics(data.samples[start:start + ROW_BLOCK].astype(np.float64))
        w = p[start:start + ROW_BLOCK]
        second += (phi * w[:, None]).T @ phi
        mean += phi.T @ w
    return second - np.outer(mean, mean) + (l2 + damping) * np.eye(size)


def fisher_preconditioner(data: Dataset, *, l2: float, damping: float = FISHER_DAMPING
                          ) -> Callable[[np.ndarray], np.ndarray]:
    """g -> F^{-1} g by the Cholesky factor of :func:`fisher_matrix` (computed once)."""
    factor = cho_factor(fisher_matrix(data, l2=l2, damping=damping), lower=True)
    return lambda gradient: cho_solve(factor, gradient)
