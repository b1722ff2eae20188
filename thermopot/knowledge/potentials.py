"""Numeric knowledge potentials A, G, Phi over an explicit list of states (theory.md section 3).

Every function takes energies E of shape (n,) or (..., n) (one value per state; leading axes are a
batch), a temperature T > 0, and, where needed, probability vectors on the simplex over the same n
states. Partition sums use log-sum-exp, so any T and any energy scale work in float64. The array
namespace is that of the inputs (NumPy or CuPy, one code path); results come back as NumPy (a float
for a single point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import namespace_of
from ..checks import check_integer, check_temperature
from ..errors import ThermopotError
from . import _potential_checks as chk


def _log_partition(E: Any, T: float, xp: ModuleType) -> Any:
    """log Z = log sum_i exp(-E_i / T) along the last axis, with a running max (log-sum-exp)."""
    a = -E / T
    top = xp.max(a, axis=-1, keepdims=True)
    return xp.log(xp.sum(xp.exp(a - top), axis=-1)) + top[..., 0]


def _log_boltzmann(E: Any, T: float, xp: ModuleType) -> Any:
    """log p_i = -E_i / T - log Z."""
    return -E / T - _log_partition(E, T, xp)[..., None]


def _xlogx(x: Any, xp: ModuleType) -> Any:
    """x log x with the limit 0 log 0 = 0."""
    positive = x > 0
    return xp.where(positive, x * xp.log(xp.where(positive, x, 1.0)), 0.0)


def _covariance(p: Any, xp: ModuleType) -> Any:
    """diag(p) - p p^T for probability vectors p (..., n) -> (..., n, n)."""
    n = p.shape[-1]
    return p[..., :, None] * xp.eye(n, dtype=p.dtype) - p[..., :, None] * p[..., None, :]


def _energies(E: Any, T: Any, *others: Any) -> tuple[ModuleType, Any, float]:
    xp = namespace_of(E, *others)
    return xp, chk.real(E, "energies E", xp), check_temperature(T)


def log_partition(E: Any, T: float) -> Any:
    """log Z(E, T) = log sum_i exp(-E_i / T) (log-sum-exp), a float or an array over the batch."""
    xp, E, T = _energies(E, T)
    return chk.out(_log_partition(E, T, xp))


def free_energy_A(E: Any, T: float) -> Any:
    """Free energy A(E, T) = -T log sum_i exp(-E_i / T), concave in E (log-sum-exp)."""
    xp, E, T = _energies(E, T)
    return chk.out(-T * _log_partition(E, T, xp))


def boltzmann_weights(E: Any, T: float) -> np.ndarray:
    """Boltzmann weights p_i = exp(-E_i / T) / Z, the gradient dA/dE_i of the free energy."""
    xp, E, T = _energies(E, T)
    return chk.out(xp.exp(_log_boltzmann(E, T, xp)))


def free_energy_A_gradient(E: Any, T: float) -> np.ndarray:
    """dA/dE_i = p_i, the Boltzmann weights (..., n)."""
    return boltzmann_weights(E, T)


def free_energy_A_hessian(E: Any, T: float) -> np.ndarray:
    """d2A/dE_i dE_j = -(p_i delta_ij - p_i p_j) / T (..., n, n): negative semidefinite (A concave)."""
    xp, E, T = _energies(E, T)
    return chk.out(-_covariance(xp.exp(_log_boltzmann(E, T, xp)), xp) / T)


def shannon_entropy(w: Any) -> Any:
    """S[w] = -sum_i w_i log w_i (0 log 0 = 0) of probability vectors w (..., n)."""
    xp = namespace_of(w)
    w = chk.simplex(w, "weights w", xp)
    return chk.out(-xp.sum(_xlogx(w, xp), axis=-1))


def gibbs_G(x: Any, E: Any, T: float) -> Any:
    """Gibbs free energy of a distribution x over the states:
    G(x; E, T) = sum_i x_i E_i + T sum_i x_i log x_i  (>= A(E, T), equality iff x = Boltzmann)."""
    xp, E, T = _energies(E, T, x)
    x = chk.simplex(x, "distribution x", xp)
    chk.same_states(x, E, "x", "E")
    return chk.out(xp.sum(x * E, axis=-1) + T * xp.sum(_xlogx(x, xp), axis=-1))


def gibbs_G_gradient(x: Any, E: Any, T: float) -> np.ndarray:
    """dG/dx_i = E_i + T (log x_i + 1) (unconstrained gradient; x strictly inside the simplex).
    The gradient in E is x itself."""
    xp, E, T = _energies(E, T, x)
    x = chk.simplex(x, "distribution x", xp, strict=True)
    shape = chk.same_states(x, E, "x", "E")
    return chk.out(xp.broadcast_to(E + T * (xp.log(x) + 1.0), shape))


def gibbs_G_hessian(x: Any, E: Any, T: float) -> np.ndarray:
    """d2G/dx_i dx_j = T delta_ij / x_i (..., n, n): positive definite, so G has one minimum on the
    simplex (x strictly inside the simplex)."""
    xp, E, T = _energies(E, T, x)
    x = chk.simplex(x, "distribution x", xp, strict=True)
    shape = chk.same_states(x, E, "x", "E")
    n = shape[-1]
    diag = xp.broadcast_to(T / x, shape)
    return chk.out(diag[..., :, None] * xp.eye(n, dtype=diag.dtype))


def kl_divergence(x: Any, p: Any) -> Any:
    """KL(x || p) = sum_i x_i log(x_i / p_i) (0 log 0 = 0; +inf where x_i > 0 = p_i)."""
    xp = namespace_of(x, p)
    x = chk.simplex(x, "distribution x", xp)
    p = chk.simplex(p, "distribution p", xp)
    chk.same_states(x, p, "x", "p")
    bad = (x > 0) & (p <= 0)
    logp = xp.log(xp.where(p > 0, p, 1.0))
    value = xp.sum(_xlogx(x, xp) - xp.where(x > 0, x * logp, 0.0), axis=-1)
    return chk.out(xp.where(xp.any(bad, axis=-1), math.inf, value))


def kl_gap(x: Any, E: Any, T: float) -> Any:
    """The Gibbs-inequality gap G(x; E, T) - A(E, T) = T KL(x || p) >= 0, p the Boltzmann weights,
    computed directly as T sum_i x_i (log x_i - log p_i) (no cancellation between G and A)."""
    xp, E, T = _energies(E, T, x)
    x = chk.simplex(x, "distribution x", xp)
    chk.same_states(x, E, "x", "E")
    logp = _log_boltzmann(E, T, xp)
    return chk.out(T * xp.sum(_xlogx(x, xp) - x * logp, axis=-1))


def training_Phi(E: Any, w: Any, T: float) -> Any:
    """Training potential Phi(E; w, T) = sum_i w_i E_i - A(E, T) = T (cross-entropy of w against the
    Boltzmann weights) = T S[w] + T KL(w || p) >= T S[w]."""
    xp, E, T = _energies(E, T, w)
    w = chk.simplex(w, "training weights w", xp)
    chk.same_states(w, E, "w", "E")
    return chk.out(xp.sum(w * E, axis=-1) + T * _log_partition(E, T, xp))


def training_Phi_gradient(E: Any, w: Any, T: float) -> np.ndarray:
    """dPhi/dE_i = w_i - p_i: zero exactly when the model's Boltzmann weights match the data."""
    xp, E, T = _energies(E, T, w)
    w = chk.simplex(w, "training weights w", xp)
    chk.same_states(w, E, "w", "E")
    return chk.out(w - xp.exp(_log_boltzmann(E, T, xp)))


