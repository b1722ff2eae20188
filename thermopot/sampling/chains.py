"""B Markov chains of single-spin updates run together as one array program, with reproducible
random numbers and checkpoints that resume bit-identically.

Random numbers, two generators (``generator=``; ``rng=`` is its deprecated former name):

- ``"pcg64"`` (the default on NumPy): one NumPy ``Generator`` (PCG64) per sampler. Each sweep draws,
  in this order, N x B uniforms u in (0, 1) (multiples of 2^-52 offset by 2^-53, never 0 or 1) and,
  for a random scan, N x B sites, on the host; they are moved to the backend.
- ``"philox"`` (the default on CuPy): the counter-based Philox4x32-10 of :mod:`.philox`, the number
  of update t of chain b in sweep w computed directly from (t, b, w) and the seed, on the device.
  On CuPy the sweeps then run many at a time in one launch of a fused CUDA kernel (:mod:`.fused`,
  pairwise and multi-spin models), which draws the same numbers itself.

Either way the chains are the same on NumPy and CuPy for the same seed and generator, up to the
rounding of the field updates. The initial random states come from PCG64 for both. A checkpoint
(:mod:`.checkpoint`: written atomically, with the model's digest and a checksum) stores the
generator, its state, the spins, the kernel bookkeeping and the measurements, so
``Sampler.load(path).run(w)`` continues exactly where ``save`` stopped. Runs are refused up front
when they would not fit in memory or time (:mod:`.budget`).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np

from ..backend import asarray, backend_name, blas_limit, blas_threads, get_namespace, synchronize, to_numpy
from ..errors import ModelError, ThermopotError
from ..progress import Progress
from ..checks import check_choice, check_count, check_rng, check_temperature
from ..models import Model, PairwiseModel, resolve_model
from . import budget, checkpoint
from .compiled import compiled_kernel
from .fused import fused_kernel
from .kernels import METHODS, REFRESH_SWEEPS, SCANS, Hook, flip_thresholds, make_kernel
from .measure import MAX_CORRELATION_SPINS, Measurements, SampleResult
from .philox import philox_key, sweep_numbers
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


class Sampler:
    """B chains of heat-bath or Metropolis single-spin updates for a pairwise or multi-spin model.

    One sweep = N single-spin updates per chain: sites 0..N-1 in order (``scan="sequential"``) or
    N sites drawn uniformly and independently per chain (``scan="random"``). ``run(w)`` performs w
    sweeps and, when ``record`` is true, records measurements every ``record_every`` sweeps;
    ``result()`` summarises them. ``seed``: an integer >= 0, None (a fresh seed) or a
    ``numpy.random.Generator`` (one draw from it); the integer used is kept in ``self.seed``.
    ``generator``: "pcg64" or "philox" (None: "philox" on CuPy, "pcg64" on NumPy; see the module
    docstring; ``rng=`` is its deprecated former name). ``self.fused`` tells whether sweeps run in
    the fused CUDA kernel; it runs the sweeps between two recordings in one launch, so
    ``record_every`` > 1 (or ``record=False``) keeps launches few. ``compiled``: run the sweeps in the
    compiled CPU kernel (:mod:`.compiled`, numba; None: on NumPy whenever numba is installed; the
    chains are the array path's, bit for bit); ``self.compiled`` tells. Construction refuses (SizeError)
    chains whose state would not fit in memory; :func:`sample` and :func:`.first_passage` also
    refuse runs that would take too long.
    """

    def __init__(self, model: Model | str, T: float, *, chains: int | None = None,
                 method: str = "heat-bath", scan: str = "sequential",
                 seed: int | np.random.Generator | None = None, initial: Any = None,
                 record_every: int = 1, correlations: bool = False, generator: str | None = None,
                 compiled: bool | None = None, backend: Any = None, rng: str | None = None):
        self.model = resolve_model(model)
        self.T = check_temperature(T)
        self.method = check_choice(method, "method", METHODS)
        self.scan = check_choice(scan, "scan", SCANS)
        self.record_every = check_count(record_every, "record_every")
        n = self.n = self.model.n
        if correlations and n > MAX_CORRELATION_SPINS:
            raise ThermopotError(f"correlations are accumulated for N <= {MAX_CORRELATION_SPINS} only "
                                 f"(this model has N = {n})")
        generator = renamed_rng(generator, rng)
        self.seed = resolve_seed(seed)
        self.rng = np.random.Generator(np.random.PCG64(self.seed))
        self.xp = xp = get_namespace(backend)
        if initial is None or np.ndim(initial) == 1:
            planned = DEFAULT_CHAINS if chains is None else check_count(chains, "chains")
            budget.check_run(self.model, planned, xp, correlations=correlations)
        on_gpu = backend_name(xp) == "cupy"
        default = "philox" if on_gpu else "pcg64"
        self.generator = check_choice(default if generator is None else generator, "generator", GENERATORS)
        self.key = philox_key(self.seed)
        self.s = asarray(_initial_states(initial, n, chains, self.rng), xp)
        self.chains = int(self.s.shape[0])
        fused = (fused_kernel(self.model, self.s, xp, T=self.T, method=self.method, scan=self.scan,
                              key=self.key) if on_gpu and self.generator == "philox" else None)
        self.fused = fused is not None
        cpu = (compiled_kernel(self.model, self.s, xp, T=self.T, method=self.method, scan=self.scan, key=self.key,
                               rng=self.rng if self.generator == "pcg64" else None)
               if not on_gpu and compiled is not False else None)
        if compiled and cpu is None:
            raise ThermopotError("compiled=True needs NumPy and numba (pip install 'thermopot[fast]')")
        #: whether sweeps run in the compiled CPU kernel (numba; the default on NumPy when installed)
        self.compiled = cpu is not None
        self.kernel = fused or cpu or make_kernel(self.model, self.s, xp)
        #: BLAS threads while running (1: the sweep's products are small, see backend.blas_limit;
        #: None: the library's default); set it to override
        self.blas_limit = blas_limit(self.kernel.product_flops(self.scan))
        self.measurements = Measurements(self.chains, n, xp, correlations)
        self.sweeps_done = 0
        self.recorded_sweeps = 0
        self.seconds = 0.0

    def __repr__(self) -> str:
        return (f"Sampler(n={self.n}, T={self.T:g}, chains={self.chains}, method={self.method!r}, "
                f"scan={self.scan!r}, generator={self.generator!r}, sweeps_done={self.sweeps_done})")

    def _draw(self) -> tuple[Any, Any]:
        """Flip thresholds (N, B) and sites ((N, B), or None for a sequential scan) for one sweep."""
        xp, shape, random_scan = self.xp, (self.n, self.chains), self.scan == "random"
        if self.generator == "philox":
            u, sites = sweep_numbers(self.key, self.sweeps_done, self.n, self.chains, xp, random_scan)
        else:
            u = asarray((self.rng.integers(0, 1 << 52, size=shape) + 0.5) * 2.0**-52, xp)
            sites = xp.asarray(self.rng.integers(0, self.n, size=shape)) if random_scan else None
        return flip_thresholds(self.method, u, self.T, xp), sites

    def _chunk(self, remaining: int, record: bool, hook: Hook | None) -> int:
        """Sweeps to run before the next refresh or recording: 1 unless a fused or compiled kernel runs them."""
        if not (self.fused or self.compiled) or hook is not None:
            return 1
        chunk = min(remaining, REFRESH_SWEEPS - self.sweeps_done % REFRESH_SWEEPS)
        if record:
            chunk = min(chunk, self.record_every - self.recorded_sweeps % self.record_every)
        return chunk

    def run(self, sweeps: int, *, record: bool = True, hook: Hook | None = None,
            progress: bool | None = None) -> "Sampler":
        """Perform ``sweeps`` sweeps (recording measurements when ``record``); returns self.

        ``hook(t, k, flip, new)`` is called after every single-spin update (see kernels.Hook; the
        fused kernel does not stop per update, so a hook makes those sweeps take the array path).
        ``progress``: a bar of sweeps on stderr (None: only once the run has taken a few seconds)."""
        sweeps = check_count(sweeps, "sweeps", 0)
        t0 = time.perf_counter()
        done = 0
        if record:
            every = self.record_every
            done_before = self.recorded_sweeps
            self.measurements.reserve((done_before + sweeps) // every - done_before // every)
        with Progress(progress, sweeps, unit="sweep", desc=f"sampling N={self.n}") as bar, \
                blas_threads(self.blas_limit, self.xp):
            while done < sweeps:
                chunk = self._chunk(sweeps - done, record, hook)
                if (self.fused or self.compiled) and hook is None:
                    self.kernel.advance(self.s, chunk, self.sweeps_done)
                else:
                    r, sites = self._draw()
                    self.kernel.sweep(self.s, r, sites, hook)
                done += chunk
                self.sweeps_done += chunk
                if self.sweeps_done % REFRESH_SWEEPS == 0:
                    self.kernel.refresh(self.s)
                if record:
                    self.recorded_sweeps += chunk
                    if self.recorded_sweeps % self.record_every == 0:
                        self.measurements.record(self.s, self.kernel.energy(self.s))
                bar.update(chunk)
        synchronize(self.xp)
        self.seconds += time.perf_counter() - t0
        return self

    @property
    def spins(self) -> np.ndarray:
        """Current states (B, N) of +-1 as NumPy."""
        return to_numpy(self.s).copy()

    def energies(self) -> np.ndarray:
        """Current energies (B,) as NumPy."""
        return to_numpy(self.kernel.energy(self.s))

    def result(self) -> SampleResult:
        """Averages of the recorded sweeps with autocorrelation-aware errors (see SampleResult)."""
        if self.measurements.samples < 2:
            raise ThermopotError("at least 2 recorded samples are needed for averages with error bars; "
                                 "run more sweeps (with record=True)")
        summary = self.measurements.summary(self.record_every)
        flips = float(to_numpy(self.kernel.flips).sum())
        rate = flips / max(self.sweeps_done * self.n * self.chains, 1)
        return SampleResult(n=self.n, T=self.T, chains=self.chains, sweeps=self.recorded_sweeps,
                            method=self.method, scan=self.scan, seed=self.seed, rng=self.generator,
                            fused=self.fused, compiled=self.compiled, flip_rate=rate,
                            backend=backend_name(self.xp), seconds=self.seconds, **summary)

    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint ``.npz`` (model and its SHA-256, T, spins, kernel state, generator state,
        measurements, a checksum of everything) atomically; see :mod:`.checkpoint`."""
        meta = {"version": checkpoint.CHECKPOINT_VERSION, "T": self.T, "method": self.method,
                "scan": self.scan, "seed": self.seed, "rng_kind": self.generator,
                "record_every": self.record_every, "sweeps_done": self.sweeps_done,
                "recorded_sweeps": self.recorded_sweeps, "seconds": self.seconds,
                "rng": self.rng.bit_generator.state,
                "model": "pairwise" if isinstance(self.model, PairwiseModel) else "multispin",
                "model_sha256": checkpoint.model_digest(self.model)}
        arrays = {f"model_{k}": v for k, v in self.model.to_arrays().items()}
        arrays.update(self.measurements.arrays())
        arrays.update(spins=self.s, cache=self.kernel.cache(), flips=self.kernel.flips)
        checkpoint.write(path, {k: to_numpy(v) for k, v in arrays.items()}, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, *, model: Model | str | None = None, T: float | None = None,
             backend: Any = None) -> "Sampler":
        """Resume from a checkpoint written by :meth:`save`, after verifying it (checksum, version,
        model digest, kernel cache; see :mod:`.checkpoint`). ``model`` and ``T``: the model and
        temperature the caller expects the checkpoint to belong to (a ThermopotError when it belongs
        to another; None: not checked). A truncated, corrupt or edited file is a ThermopotError
        naming the file and the problem."""
        stored, meta, arrays = checkpoint.read(path, model=model, T=T)
        with checkpoint.malformed_entries(path):
            spins = arrays["spins"]
            sampler = cls(stored, meta["T"], initial=spins, chains=spins.shape[0], method=meta["method"],
                          scan=meta["scan"], seed=meta["seed"], record_every=meta["record_every"],
                          generator=meta["rng_kind"], backend=backend)
            checkpoint.check_cache(path, arrays["cache"], to_numpy(sampler.kernel.cache()))
            sampler.rng.bit_generator.state = meta["rng"]
            sampler.kernel.load_cache(arrays["cache"])
            sampler.kernel.flips = sampler.xp.asarray(arrays["flips"])
            sampler.measurements = Measurements.from_arrays(arrays, sampler.xp)
            sampler.sweeps_done = int(meta["sweeps_done"])
            sampler.recorded_sweeps = int(meta["recorded_sweeps"])
            sampler.seconds = float(meta["seconds"])
        return sampler


def sample(model: Model | str, T: float, *, chains: int = DEFAULT_CHAINS, sweeps: int = 1000,
           burn_in: int | None = None, method: str = "heat-bath", scan: str = "sequential",
           seed: int | np.random.Generator | None = None, initial: Any = None, record_every: int = 1,
           correlations: bool = False, generator: str | None = None, backend: Any = None,
           progress: bool | None = None, max_seconds: float | None = None,
           rng: str | None = None) -> SampleResult:
    """Run ``chains`` chains for ``burn_in`` (default sweeps // 10) unrecorded sweeps, then ``sweeps``
    recorded sweeps, and return the averages with autocorrelation-aware errors. ``progress``: bars on
    stderr (None: for runs that take more than a few seconds). ``seed`` and ``generator``: see
    :class:`Sampler` (``rng=``: the deprecated former name of ``generator``). A run that would not
    fit in memory or would take longer than ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else
    an hour) is refused at once with a SizeError naming both (see :mod:`.budget`). A run of fewer
    recorded sweeps than MIN_RUN_TAUS (50) integrated autocorrelation times of the energy or the mean
    magnetisation gets a ShortRunWarning. ``initial``: one state (N,) of +-1 for every chain, or one per
    chain (chains, N)."""
    generator = renamed_rng(generator, rng)
    sweeps = check_count(sweeps, "sweeps", 2)
    burn_in = sweeps // 10 if burn_in is None else check_count(burn_in, "burn_in", 0)
    model = resolve_model(model)
    budget.check_run(model, check_count(chains, "chains"), get_namespace(backend),
                     sweeps=burn_in + sweeps, records=sweeps // check_count(record_every, "record_every"),
                     scan=check_choice(scan, "scan", SCANS), correlations=correlations,
                     max_seconds=max_seconds)
    sampler = Sampler(model, T, chains=chains, method=method, scan=scan, seed=seed, initial=initial,
                      record_every=record_every, correlations=correlations, generator=generator,
                      backend=backend)
    result = sampler.run(burn_in, record=False, progress=progress).run(sweeps, progress=progress).result()
    message = short_run_message(result.sweeps, result.tau_int)
    if message:
        warnings.warn(message, ShortRunWarning, stacklevel=2)
    return result
