"""Fused GPU sweeps of a dense pairwise model: many sweeps (sequential or random scan) of every chain
in one CUDA launch (``_pairwise_sweeps.cu``, one warp per chain), instead of one array call per spin.

The kernel keeps each chain's local fields H = h + s J and spins in shared memory, draws the
Philox4x32-10 numbers (thresholds and random-scan sites) of :mod:`.philox` itself, and flips spin k
iff 2 s_k H_k < r(u) exactly as the array path (:class:`.kernels.PairwiseKernel`) does with the same
numbers; the two give the same chains up to the last-bit rounding of the field sums. Used by
:class:`.chains.Sampler` on CuPy for a pairwise model with the ``"philox"`` generator, when no
per-update hook is given.
"""

from __future__ import annotations

from importlib import resources
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import cuda_kernel
from ..errors import BackendError
from ..models import PairwiseModel
from .kernels import PairwiseKernel

#: chains (warps of 32 threads) per thread block
WARPS_PER_BLOCK = 2
#: shared memory a block may use without opting in to more (bytes)
SHARED_LIMIT = 48 * 1024
#: shared memory per chain and spin (bytes): an int8 spin, an int8 start spin while a first passage is
#: tracked, and a float64 field unless the fields stay in global memory
FIELD_BYTES, SPIN_BYTES = 8, 1
#: the largest N whose fields (with spins and start spins) fit the shared memory of one chain
MAX_SHARED_FIELD_SPINS = SHARED_LIMIT // (FIELD_BYTES + 2 * SPIN_BYTES)
#: the largest N the fused kernel takes (fields in global memory; spins and start spins shared)
MAX_FUSED_SPINS = SHARED_LIMIT // (2 * SPIN_BYTES)


def kernel_source() -> str:
    """The CUDA C source of the fused sweep kernel."""
    return resources.files(__package__).joinpath("_pairwise_sweeps.cu").read_text()


class FusedPairwiseKernel(PairwiseKernel):
    """:class:`.kernels.PairwiseKernel` with :meth:`advance`: ``sweeps`` sweeps of all chains in one
    launch, with the Philox numbers of sweeps first_sweep, first_sweep + 1, ..."""

    def __init__(self, model: PairwiseModel, s: Any, xp: ModuleType, *, T: float, method: str,
                 scan: str, key: tuple[int, int], warps_per_block: int = WARPS_PER_BLOCK,
                 shared_fields: bool | None = None):
        super().__init__(model, s, xp)
        self.function = cuda_kernel(kernel_source(), "pairwise_sweeps")
        self.T, self.metropolis, self.key = float(T), int(method == "metropolis"), key
        self.random_scan = int(scan == "random")
        #: keep the fields in shared memory (default: when they fit, N <= MAX_SHARED_FIELD_SPINS)
        self.shared_fields = self.n <= MAX_SHARED_FIELD_SPINS if shared_fields is None else bool(shared_fields)
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

    def advance(self, s: Any, sweeps: int, first_sweep: int) -> None:
        """Run ``sweeps`` sweeps on the spins s (B, N) (C-contiguous float64, updated in place)."""
        track = self.passage is not None
        start, passage = (self._start, self.passage) if track else (self._none_f, self._none_i)
        for name, a, dtype in (("spins", s, "float64"), ("fields", self.fields, "float64"),
                               ("couplings", self.J, "float64"), ("flip counts", self.flips, "int64"),
                               ("start states", start, "float64"), ("passage times", passage, "int64")):
            if not a.flags.c_contiguous or str(a.dtype) != dtype:
                raise BackendError(f"the fused kernel needs C-contiguous {dtype} {name}, got {a.dtype} "
                                   f"with strides {a.strides}")
        chains = int(s.shape[0])
        per_warp = self.n * (FIELD_BYTES * self.shared_fields + SPIN_BYTES * (1 + track))
        if per_warp > SHARED_LIMIT:
            raise BackendError(f"one chain of N = {self.n} spins needs {per_warp} bytes of shared memory, "
                               f"more than the {SHARED_LIMIT} a block has"
                               + (" (keep its fields in global memory: shared_fields = False)"
                                  if self.shared_fields else ""))
        warps = max(1, min(self.warps, SHARED_LIMIT // per_warp))
        args = (s, self.fields, self.J, self.flips, np.int32(self.n), np.int32(chains),
                np.int32(sweeps), np.uint64(first_sweep), np.uint32(self.key[0]),
                np.uint32(self.key[1]), np.float64(self.T), np.int32(self.metropolis),
                np.int32(self.random_scan), np.int32(self.shared_fields), np.int32(track), start,
                np.float64(self._threshold_dot),
                passage, np.int64((first_sweep - self._origin) * self.n))
        self.function((-(-chains // warps),), (32 * warps,), args, shared_mem=warps * per_warp)
