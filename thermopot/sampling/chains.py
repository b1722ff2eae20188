"""B Markov chains of single-spin updates run together as one array program, with reproducible
random numbers and checkpoints that resume bit-identically.

The sampler is a configuration plus a state (as in NetKet, emcee and jax-md): :class:`Sampler` is
frozen (model, T, method, scan, generator, compiled, recording), :class:`.state.SamplerState` holds
the chains (spins, kernel bookkeeping, random-number position, measurements, sweeps done), and

    state = sampler.init(chains=B, seed=seed)
    state = sampler.run(state, sweeps)          # a new state; the given one is left as it was
    result = sampler.result(state)

A checkpoint is a state written to a file (:func:`save_state`, :func:`load_state`; :mod:`.checkpoint`:
written atomically, with the model's digest and a checksum), so ``load_state`` then ``run`` continues
exactly where ``save_state`` stopped.

Random numbers, two generators (``generator=``; ``rng=`` is its deprecated former name):

- ``"pcg64"`` (the default on NumPy): one NumPy ``Generator`` (PCG64) per state, seeded by the state's
  seed. Each sweep draws, in this order, N x B uniforms u in (0, 1) (multiples of 2^-52 offset by
  2^-53, never 0 or 1) and, for a random scan, N x B sites, on the host; they are moved to the backend.
- ``"philox"`` (the default on CuPy): the counter-based Philox4x32-10 of :mod:`.philox`, the number
  of update t of chain b in sweep w computed directly from (t, b, w) and the seed, on the device.
  On CuPy the sweeps then run many at a time in one launch of a fused CUDA kernel (:mod:`.fused`,
  pairwise and multi-spin models), which draws the same numbers itself.

Either way the chains are the same on NumPy and CuPy for the same seed and generator, up to the
rounding of the field updates. The initial random states come from PCG64 for both. Runs are refused
up front when they would not fit in memory or time (:mod:`.budget`).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import FrozenInstanceError, dataclass, replace
from functools import cached_property, partial
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import asarray, backend_name, blas_limit, blas_threads, get_namespace, synchronize, to_numpy
from ..errors import ModelError, ThermopotError
from ..progress import Progress
from ..checks import check_choice, check_count, check_rng, check_temperature
from ..models import Model, PairwiseModel, resolve_model
from . import budget, checkpoint
from .blocks import SweepObserver
from .burn_in import BurnIn, resolve_burn_in, run_burn_in
from .compiled import available as compiled_available
from .compiled import compiled_kernel
from .fused import MAX_FUSED_SPINS, fused_kernel
from .kernels import METHODS, REFRESH_SWEEPS, SCANS, Hook, flip_thresholds, make_kernel
from .measure import MAX_CORRELATION_SPINS, Measurements, SampleResult
from .philox import philox_key, sweep_numbers
from .state import SamplerState
from .statistics import ShortRunWarning, short_run_message

#: default number of chains
DEFAULT_CHAINS = 64
#: random number generators (see the module docstring)
GENERATORS = ("pcg64", "philox")


def resolve_seed(seed: int | np.random.Generator | None) -> int:
    """The integer seed a sampler derives its generators from (SPEC 7 seeds, see checks.check_rng):
    an integer >= 0 as it is; None or a ``numpy.random.Generator``: one 63-bit draw from it (so a
    Generator's stream continues and the sampler is reproducible from ``Sampler.seed``)."""
    rng = check_rng(seed, "seed")
    if seed is None or isinstance(seed, np.random.Generator):
        return int(rng.integers(1 << 63))
    return int(seed)


def renamed_rng(generator: str | None, rng: str | None) -> str | None:
    """``generator``, or the value of its deprecated former name ``rng`` (with a DeprecationWarning
    pointing at the caller of the entry point); both given is an error."""
    if rng is None:
        return generator
    if generator is not None:
        raise ThermopotError("give generator= only (rng= is its deprecated former name)")
    warnings.warn("rng= is deprecated and will be removed in the next release; use generator=",
                  DeprecationWarning, stacklevel=3)
    return rng


def real_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a C-ordered float64 NumPy array; complex or non-numeric values are a ModelError
    naming ``name`` (NumPy would drop an imaginary part with only a warning)."""
    raw = to_numpy(values)
    if np.iscomplexobj(raw):
        raise ModelError(f"{name} must be real +1/-1 values, got complex numbers")
    try:
        return np.array(raw, dtype=np.float64, order="C")  # row-major, as the fused kernel reads
    except (TypeError, ValueError):
        raise ModelError(f"{name} must be an array of +1/-1 values, got {values!r:.80}") from None


def _initial_states(initial: Any, n: int, chains: int | None, rng: np.random.Generator) -> np.ndarray:
    """Starting states (B, N) of +-1: random (initial None), one state (N,) repeated, or (B, N)."""
    if initial is None:
        b = DEFAULT_CHAINS if chains is None else check_count(chains, "chains")
        return 1.0 - 2.0 * rng.integers(0, 2, size=(b, n))
    s = real_array(initial, "initial states")
    if s.ndim == 1:
        s = np.repeat(s[None, :], DEFAULT_CHAINS if chains is None else check_count(chains, "chains"), 0)
    if s.ndim != 2 or s.shape[1] != n or s.shape[0] < 1:
        raise ModelError(f"initial states must have shape (N,) or (B, N) with N = {n}, got {s.shape}")
    if chains is not None and s.shape[0] != check_count(chains, "chains"):
        raise ThermopotError(f"initial states hold {s.shape[0]} chains but chains = {chains}")
    if not np.isin(s, (-1.0, 1.0)).all():
        raise ModelError("initial states must contain only +1 and -1")
    return s


class _Chains:
    """The working copy that :meth:`Sampler._advance` changes in place: copies of a state's spins,
    bookkeeping, first-passage times and (when recording) measurements, a live PCG64 generator, and the
    counters. :meth:`state` hands its arrays to a new :class:`SamplerState` (the next run copies them
    again, so states never share what a run writes)."""

    def __init__(self, state: SamplerState, kernel: Any, rng: np.random.Generator, xp: ModuleType, record: bool,
                 blas: int | None):
        self.s = xp.asarray(state.s, dtype=xp.float64, copy=True)
        self.kernel = kernel
        kernel.load_cache(xp.asarray(state.cache, copy=True))
        kernel.flips = xp.asarray(state.flips, copy=True)
        self.rng = rng
        rng.bit_generator.state = state.rng_state
        self.seed, self.key, self.model_sha256 = state.seed, philox_key(state.seed), state.model_sha256
        self.measurements = state.measurements.copy() if record else state.measurements
        clock = state.passage
        self.passage = None if clock is None else replace(clock, times=xp.asarray(clock.times, copy=True))
        self.sweeps_done, self.recorded_sweeps, self.seconds = state.sweeps_done, state.recorded_sweeps, state.seconds
        #: BLAS threads while running (see Sampler.blas_threads)
        self.blas_limit = blas

    def state(self) -> SamplerState:
        """The chains as they are now, as a state (sharing this copy's arrays: run no further after it)."""
        return SamplerState(s=self.s, cache=self.kernel.cache(), flips=self.kernel.flips, seed=self.seed,
                            rng_state=self.rng.bit_generator.state, measurements=self.measurements,
                            model_sha256=self.model_sha256, sweeps_done=self.sweeps_done,
                            recorded_sweeps=self.recorded_sweeps, seconds=self.seconds, passage=self.passage)


#: attributes of the deprecated bound state a Sampler forwards (see Sampler.__getattr__)
_BOUND_ATTRIBUTES = ("seed", "chains", "sweeps_done", "recorded_sweeps", "seconds", "measurements", "s", "kernel",
                     "rng", "key", "blas_limit")


def _deprecated(old: str, new: str) -> None:
    """A DeprecationWarning pointing at the caller of the deprecated Sampler method."""
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new}",
                  DeprecationWarning, stacklevel=3)


