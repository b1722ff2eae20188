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
#: shared memory per chain and spin: a float64 field and an int8 spin (bytes)
BYTES_PER_SPIN = 9
#: the largest N the fused kernel takes (one chain's fields and spins fit the shared memory)
MAX_FUSED_SPINS = SHARED_LIMIT // BYTES_PER_SPIN


def kernel_source() -> str:
    """The CUDA C source of the fused sweep kernel."""
    return resources.files(__package__).joinpath("_pairwise_sweeps.cu").read_text()


class FusedPairwiseKernel(PairwiseKernel):
    """:class:`.kernels.PairwiseKernel` with :meth:`advance`: ``sweeps`` sweeps of all chains in one
    launch, with the Philox numbers of sweeps first_sweep, first_sweep + 1, ..."""

    def __init__(self, model: PairwiseModel, s: Any, xp: ModuleType, *, T: float, method: str,
                 scan: str, key: tuple[int, int], warps_per_block: int = WARPS_PER_BLOCK):
        super().__init__(model, s, xp)
        self.function = cuda_kernel(kernel_source(), "pairwise_sweeps")
        self.T, self.metropolis, self.key = float(T), int(method == "metropolis"), key
        self.random_scan = int(scan == "random")
        self.set_warps_per_block(warps_per_block)

    def set_warps_per_block(self, warps: int) -> None:
        """Chains per thread block, capped where their shared memory would pass SHARED_LIMIT."""
        self.warps = max(1, min(int(warps), SHARED_LIMIT // (BYTES_PER_SPIN * self.n)))

    def advance(self, s: Any, sweeps: int, first_sweep: int) -> None:
        """Run ``sweeps`` sweeps on the spins s (B, N) (C-contiguous float64, updated in place)."""
        for name, a, dtype in (("spins", s, "float64"), ("fields", self.fields, "float64"),
                               ("couplings", self.J, "float64"), ("flip counts", self.flips, "int64")):
            if not a.flags.c_contiguous or str(a.dtype) != dtype:
                raise BackendError(f"the fused kernel needs C-contiguous {dtype} {name}, got {a.dtype} "
                                   f"with strides {a.strides}")
        chains = int(s.shape[0])
        blocks = -(-chains // self.warps)
        args = (s, self.fields, self.J, self.flips, np.int32(self.n), np.int32(chains),
                np.int32(sweeps), np.uint64(first_sweep), np.uint32(self.key[0]),
                np.uint32(self.key[1]), np.float64(self.T), np.int32(self.metropolis),
                np.int32(self.random_scan))
        self.function((blocks,), (32 * self.warps,), args,
                      shared_mem=self.warps * self.n * BYTES_PER_SPIN)
