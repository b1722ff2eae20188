"""Single-spin updates of B chains at once, with the per-model bookkeeping that makes one update cheap.

An update of spin k in a chain with state s proposes s_k -> -s_k, with energy change
dE = E(s^k) - E(s) = 2 s_k h_k(s) (h_k = -dE/ds_k the local field), and accepts it with probability

    heat bath (Gibbs):  p(dE) = 1 / (1 + exp(dE / T))
    Metropolis:         p(dE) = min(1, exp(-dE / T)).

Both satisfy detailed balance p(dE) / p(-dE) = exp(-dE / T). With a uniform u in (0, 1) the update
flips iff dE < r(u), where r = T log((1 - u) / u) (heat bath) or r = -T log u (Metropolis): the
thresholds r are computed for a whole sweep at once, so a single update costs one comparison.

Bookkeeping (what each kernel keeps current between updates, per chain):

- pairwise: the local fields H = h + S J (B, N). A flip of spin k in some chains is the rank-1 update
  H += ds_k J_k (ds = s_new - s_old) of the chains that flipped: O(B_flip N) per update (B_flip the
  chains that flipped, a flip rate of 0.2-0.3 at T = 1 on SK), O(B N^2) per sweep. A sequential sweep delays these updates over blocks of ``block`` consecutive spins (fields
  inside the block are corrected with the block's own couplings) and applies them as one matrix
  product H += dS_block J_block: the same arithmetic as a BLAS-3 call.
- multi-spin: the Walsh products chi_alpha(s) (B, K); dE_k = 2 sum_{alpha containing k} J_alpha
  chi_alpha (O(B K) per update), and a flip of spin k negates the chi_alpha with k in alpha in the
  chains that flipped.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..backend import asarray
from ..models import Model, MultiSpinModel, PairwiseModel

METHODS = ("heat-bath", "metropolis")
#: recompute the kernel bookkeeping from the spins every this many sweeps (bounds rounding drift); the
#: most sweeps a fused or compiled kernel runs in one call
REFRESH_SWEEPS = 64
SCANS = ("sequential", "random")
#: spins per delayed-update block of a sequential pairwise sweep
PAIRWISE_BLOCK = 64
#: hook(t, k, flip, new): after update t (0..N-1) of a sweep, at sites k (an int, or (B,) per chain),
#: with flip (B,) bool (which chains flipped) and new (B,) the spins s_k after the update
Hook = Callable[[int, Any, Any, Any], None]


def flip_thresholds(method: str, u: Any, T: float, xp: ModuleType) -> Any:
    """Thresholds r(u) on dE (flip iff dE < r) for uniforms u in (0, 1) (see the module docstring)."""
    if method == "heat-bath":
        return T * (xp.log1p(-u) - xp.log(u))
    return -T * xp.log(u)


def _flipped(flip: Any, xp: ModuleType) -> Any:
    """Indices of the chains whose update flipped (an update of the others changes no bookkeeping; with
    flip rates of 0.2-0.3 this makes the random-scan update 2-3 times cheaper at N >= 256)."""
    return xp.nonzero(flip)[0]


def _sites(k: Any, idx: Any, xp: ModuleType) -> Any:
    """The updated site of the chains ``idx``: k itself (one site for all chains) or k[idx]."""
    return k if isinstance(k, int) else xp.take(k, idx)


class _Kernel:
    """Per-model state for single-spin updates; subclasses define ``delta``, ``apply``, ``energy``
    and ``product_flops``."""

    def __init__(self, n: int, chains: int, xp: ModuleType):
        self.n, self.xp = n, xp
        self.rows = xp.arange(chains)
        self.flips = xp.zeros(chains, dtype=xp.int64)  # accepted flips per chain

    def sweep(self, s: Any, r: Any, sites: Any, hook: Hook | None) -> None:
        """One sweep of N updates on spins s (B, N) in place: update t visits site t (sequential,
        ``sites`` None) or sites[t] (B,) (random scan); r (N, B) are the flip thresholds."""
        rows = self.rows
        for t in range(self.n):
            k = t if sites is None else sites[t]
            sk = s[rows, k]
            flip = self.delta(sk, k) < r[t]
            ds = -2.0 * sk * flip
            new = sk + ds
            s[rows, k] = new
            self.apply(k, flip, ds)
            self.flips += flip
            if hook is not None:
                hook(t, k, flip, new)


class PairwiseKernel(_Kernel):
    """Local fields H = h + S J of every chain, updated by rank-1 (or delayed block) updates."""

    def __init__(self, model: PairwiseModel, s: Any, xp: ModuleType):
        super().__init__(model.n, s.shape[0], xp)
        self.load_couplings(model)
        self.refresh(s)

    def refresh(self, s: Any) -> None:
        """Recompute the fields from scratch (removes rounding drift of the incremental updates)."""
        self.fields = self.h[None, :] + s @ self.J

    def load_couplings(self, model: PairwiseModel) -> None:
        """Run with the fields and couplings of another pairwise model of the same size (the
        bookkeeping is then stale: :meth:`refresh` it). The kernel refers to the model's arrays and
        never writes into them."""
        self.h, self.J = asarray(model.h, self.xp), asarray(model.J, self.xp)

    def delta(self, sk: Any, k: Any) -> Any:
        return 2.0 * sk * self.fields[self.rows, k]

    def apply(self, k: Any, flip: Any, ds: Any) -> None:
        """H += ds_b J_k for the chains b that flipped only (the others would add zeros)."""
        idx = _flipped(flip, self.xp)
        if idx.shape[0]:
            self.fields[idx] += ds[idx, None] * self.J[_sites(k, idx, self.xp)]

    def product_flops(self, scan: str) -> float:
        """Flops of the largest matrix product a sweep makes: the delayed block update
        H += dS_block J_block, 2 B b N (sequential scan); none per update for a random scan (the
        refresh, 2 B N^2 every REFRESH_SWEEPS sweeps, is amortised)."""
        b, n = float(self.rows.shape[0]), self.n
        return 2.0 * b * min(PAIRWISE_BLOCK, n) * n if scan == "sequential" else 0.0

    def energy(self, s: Any) -> Any:
        """E = -s.h - s.J.s / 2 = -s.(h + H) / 2 per chain, from the current fields: O(B N)."""
        return -0.5 * self.xp.sum(s * (self.h[None, :] + self.fields), axis=1)

    def sweep(self, s: Any, r: Any, sites: Any, hook: Hook | None) -> None:
        if sites is not None:
            super().sweep(s, r, sites, hook)
            return
        # Sequential: within a block a..b-1 the field of site t is its value at the block start plus
        # the block's own flips, h_t = h0_t + sum_{t' < t} J_{t' t} ds_{t'} (one small matrix-vector
        # product); after the block, H += dS J[a:b] (one matrix product). Rows are (site, chain).
        xp = self.xp
        for a in range(0, self.n, PAIRWISE_BLOCK):
            b = min(a + PAIRWISE_BLOCK, self.n)
            minus2s = -2.0 * s[:, a:b].T  # ds_t = minus2s_t where site t flips
            h0 = self.fields[:, a:b].T.copy()
            jbb = self.J[a:b, a:b]
            ds = xp.zeros_like(minus2s)
            for t in range(b - a):
                field = h0[t] + jbb[t, :t] @ ds[:t] if t else h0[t]
                flip = minus2s[t] * field > -r[a + t]  # dE = 2 s_t h_t < r
                ds[t] = minus2s[t] * flip
                if hook is not None:
                    hook(a + t, a + t, flip, s[:, a + t] + ds[t])
            s[:, a:b] += ds.T
            self.fields += ds.T @ self.J[a:b]
            self.flips += xp.sum(ds != 0, axis=0)

    def cache(self) -> Any:
        return self.fields

    def load_cache(self, fields: Any) -> None:
        self.fields = asarray(fields, self.xp)


class MultiSpinKernel(_Kernel):
    """Walsh products chi_alpha(s) (B, K) of every chain, negated where a flipped spin enters."""

    def __init__(self, model: MultiSpinModel, s: Any, xp: ModuleType):
        super().__init__(model.n, s.shape[0], xp)
        self.couplings = asarray(model.couplings, xp)
        self.incidence = asarray(model.subsets.T, xp)  # (N, K): 1 where spin k is in subset alpha
        self.weighted = self.incidence * self.couplings[None, :]
        self.refresh(s)

    def refresh(self, s: Any) -> None:
        """Recompute the products from scratch (they stay exact +-1, so this is only for new states)."""
        parity = ((1.0 - s) * 0.5) @ self.incidence % 2.0
        self.chi = 1.0 - 2.0 * parity

    def delta(self, sk: Any, k: Any) -> Any:
        return 2.0 * self.xp.sum(self.chi * self.weighted[k], axis=-1)

    def apply(self, k: Any, flip: Any, ds: Any) -> None:
        """chi_a -> -chi_a for the subsets a containing k, in the chains that flipped only."""
        idx = _flipped(flip, self.xp)
        if idx.shape[0]:
            self.chi[idx] *= 1.0 - 2.0 * self.incidence[_sites(k, idx, self.xp)]

    def product_flops(self, scan: str) -> float:
        """Flops of the largest matrix product a sweep makes: none per update (the energy chi J,
        2 B K, once per recording)."""
        return 2.0 * float(self.rows.shape[0]) * self.couplings.shape[0]

    def energy(self, s: Any) -> Any:
        """E = -sum_alpha J_alpha chi_alpha per chain: O(B K)."""
        return -(self.chi @ self.couplings)

    def cache(self) -> Any:
        return self.chi

    def load_cache(self, chi: Any) -> None:
        self.chi = asarray(chi, self.xp)


def make_kernel(model: Model, s: Any, xp: ModuleType) -> _Kernel:
    """The update kernel for a model's type, initialised for the states s (B, N)."""
    if isinstance(model, PairwiseModel):
        return PairwiseKernel(model, s, xp)
    return MultiSpinKernel(model, s, xp)