@dataclass(eq=False, init=False, repr=False)
class Sampler:
    """The configuration of B chains of heat-bath or Metropolis single-spin updates for a pairwise or
    multi-spin model: frozen, with the chains themselves in a :class:`.state.SamplerState`.

    ``state = sampler.init(chains=B, seed=...)`` draws the chains; ``state = sampler.run(state, w)``
    performs w sweeps and returns a new state (the given one is left as it was), recording measurements
    every ``record_every`` sweeps unless ``record=False``; ``sampler.result(state)`` summarises them;
    :func:`save_state` and :func:`load_state` write a state to a checkpoint and read it back.

    One sweep = N single-spin updates per chain: sites 0..N-1 in order (``scan="sequential"``) or N
    sites drawn uniformly and independently per chain (``scan="random"``). ``generator``: "pcg64" or
    "philox" (None: "philox" on CuPy, "pcg64" on NumPy; see the module docstring; ``rng=`` is its
    deprecated former name). ``fused``: whether sweeps run in the fused CUDA kernel (CuPy, philox);
    it runs the sweeps between two recordings in one launch, so ``record_every`` > 1 (or
    ``record=False``) keeps launches few. ``compiled``: run the sweeps in the compiled CPU kernel
    (:mod:`.compiled`, numba; None: on NumPy whenever numba is installed; the chains are the array
    path's, bit for bit). ``correlations``: accumulate <s_k s_l> (N <= MAX_CORRELATION_SPINS).
    ``blas_threads``: BLAS threads while running ("auto": 1 when a sweep's largest matrix product is
    small, see backend.blas_limit; None: the library's default; or a count).

    The sampler keeps one update kernel per chain count and one PCG64 object, and loads a state's
    bookkeeping and generator state into them at each run (a cache of buffers, not of chains: the
    results depend on the state only); so one Sampler runs one state at a time (use one Sampler per
    thread).

    Deprecated for one release (each a thin wrapper over the pair, with a DeprecationWarning): the
    mutable use ``Sampler(model, T, chains=, seed=, initial=)`` with ``run(sweeps)``, ``result()``,
    ``spins``, ``energies()``, ``save(path)``, ``Sampler.load(path)`` and the attributes of the bound
    state (``seed``, ``chains``, ``sweeps_done``, ``kernel``, ...).
    """

    model: Model
    T: float
    method: str
    scan: str
    generator: str
    compiled: bool
    fused: bool
    record_every: int
    correlations: bool
    blas_threads: int | str | None
    xp: ModuleType

    def __init__(self, model: Model | str, T: float, *, method: str = "heat-bath", scan: str = "sequential",
                 generator: str | None = None, compiled: bool | None = None, record_every: int = 1,
                 correlations: bool = False, backend: Any = None, blas_threads: int | str | None = "auto",
                 chains: int | None = None, seed: int | np.random.Generator | None = None, initial: Any = None,
                 rng: str | None = None):
        put = partial(object.__setattr__, self)
        put("_bound", None)
        put("_kernels", {})
        put("model", resolve_model(model))
        put("T", check_temperature(T))
        put("method", check_choice(method, "method", METHODS))
        put("scan", check_choice(scan, "scan", SCANS))
        put("record_every", check_count(record_every, "record_every"))
        if correlations and self.n > MAX_CORRELATION_SPINS:
            raise ThermopotError(f"correlations are accumulated for N <= {MAX_CORRELATION_SPINS} only "
                                 f"(this model has N = {self.n})")
        put("correlations", bool(correlations))
        generator = renamed_rng(generator, rng)
        if chains is not None or seed is not None or initial is not None:  # the deprecated mutable use
            _deprecated("Sampler(model, T, chains=, seed=, initial=)", "state = Sampler(model, T).init(...)")
        put("xp", get_namespace(backend))
        on_gpu = backend_name(self.xp) == "cupy"
        default = "philox" if on_gpu else "pcg64"
        put("generator", check_choice(default if generator is None else generator, "generator", GENERATORS))
        put("fused", on_gpu and self.generator == "philox" and self.model.n <= MAX_FUSED_SPINS)
        cpu = not on_gpu and compiled is not False and compiled_available()
        if compiled and not cpu:
            raise ThermopotError("compiled=True needs NumPy and numba (pip install 'thermopot[fast]')")
        put("compiled", cpu)
        auto = blas_threads in ("auto", None)
        put("blas_threads", blas_threads if auto else check_count(blas_threads, "blas_threads"))
        if chains is not None or seed is not None or initial is not None:
            put("_bound", self._work(self.init(chains=chains, seed=seed, initial=initial), record=True, own=True))

    @property
    def n(self) -> int:
        """Number of spins N."""
        return self.model.n

    @cached_property
    def model_sha256(self) -> str:
        """SHA-256 of the model's arrays (what a state's bookkeeping belongs to)."""
        return checkpoint.model_digest(self.model)

    def __repr__(self) -> str:
        return (f"Sampler(n={self.n}, T={self.T:g}, method={self.method!r}, scan={self.scan!r}, "
                f"generator={self.generator!r}, compiled={self.compiled}, fused={self.fused})")

    # -- the kernel cache ------------------------------------------------------------------------

    def _new_kernel(self, s: Any, seed: int) -> Any:
        """An update kernel for the spins s (B, N): fused, compiled or the array path's (a run sets its
        Philox key and, compiled with "pcg64", its generator; see :meth:`_work`)."""
        options = dict(T=self.T, method=self.method, scan=self.scan, key=philox_key(seed))
        if self.fused:
            return fused_kernel(self.model, s, self.xp, **options)
        if self.compiled:
            return compiled_kernel(self.model, s, self.xp, **options)
        return make_kernel(self.model, s, self.xp)

    def _kernel(self, chains: int) -> Any:
        """The cached kernel for ``chains`` chains (its bookkeeping is replaced at each use)."""
        if chains not in self._kernels:
            self._kernels[chains] = self._new_kernel(self.xp.ones((chains, self.n), dtype=self.xp.float64), 0)
        return self._kernels[chains]

    def _work(self, state: SamplerState, *, record: bool, own: bool = False) -> _Chains:
        """A working copy of ``state`` on a kernel and a PCG64 generator (the cached ones, or with ``own``
        new ones)."""
        if state.model_sha256 != self.model_sha256 or state.n != self.n:
            raise ThermopotError("this state belongs to another model (its bookkeeping does not fit this sampler)")
        if record and (state.measurements.corr is not None) != self.correlations:
            raise ThermopotError(f"this state was made {'with' if self.correlations is False else 'without'} "
                                 f"correlations, this sampler has correlations={self.correlations}")
        kernel = self._new_kernel(state.s, state.seed) if own else self._kernel(state.chains)
        if own or "_generator" not in self.__dict__:  # a PCG64 object reused by the runs (its state is set)
            rng = np.random.Generator(np.random.PCG64(state.seed))
            if not own:
                object.__setattr__(self, "_generator", rng)
        rng = rng if own else self._generator
        blas = (blas_limit(kernel.product_flops(self.scan)) if self.blas_threads == "auto"
                else self.blas_threads)
        work = _Chains(state, kernel, rng, self.xp, record, blas)
        if self.compiled:  # its numbers: the state's PCG64 stream, or Philox keyed by the state's seed
            kernel.generator_rng = work.rng if self.generator == "pcg64" else None
        kernel.key = work.key
        return work

    # -- the state API ---------------------------------------------------------------------------

    def init(self, *, chains: int | None = None, initial: Any = None,
             seed: int | np.random.Generator | None = None) -> SamplerState:
        """The starting state: ``initial`` states (B, N) of +-1, one state (N,) repeated ``chains``
        times, or (None) ``chains`` (default DEFAULT_CHAINS) uniform random states drawn from PCG64
        seeded by ``seed`` (an integer >= 0, None: a fresh seed, or a ``numpy.random.Generator``: one
        draw from it; the integer used is ``state.seed``). Refuses (SizeError) chains whose state would
        not fit in memory."""
        seed = resolve_seed(seed)
        rng = np.random.Generator(np.random.PCG64(seed))
        if initial is None or np.ndim(initial) == 1:
            planned = DEFAULT_CHAINS if chains is None else check_count(chains, "chains")
            budget.check_run(self.model, planned, self.xp, correlations=self.correlations)
        s = asarray(_initial_states(initial, self.n, chains, rng), self.xp)
        kernel = self._kernel(int(s.shape[0]))
        kernel.refresh(s)
        return SamplerState(s=s, cache=kernel.cache(), flips=self.xp.zeros(s.shape[0], dtype=self.xp.int64),
                            seed=seed, rng_state=rng.bit_generator.state,
                            measurements=Measurements(int(s.shape[0]), self.n, self.xp, self.correlations),
                            model_sha256=self.model_sha256)

    def run(self, state: SamplerState, sweeps: int | None = None, *, record: bool = True, hook: Hook | None = None,
            progress: bool | None = None, observe: SweepObserver | None = None) -> SamplerState:
        """``sweeps`` sweeps of the chains of ``state`` (recording measurements when ``record``); returns
        the new state and leaves ``state`` as it was.

        ``hook(t, k, flip, new)`` observes every single-spin update (see kernels.Hook; a hook makes the
        sweeps take the array path, one sweep at a time). ``observe(s)`` is called after every sweep with
        the chains' spins (B, N) on the backend (the working array: copy what you keep; the sweeps run one
        at a time, with the numbers of as many one-sweep runs; see :mod:`.blocks`). A state with a
        :class:`.state.PassageClock` records its first-passage times as it runs (in the fused or compiled
        kernel when it waits for the overlap to drop). ``progress``: a bar of sweeps on stderr (None: only
        once the run has taken a few seconds). ``run(sweeps)`` without a state is the deprecated mutable use."""
        if not isinstance(state, SamplerState):  # deprecated: sampler.run(sweeps) on the bound state
            _deprecated("Sampler.run(sweeps)", "state = sampler.run(state, sweeps)")
            self._advance(self._bound_work(), check_count(state, "sweeps", 0), record, hook, progress)
            return self
        work = self._work(state, record=record)
        self._advance(work, check_count(sweeps, "sweeps", 0), record, hook, progress, observe)
        return work.state()

    def _draw(self, work: _Chains) -> tuple[Any, Any]:
        """Flip thresholds (N, B) and sites ((N, B), or None for a sequential scan) for one sweep."""
        xp, shape, random_scan = self.xp, (self.n, int(work.s.shape[0])), self.scan == "random"
        if self.generator == "philox":
            u, sites = sweep_numbers(work.key, work.sweeps_done, self.n, shape[1], xp, random_scan)
        else:
            u = asarray((work.rng.integers(0, 1 << 52, size=shape) + 0.5) * 2.0**-52, xp)
            sites = xp.asarray(work.rng.integers(0, self.n, size=shape)) if random_scan else None
        return flip_thresholds(self.method, u, self.T, xp), sites

    def _chunk(self, work: _Chains, remaining: int, record: bool, hook: Hook | None, observed: bool) -> int:
        """Sweeps to run before the next refresh, recording or observation: 1 unless a fused or compiled
        kernel runs them unobserved."""
        if not (self.fused or self.compiled) or hook is not None or observed:
            return 1
        chunk = min(remaining, REFRESH_SWEEPS - work.sweeps_done % REFRESH_SWEEPS)
        if record:
            chunk = min(chunk, self.record_every - work.recorded_sweeps % self.record_every)
        return chunk

    def _passage_hook(self, work: _Chains, hook: Hook | None) -> Hook:
        """A per-update hook that records the first-passage times of ``work.passage`` on the array
        path (then calls ``hook``): the overlap sum_k s_k start_k or the Hamming distances to the
        targets, updated per flip (exact integers)."""
        clock, xp, n, rows = work.passage, self.xp, self.n, work.kernel.rows
        if clock.leaving:
            tally = xp.sum(work.s * clock.start, axis=1)
        else:
            tally = 0.5 * (n - work.s @ clock.targets)  # (B, P)

        def observe(t: int, k: Any, flip: Any, new: Any) -> None:
            nonlocal tally
            if clock.leaving:
                tally = tally + 2.0 * (flip * new) * clock.start[rows, k]
                cond = tally < clock.threshold_dot
            else:
                tally = tally - (flip * new)[:, None] * clock.targets[k]
                cond = xp.min(tally, axis=1) < 0.5
            times = clock.times
            times[...] = xp.where(cond & (times < 0), (work.sweeps_done - clock.origin) * n + t + 1, times)
            if hook is not None:
                hook(t, k, flip, new)

        return observe

    def _advance(self, work: _Chains, sweeps: int, record: bool, hook: Hook | None,
                 progress: bool | None, observe: SweepObserver | None = None) -> None:
        """Run ``sweeps`` sweeps on the working copy, in place (what :meth:`run` does)."""
        t0 = time.perf_counter()
        clock = work.passage
        tracked = clock is not None and clock.leaving and (self.fused or self.compiled) and hook is None
        if clock is not None and not tracked:
            hook = self._passage_hook(work, hook)
        if record:
            every, done_before = self.record_every, work.recorded_sweeps
            work.measurements.reserve((done_before + sweeps) // every - done_before // every)
        if tracked:
            work.kernel.track_passage(clock.start, clock.threshold_dot, clock.times, clock.origin)
        done = 0
        try:
            with Progress(progress, sweeps, unit="sweep", desc=f"sampling N={self.n}") as bar, \
                    blas_threads(work.blas_limit, self.xp):
                while done < sweeps:
                    chunk = self._chunk(work, sweeps - done, record, hook, observe is not None)
                    if (self.fused or self.compiled) and hook is None:
                        work.kernel.advance(work.s, chunk, work.sweeps_done)
                    else:
                        r, sites = self._draw(work)
                        work.kernel.sweep(work.s, r, sites, hook)
                    done += chunk
                    work.sweeps_done += chunk
                    if work.sweeps_done % REFRESH_SWEEPS == 0:
                        work.kernel.refresh(work.s)
                    if record:
                        work.recorded_sweeps += chunk
                        if work.recorded_sweeps % self.record_every == 0:
                            work.measurements.record(work.s, work.kernel.energy(work.s))
                    if observe is not None:
                        observe(work.s)
                    bar.update(chunk)
        finally:
            if tracked:
                work.kernel.stop_tracking()
        synchronize(self.xp)
        work.seconds += time.perf_counter() - t0

    def energies(self, state: SamplerState | None = None) -> np.ndarray:
        """Energies (B,) of the chains of ``state`` as NumPy (from its bookkeeping).
        ``energies()`` without a state is the deprecated mutable use."""
        if state is None:
            _deprecated("Sampler.energies()", "sampler.energies(state)")
            work = self._bound_work()
            return to_numpy(work.kernel.energy(work.s))
        kernel = self._kernel(state.chains)
        kernel.load_cache(state.cache)
        return to_numpy(kernel.energy(state.s))

    def result(self, state: SamplerState | None = None) -> SampleResult:
        """Averages of the recorded sweeps of ``state`` with autocorrelation-aware errors (see
        SampleResult). ``result()`` without a state is the deprecated mutable use."""
        if state is None:
            _deprecated("Sampler.result()", "sampler.result(state)")
            state = self._bound_work().state()
        if state.measurements.samples < 2:
            raise ThermopotError("at least 2 recorded samples are needed for averages with error bars; "
                                 "run more sweeps (with record=True)")
        summary = state.measurements.summary(self.record_every)
        flips = float(to_numpy(state.flips).sum())
        rate = flips / max(state.sweeps_done * self.n * state.chains, 1)
        return SampleResult(n=self.n, T=self.T, chains=state.chains, sweeps=state.recorded_sweeps,
                            method=self.method, scan=self.scan, seed=state.seed, generator=self.generator,
                            fused=self.fused, compiled=self.compiled, flip_rate=rate,
                            backend=backend_name(self.xp), seconds=state.seconds, **summary)

    # -- the deprecated mutable use (one release) -------------------------------------------------

    def _bound_work(self) -> _Chains:
        """The deprecated bound state, drawn (fresh seed, default chains) on first use."""
        if self._bound is None:
            object.__setattr__(self, "_bound", self._work(self.init(), record=True, own=True))
        return self._bound

    def __getattr__(self, name: str) -> Any:
        """Deprecated: the attributes of the bound state (``seed``, ``chains``, ``sweeps_done``, ``kernel``, ...)."""
        if name in _BOUND_ATTRIBUTES:
            work = self._bound_work()
            return work.s.shape[0] if name == "chains" else getattr(work, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        """Frozen: only attributes of the deprecated bound state (``blas_limit``, ``s``, ...) can be set."""
        if name not in _BOUND_ATTRIBUTES or name in ("chains", "seed", "key"):
            raise FrozenInstanceError(f"cannot assign to field {name!r} (a Sampler is frozen)")
        setattr(self._bound_work(), name, value)

    @property
    def spins(self) -> np.ndarray:
        """Deprecated: the bound state's spins (B, N) as NumPy; use ``state.spins``."""
        _deprecated("Sampler.spins", "state.spins")
        return to_numpy(self._bound_work().s).copy()

    def save(self, path: str | os.PathLike) -> None:
        """Deprecated: write the bound state to a checkpoint; use :func:`save_state`."""
        _deprecated("Sampler.save(path)", "save_state(path, sampler, state)")
        save_state(path, self, self._bound_work().state())

    @classmethod
    def load(cls, path: str | os.PathLike, *, model: Model | str | None = None, T: float | None = None,
             backend: Any = None) -> "Sampler":
        """Deprecated: a sampler bound to the state of a checkpoint; use :func:`load_state`."""
        _deprecated("Sampler.load(path)", "sampler, state = load_state(path)")
        sampler, state = load_state(path, model=model, T=T, backend=backend)
        object.__setattr__(sampler, "_bound", sampler._work(state, record=True, own=True))
        return sampler


def save_state(path: str | os.PathLike, sampler: Sampler, state: SamplerState) -> None:
    """Write ``state`` of ``sampler`` to a checkpoint ``.npz`` atomically: the model and its SHA-256, T,
    method, scan, generator, the spins, the kernel bookkeeping, the generator state, the counters and
    the measurements, with a checksum of everything (see :mod:`.checkpoint`). A state with a
    first-passage clock is not written (a ThermopotError)."""
    if state.passage is not None:
        raise ThermopotError("a state with a first-passage clock cannot be written to a checkpoint")
    if state.model_sha256 != sampler.model_sha256:
        raise ThermopotError("this state belongs to another model than the sampler's")
    meta = {"version": checkpoint.CHECKPOINT_VERSION, "T": sampler.T, "method": sampler.method,
            "scan": sampler.scan, "seed": state.seed, "rng_kind": sampler.generator,
            "record_every": sampler.record_every, "compiled": sampler.compiled, "sweeps_done": state.sweeps_done,
            "recorded_sweeps": state.recorded_sweeps, "seconds": state.seconds, "rng": state.rng_state,
            "model": "pairwise" if isinstance(sampler.model, PairwiseModel) else "multispin",
            "model_sha256": sampler.model_sha256}
    arrays = {f"model_{k}": v for k, v in sampler.model.to_arrays().items()}
    arrays.update(state.measurements.arrays())
    arrays.update(spins=state.s, cache=state.cache, flips=state.flips)
    checkpoint.write(path, {k: to_numpy(v) for k, v in arrays.items()}, meta)


def load_state(path: str | os.PathLike, *, model: Model | str | None = None, T: float | None = None,
               backend: Any = None) -> tuple[Sampler, SamplerState]:
    """The sampler and state of a checkpoint written by :func:`save_state`, after verifying it
    (checksum, version, model digest, kernel bookkeeping; see :mod:`.checkpoint`): running the state
    continues bit-identically where it was written. ``model`` and ``T``: the model and temperature the
    caller expects the checkpoint to belong to (a ThermopotError when it belongs to another; None: not
    checked). A truncated, corrupt or edited file is a ThermopotError naming the file and the problem."""
    stored, meta, arrays = checkpoint.read(path, model=model, T=T)
    with checkpoint.malformed_entries(path):
        spins = arrays["spins"]
        sampler = Sampler(stored, meta["T"], method=meta["method"], scan=meta["scan"],
                          record_every=meta["record_every"], generator=meta["rng_kind"],
                          correlations="meas_corr_ints" in arrays, backend=backend,
                          compiled=None if meta.get("compiled", True) else False)  # True: where numba is
        fresh = sampler.init(chains=spins.shape[0], initial=spins, seed=meta["seed"])
        checkpoint.check_cache(path, arrays["cache"], to_numpy(fresh.cache))
        xp = sampler.xp
        state = replace(fresh, cache=xp.asarray(arrays["cache"]), flips=xp.asarray(arrays["flips"]),
                        rng_state=meta["rng"], measurements=Measurements.from_arrays(arrays, xp),
                        sweeps_done=int(meta["sweeps_done"]), recorded_sweeps=int(meta["recorded_sweeps"]),
                        seconds=float(meta["seconds"]))
    return sampler, state


def burn_in_state(sampler: Sampler, state: SamplerState, burn_in: BurnIn, *, sweeps: int,
                  progress: bool | None = None) -> tuple[SamplerState, int]:
    """The chains of ``state`` after the burn-in of a run of ``sweeps`` recorded sweeps, and its length in
    sweeps (the rule of :mod:`.burn_in`: None, an integer or "mser", which traces the chains' mean energy
    after every sweep; nothing is recorded)."""
    current = [state]

    def run(k: int) -> None:
        current[0] = sampler.run(current[0], k, record=False, progress=progress)

    def trace(k: int) -> np.ndarray:
        energies = np.empty(k)
        for w in range(k):
            current[0] = sampler.run(current[0], 1, record=False, progress=False)
            energies[w] = sampler.energies(current[0]).mean()
        return energies

    used = run_burn_in(burn_in, sweeps, run=run, trace=trace)
    return current[0], used


def sample(model: Model | str, T: float, *, chains: int = DEFAULT_CHAINS, sweeps: int = 1000,
           burn_in: BurnIn = None, method: str = "heat-bath", scan: str = "sequential",
           seed: int | np.random.Generator | None = None, initial: Any = None, record_every: int = 1,
           correlations: bool = False, generator: str | None = None, backend: Any = None,
           progress: bool | None = None, max_seconds: float | None = None,
           rng: str | None = None) -> SampleResult:
    """Run ``chains`` chains for ``burn_in`` unrecorded sweeps (None: the default rule; an integer; or "mser";
    see :mod:`.burn_in`; the result's ``burn_in`` says how many), then ``sweeps`` recorded sweeps, and
    return the averages with autocorrelation-aware errors. ``progress``: bars on
    stderr (None: for runs that take more than a few seconds). ``seed`` and ``generator``: see
    :class:`Sampler` (``rng=``: the deprecated former name of ``generator``). A run that would not
    fit in memory or would take longer than ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else
    an hour) is refused at once with a SizeError naming both (see :mod:`.budget`). A run of fewer
    recorded sweeps than MIN_RUN_TAUS (50) integrated autocorrelation times of the energy or the mean
    magnetisation gets a ShortRunWarning. ``initial``: one state (N,) of +-1 for every chain, or one per
    chain (chains, N)."""
    generator = renamed_rng(generator, rng)
    sweeps = check_count(sweeps, "sweeps", 2)
    planned = resolve_burn_in(burn_in, sweeps) if burn_in != "mser" else sweeps  # "mser": at most sweeps
    model = resolve_model(model)
    budget.check_run(model, check_count(chains, "chains"), get_namespace(backend),
                     sweeps=planned + sweeps, records=sweeps // check_count(record_every, "record_every"),
                     scan=check_choice(scan, "scan", SCANS), correlations=correlations,
                     max_seconds=max_seconds)
    sampler = Sampler(model, T, method=method, scan=scan, record_every=record_every, correlations=correlations,
                      generator=generator, backend=backend)
    state, used = burn_in_state(sampler, sampler.init(chains=chains, initial=initial, seed=seed), burn_in,
                                sweeps=sweeps, progress=progress)
    result = replace(sampler.result(sampler.run(state, sweeps, progress=progress)), burn_in=used)
    message = short_run_message(result.sweeps, result.tau_int)
    if message:
        result = replace(result, warnings=(message,))
        warnings.warn(message, ShortRunWarning, stacklevel=2)
    return result
