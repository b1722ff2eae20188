"""Preconditioners of the pairwise model's likelihood gradient for PCD's steps theta <- theta + lr P g.

With the sufficient statistics phi(s) = (s_1..s_N, s_k s_l for k < l in row order) the mean
log-likelihood's Hessian is -(Cov_model(phi) + l2 I). Maximum likelihood matches <phi>_model to
<phi>_data, so the data's covariance stands in for the model's. Plain gradient steps (P = I) contract a
direction of curvature lambda by (1 - lr lambda) per step; on clustered data the curvature spans more
than three decades (planted N = 20: 0.005 to 38), and a schedule stable along the steepest directions
leaves the flattest ones near their starting values.

- **Fisher** (an approximate natural gradient, Amari 1998):

      P = F^{-1},    F = Cov_data(phi) + (l2 + damping) I,

  F^{-1} g contracts every direction at about the rate lr; a Cholesky factor of the P x P matrix
  (P = N(N + 1)/2) computed once, a solve of 2 P^2 flops a step.
- **Centred diagonal** (the centering trick, Montavon and Mueller 2012, with a diagonal scaling): in
  the parameters of the centred energy -E = sum_k h~_k (s_k - mu_k) + sum_{k<l} J~_kl (s_k - mu_k)(s_l - mu_l),
  mu the data means (J = J~, h = h~ - J~ mu, so theta = A theta~), steps divided by the data variance of
  each centred statistic phi~:

      P = A D^{-1} A^T,    D = diag Var_data(phi~) + (l2 + damping),

  i.e. g~ = A^T g (g~_h = g_h, g~_kl = g_kl - mu_k g_h,l - mu_l g_h,k), d~ = g~ / D, and the step
  (d~_h - d~_J mu, d~_J). O(P) a step, for any N.

``damping`` (default :data:`DAMPING`) bounds P by 1 / (l2 + damping): without it the chains' noise in
directions of data variance near zero is amplified by up to 1 / l2.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ..datasets.dataset import Dataset

DAMPING = 0.01
ROW_BLOCK = 4096


def statistics(s: np.ndarray) -> np.ndarray:
    """phi(s) (B, N(N + 1)/2) of the rows of s (B, N): the spins, then s_k s_l for k < l in row order."""
    iu = np.triu_indices(s.shape[1], 1)
    return np.concatenate([s, s[:, iu[0]] * s[:, iu[1]]], axis=1)


def _blocks(data: Dataset):
    """(rows as float64, their probabilities) in blocks of ROW_BLOCK rows."""
    p = data.probabilities
    for start in range(0, data.size, ROW_BLOCK):
        yield data.samples[start:start + ROW_BLOCK].astype(np.float64), p[start:start + ROW_BLOCK]


def fisher_matrix(data: Dataset, *, l2: float, damping: float = DAMPING) -> np.ndarray:
    """F = Cov_data(phi) + (l2 + damping) I under the data's weights."""
    size = data.n * (data.n + 1) // 2
    second, mean = np.zeros((size, size)), np.zeros(size)
    for s, w in _blocks(data):
        phi = statistics(s)
        second += (phi * w[:, None]).T @ phi
        mean += phi.T @ w
    return second - np.outer(mean, mean) + (l2 + damping) * np.eye(size)


def fisher_preconditioner(data: Dataset, *, l2: float, damping: float = DAMPING) -> Callable[[np.ndarray], np.ndarray]:
    """g -> F^{-1} g by the Cholesky factor of :func:`fisher_matrix` (computed once)."""
    factor = cho_factor(fisher_matrix(data, l2=l2, damping=damping), lower=True)
    return lambda gradient: cho_solve(factor, gradient)


def centred_variances(data: Dataset) -> np.ndarray:
    """Var_data(phi~) (N(N + 1)/2,): 1 - mu_k^2, then <(s_k - mu_k)^2 (s_l - mu_l)^2> - (C_kl - mu_k mu_l)^2."""
    m, c = data.moments()
    fourth = np.zeros((data.n, data.n))
    for s, w in _blocks(data):
        x = (s - m) ** 2
        fourth += (x * w[:, None]).T @ x
    iu = np.triu_indices(data.n, 1)
    return np.concatenate([1.0 - m ** 2, fourth[iu] - (c - np.outer(m, m))[iu] ** 2])


def centred_preconditioner(data: Dataset, *, l2: float, damping: float = DAMPING) -> Callable[[np.ndarray], np.ndarray]:
    """g -> A D^{-1} A^T g, the centred diagonal step of the module docstring."""
    n = data.n
    mu = data.moments()[0]
    iu = np.triu_indices(n, 1)
    scale = 1.0 / (centred_variances(data) + l2 + damping)

    def step(gradient: np.ndarray) -> np.ndarray:
        g_h = gradient[:n]
        d = scale * np.concatenate([g_h, gradient[n:] - mu[iu[0]] * g_h[iu[1]] - mu[iu[1]] * g_h[iu[0]]])
        d_J = np.zeros((n, n))
        d_J[iu] = d[n:]
        return np.concatenate([d[:n] - (d_J + d_J.T) @ mu, d[n:]])
    return step
