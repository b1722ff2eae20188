"""Pairwise (Ising) model E(s) = -sum_k h_k s_k - sum_{k<l} J_kl s_k s_l, J symmetric, zero diagonal."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import asarray, namespace_of
from ..errors import ModelError
from ..states import MAX_SPINS
from ._checks import read_only, real_array, spin_count, spins_batch


class PairwiseModel:
    """An Ising model on N spins with fields ``h`` (N,) and couplings ``J`` (N, N)::

        E(s) = -sum_k h_k s_k - sum_{k<l} J_kl s_k s_l.

    ``J`` must be symmetric (to 1e-12 relative; it is then symmetrised exactly) with a zero diagonal.
    Arrays are stored as float64 NumPy copies, read-only (a model never changes; write a new one);
    computations move them to the namespace of their input.

    Parameters
    ----------
    h : array_like, shape (N,)
        The fields h_k.
    J : array_like, shape (N, N)
        The couplings J_kl: symmetric, zero diagonal (s_k^2 = 1 would make J_kk a constant).
    meta : dict, optional
        Free-form provenance (family, seed, patterns, ...), kept as ``meta``.

    Raises
    ------
    ModelError
        When ``J`` is not square, not symmetric or has a non-zero diagonal, when ``h`` does not match
        ``J``, or when an entry is not a finite real number; the message names the entry.

    Examples
    --------
    >>> import numpy as np
    >>> from thermopot.models import PairwiseModel
    >>> model = PairwiseModel([0.5, 0.0], [[0.0, 1.0], [1.0, 0.0]])
    >>> float(model.energy(np.array([1.0, 1.0])))        # -h.s - J_01 s_0 s_1
    -1.5
    >>> model.flip_energy_changes(np.array([1.0, 1.0]))  # 2 s_k h_k(s)
    array([3., 2.])
    """

    def __init__(self, h: Any, J: Any, meta: dict | None = None):
        J = real_array(J, "J", 2)
        if J.shape[0] != J.shape[1]:
            raise ModelError(f"J must be square, got shape {J.shape}")
        n = spin_count(J.shape[0])
        h = real_array(h, "h", 1)
        if h.shape != (n,):
            raise ModelError(f"h must have shape ({n},) to match J {J.shape}, got {h.shape}")
        asym = np.abs(J - J.T).max() if n > 1 else 0.0
        if asym > 1e-12 * max(1.0, np.abs(J).max()):
            k, l = np.unravel_index(np.argmax(np.abs(J - J.T)), J.shape)
            raise ModelError(f"J must be symmetric: J[{k},{l}] = {float(J[k, l])!r} but "
                             f"J[{l},{k}] = {float(J[l, k])!r}")
        if np.any(np.diag(J) != 0):
            k = int(np.flatnonzero(np.diag(J))[0])
            raise ModelError(f"J must have a zero diagonal (s_k^2 = 1 makes it a constant): "
                             f"J[{k},{k}] = {float(J[k, k])!r}")
        self.h = read_only(h)
        self.J = read_only(0.5 * (J + J.T))
        self.n = n
        self.meta = dict(meta or {})

    def __repr__(self) -> str:
        family = self.meta.get("family", "pairwise")
        return f"PairwiseModel(n={self.n}, family={family!r})"

    def energy(self, s: Any) -> Any:
        """E(s) = -h.s - s.J.s / 2 for states (N,) or (B, N); returns (B,) (or a scalar for (N,))."""
        xp = namespace_of(s)
        x = spins_batch(self.n, s, xp)
        h, J = asarray(self.h, xp), asarray(self.J, xp)
        e = -(x @ h) - 0.5 * xp.sum((x @ J) * x, axis=-1)
        return e[0] if xp.asarray(s).ndim == 1 else e

    def local_fields(self, s: Any) -> Any:
        """Local fields h_k(s) = -dE/ds_k = h_k + sum_l J_kl s_l, shape (B, N) (or (N,))."""
        xp = namespace_of(s)
        x = spins_batch(self.n, s, xp)
        f = asarray(self.h, xp)[None, :] + x @ asarray(self.J, xp)
        return f[0] if xp.asarray(s).ndim == 1 else f

    def flip_energy_changes(self, s: Any) -> Any:
        """Single-flip energy changes dE_k = E(s with s_k -> -s_k) - E(s) = 2 s_k h_k(s)."""
        xp = namespace_of(s)
        return 2.0 * xp.astype(xp.asarray(s), xp.float64) * self.local_fields(s)

    def with_fields(self, extra: Any) -> "PairwiseModel":
        """The same couplings with fields h + extra (the model in an additional external field)."""
        extra = real_array(extra, "extra field", 1)
        if extra.shape != (self.n,):
            raise ModelError(f"extra field must have shape ({self.n},), got {extra.shape}")
        return PairwiseModel(self.h + extra, self.J, self.meta)

    def walsh_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(masks, couplings) of the non-zero Walsh terms: fields on singletons, J_kl on pairs k<l
        (subsets as 64-bit masks: only for N <= 62, the range of exact enumeration)."""
        if self.n > MAX_SPINS:
            raise ModelError(f"Walsh masks need N <= {MAX_SPINS}; this model has N = {self.n}")
        k, l = np.triu_indices(self.n, 1)
        masks = np.concatenate([np.int64(1) << np.arange(self.n, dtype=np.int64),
                                (np.int64(1) << k) | (np.int64(1) << l)])
        couplings = np.concatenate([self.h, self.J[k, l]])
        keep = couplings != 0
        return masks[keep], couplings[keep]

    def to_arrays(self) -> dict:
        """The arrays of the ``.npz`` format: h (N,), J (N, N)."""
        return {"h": self.h, "J": self.J}