def training_Phi_hessian(E: Any, w: Any, T: float) -> np.ndarray:
    """d2Phi/dE_i dE_j = (p_i delta_ij - p_i p_j) / T (..., n, n): positive semidefinite, independent
    of w (Phi is convex in the energies)."""
    xp, E, T = _energies(E, T, w)
    w = chk.simplex(w, "training weights w", xp)
    chk.same_states(w, E, "w", "E")
    return chk.out(_covariance(xp.exp(_log_boltzmann(E, T, xp)), xp) / T)


@dataclass(frozen=True)
class LinearPhi:
    """Phi in a linear coupling set E = -X theta: value, gradient and Hessian in theta."""

    value: Any  #: Phi(-X theta; w, T), float or (B,)
    gradient: np.ndarray  #: X^T (p - w), (P,) or (B, P): model moments minus data moments
    hessian: np.ndarray  #: X^T (diag p - p p^T) X / T, (P, P) or (B, P, P): a covariance, PSD
    energies: np.ndarray  #: E = -X theta, (n,) or (B, n)


def training_Phi_linear(theta: Any, features: Any, w: Any, T: float) -> LinearPhi:
    """Phi(theta) = Phi(E = -X theta; w, T) for a feature matrix X (n states, P couplings), with
    dPhi/dtheta = X^T (p - w) (moment matching) and d2Phi/dtheta2 = Cov_p(X) / T, which is positive
    semidefinite: Phi is convex in any linear coupling set, reduced or not. theta: (P,) or (B, P)."""
    xp = namespace_of(theta, features, w)
    T = check_temperature(T)
    X = chk.real(features, "features X", xp, min_ndim=2)
    theta = chk.real(theta, "couplings theta", xp)
    if X.ndim != 2 or theta.ndim > 2 or theta.shape[-1] != X.shape[1]:
        raise ThermopotError(f"features X must be (n_states, P) and theta (P,) or (B, P) with the same P, "
                             f"got X {tuple(X.shape)} and theta {tuple(theta.shape)}")
    w = chk.simplex(w, "training weights w", xp)
    if w.ndim != 1 or w.shape[0] != X.shape[0]:
        raise ThermopotError(f"training weights w must have shape ({X.shape[0]},) (one per row of X), "
                             f"got {tuple(w.shape)}")
    E = -(theta @ X.T)
    p = xp.exp(_log_boltzmann(E, T, xp))
    value = xp.sum(w * E, axis=-1) + T * _log_partition(E, T, xp)
    moments = p @ X
    hessian = (xp.einsum("...i,ia,ib->...ab", p, X, X) - moments[..., :, None] * moments[..., None, :]) / T
    return LinearPhi(value=chk.out(value), gradient=chk.out(moments - w @ X),
                     hessian=chk.out(hessian), energies=chk.out(E))


