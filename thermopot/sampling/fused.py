"""Fused GPU sweeps: many sweeps (sequential or random scan) of every chain in one CUDA launch
(``_fused_sweeps.cu``, one warp per chain), instead of one array call per spin.

Two kernels, one per model type, with the bookkeeping of the array path (:mod:`.kernels`):
``pairwise_sweeps`` keeps each chain's local fields H = h + s J and flips spin k iff 2 s_k H_k < r(u);
``multispin_sweeps`` keeps the Walsh products chi_a and flips iff 2 sum_{a ∋ k} J_a chi_a < r(u). Both
draw the Philox4x32-10 numbers (thresholds and random-scan sites) of :mod:`.philox` themselves, so
they give the chains of the array path with the same numbers, up to the last-bit rounding of the sums,
and both can track a first passage (the overlap with the start state dropping below a threshold).
Used by :class:`.chains.Sampler` on CuPy with the ``"philox"`` generator, when no per-update hook is
given.
"""

from __future__ import annotations

import abc
from importlib import resources
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import cuda_kernel
from ..errors import BackendError
from ..models import Model, MultiSpinModel, PairwiseModel
from .kernels import MultiSpinKernel, PairwiseKernel

#: chains (warps of 32 threads) per thread block
WARPS_PER_BLOCK = 2
#: shared memory a block may use without opting in to more (bytes)
SHARED_LIMIT = 48 * 1024
#: shared memory per chain (bytes): an int8 spin and, while a first passage is tracked, an int8 start
#: spin per site; a float64 field per site (pairwise) or an int8 Walsh product per term (multi-spin)
#: unless those stay in global memory
FIELD_BYTES, SPIN_BYTES, PRODUCT_BYTES = 8, 1, 1
#: the largest N whose fields (with spins and start spins) fit the shared memory of one chain
MAX_SHARED_FIELD_SPINS = SHARED_LIMIT // (FIELD_BYTES + 2 * SPIN_BYTES)
#: the largest N the fused kernels take (fields or products in global memory; spins shared)
MAX_FUSED_SPINS = SHARED_LIMIT // (2 * SPIN_BYTES)


def site_terms(subsets: Any) -> tuple[np.ndarray, np.ndarray]:
    """The terms containing each site as CSR lists: int32 offsets (N + 1,) and terms, the terms of
    site k being terms[offsets[k]:offsets[k + 1]] in increasing order."""
    site, term = np.nonzero(np.asarray(subsets, dtype=bool).T)  # sorted by site, then term
    offsets = np.concatenate([[0], np.cumsum(np.bincount(site, minlength=np.shape(subsets)[1]))])
    return offsets.astype(np.int32), term.astype(np.int32)


def kernel_source() -> str:
    """The CUDA C source of the fused sweep kernels."""
    return resources.files(__package__).joinpath("_fused_sweeps.cu").read_text()


