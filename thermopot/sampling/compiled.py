"""Compiled CPU sweeps: the fused CUDA kernel's algorithm (:mod:`.fused`) on the CPU, with numba.

One loop per chain, the chains spread over the CPU cores (``numba.prange``), every update of a
chunk of sweeps done without returning to Python. Per chain the kernel keeps what the array path
keeps (:mod:`.kernels`): the local fields H = h + s J of a pairwise model, updated by H_j += ds J_kj
on a flip of spin k (ds = -2 s_k), or the Walsh products chi_a of a multi-spin model, negated for the
terms a containing k. Update t of sweep w visits site k = t (sequential scan) or the drawn site
(random scan) and flips iff dE < r, with dE = 2 s_k H_k (pairwise) or 2 sum_{a ∋ k} J_a chi_a
(multi-spin) and r the threshold of the update's uniform u: T log((1 - u) / u) (heat bath) or
-T log u (Metropolis).

The numbers are the array path's, so that the chains are the same for the same seed and generator
(up to the last-bit rounding of the field sums, as between the array path and the CUDA kernel):

- ``"philox"``: u and the random-scan site of update t of chain b in sweep w from the counter
  (t, b, w) (:mod:`.philox`), computed in a compiled loop;
- ``"pcg64"``: drawn from the sampler's NumPy Generator in the order of the array path (per sweep,
  N x B uniforms, then N x B sites for a random scan).

The decision is taken in probability space with one exp (see ``_accept``), and the threshold r is
evaluated in the array path's formula only where u lies within a relative 1e-9 of the acceptance
probability, so the decisions are the array path's bit for bit at the cost of the baseline a user
would write (one exp per update). Like the CUDA kernel it can track a first
passage: D = sum_j s_j s0_j (an exact integer) and, the first time a flip makes D < threshold_dot,
the number of updates since the passage clock started.

numba is an optional dependency (the ``fast`` extra); without it :func:`compiled_kernel` returns None
and the sampler takes the array path.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from ..models import Model, MultiSpinModel, PairwiseModel
from .fused import site_terms
from .kernels import MultiSpinKernel, PairwiseKernel

try:  # numba is optional: without it the sampler takes the array path
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

#: updates (chains x N x sweeps) below which a call runs on one thread: waking the thread pool costs
#: more than the work (measured on 2 busy cores: 0.8 ms against 9 ms per sweep of 128 chains of N = 8)
PARALLEL_MIN_UPDATES = 2**16
#: bytes of per-chunk number buffers (thresholds and sites of several sweeps) the kernel holds at once
NUMBER_BUFFER_BYTES = 8 * 2**20

__all__ = ["available", "compiled_kernel", "CompiledPairwiseKernel", "CompiledMultiSpinKernel",
           "NUMBER_BUFFER_BYTES", "PARALLEL_MIN_UPDATES"]


def available() -> bool:
    """Whether numba is installed (the compiled CPU kernels can run)."""
    return numba is not None


def jit(func: Any) -> Any:
    """``func`` compiled by numba (cached on disk) when numba is installed, else ``func`` itself: for
    loops over small arrays written once, fast with numba and still correct without it."""
    return numba.njit(cache=True)(func) if numba is not None else func


if numba is not None:
    _M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    _W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
    _MASK, _S32, _S20, _S12 = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(20), np.uint64(12)
    #: relative half-width of the band around p(dE) in which the threshold r is evaluated exactly
    _BAND = 1e-9

    @numba.njit(inline="always")
    def _philox(c0, c1, c2, c3, k0, k1):  # pragma: no cover - compiled
        """Philox4x32-10 of one counter (32-bit words held in uint64), as in :mod:`.philox`."""
        for rnd in range(10):
            if rnd > 0:
                k0 = (k0 + _W0) & _MASK
                k1 = (k1 + _W1) & _MASK
            p0 = _M0 * c0
            p1 = _M1 * c2
            c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK
        return c0, c1, c2, c3

    @numba.njit(inline="always")
    def _philox_update(t, b, sweep, k0, k1, n, random_scan):  # pragma: no cover - compiled
        """u and site of update t of chain b in ``sweep``: counter (t, b, sweep mod 2^32, sweep div 2^32),
        u = (m + 1/2) 2^-52 with m = (x0 << 20) | (x1 >> 12), site (x2 N) >> 32 (see :mod:`.philox`)."""
        x0, x1, x2, _ = _philox(np.uint64(t), np.uint64(b), sweep & _MASK, sweep >> _S32, k0, k1)
        u = (np.float64((x0 << _S20) | (x1 >> _S12)) + 0.5) * 2.0**-52
        site = np.int64((x2 * np.uint64(n)) >> _S32) if random_scan else np.int64(t)
        return u, site

    @numba.njit(inline="always")
    def _accept(de, u, T, metropolis):  # pragma: no cover - compiled
        """flip iff dE < r(u), r = T log((1 - u) / u) (heat bath) or -T log u (Metropolis), decided
        first in probability space (u < p(dE), p = 1 / (1 + e^(dE/T)) or e^(-dE/T): one exp) where u is
        clearly on one side of p; only within a relative 1e-9 of p (p is computed to about |dE/T| + 5
        units of the last place) is r evaluated, in the array path's formula with the C library's log, which
        NumPy's (SIMD) log matches to within a few units of the last place: the decision is the array path's
        except where dE lies within those units of r (about 1e-16 of the updates)."""
        if metropolis:
            if de <= 0.0:
                return True
            p = math.exp(-de / T)
        else:
            p = 1.0 / (1.0 + math.exp(de / T))
        if u < p * (1.0 - _BAND):
            return True
        if u > p * (1.0 + _BAND):
            return False
        r = -T * math.log(u) if metropolis else T * (math.log1p(-u) - math.log(u))
        return de < r

    @numba.njit(inline="always")
    def _chain_open(sb, start, passage, b, track):  # pragma: no cover - compiled
        """D = sum_j s_j s0_j of chain b and its first-passage time so far (-1 and unused when not tracking)."""
        dot, hit = 0.0, np.int64(-1)
        if track:
            for j in range(sb.shape[0]):
                dot += sb[j] * start[b, j]
            hit = passage[b]
        return dot, hit

    @numba.njit(inline="always")
    def _flip(sb, k, dot, hit, start, b, track, threshold_dot, update):  # pragma: no cover - compiled
        """Flip spin k of chain b; when tracking, D += 2 s_k(new) s0_k and the first-passage time ``update``
        (updates since the passage clock started) the first time D drops below the threshold."""
        sb[k] = -sb[k]
        if track:
            dot += 2.0 * sb[k] * start[b, k]
            if hit < 0 and dot < threshold_dot:
                hit = update
        return dot, hit

    @numba.njit(inline="always")
    def _sweep_numbers(b, w, u, sites, philox, first_sweep, k0, k1, random_scan, ub, kb):  # pragma: no cover
        """The uniforms ub (N,) and sites kb (N,) of chain b's updates in sweep w of the chunk: Philox
        (a loop without dependencies between updates, which the compiler vectorises) or the drawn numbers."""
        n = ub.shape[0]
        if philox:
            sweep = np.uint64(first_sweep + w)
            for t in range(n):
                ub[t], kb[t] = _philox_update(t, b, sweep, k0, k1, n, random_scan)
        else:
            for t in range(n):
                ub[t] = u[b, w, t]
                kb[t] = sites[b, w, t] if random_scan else t

    @numba.njit(parallel=True, cache=True)
    def _pairwise_sweeps(s, fields, J, temperatures, metropolis, sweeps, philox, key0, key1, first_sweep, u, sites,
                         random_scan, flips, track, start, threshold_dot, passage,
                         first_update):  # pragma: no cover - compiled
        """``sweeps`` sweeps of every chain: decisions and field updates (see the module docstring)."""
        chains, n = s.shape
        k0, k1 = np.uint64(key0), np.uint64(key1)
        for b in numba.prange(chains):
            sb, hb, T = s[b], fields[b], temperatures[b]
            ub, kb = np.empty(n), np.empty(n, dtype=np.int64)
            dot, hit = _chain_open(sb, start, passage, b, track)
            accepted = 0
            for w in range(sweeps):
                _sweep_numbers(b, w, u, sites, philox, first_sweep, k0, k1, random_scan, ub, kb)
                for t in range(n):
                    k = kb[t]
                    sk = sb[k]
                    if _accept(2.0 * sk * hb[k], ub[t], T, metropolis):
                        ds = -2.0 * sk
                        row = J[k]
                        for j in range(n):
                            hb[j] += ds * row[j]
                        accepted += 1
                        dot, hit = _flip(sb, k, dot, hit, start, b, track, threshold_dot, first_update + w * n + t + 1)
            flips[b] += accepted
            if track:
                passage[b] = hit

    @numba.njit(cache=True)
    def _pairwise_energy(s, h, fields, out):  # pragma: no cover - compiled
        """E_b = -sum_j s_bj (h_j + H_bj) / 2 per chain, in one pass without temporaries."""
        chains, n = s.shape
        for b in range(chains):
            e = 0.0
            for j in range(n):
                e += s[b, j] * (h[j] + fields[b, j])
            out[b] = -0.5 * e
        return out

    @numba.njit(parallel=True, cache=True)
    def _multispin_sweeps(s, chi, offsets, terms, couplings, temperatures, metropolis, sweeps, philox, key0, key1,
                          first_sweep, u, sites, random_scan, flips, track, start, threshold_dot, passage,
                          first_update):  # pragma: no cover - compiled
        """``sweeps`` sweeps of every chain: decisions and Walsh-product updates."""
        chains, n = s.shape
        k0, k1 = np.uint64(key0), np.uint64(key1)
        for b in numba.prange(chains):
            sb, xb, T = s[b], chi[b], temperatures[b]
            ub, kb = np.empty(n), np.empty(n, dtype=np.int64)
            dot, hit = _chain_open(sb, start, passage, b, track)
            accepted = 0
            for w in range(sweeps):
                _sweep_numbers(b, w, u, sites, philox, first_sweep, k0, k1, random_scan, ub, kb)
                for t in range(n):
                    k = kb[t]
                    total = 0.0
                    for idx in range(offsets[k], offsets[k + 1]):
                        total += couplings[terms[idx]] * xb[terms[idx]]
                    if _accept(2.0 * total, ub[t], T, metropolis):
                        for idx in range(offsets[k], offsets[k + 1]):
                            xb[terms[idx]] = -xb[terms[idx]]
                        accepted += 1
                        dot, hit = _flip(sb, k, dot, hit, start, b, track, threshold_dot, first_update + w * n + t + 1)
            flips[b] += accepted
            if track:
                passage[b] = hit


@contextlib.contextmanager
def _threads_for(updates: int) -> Iterator[None]:
    """Run the compiled loop on one thread when the work is too small to pay for the pool."""
    if updates >= PARALLEL_MIN_UPDATES:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


class _CompiledSweeps:
    """What both compiled kernels share: the numbers of a chunk of sweeps (Philox or the sampler's PCG64
    stream), buffers sized by NUMBER_BUFFER_BYTES, and first-passage tracking with the interface of
    the fused CUDA kernels (:meth:`track_passage`, :meth:`stop_tracking`, :meth:`advance`)."""

    def _setup(self, *, T: float, method: str, scan: str, key: tuple[int, int],
               rng: np.random.Generator | None) -> None:
        self.method, self.key, self.generator_rng = method, key, rng
        #: the temperature of each chain (B,): T for every chain, or a ladder's (parallel tempering)
        self.temperatures = np.full(self.rows.shape[0], float(T))
        self.random_scan = scan == "random"
        self.passage: Any = None
        self._start, self._threshold_dot, self._origin = None, 0.0, 0
        self._none_f, self._none_i = np.zeros((1, 1)), np.zeros(1, dtype=np.int64)
        self._none_u, self._none_sites = np.zeros((1, 1, 1)), np.zeros((1, 1, 1), dtype=np.int64)
        self.metropolis = method == "metropolis"

    def track_passage(self, start: Any, threshold_dot: float, passage: Any, origin_sweep: int) -> None:
        """From now on, record in ``passage`` (B,) int64 (entries < 0: not yet) the number of updates
        since sweep ``origin_sweep`` after which sum_j s_j start_j first drops below ``threshold_dot``."""
        self._start, self._threshold_dot, self._origin = start, float(threshold_dot), int(origin_sweep)
        self.passage = passage

    def stop_tracking(self) -> None:
        """End the first-passage tracking (``passage`` keeps its values)."""
        self.passage, self._start = None, None

    def _drawn_numbers(self, chains: int, sweeps: int) -> tuple[np.ndarray, np.ndarray]:
        """u (B, w, N) and sites (B, w, N) int64 (a dummy for a sequential scan) drawn from the PCG64
        stream in the array path's order (per sweep N x B uniforms, then N x B sites)."""
        n = self.n
        u = np.empty((chains, sweeps, n))
        sites = np.empty((chains, sweeps, n) if self.random_scan else (1, 1, 1), dtype=np.int64)
        for w in range(sweeps):
            u[:, w, :] = ((self.generator_rng.integers(0, 1 << 52, size=(n, chains)) + 0.5) * 2.0**-52).T
            if self.random_scan:
                sites[:, w, :] = self.generator_rng.integers(0, n, size=(n, chains)).T
        return u, sites

    def advance(self, s: Any, sweeps: int, first_sweep: int) -> None:
        """Run ``sweeps`` sweeps on the spins s (B, N) (C-contiguous float64, updated in place), with
        the numbers of sweeps first_sweep, first_sweep + 1, ... (Philox: computed in the loop; PCG64:
        drawn in chunks of at most NUMBER_BUFFER_BYTES)."""
        chains = int(s.shape[0])
        track = self.passage is not None
        start, passage = (self._start, self.passage) if track else (self._none_f, self._none_i)
        philox = self.generator_rng is None
        step = sweeps if philox else max(1, NUMBER_BUFFER_BYTES // (chains * self.n * 8 * (1 + self.random_scan)))
        done = 0
        while done < sweeps:
            w = min(step, sweeps - done)
            u, sites = self._none_u, self._none_sites
            if not philox:
                u, sites = self._drawn_numbers(chains, w)
            with _threads_for(chains * self.n * w):
                self._run(s, w, philox, first_sweep + done, u, sites, track, start, passage,
                          (first_sweep + done - self._origin) * self.n)
            done += w


class CompiledPairwiseKernel(_CompiledSweeps, PairwiseKernel):
    """:class:`.kernels.PairwiseKernel` with :meth:`advance`: many sweeps in one compiled call."""

    def __init__(self, model: PairwiseModel, s: Any, xp: ModuleType, *, T: float, method: str, scan: str,
                 key: tuple[int, int], rng: np.random.Generator | None = None):
        PairwiseKernel.__init__(self, model, s, xp)
        self._setup(T=T, method=method, scan=scan, key=key, rng=rng)

    def load_couplings(self, model: PairwiseModel) -> None:
        """As the array path's, with J C-contiguous (as the compiled loop reads it)."""
        PairwiseKernel.load_couplings(self, model)
        self.J = np.ascontiguousarray(self.J)

    def energy(self, s: Any) -> Any:
        """E = -s.(h + H) / 2 per chain (the array path's formula, summed in one compiled pass)."""
        return _pairwise_energy(s, self.h, self.fields, np.empty(s.shape[0]))

    def _run(self, s, sweeps, philox, first_sweep, u, sites, track, start, passage, first_update) -> None:
        _pairwise_sweeps(s, self.fields, self.J, self.temperatures, self.metropolis, sweeps, philox, self.key[0],
                         self.key[1], first_sweep, u, sites, self.random_scan, self.flips, track, start,
                         self._threshold_dot, passage, first_update)


class CompiledMultiSpinKernel(_CompiledSweeps, MultiSpinKernel):
    """:class:`.kernels.MultiSpinKernel` with :meth:`advance`, the terms of each site as CSR lists."""

    def __init__(self, model: MultiSpinModel, s: Any, xp: ModuleType, *, T: float, method: str, scan: str,
                 key: tuple[int, int], rng: np.random.Generator | None = None):
        MultiSpinKernel.__init__(self, model, s, xp)
        self._setup(T=T, method=method, scan=scan, key=key, rng=rng)
        self.offsets, self.terms = (a.astype(np.int64) for a in site_terms(model.subsets))

    def _run(self, s, sweeps, philox, first_sweep, u, sites, track, start, passage, first_update) -> None:
        _multispin_sweeps(s, self.chi, self.offsets, self.terms, self.couplings, self.temperatures,
                          self.metropolis,
                          sweeps, philox, self.key[0], self.key[1], first_sweep, u, sites, self.random_scan,
                          self.flips, track, start, self._threshold_dot, passage, first_update)


def compiled_kernel(model: Model, s: Any, xp: ModuleType, **options: Any) -> _CompiledSweeps | None:
    """The compiled CPU kernel for a model on NumPy (None without numba: take the array path)."""
    if numba is None:
        return None
    if isinstance(model, PairwiseModel):
        return CompiledPairwiseKernel(model, s, xp, **options)
    return CompiledMultiSpinKernel(model, s, xp, **options)