def coexistence_temperature(delta: Any, n: int, m: int) -> Any:
    """T* = Delta / log((2^N - M) / M): the temperature at which M library states at energy E_lib and
    the 2^N - M continuum states at E_lib + Delta have equal free energies,
    E_lib - T log M = E_lib + Delta - T log(2^N - M). Needs Delta > 0 and 1 <= M < 2^(N-1) (for
    M >= 2^(N-1) the library has the lower free energy at every T > 0). ``delta`` may be an array."""
    n = check_integer(n, "number of spins N", 1)
    m = check_integer(m, "number of library states M", 1)
    if m >= 2**n:
        raise ThermopotError(f"number of library states M = {m} must be < 2^N = {2**n}: no continuum left")
    if 2 * m >= 2**n:
        raise ThermopotError(f"M = {m} >= 2^(N-1) = {2 ** (n - 1)}: the library outweighs the continuum "
                             "at every T > 0, there is no coexistence temperature")
    d = np.asarray(delta, dtype=np.float64)
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ThermopotError(f"gap Delta must be finite and > 0, got {delta!r}")
    excess = 2**n - 2 * m  # (2^N - M) / M = 1 + excess / M, exact integers
    log_ratio = math.log1p(excess / m) if excess < m else math.log(2**n - m) - math.log(m)
    t_star = d / log_ratio
    return float(t_star) if t_star.ndim == 0 else t_star
