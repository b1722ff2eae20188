"""General multi-spin model in the Walsh basis: E(s) = -sum_alpha J_alpha prod_{k in alpha} s_k."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import asarray, namespace_of
from ..errors import ModelError
from ..states import MAX_SPINS, mask_subsets, subset_masks, walsh_couplings
from ._checks import read_only, real_array, spin_count, spins_batch


class MultiSpinModel:
    """A model with couplings ``couplings`` (K,) on the spin subsets ``subsets`` (K, N) boolean::

        E(s) = -sum_alpha J_alpha prod_{k in alpha} s_k.

    The empty subset is the constant term, singletons are fields, pairs are pairwise couplings.
    Subsets must be distinct (use :meth:`from_terms` to merge repeated subsets by summing them, and
    :meth:`from_energy_table` for the full Walsh description of an energy table). The model keeps
    read-only copies of its arrays (a model never changes; write a new one).

    Parameters
    ----------
    subsets : array_like of bool (or 0/1), shape (K, N)
        Row a says which spins belong to subset alpha_a.
    couplings : array_like, shape (K,)
        The couplings J_alpha, one per subset.
    meta : dict, optional
        Free-form provenance, kept as ``meta``.

    Raises
    ------
    ModelError
        When ``subsets`` is not a (K, N) boolean array, a subset appears twice, ``couplings`` does not
        match ``subsets``, or a coupling is not a finite real number.

    Examples
    --------
    >>> import numpy as np
    >>> from thermopot.models import MultiSpinModel
    >>> model = MultiSpinModel([[True, True, True]], [1.0])   # E(s) = -s_0 s_1 s_2
    >>> model.energy(np.array([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]))
    array([ 1., -1.])
    """

    def __init__(self, subsets: Any, couplings: Any, meta: dict | None = None):
        try:
            sub = np.asarray(subsets)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"subsets must be a boolean array ({exc})") from None
        if sub.ndim != 2:
            raise ModelError(f"subsets must have shape (K, N), got {sub.shape}")
        if sub.dtype != bool:
            if not np.isin(sub, (0, 1)).all():
                raise ModelError("subsets must be boolean (or 0/1): entry k of row a says whether "
                                 "spin k belongs to subset a")
            sub = sub.astype(bool)
        n = spin_count(sub.shape[1], MAX_SPINS)  # subsets are stored as 64-bit masks
        couplings = real_array(couplings, "couplings", 1)
        if couplings.shape != (sub.shape[0],):
            raise ModelError(f"couplings must have shape ({sub.shape[0]},) to match subsets "
                             f"{sub.shape}, got {couplings.shape}")
        masks = subset_masks(sub)
        uniq, counts = np.unique(masks, return_counts=True)
        if (counts > 1).any():
            dup = np.flatnonzero(sub[np.flatnonzero(masks == uniq[counts > 1][0])[0]]).tolist()
            raise ModelError(f"subset {dup} appears more than once; merge repeated subsets with "
                             "MultiSpinModel.from_terms")
        self.subsets = read_only(sub.copy())
        self.couplings = read_only(couplings)
        self.masks = read_only(masks)
        self.n = n
        self.meta = dict(meta or {})

    @classmethod
    def from_terms(cls, subsets: Any, couplings: Any, n: int | None = None,
                   meta: dict | None = None) -> "MultiSpinModel":
        """Build from subsets given as boolean rows or as lists of spin indices (then ``n`` is
        required); repeated subsets are merged by summing their couplings."""
        couplings = real_array(couplings, "couplings", 1)
        if n is not None:
            rows = np.zeros((len(couplings), spin_count(int(n))), dtype=bool)
            for a, members in enumerate(subsets):
                members = list(members)
                if any(not 0 <= int(k) < n for k in members):
                    raise ModelError(f"subset {members} names a spin outside 0..{n - 1}")
                rows[a, members] = True
        else:
            rows = np.asarray(subsets, dtype=bool)
        if rows.ndim != 2 or rows.shape[0] != couplings.shape[0]:
            raise ModelError(f"{couplings.shape[0]} couplings need as many subsets, got {rows.shape}")
        masks = subset_masks(rows)
        uniq, inverse = np.unique(masks, return_inverse=True)
        summed = np.zeros(len(uniq))
        np.add.at(summed, inverse, couplings)
        return cls(mask_subsets(uniq, rows.shape[1]), summed, meta)

    @classmethod
    def from_energy_table(cls, energies: Any, tol: float = 0.0,
                          meta: dict | None = None) -> "MultiSpinModel":
        """The full Walsh description of an energy table E (2^N,) in index order (theory.md
        section 3): J = -H E / 2^N, keeping couplings with |J_alpha| > tol."""
        e = real_array(energies, "energies", 1)
        n = len(e).bit_length() - 1
        if len(e) < 2 or 2**n != len(e):
            raise ModelError(f"an energy table needs 2^N entries, got {len(e)}")
        J = np.asarray(walsh_couplings(e))
        keep = np.flatnonzero(np.abs(J) > tol)
        return cls(mask_subsets(keep, n), J[keep], meta)

    def __repr__(self) -> str:
        return f"MultiSpinModel(n={self.n}, terms={len(self.couplings)}, order={self.order})"

    @property
    def order(self) -> int:
        """The largest subset size with a coupling (0 for a constant model)."""
        return int(self.subsets.sum(axis=1).max()) if len(self.couplings) else 0

    def _products(self, x: Any, xp: Any) -> Any:
        """prod_{k in alpha} s_k for every state (rows of x) and subset: (B, K) of +-1."""
        bits = (1.0 - x) * 0.5
        parity = (bits @ asarray(self.subsets.T, xp)) % 2.0
        return 1.0 - 2.0 * parity

    def energy(self, s: Any) -> Any:
        """E(s) = -sum_alpha J_alpha chi_alpha(s) for states (N,) or (B, N)."""
        xp = namespace_of(s)
        x = spins_batch(self.n, s, xp)
        e = -(self._products(x, xp) @ asarray(self.couplings, xp))
        return e[0] if xp.asarray(s).ndim == 1 else e

    def local_fields(self, s: Any) -> Any:
        """h_k(s) = -dE/ds_k = s_k sum_{alpha containing k} J_alpha chi_alpha(s)."""
        xp = namespace_of(s)
        x = spins_batch(self.n, s, xp)
        weighted = self._products(x, xp) * asarray(self.couplings, xp)[None, :]
        f = x * (weighted @ asarray(self.subsets, xp))
        return f[0] if xp.asarray(s).ndim == 1 else f

    def flip_energy_changes(self, s: Any) -> Any:
        """Single-flip energy changes dE_k = 2 s_k h_k(s) = 2 sum_{alpha containing k} J_alpha chi_alpha."""
        xp = namespace_of(s)
        return 2.0 * xp.astype(xp.asarray(s), xp.float64) * self.local_fields(s)

    def with_fields(self, extra: Any) -> "MultiSpinModel":
        """The same model with the extra field term -sum_k extra_k s_k added."""
        extra = real_array(extra, "extra field", 1)
        if extra.shape != (self.n,):
            raise ModelError(f"extra field must have shape ({self.n},), got {extra.shape}")
        eye = np.eye(self.n, dtype=bool)
        return MultiSpinModel.from_terms(np.concatenate([self.subsets, eye]),
                                         np.concatenate([self.couplings, extra]), meta=self.meta)

    def walsh_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(masks, couplings) of the non-zero Walsh terms."""
        keep = self.couplings != 0
        return self.masks[keep], self.couplings[keep]

    def to_arrays(self) -> dict:
        """The arrays of the ``.npz`` format: subsets (K, N) boolean, couplings (K,)."""
        return {"subsets": self.subsets, "couplings": self.couplings}