class _FusedSweeps(abc.ABC):
    """What both fused kernels share: the launch, its configuration and first-passage tracking.
    Subclasses name their CUDA function and give their model arrays, shared-memory use and mode."""

    function_name = ""

    def _setup(self, xp: ModuleType, *, T: float, method: str, scan: str, key: tuple[int, int],
               warps_per_block: int) -> None:
        self.function = cuda_kernel(kernel_source(), self.function_name)
        self.T, self.metropolis, self.key = float(T), int(method == "metropolis"), key
        self.random_scan = int(scan == "random")
        self.set_warps_per_block(warps_per_block)
        self.passage: Any = None  # (B,) int64 while a first passage is tracked (see track_passage)
        self._start, self._threshold_dot, self._origin = None, 0.0, 0
        self._none_f, self._none_i = xp.zeros(1, dtype=xp.float64), xp.zeros(1, dtype=xp.int64)

    def set_warps_per_block(self, warps: int) -> None:
        """Chains per thread block (at most as many as fit SHARED_LIMIT at the launch)."""
        self.warps = max(1, int(warps))

    def track_passage(self, start: Any, threshold_dot: float, passage: Any, origin_sweep: int) -> None:
        """From now on, record in ``passage`` (B,) int64 (entries < 0: not yet) the number of updates
        since sweep ``origin_sweep`` after which sum_j s_j start_j first drops below
        ``threshold_dot`` (see the kernel source); :meth:`stop_tracking` ends it."""
        self._start, self._threshold_dot, self._origin = start, float(threshold_dot), int(origin_sweep)
        self.passage = passage

    def stop_tracking(self) -> None:
        """End the first-passage tracking (``passage`` keeps its values)."""
        self.passage, self._start = None, None

    @abc.abstractmethod
    def _model_arrays(self) -> list[tuple[str, Any, str]]:
        """(name, array, dtype) of the model's arrays passed after the spins."""

    def _model_scalars(self) -> tuple:
        """Scalars passed after the model's arrays."""
        return ()

    @abc.abstractmethod
    def _shared_mode(self) -> bool:
        """Whether the fields (or products) live in shared memory."""

    @abc.abstractmethod
    def _shared_bytes(self, track: bool) -> int:
        """Shared memory of one chain (bytes)."""

    def advance(self, s: Any, sweeps: int, first_sweep: int) -> None:
        """Run ``sweeps`` sweeps on the spins s (B, N) (C-contiguous float64, updated in place)."""
        track = self.passage is not None
        start, passage = (self._start, self.passage) if track else (self._none_f, self._none_i)
        model = self._model_arrays()
        for name, a, dtype in [("spins", s, "float64"), *model, ("flip counts", self.flips, "int64"),
                               ("start states", start, "float64"), ("passage times", passage, "int64")]:
            if not a.flags.c_contiguous or str(a.dtype) != dtype:
                raise BackendError(f"the fused kernel needs C-contiguous {dtype} {name}, got {a.dtype} "
                                   f"with strides {a.strides}")
        chains, per_warp = int(s.shape[0]), self._shared_bytes(track)
        if per_warp > SHARED_LIMIT:
            raise BackendError(f"one chain needs {per_warp} bytes of shared memory in the fused kernel, "
                               f"more than the {SHARED_LIMIT} a block has")
        warps = max(1, min(self.warps, SHARED_LIMIT // per_warp))
        args = (s, *(a for _, a, _ in model), *self._model_scalars(), self.flips, np.int32(self.n),
                np.int32(chains), np.int32(sweeps), np.uint64(first_sweep), np.uint32(self.key[0]),
                np.uint32(self.key[1]), np.float64(self.T), np.int32(self.metropolis),
                np.int32(self.random_scan), np.int32(self._shared_mode()), np.int32(track), start,
                np.float64(self._threshold_dot), passage, np.int64((first_sweep - self._origin) * self.n))
        self.function((-(-chains // warps),), (32 * warps,), args, shared_mem=warps * per_warp)


class FusedPairwiseKernel(_FusedSweeps, PairwiseKernel):
    """:class:`.kernels.PairwiseKernel` with :meth:`advance`: ``sweeps`` sweeps of all chains in one
    launch, with the Philox numbers of sweeps first_sweep, first_sweep + 1, ..."""

    function_name = "pairwise_sweeps"

    def __init__(self, model: PairwiseModel, s: Any, xp: ModuleType, *, T: float, method: str,
                 scan: str, key: tuple[int, int], warps_per_block: int = WARPS_PER_BLOCK,
                 shared_fields: bool | None = None):
        PairwiseKernel.__init__(self, model, s, xp)
        self._setup(xp, T=T, method=method, scan=scan, key=key, warps_per_block=warps_per_block)
        #: keep the fields in shared memory (default: when they fit, N <= MAX_SHARED_FIELD_SPINS)
        self.shared_fields = (self.n <= MAX_SHARED_FIELD_SPINS if shared_fields is None
                              else bool(shared_fields))

    def _model_arrays(self) -> list[tuple[str, Any, str]]:
        return [("fields", self.fields, "float64"), ("couplings", self.J, "float64")]

    def _shared_mode(self) -> bool:
        return self.shared_fields

    def _shared_bytes(self, track: bool) -> int:
        return self.n * (FIELD_BYTES * self.shared_fields + SPIN_BYTES * (1 + track))


class FusedMultiSpinKernel(_FusedSweeps, MultiSpinKernel):
    """:class:`.kernels.MultiSpinKernel` with :meth:`advance`, the terms of each site as CSR lists."""

    function_name = "multispin_sweeps"

    def __init__(self, model: MultiSpinModel, s: Any, xp: ModuleType, *, T: float, method: str,
                 scan: str, key: tuple[int, int], warps_per_block: int = WARPS_PER_BLOCK,
                 shared_products: bool | None = None):
        MultiSpinKernel.__init__(self, model, s, xp)
        self._setup(xp, T=T, method=method, scan=scan, key=key, warps_per_block=warps_per_block)
        offsets, terms = site_terms(model.subsets)
        self.offsets, self.terms = xp.asarray(offsets), xp.asarray(terms)
        self.n_terms = int(model.subsets.shape[0])
        fits = (2 * SPIN_BYTES * self.n + PRODUCT_BYTES * self.n_terms) <= SHARED_LIMIT
        #: keep the Walsh products in shared memory (default: when they fit)
        self.shared_products = fits if shared_products is None else bool(shared_products)

    def _model_arrays(self) -> list[tuple[str, Any, str]]:
        return [("Walsh products", self.chi, "float64"), ("term offsets", self.offsets, "int32"),
                ("terms", self.terms, "int32"), ("couplings", self.couplings, "float64")]

    def _model_scalars(self) -> tuple:
        return (np.int32(self.n_terms),)

    def _shared_mode(self) -> bool:
        return self.shared_products

    def _shared_bytes(self, track: bool) -> int:
        return SPIN_BYTES * self.n * (1 + track) + PRODUCT_BYTES * self.n_terms * self.shared_products


def fused_kernel(model: Model, s: Any, xp: ModuleType, **options: Any) -> _FusedSweeps | None:
    """The fused kernel for a model (None when none applies: N > MAX_FUSED_SPINS)."""
    if model.n > MAX_FUSED_SPINS:
        return None
    if isinstance(model, PairwiseModel):
        return FusedPairwiseKernel(model, s, xp, **options)
    return FusedMultiSpinKernel(model, s, xp, **options)
