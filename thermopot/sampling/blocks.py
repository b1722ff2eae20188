"""Per-sweep states in blocks: what a recorder needs from every sweep of a run, without a run per sweep.

A recorder that looks at the chains after every sweep (pattern visits, basin occupancies, chain samples,
the descents of tempering samples) runs its sweeps in ONE call, ``Sampler.run(state, W, observe=...)``
or ``ParallelTempering.run(W, observe=...)``, and :func:`sweep_blocks` copies the states of each sweep
(B, N) into an int8 NumPy block of w sweeps (w, B, N); every full block, and the last partial one when
the run ends, goes to the recorder's ``consume(block)`` in sweep order, so that its bookkeeping
(descent, key search, counting) is one vectorised call per block instead of one per sweep. The chains
and their random numbers are those of W one-sweep calls (the sweeps are the same; a run with an observer
advances one sweep at a time); what changes is the per-call cost (a new state per call) and the
per-sweep Python work of the recorder. The pattern::

    with sweep_blocks(consume, chains=B, n=N, sweeps=W) as observe:
        state = sampler.run(state, W, record=False, observe=observe)

A block holds at most BLOCK_BYTES of states (at least one sweep); ``consume`` gets a view of a buffer
that the next block overwrites (copy what you keep).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..backend import to_numpy

__all__ = ["BLOCK_BYTES", "SweepObserver", "sweep_blocks", "count_rows"]

#: the most bytes of int8 states (w x B x N) one block holds before ``consume`` sees them
BLOCK_BYTES = 1 << 20

#: what :func:`sweep_blocks` hands the run: called after each sweep with the states (B, N) of +-1
SweepObserver = Callable[[Any], None]


@contextmanager
def sweep_blocks(consume: Callable[[np.ndarray], None], *, chains: int, n: int, sweeps: int,
                 block_bytes: int = BLOCK_BYTES) -> Iterator[SweepObserver]:
    """An observer that copies each sweep's states (B, N) (on any backend) into int8 blocks (w, B, N) of at
    most ``block_bytes`` (and at most the run's ``sweeps``: a short run holds no more than it records) and
    calls ``consume(block)`` for every full block and, on leaving the context without an error, for the
    last partial one (module docstring)."""
    size = max(1, min(int(sweeps), block_bytes // max(1, chains * n)))
    buffer = np.empty((size, chains, n), dtype=np.int8)
    filled = 0

    def observe(states: Any) -> None:
        nonlocal filled
        buffer[filled] = to_numpy(states)
        filled += 1
        if filled == size:
            filled = 0
            consume(buffer)

    yield observe
    if filled:
        consume(buffer[:filled])


def count_rows(counts: np.ndarray, rows: Any) -> None:
    """Add to ``counts`` (B, K), in place, one for every sweep w and chain b with rows[w, b] >= 0 at
    [b, rows[w, b]] (``rows`` (w, B) or (w * B,) in sweep-major order, as a block lays out its states;
    -1: a state of none of the K rows, not counted): one unbuffered ``np.add.at`` per block."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, counts.shape[0])
    hit = rows >= 0
    np.add.at(counts, (np.nonzero(hit)[1], rows[hit]), 1)
