"""Evaluate a compiled Plefka program (``meanfield.compiler``) on a batch of magnetisations.

Everything here is the interaction part Phi(m) of -beta G = S_0(m) + beta h.m + Phi(m), with
Phi = sum_n beta^n Phi_n; the caller adds the entropy and the fields. One code path for NumPy and
CuPy: arrays come from the namespace ``xp`` of the inputs.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

from .program import Network, Program

_LETTERS = "abcdefghijklmnopqrstuvwxy"  # vertex labels; "z" is the batch axis


def poly_eval(coeffs: tuple, x: Any) -> Any:
    """sum_j coeffs[j] x^j by Horner (coefficients low -> high)."""
    out = x * 0 + coeffs[-1]
    for c in reversed(coeffs[:-1]):
        out = out * x + c
    return out


@lru_cache(maxsize=4096)
def _path(subscripts: str, shapes: tuple) -> list:
    """A greedy contraction order for an einsum, found once per expression and shape. Intermediates
    may be one spin axis larger than the largest operand (e.g. (B, N, N) from (B, N) inputs): NumPy's
    default limit (the largest operand) forbids exactly the intermediates that make a cycle O(B N^3)
    instead of O(B N^4)."""
    largest = max(int(np.prod(s)) for s in shapes)
    limit = largest * max(max(s) for s in shapes if s)
    return np.einsum_path(subscripts, *[np.empty(s) for s in shapes], optimize=("greedy", limit))[0]


def contract(xp: ModuleType, subscripts: str, *operands: Any) -> Any:
    """xp.einsum with a cached contraction path (pairwise steps run as BLAS matrix products)."""
    return xp.einsum(subscripts, *operands, optimize=_path(subscripts, tuple(o.shape for o in operands)))


class _Values:
    """Polynomials of m evaluated once per batch chunk (shared between terms)."""

    def __init__(self, m: Any):
        self.m = m
        self._cache: dict[tuple, Any] = {}

    def __call__(self, coeffs: tuple) -> Any:
        if coeffs not in self._cache:
            self._cache[coeffs] = poly_eval(coeffs, self.m)
        return self._cache[coeffs]


def _network_operands(net: Network, powers: dict, vals: _Values, which: dict) -> tuple[list, list]:
    """einsum operand labels and arrays: J^a per edge, q_b (or a derivative) per block."""
    labels, arrays = [], []
    for b, c, a in net.edges:
        labels.append(_LETTERS[b] + _LETTERS[c])
        arrays.append(powers[a])
    for b, poly in enumerate(net.polys):  # the (B, N) operands come last (see _path)
        labels.append("z" + _LETTERS[b])
        arrays.append(vals((poly.c0, poly.c1, poly.c2)[which.get(b, 0)]))
    return labels, arrays


def _network(xp, net: Network, powers, vals, roots: tuple = (), deriv: int | None = None) -> Any:
    """sum over all maps of the network; ``roots`` are output blocks (their polynomial
    differentiated once each, or ``deriv`` times for a single root)."""
    if deriv is not None:
        which = {roots[0]: deriv}
    else:
        which = {b: 1 for b in roots}
    labels, arrays = _network_operands(net, powers, vals, which)
    out = "z" + "".join(_LETTERS[b] for b in roots)
    return contract(xp, ",".join(labels) + "->" + out, *arrays)


def interaction(xp: ModuleType, program: Program, beta: float, powers: dict, m: Any,
                want_grad: bool = False, want_hess: bool = False) -> tuple:
    """Phi(m), and dPhi/dm (B, N) and d2Phi/dm2 (B, N, N) when asked, for m of shape (B, N)."""
    vals = _Values(m)
    B, n = m.shape
    value = xp.zeros(B, dtype=xp.float64)
    grad = xp.zeros((B, n), dtype=xp.float64) if want_grad else None
    hess = xp.zeros((B, n, n), dtype=xp.float64) if want_hess else None
    diag = xp.zeros((B, n), dtype=xp.float64) if want_hess else None
    for bond in program.bonds:
        w = beta**bond.order
        Ja = powers[bond.power]
        for left, right in zip(bond.left, bond.right):
            msg = vals(right.c0) @ Ja                      # (B, N): sum_y J^a_xy f(m_y) m_y^j
            value = value + w * xp.sum(vals(left.c0) * msg, axis=1)
            if want_grad:
                grad = grad + (2 * w) * vals(left.c1) * msg
            if want_hess:
                diag = diag + (2 * w) * vals(left.c2) * msg
                hess = hess + (2 * w) * Ja[None, :, :] * (vals(left.c1)[:, :, None] * vals(right.c1)[:, None, :])
    for net in program.networks:
        w = beta**net.order * net.coef
        value = value + w * _network(xp, net, powers, vals)
        blocks = range(len(net.polys))
        if want_grad:
            for b in blocks:
                grad = grad + w * _network(xp, net, powers, vals, (b,))
        if want_hess:
            for b in blocks:
                diag = diag + w * _network(xp, net, powers, vals, (b,), deriv=2)
                for c in blocks:
                    if c > b:
                        off = w * _network(xp, net, powers, vals, (b, c))
                        hess = hess + off + xp.permute_dims(off, (0, 2, 1))
    if want_hess:
        idx = xp.arange(n)
        hess[:, idx, idx] += diag
    return value, grad, hess


def coupling_powers(xp: ModuleType, J: Any, program: Program) -> dict:
    """{a: J**a elementwise} for the powers the program uses."""
    return {a: J**a for a in program.powers}


__all__ = ["interaction", "coupling_powers", "contract", "poly_eval"]
