"""What a run of B chains has reached: the immutable :class:`SamplerState` that
:meth:`.chains.Sampler.run` takes and returns (the configuration, :class:`.chains.Sampler`, stays apart,
as in NetKet's ``Sampler``/``SamplerState`` or emcee's ``State``).

A state holds the spins (B, N) on the backend, the update kernel's bookkeeping (the local fields
H = h + S J of a pairwise model or the Walsh products chi_alpha of a multi-spin model, and the accepted
flips per chain), the random-number position (the seed, the PCG64 generator's state, and the sweeps
done, which are the Philox counter), the recorded measurements, and optionally a :class:`PassageClock`
recording first-passage times. ``Sampler.run(state, w)`` never changes ``state``: it works on copies of
the spins, the bookkeeping and (when it records) the measurements, and returns a new state. The one
buffer shared between states is documented in :class:`.measure.Series` (the recorded time series,
append-only; a state run twice gets its own copy before writing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy


@dataclass(frozen=True, eq=False)
class PassageClock:
    """First-passage times being recorded while a state runs (:func:`~thermopot.sampling.first_passage`).

    ``times`` (B,) int64: the number of single-spin updates since sweep ``origin`` after which the
    condition first held (-1: not yet). The condition is either leaving, sum_k s_k start_k <
    ``threshold_dot`` (= N times an overlap threshold; ``start`` (B, N) the start states), or reaching,
    a zero Hamming distance to one of ``targets`` (N, P)."""

    times: Any
    origin: int
    start: Any = None
    threshold_dot: float = 0.0
    targets: Any = None

    @property
    def leaving(self) -> bool:
        """Whether the clock waits for the overlap to drop (else for a target to be reached)."""
        return self.targets is None


class SpinArrays:
    """What a state of B chains gives from its spins ``s`` (B, N) on the backend (the base of
    :class:`SamplerState` and of :class:`.ensemble.EnsembleState`)."""

    s: Any

    @property
    def spins(self) -> np.ndarray:
        """Current states (B, N) of +-1, a NumPy copy."""
        return to_numpy(self.s).copy()

    @property
    def chains(self) -> int:
        """Number of chains B."""
        return int(self.s.shape[0])

    @property
    def n(self) -> int:
        """Number of spins N."""
        return int(self.s.shape[1])


@dataclass(frozen=True, eq=False)
class SamplerState(SpinArrays):
    """The chains of a :class:`.chains.Sampler` at one moment (module docstring); made by
    ``Sampler.init``, advanced by ``Sampler.run(state, sweeps)`` into a new state, written to a file by
    :func:`~thermopot.sampling.save_state`.

    ``s`` (B, N) spins, ``cache`` the kernel bookkeeping (local fields (B, N) or Walsh products (B, K))
    and ``flips`` (B,) the accepted flips per chain are on the backend and must not be changed in
    place; ``spins`` gives a NumPy copy. ``seed``: the integer the random numbers
    derive from; ``rng_state``: the PCG64 generator's state (the ``"pcg64"`` stream; also what drew the
    random initial states); ``sweeps_done``: sweeps run (the Philox counter); ``recorded_sweeps``:
    sweeps run with recording; ``seconds``: time spent running; ``model_sha256``: the digest of the
    model the bookkeeping belongs to."""

    s: Any
    cache: Any
    flips: Any
    seed: int
    rng_state: dict
    measurements: Any  # a measure.Measurements: the recorded series and batch means
    model_sha256: str
    sweeps_done: int = 0
    recorded_sweeps: int = 0
    seconds: float = 0.0
    passage: PassageClock | None = None

    def __repr__(self) -> str:
        return (f"SamplerState(chains={self.chains}, n={self.n}, seed={self.seed}, "
                f"sweeps_done={self.sweeps_done}, recorded_sweeps={self.recorded_sweeps})")
