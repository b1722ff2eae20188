"""Energy of the product state for a multi-spin model, with gradient and Hessian (naive mean field).

    U(m) = -sum_alpha J_alpha prod_{k in alpha} m_k      (alpha non-empty; the empty set is a constant)

Subsets are grouped by size r: ``idx`` (K_r, r) holds their members, products are taken over the last
axis, and derivatives are scattered back onto spins with one-hot matrices (matrix products, O(B K N)
for the gradient, O(B K N^2) for the Hessian).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray


class ProductStateEnergy:
    """U(m), dU/dm and d2U/dm2 for m of shape (B, N) on namespace ``xp``."""

    def __init__(self, subsets: np.ndarray, couplings: np.ndarray, xp: ModuleType):
        sizes = subsets.sum(axis=1)
        self.constant = -float(couplings[sizes == 0].sum())
        self.n = subsets.shape[1]
        self.xp = xp
        self.groups = []
        for r in sorted(set(sizes.tolist()) - {0}):
            rows = np.flatnonzero(sizes == r)
            idx = np.stack([np.flatnonzero(subsets[a]) for a in rows])        # (K_r, r)
            onehot = [asarray(np.eye(self.n)[idx[:, p]], xp) for p in range(r)]  # r x (K_r, N)
            self.groups.append((asarray(idx, xp, xp.int64), asarray(couplings[rows], xp), onehot))

    def _factors(self, m: Any, idx: Any) -> list:
        return [xp_take(self.xp, m, idx[:, p]) for p in range(idx.shape[1])]

    def value(self, m: Any) -> Any:
        xp = self.xp
        out = xp.zeros(m.shape[0], dtype=xp.float64) + self.constant
        for idx, J, _ in self.groups:
            prod = 1.0
            for f in self._factors(m, idx):
                prod = prod * f
            out = out - prod @ J
        return out

    def gradient(self, m: Any) -> Any:
        xp = self.xp
        out = xp.zeros(m.shape, dtype=xp.float64)
        for idx, J, onehot in self.groups:
            fac = self._factors(m, idx)
            for p in range(len(fac)):
                others = J[None, :] + 0.0
                for q, f in enumerate(fac):
                    if q != p:
                        others = others * f
                out = out - others @ onehot[p]
        return out

    def hessian(self, m: Any) -> Any:
        xp = self.xp
        out = xp.zeros((m.shape[0], self.n, self.n), dtype=xp.float64)
        for idx, J, onehot in self.groups:
            fac = self._factors(m, idx)
            for p in range(len(fac)):
                for q in range(len(fac)):
                    if q == p:
                        continue
                    others = J[None, :] + 0.0
                    for s, f in enumerate(fac):
                        if s not in (p, q):
                            others = others * f
                    out = out - xp.einsum("zk,kx,ky->zxy", others, onehot[p], onehot[q])
        return out


def xp_take(xp: ModuleType, m: Any, cols: Any) -> Any:
    """m[:, cols] for m (B, N) and an integer index array."""
    return xp.take(m, cols, axis=1)
