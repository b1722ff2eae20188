"""The exact Gibbs potential G(m): the Legendre transform of the free energy in the fields.

    G(m) = max_lambda [ lambda.m - T log sum_s exp(-(E(s) - lambda.s) / T) ]      (theory.md section 2)

phi(lambda) = lambda.m - T log Z(lambda) is concave with gradient m - <s>_lambda and Hessian
-beta chi(lambda), so Newton's method on the fields, lambda <- lambda + T chi^-1 (m - <s>_lambda), with a
backtracking line search converges from any start. At the maximiser dG/dm = lambda and
d^2G/dm^2 = T chi^-1, with chi the connected correlations accumulated directly by the enumeration (not
<s s^T> - m m^T, which cancels). G is convex with its single minimum G = F at m = <s>; fields enter
exactly: G(m; h) = G(m; 0) - h.m. Where chi is singular to float64 precision (eigenvalues below
N eps max eig: the weight sits on a few states) G and lambda are still exact, and the Hessian is +-inf
along the null directions of chi (its curvature there exceeds the float64 range).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_float, to_numpy
from ..checks import check_count, check_positive
from ..errors import ThermopotError
from ..models import Model, resolve_model
from ..results import Result, renamed
from .guard import GIBBS_STEP, check_size
from .thermodynamics import check_temperature, enumerate_stats

#: enumerations per point for the size guard: Newton steps with their line searches, measured 5 (T >= 1)
#: to 90 (T = 0.05) by benchmarks/guards.py
ENUMERATIONS_PER_POINT = 30


@dataclass(frozen=True)
class GibbsPotential(Result):
    """G(m) (``free_energy``) with its gradient (the conjugate field lambda) and Hessian T chi^-1, per point;
    ``message`` says whether every point reached the tolerance."""

    m: np.ndarray
    free_energy: float | np.ndarray
    field: np.ndarray
    hessian: np.ndarray
    iterations: int | np.ndarray
    converged: bool | np.ndarray
    T: float | None = None
    message: str = ""
    value = renamed("free_energy", "value")


def _phi_and_moments(model: Model, lam: np.ndarray, m: np.ndarray, T: float, backend: Any):
    """phi(lambda) = lambda.m - T log Z(lambda), <s>_lambda and chi(lambda)."""
    stats, _ = enumerate_stats(model.with_fields(lam), T, backend=backend, progress=False, guarded=True)
    log_z = to_float(stats.log_z) - to_float(stats.shift) / T
    return float(lam @ m) - T * log_z, to_numpy(stats.magnetization), to_numpy(stats.connected)


def _gibbs_point(model: Model, m: np.ndarray, T: float, tol: float, max_iter: int, backend: Any):
    lam = T * np.arctanh(m)
    phi, mag, chi = _phi_and_moments(model, lam, m, T, backend)
    scale = 1.0 + np.abs(model.walsh_terms()[1]).sum()  # energy scale: the largest field ever needed
    for it in range(1, max_iter + 1):
        grad = m - mag
        if np.abs(grad).max() < tol:
            return phi, lam, it - 1, True, chi
        # Levenberg-damped Newton step; at low T chi can underflow to 0 (all weight on one state),
        # so the step is also capped in size, and the line search keeps phi increasing
        damping = 1e-12 * max(1.0, np.abs(np.diag(chi)).max())
        step = T * np.linalg.solve(chi + damping * np.eye(len(m)), grad)
        step *= min(1.0, (scale + np.abs(lam).max()) / max(np.abs(step).max(), 1e-300))
        slope, t = float(grad @ step), 1.0
        while True:
            new_phi, new_mag, new_chi = _phi_and_moments(model, lam + t * step, m, T, backend)
            if new_phi >= phi + 1e-4 * t * slope - 1e-13 * abs(phi) or t < 1e-10:
                break
            t *= 0.5
        lam, phi, mag, chi = lam + t * step, new_phi, new_mag, new_chi
    return phi, lam, max_iter, bool(np.abs(m - mag).max() < tol), chi


def hessian_from_susceptibility(chi: np.ndarray, T: float) -> np.ndarray:
    """d^2G/dm^2 = T chi^-1 by the eigen-decomposition chi = V diag(mu) V^T; eigenvalues mu below
    N eps max(mu) are zero to float64 precision, and their directions get an infinite curvature:
    the entries where their projector P_0 = V_0 V_0^T is not zero become sign(P_0) inf."""
    mu, vec = np.linalg.eigh(chi)
    null = mu <= len(mu) * np.finfo(float).eps * max(mu.max(), 0.0)
    regular = vec[:, ~null]
    hess = T * (regular / mu[~null]) @ regular.T
    projector = vec[:, null] @ vec[:, null].T
    blown = np.abs(projector) > np.sqrt(np.finfo(float).eps)
    hess[blown] = np.copysign(np.inf, projector[blown])
    return hess


def _check_m(m: Any, n: int) -> np.ndarray:
    """m as a real (N,) or (B, N) float64 array strictly inside the cube, else a ThermopotError."""
    host = to_numpy(m)
    if np.iscomplexobj(host):
        raise ThermopotError("m must be real magnetisations, got complex values")
    try:
        arr = np.asarray(host, dtype=np.float64)
    except (TypeError, ValueError):
        raise ThermopotError(f"m must be an array of numbers, got {m!r}") from None
    if arr.ndim not in (1, 2) or arr.shape[-1] != n:
        raise ThermopotError(f"m must have shape (N,) or (B, N) with N = {n}, got {arr.shape}")
    if not np.isfinite(arr).all() or (np.abs(arr) >= 1).any():
        raise ThermopotError("every magnetisation must be finite and strictly inside (-1, 1): "
                             "G(m) is infinite on the faces of the cube")
    return arr


def gibbs_potential(model: Model | str, m: Any, T: float, *, tol: float = 1e-10, max_iter: int = 100,
                    backend: Any = None, max_seconds: float | None = None) -> GibbsPotential:
    """Exact G(m) for magnetisations m of shape (N,) or (B, N) with every |m_k| < 1.

    Each point costs a few exact enumerations (Newton converges quadratically); ``tol`` bounds
    max_k |m_k - <s_k>_lambda| at the returned field. Points that do not reach ``tol`` within ``max_iter``
    Newton steps are returned with ``converged`` False and a RuntimeWarning. Refused (SizeError) when
    ENUMERATIONS_PER_POINT enumerations per point would not fit in memory or in ``max_seconds``.
    """
    model = resolve_model(model)
    T = check_temperature(T)
    tol = check_positive(tol, "tol")
    max_iter = check_count(max_iter, "max_iter")
    arr = _check_m(m, model.n)
    points = len(np.atleast_2d(arr))
    check_size(model.n, backend, max_seconds=max_seconds, cost=GIBBS_STEP, passes=points * ENUMERATIONS_PER_POINT,
               what=f"the exact Gibbs potential at {points} point(s)")
    rows = [_gibbs_point(model, row, T, tol, max_iter, backend) for row in np.atleast_2d(arr)]
    value, field, iters, conv = (np.array([r[i] for r in rows]) for i in range(4))
    hess = np.array([hessian_from_susceptibility(r[4], T) for r in rows])
    message = (f"{int((~conv).sum())} of {len(conv)} points did not reach max |m - <s>| <= tol = {tol:g} in "
               f"max_iter = {max_iter} Newton steps at T = {T:g}") if not conv.all() else \
        f"converged: max |m - <s>| <= tol = {tol:g} at every point"
    if not conv.all():
        warnings.warn(f"gibbs_potential: {message}", RuntimeWarning, stacklevel=2)
    if arr.ndim == 1:
        return GibbsPotential(arr, float(value[0]), field[0], hess[0], int(iters[0]), bool(conv[0]), T, message)
    return GibbsPotential(arr, value, field, hess, iters, conv, T, message)
