"""Philox4x32-10 counter-based random numbers (Salmon et al., SC'11, "Parallel random numbers: as easy
as 1, 2, 3"), written once over the array namespace so that NumPy, CuPy and the fused CUDA sweep
kernel (``_fused_sweeps.cu``) draw the same numbers.

A counter c = (c0, c1, c2, c3) and a key k = (k0, k1) of 32-bit words give four 32-bit words after
ten rounds of

    (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2            (64-bit products split in halves)
    c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0),  then  k += (W0, W1)

with M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85 (the first round uses the
key itself). Nothing is sequential: the number for any (sweep, site, chain) is computed directly.

Layout used by the sampler: counter = (site t, chain b, sweep mod 2^32, sweep div 2^32); key = two words
drawn from ``numpy.random.SeedSequence(seed)``. Of the four output words x0..x3, the uniform of the
update is u = (m + 1/2) 2^-52 with the 52-bit integer m = (x0 << 20) | (x1 >> 12) (never 0 or 1), and
the site of a random-scan update is (x2 N) >> 32 (bias below N 2^-32).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
ROUNDS = 10
_MASK = 0xFFFFFFFF


@functools.lru_cache(maxsize=256)
def philox_key(seed: int) -> tuple[int, int]:
    """The two 32-bit key words of a seed (any non-negative integer), via ``SeedSequence``."""
    k0, k1 = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return int(k0), int(k1)


def philox4x32(counter: tuple[Any, Any, Any, Any], key: tuple[int, int],
               xp: ModuleType) -> tuple[Any, Any, Any, Any]:
    """Philox4x32-10 of counters given as four uint64 arrays holding 32-bit words (broadcast
    together); returns the four output words as uint64 arrays."""
    c0, c1, c2, c3 = (xp.asarray(c, dtype=xp.uint64) for c in counter)
    k0, k1 = int(key[0]), int(key[1])
    m0, m1, mask, shift = (xp.asarray(v, dtype=xp.uint64) for v in (M0, M1, _MASK, 32))
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + W0) & _MASK, (k1 + W1) & _MASK
        p0, p1 = m0 * c0, m1 * c2  # exact: both factors < 2^32
        c0, c1, c2, c3 = ((p1 >> shift) ^ c1 ^ xp.asarray(k0, dtype=xp.uint64), p1 & mask,
                          (p0 >> shift) ^ c3 ^ xp.asarray(k1, dtype=xp.uint64), p0 & mask)
    return c0, c1, c2, c3


def sweep_numbers(key: tuple[int, int], sweep: int, n: int, chains: int, xp: ModuleType,
                  sites: bool = False) -> tuple[Any, Any]:
    """The uniforms u (n, chains) of one sweep's updates (update t of chain b), and, when ``sites``,
    the random-scan sites (n, chains) in 0..n-1 (else None); see the module docstring."""
    t = xp.reshape(xp.arange(n, dtype=xp.uint64), (n, 1))
    b = xp.reshape(xp.arange(chains, dtype=xp.uint64), (1, chains))
    x0, x1, x2, _ = philox4x32((t, b, sweep & _MASK, sweep >> 32), key, xp)
    m = (x0 << xp.asarray(20, dtype=xp.uint64)) | (x1 >> xp.asarray(12, dtype=xp.uint64))
    u = (xp.astype(m, xp.float64) + 0.5) * 2.0**-52
    if not sites:
        return u, None
    site = (x2 * xp.asarray(n, dtype=xp.uint64)) >> xp.asarray(32, dtype=xp.uint64)
    return u, xp.astype(site, xp.int64)
