"""Objectives over the pairwise (reduced) family on all 2^N states (objectives of the multi-start engine
thermopot.solvers.local: value_grad and hessian).

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
from typing import Any

import numpy as np

from ..backend import to_numpy
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

