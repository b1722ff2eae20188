"""Objectives over the pairwise (reduced) family on all 2^N states, and the second-order polish that turns an
L-BFGS end point into a verified minimum.

Pairwise features X(s) = (s_1..s_N, s_k s_l for k < l in row order) (the order of
thermopot.learning's ``pack``), so E_theta(s) = -X(s).theta = -h.s - sum_{k<l} J_kl s_k s_l and
p_theta(s) = exp(-E_theta(s) / T) / Z_theta.

Reduced Gibbs free energy G(theta) = G(p_theta; E, T) = sum_s p_theta(s) (E(s) + T log p_theta(s))
                                   = A(E, T) + T KL(p_theta || p_E),
with r = E - E_theta and <.> the p_theta mean:
    dG/dtheta     = Cov(X, r) / T,
    d2G/dtheta2   = E[dX dX^T (1/T + (r - <r>)/T^2)],   dX = X - <X>.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np
from scipy.optimize import minimize

from ..backend import to_numpy
from ..solvers.stationary import KINDS, NOT_CONVERGED, classify_spectrum
from ..states import all_states


def pairwise_features(n: int, xp: ModuleType) -> Any:
    """X (2^N, N + N(N-1)/2): spins then products s_k s_l (k < l, row order), on namespace xp."""
    s = all_states(n, xp)
    k, l = np.triu_indices(n, 1)
    pairs = xp.take(s, xp.asarray(k), axis=1) * xp.take(s, xp.asarray(l), axis=1)
    return xp.concat([s, pairs], axis=1)


class ReducedG:
    """G(p_theta; E, T) over the pairwise family, value, gradient and Hessian (NumPy in and out)."""

    def __init__(self, energies: Any, T: float, xp: ModuleType, features: Any):
        self.xp, self.T, self.X = xp, float(T), features
        self.E = xp.asarray(energies, dtype=xp.float64)

    def _weights(self, theta: np.ndarray) -> tuple[Any, Any, Any]:
        """(p_theta, log p_theta, r = E - E_theta) on all states."""
        xp = self.xp
        e_theta = -(self.X @ xp.asarray(theta))
        a = -e_theta / self.T
        log_p = a - (xp.max(a) + xp.log(xp.sum(xp.exp(a - xp.max(a)))))
        return xp.exp(log_p), log_p, self.E - e_theta

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """G(theta) and dG/dtheta = X^T (p (r - <r>)) / T."""
        xp = self.xp
        p, log_p, r = self._weights(theta)
        value = xp.sum(p * (self.E + self.T * log_p))
        grad = self.X.T @ (p * (r - xp.sum(p * r))) / self.T
        return float(to_numpy(value)), np.asarray(to_numpy(grad), dtype=np.float64)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """d2G/dtheta2 = dX^T diag(q) dX with q = p (1/T + (r - <r>) / T^2), dX = X - <X>, expanded as
        X^T diag(q) X - a m^T - m a^T + (sum q) m m^T (a = X^T q, m = <X>) to avoid a centred copy of X."""
        xp = self.xp
        p, _, r = self._weights(theta)
        q = p * (1.0 / self.T + (r - xp.sum(p * r)) / self.T**2)
        m, a = p @ self.X, q @ self.X
        H = (self.X * q[:, None]).T @ self.X - a[:, None] * m[None, :] - m[:, None] * a[None, :] \
            + xp.sum(q) * (m[:, None] * m[None, :])
        H = to_numpy(H)
        return 0.5 * (H + H.T)

    def peak(self, theta: np.ndarray) -> tuple[int, float, np.ndarray]:
        """(argmax_s p_theta(s), its weight, p_theta as NumPy)."""
        p = np.asarray(to_numpy(self._weights(theta)[0]))
        i = int(np.argmax(p))
        return i, float(p[i]), p


def polish(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], hess: Callable[[np.ndarray], np.ndarray],
           theta: np.ndarray, *, rel_eig: float, tol: float, gtol: float, max_steps: int = 200
           ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float, str]:
    """Second-order polish of an end point and its verdict.

    Runs a trust-region Newton method with the exact Hessian (scipy "trust-exact", which also descends
    where the Hessian is indefinite; "trust-krylov" where its subproblem solver fails) for at most ``max_steps`` steps, then classifies the end point by
    the Hessian eigenvalues with thermopot.solvers.stationary (threshold rel_eig x the largest eigenvalue).
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

