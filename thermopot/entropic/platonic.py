"""The Platonic kernel of deep linear networks trained by SGD with label noise (theory-entropic.md section 4).

For data y = V x + eps with input covariance Sigma_x and full-rank label-noise covariance Sigma_e, SGD
on f = M_O W_D ... W_1 M_I x drives every hidden layer i to the noise equilibrium
E[g_i g_i^T] = E[g_{i+1}^T g_{i+1}] (the stationary point of the charges D_i). At a minimum the residual
is the label noise, so with P = W_i ... W_1 M_I, Q = M_O W_D ... W_{i+1} (Q P = V) the balance reads
Q^T Sigma_e Q = c P Sigma_x P^T, c > 0 a ratio of traces. For invertible P (hidden width d) this gives, for
the representation kernel K_i = P^T P (a d_in x d_in matrix: K_i(x, x') = h_i(x) . h_i(x')),
K Sigma_x K = c^{-1} V^T Sigma_e V. Its positive solution is, up to scale,

    K* = V^T B^{-1} V,   B = Sigma_e^{-1/2} (Sigma_e^{1/2} V Sigma_x V^T Sigma_e^{1/2})^{1/2} Sigma_e^{-1/2},

since B is the positive definite solution of B Sigma_e B = V Sigma_x V^T, so that
K* Sigma_x K* = V^T B^{-1} (B Sigma_e B) B^{-1} V = V^T Sigma_e V. The kernel does not depend on the
width, depth, view M_I or learning rate; a non-orthogonal transform T of the labels (V -> T V,
Sigma_e -> T Sigma_e T^T) changes V^T Sigma_e V to V^T T^T T Sigma_e T^T T V and so changes K*.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import asarray, namespace_of, to_numpy
from .sgd import SGDError

#: relative eigenvalue floor below which a covariance counts as singular
_RANK_TOL = 1e-12


def check_matrix(a: Any, name: str) -> np.ndarray:
    """``a`` as a finite, non-empty 2-D float64 NumPy array; SGDError naming ``name`` otherwise."""
    m = np.asarray(to_numpy(a), dtype=np.float64)
    if m.ndim != 2 or min(m.shape) < 1:
        raise SGDError(f"{name} must be a non-empty 2-D matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise SGDError(f"{name} contains NaN or infinite entries")
    return m


def check_covariance(a: Any, name: str, size: int | None = None) -> np.ndarray:
    """``a`` as a symmetric positive definite (size x size) float64 matrix; SGDError otherwise
    (not square, wrong size, not symmetric, an eigenvalue <= 1e-12 times the largest)."""
    m = check_matrix(a, name)
    if m.shape[0] != m.shape[1]:
        raise SGDError(f"{name} must be square, got shape {m.shape}")
    if size is not None and m.shape[0] != size:
        raise SGDError(f"{name} must be {size} x {size}, got {m.shape}")
    scale = max(float(np.max(np.abs(m))), 1e-300)
    if not np.allclose(m, m.T, rtol=0.0, atol=1e-12 * scale):
        raise SGDError(f"{name} must be symmetric")
    evals = np.linalg.eigvalsh(m)
    if evals[0] <= _RANK_TOL * max(evals[-1], 0.0) or evals[-1] <= 0:
        raise SGDError(f"{name} must be positive definite (smallest eigenvalue {evals[0]:.3g})")
    return 0.5 * (m + m.T)


def psd_power(m: np.ndarray, power: float) -> np.ndarray:
    """m^power for a symmetric positive definite matrix, by its eigen-decomposition U diag(l^power) U^T."""
    evals, vecs = np.linalg.eigh(0.5 * (m + m.T))
    return (vecs * evals**power) @ vecs.T


def noise_balance_matrix(V: Any, sigma_x: Any, sigma_e: Any) -> np.ndarray:
    """B = Sigma_e^{-1/2} (Sigma_e^{1/2} V Sigma_x V^T Sigma_e^{1/2})^{1/2} Sigma_e^{-1/2}, the positive
    definite solution of B Sigma_e B = V Sigma_x V^T (d_out x d_out). SGDError when a covariance is not
    positive definite, the shapes disagree, or V Sigma_x V^T is singular (rank V < d_out)."""
    V = check_matrix(V, "V")
    d_out, d_in = V.shape
    sx = check_covariance(sigma_x, "Sigma_x", d_in)
    se = check_covariance(sigma_e, "Sigma_e", d_out)
    signal = V @ sx @ V.T
    ev = np.linalg.eigvalsh(signal)
    if ev[0] <= _RANK_TOL * max(ev[-1], 1e-300):
        raise SGDError(f"V Sigma_x V^T is singular (rank V < d_out = {d_out}): the Platonic kernel needs "
                       "a teacher V of full row rank")
    root, inv_root = psd_power(se, 0.5), psd_power(se, -0.5)
    return inv_root @ psd_power(root @ signal @ root, 0.5) @ inv_root


def platonic_kernel(V: Any, sigma_x: Any, sigma_e: Any) -> np.ndarray:
    """K* = V^T B^{-1} V (d_in x d_in) with B from :func:`noise_balance_matrix`: the common kernel of every
    hidden layer of a deep linear network at the SGD noise equilibrium (defined up to scale)."""
    V = check_matrix(V, "V")
    B = noise_balance_matrix(V, sigma_x, sigma_e)
    K = V.T @ np.linalg.solve(B, V)
    return 0.5 * (K + K.T)


def kernel_cosine(K: Any, K_ref: Any) -> np.ndarray:
    """cos(K, K_ref) = <K, K_ref>_F / (|K|_F |K_ref|_F) over the last two axes (broadcast over the leading
    ones); 1 exactly when K is a positive multiple of K_ref, in [0, 1] for positive semi-definite kernels
    (NaN for a zero kernel). Returned as NumPy."""
    xp = namespace_of(K)
    K, K_ref = asarray(K, xp), asarray(K_ref, xp)
    if K.shape[-2:] != K_ref.shape[-2:] or K.ndim < 2:
        raise SGDError(f"kernel shapes {tuple(K.shape)} and {tuple(K_ref.shape)} do not match")
    inner = xp.sum(K * K_ref, axis=(-2, -1))
    norms = xp.sqrt(xp.sum(K * K, axis=(-2, -1)) * xp.sum(K_ref * K_ref, axis=(-2, -1)))
    return to_numpy(inner / norms)


__all__ = ["check_covariance", "check_matrix", "kernel_cosine", "noise_balance_matrix", "platonic_kernel",
           "psd_power"]
