"""The state space of N binary spins.

Convention (theory.md section 0): the integer index i of a state is its bit pattern, bit b_k(i) maps to
spin s_k = 1 - 2 b_k, so state 0 is all +1 and setting bit k flips spin k to -1.

A Walsh subset alpha of {0..N-1} is encoded the same way, as the integer mask with bit k set for
k in alpha. The Walsh function of a state is then::

    chi_alpha(s) = prod_{k in alpha} s_k = (-1)^popcount(i & alpha),

so the unnormalised Walsh-Hadamard matrix H_{i,alpha} = chi_alpha(s^(i)) maps couplings to energies::

    E(s) = -sum_alpha J_alpha chi_alpha(s)      <=>  E = -H J,
    J_alpha = -2^-N sum_s E(s) chi_alpha(s)     <=>  J = -H E / 2^N      (H H = 2^N I).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from .backend import Array, get_namespace, namespace_of, to_numpy
from .errors import ThermopotError

#: largest N whose state indices fit in a signed 64-bit integer with room to spare
MAX_SPINS = 62


def _check_n(n: int) -> int:
    if int(n) != n or n < 1 or n > MAX_SPINS:
        raise ThermopotError(f"number of spins must be an integer in 1..{MAX_SPINS}, got {n!r}")
    return int(n)


def index_to_bits(index: Any, n: int, xp: ModuleType | None = None, dtype: Any = None) -> Any:
    """Bits b_k(i) in {0, 1}, shape index.shape + (n,), for integer state indices."""
    n = _check_n(n)
    xp = xp or namespace_of(index)
    idx = xp.asarray(index, dtype=xp.int64)
    shifts = xp.arange(n, dtype=xp.int64)
    bits = xp.bitwise_and(xp.right_shift(idx[..., None], shifts), 1)
    return bits if dtype is None else xp.astype(bits, dtype)


def index_to_spins(index: Any, n: int, xp: ModuleType | None = None, dtype: Any = None) -> Any:
    """Spins s_k = 1 - 2 b_k(i), shape index.shape + (n,), float64 unless ``dtype`` says otherwise."""
    xp = xp or namespace_of(index)
    bits = index_to_bits(index, n, xp)
    return xp.astype(1 - 2 * bits, dtype if dtype is not None else xp.float64)


def spins_to_index(spins: Any) -> Any:
    """Integer index i = sum_k b_k 2^k of states given as +-1 spins, shape spins.shape[:-1]."""
    xp = namespace_of(spins)
    s = xp.asarray(spins)
    n = _check_n(s.shape[-1])
    bits = xp.astype(s < 0, xp.int64)
    weights = xp.left_shift(xp.ones(n, dtype=xp.int64), xp.arange(n, dtype=xp.int64))
    return xp.sum(bits * weights, axis=-1)


def state_keys(spins: Any) -> np.ndarray:
    """One fixed-width key per state of +-1 spins (..., N), any N, as NumPy: the bits s_k > 0 packed eight
    to a byte and read as one void scalar of ceil(N / 8) bytes, shape spins.shape[:-1]. Equal states have
    equal keys; keys sort, compare and search (``np.unique``, ``np.isin``, ``np.searchsorted``) byte by byte."""
    s = np.asarray(to_numpy(spins))
    packed = np.ascontiguousarray(np.packbits(s > 0, axis=-1))
    return packed.view(np.dtype((np.void, packed.shape[-1])))[..., 0]


def _searchable(keys: np.ndarray) -> np.ndarray:
    """Keys of at most 8 bytes (N <= 64) as uint64 integers (the same equalities; integer comparisons are
    several times faster than byte-wise ones), wider keys as they are."""
    width = keys.dtype.itemsize
    if width > 8:
        return keys
    padded = np.zeros(keys.shape + (8,), dtype=np.uint8)
    padded[..., :width] = keys.view(np.uint8).reshape(keys.shape + (width,))
    return padded.view("<u8")[..., 0]


def state_rows(spins: Any, reference: Any) -> np.ndarray:
    """The row of ``reference`` (K, N) of +-1 equal to each state of ``spins`` (..., N) (the first such row
    when the reference repeats a state), or -1 where none is (int64, shape spins.shape[:-1]): a search of the
    states' keys (:func:`state_keys`) among the sorted keys of the reference, vectorised over any number of
    states."""
    ref = _searchable(state_keys(np.asarray(to_numpy(reference)).reshape(-1, np.shape(spins)[-1])))
    keys = _searchable(state_keys(spins))
    if ref.size == 0:
        return np.full(keys.shape, -1, dtype=np.int64)
    order = np.argsort(ref, kind="stable")
    pos = np.minimum(np.searchsorted(ref[order], keys), ref.size - 1)
    return np.where(ref[order][pos] == keys, order[pos], -1).astype(np.int64)


def all_states(n: int, backend: Any = None, dtype: Any = None) -> Any:
    """All 2^n states as a (2^n, n) array of +-1, in index order (refuses n > 24: use state_blocks)."""
    n = _check_n(n)
    if n > 24:
        raise ThermopotError(f"all_states(n={n}) would hold {2**n * n} numbers; stream with state_blocks")
    xp = get_namespace(backend)
    return index_to_spins(xp.arange(2**n, dtype=xp.int64), n, xp, dtype)


def state_blocks(n: int, block_size: int, backend: Any = None,
                 dtype: Any = None) -> Iterator[tuple[int, Any]]:
    """Yield (start, spins) for consecutive blocks of states; spins has shape (<= block_size, n)."""
    n = _check_n(n)
    if block_size < 1:
        raise ThermopotError(f"block_size must be >= 1, got {block_size}")
    xp = get_namespace(backend)
    total = 2**n
    for start in range(0, total, block_size):
        idx = xp.arange(start, min(start + block_size, total), dtype=xp.int64)
        yield start, index_to_spins(idx, n, xp, dtype)


def fwht(values: Array, axis: int = 0) -> Array:
    """Unnormalised fast Walsh-Hadamard transform along ``axis`` (length 2^N)::

        (H v)_i = sum_j (-1)^popcount(i & j) v_j,      H H = 2^N I,

    in O(N 2^N) operations (N butterfly passes) on either backend.

    Parameters
    ----------
    values : array (NumPy or CuPy)
        Real or complex values whose length along ``axis`` is a power of two; integers are taken as
        float64.
    axis : int, optional
        The axis to transform; the other axes are a batch.

    Returns
    -------
    array
        H v, of the shape of ``values`` and in its namespace.

    Raises
    ------
    ThermopotError
        When the length along ``axis`` is not a power of two.

    Examples
    --------
    >>> import numpy as np
    >>> from thermopot.states import fwht
    >>> fwht(np.array([1.0, 2.0, 3.0, 4.0]))
    array([10., -2., -4.,  0.])
    >>> fwht(fwht(np.array([1.0, 2.0, 3.0, 4.0]))) / 4     # H H = 2^N I
    array([1., 2., 3., 4.])
    """
    xp = namespace_of(values)
    a = xp.asarray(values)
    if not xp.isdtype(a.dtype, ("real floating", "complex floating")):
        a = xp.astype(a, xp.float64)
    a = xp.moveaxis(a, axis, 0)
    length = a.shape[0]
    n = length.bit_length() - 1
    if length < 1 or 2**n != length:
        raise ThermopotError(f"fwht needs a length that is a power of two, got {length}")
    rest = a.shape[1:]
    for k in range(n):
        blocks = xp.reshape(a, (2 ** (n - k - 1), 2, 2**k) + rest)
        lo, hi = blocks[:, 0, ...], blocks[:, 1, ...]
        a = xp.reshape(xp.stack((lo + hi, lo - hi), axis=1), (length,) + rest)
    return xp.moveaxis(a, 0, axis)


def walsh_couplings(energies: Array) -> Array:
    """All 2^N Walsh couplings J_alpha = -2^-N sum_s E(s) chi_alpha(s) from an energy table E (2^N,)."""
    e = fwht(energies)
    return -e / e.shape[0]


def walsh_energies(couplings: Array) -> Array:
    """The energy table E(s) = -sum_alpha J_alpha chi_alpha(s) from all 2^N Walsh couplings."""
    return -fwht(couplings)


def subset_masks(subsets: Any) -> np.ndarray:
    """Integer masks (K,) of boolean subsets (K, N): bit k set when spin k belongs to the subset."""
    s = np.asarray(subsets, dtype=bool)
    return (s.astype(np.int64) << np.arange(s.shape[-1], dtype=np.int64)).sum(axis=-1)


def mask_subsets(masks: Any, n: int) -> np.ndarray:
    """Boolean subsets (K, N) of integer masks (K,): the inverse of :func:`subset_masks`."""
    return np.asarray(index_to_bits(np.asarray(masks, dtype=np.int64), n, get_namespace("numpy")),
                      dtype=bool)
