"""Parallel tempering (replica exchange): B chains at each of R temperatures T_1 < ... < T_R, run as
one array program of R B chains, with swaps of configurations between neighbouring temperatures.

Between sweeps the pairs (i, i + 1) of one parity (even pairs after even sweeps, odd after odd: the
deterministic even-odd scheme, Okabe et al. 2001, Lingenheil et al. 2009) exchange their
configurations in each of the B columns with the Metropolis probability

    p_swap = min(1, exp[(beta_i - beta_{i+1}) (E_i - E_{i+1})]),

which keeps the product of the Boltzmann distributions stationary (Hukushima and Nemoto 1996). A swap
moves temperatures, not spins: each chain keeps its configuration and its kernel bookkeeping (local
fields or Walsh products) and takes the other's temperature, so a swap costs O(1) per pair.

Sweeps are those of an :class:`.ensemble.Ensemble` (the sampler's kernels, :mod:`.kernels`, or the
compiled CPU kernel :mod:`.compiled` on NumPy when numba is installed) with each chain at its own
temperature and the counter-based Philox numbers of :mod:`.philox` keyed by the seed, so the array and
compiled paths give the same run; the chains are an :class:`.ensemble.EnsembleState` (``state``), which
each ``run`` call replaces by a new one. Swap decisions use a separate PCG64 stream of the same seed.

Reported per temperature: energy and magnetisations (and, with ``correlations``, the raw two-point
correlations <s_k s_l>) with batch-means error bars (:class:`.statistics.BatchMeans`, B columns as
groups), the swap rate of each neighbouring pair, and the round trips of
the replicas (coldest -> hottest -> coldest) with the mean round-trip time in sweeps.
:func:`temperature_ladder` places the temperatures for a constant swap rate from a pilot run.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import erfcinv

from ..backend import asarray, backend_name, get_namespace, synchronize, to_numpy
from ..checks import check_choice, check_count, check_positive, check_temperature
from ..errors import ThermopotError
from ..models import Model, resolve_model
from ..results import Result
from ..states import all_states
from ..progress import Progress
from . import compiled
from .burn_in import BurnIn, run_burn_in
from .chains import resolve_seed
from .ensemble import Ensemble, EnsembleState, EnsembleWork
from .kernels import METHODS, SCANS
from .measure import MAX_CORRELATION_SPINS
from .statistics import BatchMeans

#: default chains per temperature
DEFAULT_CHAINS = 16
#: swap rate below which a neighbouring pair is reported as not mixing (a warning names the pair)
LOW_SWAP_RATE = 0.05
#: ParallelTempering.run(observe=...): called after each sweep with (energies (R, B), coldest states (B, N))
Observer = Callable[[np.ndarray, Any], None]

__all__ = ["ParallelTempering", "TemperingResult", "parallel_tempering", "temperature_ladder", "exact_swap_rate",
           "check_ladder", "LOW_SWAP_RATE", "LowSwapRateWarning"]


class LowSwapRateWarning(UserWarning):
    """A pair of neighbouring temperatures whose configurations rarely swap: the ladder does not mix."""


@dataclass(frozen=True)
class TemperingResult(Result):
    """Per-temperature averages of a parallel-tempering run (arrays indexed by the ladder, coldest first).

    energy, energy_stderr (R,); magnetization, magnetization_stderr (R, N); tau_int (R,): the
    integrated autocorrelation time of the energy at each temperature (in recorded sweeps);
    swap_rate (R - 1,): accepted / attempted swaps of the pairs (i, i + 1); round_trips: completed
    coldest -> hottest -> coldest trips of all replicas; round_trip_time: replica-sweeps per round trip
    (NaN when none was completed); correlation, correlation_stderr (R, N, N): raw <s_k s_l> when asked
    for (else None); burn_in: the unrecorded sweeps run first (:mod:`.burn_in`)."""

    temperatures: np.ndarray
    energy: np.ndarray
    energy_stderr: np.ndarray
    magnetization: np.ndarray
    magnetization_stderr: np.ndarray
    tau_int: np.ndarray
    swap_rate: np.ndarray
    round_trips: int
    round_trip_time: float
    chains: int
    sweeps: int
    method: str
    scan: str
    seed: int
    backend: str
    seconds: float
    correlation: np.ndarray | None = None
    correlation_stderr: np.ndarray | None = None
    burn_in: int = 0

    _null_nonfinite = True  # to_dict: arrays as lists, NaN as None


@compiled.jit
def swap_pairs(energies, betas, perm, level, direction, u, parity, attempts, accepts):  # pragma: no cover
    """The swaps of the pairs (i, i + 1), i = parity, parity + 2, ..., in every column b: accept iff
    log u[j, b] < (beta_i - beta_{i+1}) (E_lower - E_upper) (j the pair's position), exchanging perm and level
    of the two chains; then the round trips: a chain at the coldest level whose last extreme was the hottest
    (direction -1, reached from the coldest) completes one. Returns the round trips completed."""
    levels, columns = perm.shape
    for j, i in enumerate(range(parity, levels - 1, 2)):
        for b in range(columns):
            lower, upper = perm[i, b], perm[i + 1, b]
            attempts[i] += 1
            if math.log(u[j, b]) < (betas[i] - betas[i + 1]) * (energies[lower] - energies[upper]):
                perm[i, b], perm[i + 1, b] = upper, lower
                level[lower], level[upper] = i + 1, i
                accepts[i] += 1
    trips = 0
    for c in range(level.shape[0]):
        if level[c] == 0:
            if direction[c] == -1:
                trips += 1
            direction[c] = 1
        elif level[c] == levels - 1 and direction[c] == 1:
            direction[c] = -1
    return trips


def check_ladder(temperatures: Any) -> np.ndarray:
    """The temperatures as a strictly increasing float64 array of at least two valid temperatures."""
    t = np.asarray(temperatures, dtype=np.float64).reshape(-1) if np.ndim(temperatures) else np.zeros(0)
    if t.size < 2:
        raise ThermopotError(f"parallel tempering needs at least 2 temperatures, got {temperatures!r}")
    for value in t:
        check_temperature(value)
    if np.any(np.diff(t) <= 0):
        raise ThermopotError(f"temperatures must be strictly increasing (coldest first), got {t.tolist()}")
    return t


class ParallelTempering:
    """``chains`` chains at each temperature of the ladder, swapped between neighbours after every
    sweep (see the module docstring). ``run(w)`` performs w sweeps, recording measurements when
    ``record``; ``result()`` summarises them. ``compiled``: use the compiled CPU kernel on NumPy
    (None: when numba is installed). ``correlations``: also accumulate <s_k s_l> at every temperature
    (N <= MAX_CORRELATION_SPINS). ``ensemble`` is the sweeps' configuration and ``state`` the
    chains (an :class:`.ensemble.EnsembleState`, chain c at ``temperatures[level[c]]``)."""

    def __init__(self, model: Model | str, temperatures: Any, *, chains: int = DEFAULT_CHAINS,
                 method: str = "heat-bath", scan: str = "sequential", seed: Any = None,
                 compiled_kernel: bool | None = None, backend: Any = None, correlations: bool = False):
        self.model = resolve_model(model)
        if correlations and self.model.n > MAX_CORRELATION_SPINS:
            raise ThermopotError(f"correlations are accumulated for N <= {MAX_CORRELATION_SPINS} only "
                                 f"(N = {self.model.n})")
        self.temperatures = check_ladder(temperatures)
        self.betas = 1.0 / self.temperatures
        self.method = check_choice(method, "method", METHODS)
        self.scan = check_choice(scan, "scan", SCANS)
        self.columns = check_count(chains, "chains")
        self.seed = resolve_seed(seed)
        self.xp = xp = get_namespace(backend)
        n, levels = self.model.n, self.temperatures.size
        init_rng, self.swap_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(self.seed).spawn(2))
        states = 1.0 - 2.0 * init_rng.integers(0, 2, size=(levels * self.columns, n))
        self.ensemble = Ensemble(self.model, method=self.method, scan=self.scan, compiled_kernel=compiled_kernel,
                                 backend=xp)
        #: perm[r, b]: the chain at temperature r in column b; level[c]: the temperature index of chain c
        self.perm = np.arange(states.shape[0]).reshape(levels, self.columns)
        self.level = np.repeat(np.arange(levels), self.columns)
        self.state: EnsembleState = self.ensemble.init(states, seed=self.seed,
                                                       temperatures=self.temperatures[self.level])
        self.energy_acc = BatchMeans((self.columns, levels), xp)
        self.magnetization_acc = BatchMeans((self.columns, levels, n), xp)
        self.correlation_acc = BatchMeans((self.columns, levels, n, n), xp) if correlations else None
        self.attempts = np.zeros(levels - 1, dtype=np.int64)
        self.accepts = np.zeros(levels - 1, dtype=np.int64)
        self.direction = np.zeros(self.level.size, dtype=np.int8)  # +1: last extreme visited was the coldest, -1: hottest
        self.round_trips = 0
        self.seconds = 0.0

    def set_model(self, model: Model) -> None:
        """Continue the chains under another model of the same size (new couplings after a learning
        step): the chains keep their spins and temperatures, their bookkeeping is recomputed."""
        self.ensemble = self.ensemble.with_model(model)
        self.model = self.ensemble.model
        self.state = self.ensemble.adopt(self.state)

    def _swap(self, energies: np.ndarray, work: EnsembleWork) -> None:
        """Swap the temperatures of the pairs (i, i + 1) of this sweep's parity in every column."""
        levels = self.temperatures.size
        parity = (work.sweeps_done + 1) % 2
        pairs = len(range(parity, levels - 1, 2))
        if pairs == 0:
            return
        u = self.swap_rng.random((pairs, self.columns))
        self.round_trips += swap_pairs(energies, self.betas, self.perm, self.level, self.direction, u, parity,
                                       self.attempts, self.accepts)
        work.set_temperatures(self.temperatures[self.level])

    def run(self, sweeps: int, *, record: bool = True, progress: bool | None = None,
            observe: Observer | None = None) -> "ParallelTempering":
        """Perform ``sweeps`` sweeps, each followed by the swaps of one parity (on a working copy of
        ``state``, which becomes the new ``state``); returns self. ``observe(energies, cold)``, when
        given, is called after each sweep's swaps with the energies (R, B) by temperature and column
        (NumPy) and the states (B, N) at the lowest temperature by column (on the backend)."""
        sweeps = check_count(sweeps, "sweeps", 0)
        t0 = time.perf_counter()
        work = self.ensemble.work(self.state)
        try:
            with Progress(progress, sweeps, unit="sweep", desc=f"tempering N={self.model.n}") as bar:
                for _ in range(sweeps):
                    work.sweep()
                    energies = to_numpy(work.energies())
                    self._swap(energies, work)
                    if record:
                        self._record(energies, work.s)
                    if observe is not None:
                        observe(energies[self.perm], work.s[asarray(self.perm[0], self.xp, dtype=self.xp.int64)])
                    bar.update(1)
        finally:  # the swaps and records so far belong to the sweeps so far
            self.state = work.state()
        synchronize(self.xp)
        self.seconds += time.perf_counter() - t0
        return self

    def _record(self, energies: np.ndarray, s: Any) -> None:
        xp, perm = self.xp, self.perm
        self.energy_acc.add(asarray(energies[perm].T, xp))
        index = asarray(perm.T.reshape(-1), xp, dtype=xp.int64)
        spins = xp.reshape(xp.take(s, index, axis=0), (self.columns, self.temperatures.size, self.model.n))
        self.magnetization_acc.add(spins)
        if self.correlation_acc is not None:
            self.correlation_acc.add(spins[..., :, None] * spins[..., None, :])

    def states(self) -> np.ndarray:
        """Current configurations by temperature, (R, B, N) as NumPy."""
        return to_numpy(self.state.s)[self.perm]

    def swap_rates(self, *, warn: bool = False) -> np.ndarray:
        """Accepted / attempted swaps of each neighbouring pair (R - 1,); with ``warn``, a LowSwapRateWarning
        names each pair below LOW_SWAP_RATE (the ladder does not mix there)."""
        rate = self.accepts / np.maximum(self.attempts, 1)
        for i in np.flatnonzero(rate < LOW_SWAP_RATE) if warn else ():
            warnings.warn(f"parallel tempering: swap rate {rate[i]:.3f} between T = {self.temperatures[i]:.4g} and "
                          f"T = {self.temperatures[i + 1]:.4g} is below {LOW_SWAP_RATE}; the ladder does not mix "
                          "there (add temperatures between them, or use temperature_ladder)",
                          LowSwapRateWarning, stacklevel=3)
        return rate

    def result(self) -> TemperingResult:
        """Averages of the recorded sweeps per temperature (see TemperingResult)."""
        if self.energy_acc.count < 2:
            raise ThermopotError("at least 2 recorded sweeps are needed for averages with error bars")
        rate = self.swap_rates(warn=True)
        trips = self.round_trips
        corr = self.correlation_acc
        return TemperingResult(
            temperatures=self.temperatures.copy(), energy=to_numpy(self.energy_acc.mean()),
            energy_stderr=to_numpy(self.energy_acc.stderr()), magnetization=to_numpy(self.magnetization_acc.mean()),
            magnetization_stderr=to_numpy(self.magnetization_acc.stderr()), tau_int=to_numpy(self.energy_acc.tau()),
            swap_rate=rate, round_trips=trips,
            round_trip_time=self.state.sweeps_done * self.perm.size / trips if trips else float("nan"),
            chains=self.columns, sweeps=self.state.sweeps_done, method=self.method, scan=self.scan, seed=self.seed,
            backend=backend_name(self.xp), seconds=self.seconds,
            correlation=None if corr is None else to_numpy(corr.mean()),
            correlation_stderr=None if corr is None else to_numpy(corr.stderr()))


def parallel_tempering(model: Model | str, temperatures: Any, *, chains: int = DEFAULT_CHAINS, sweeps: int = 1000,
                       burn_in: BurnIn = None, method: str = "heat-bath", scan: str = "sequential",
                       seed: Any = None, compiled_kernel: bool | None = None, backend: Any = None,
                       progress: bool | None = None, correlations: bool = False) -> TemperingResult:
    """Run parallel tempering on the ladder ``temperatures``: ``burn_in`` sweeps unrecorded (None: the
    default rule, max(sweeps // 5, 100); an integer; or "mser" on the column-averaged energy at every temperature;
    see :mod:`.burn_in`), then ``sweeps`` recorded; see :class:`ParallelTempering` and
    :class:`TemperingResult` (``correlations``: also <s_k s_l>; ``burn_in``: the sweeps discarded)."""
    sweeps = check_count(sweeps, "sweeps", 2)
    pt = ParallelTempering(model, temperatures, chains=chains, method=method, scan=scan, seed=seed,
                           compiled_kernel=compiled_kernel, backend=backend, correlations=correlations)
    used = tempering_burn_in(pt, burn_in, sweeps=sweeps, progress=progress)
    pt.run(sweeps, progress=progress)
    return replace(pt.result(), burn_in=used)


def tempering_burn_in(pt: ParallelTempering, burn_in: BurnIn, *, sweeps: int, progress: bool | None = None) -> int:
    """Run the burn-in of ``pt`` for a run of ``sweeps`` recorded sweeps (the rule of :mod:`.burn_in`; "mser"
    on the column-averaged energy at every temperature) and return its length in sweeps."""

    def trace(k: int) -> np.ndarray:
        rows: list[np.ndarray] = []
        pt.run(k, record=False, progress=progress, observe=lambda energies, cold: rows.append(energies.mean(axis=1)))
        return np.array(rows)

    return run_burn_in(burn_in, sweeps, run=lambda k: pt.run(k, record=False, progress=progress), trace=trace)


def exact_swap_rate(model: Model | str, T1: float, T2: float) -> float:
    """The exact mean acceptance of a configuration swap between T1 and T2, by enumeration of all 2^N states:
    sum_{s, s'} p_1(s) p_2(s') min(1, exp[(beta_1 - beta_2)(E(s) - E(s'))]) (small N only: 4^N terms)."""
    model = resolve_model(model)
    if model.n > 12:
        raise ThermopotError(f"exact_swap_rate sums over 4^N pairs of states: N = {model.n} is too large (N <= 12)")
    energy = to_numpy(model.energy(all_states(model.n)))
    p = [np.exp(-(energy - energy.min()) / T) for T in (check_temperature(T1), check_temperature(T2))]
    p = [q / q.sum() for q in p]
    with np.errstate(over="ignore"):
        accept = np.minimum(1.0, np.exp((1 / T1 - 1 / T2) * (energy[:, None] - energy[None, :])))
    return float(p[0] @ accept @ p[1])


def temperature_ladder(model: Model | str, T_min: float, T_max: float, *, swap_rate: float = 0.3,
                       pilot_temperatures: int = 16, pilot_sweeps: int = 400, chains: int = 8, seed: Any = 0,
                       backend: Any = None) -> np.ndarray:
    """Temperatures from T_min to T_max with about the same swap rate ``swap_rate`` between neighbours.

    A pilot run on a geometric ladder measures the energy's standard deviation sigma(beta); for two
    neighbours with Gaussian energy distributions of width sigma the swap rate is erfc(dbeta sigma / 2)
    (mean energies differ by sigma^2 dbeta), so the betas are placed at equal steps of the thermodynamic
    length L(beta) = int sigma dbeta, of size x = 2 erfcinv(swap_rate), as many as L / x needs."""
    T_min, T_max = check_temperature(T_min), check_temperature(T_max)
    if T_max <= T_min:
        raise ThermopotError(f"T_max must exceed T_min, got T_min = {T_min}, T_max = {T_max}")
    rate = check_positive(swap_rate, "swap_rate")
    if rate >= 1:
        raise ThermopotError(f"swap_rate must be in (0, 1), got {swap_rate}")
    pilot = np.geomspace(T_min, T_max, check_count(pilot_temperatures, "pilot_temperatures", 2))
    pt = ParallelTempering(model, pilot, chains=chains, seed=seed, backend=backend)
    tempering_burn_in(pt, None, sweeps=pilot_sweeps)
    pt.run(pilot_sweeps)
    sigma = np.sqrt(to_numpy(pt.energy_acc.variance()))
    betas = 1.0 / pilot[::-1]  # increasing beta
    sig = sigma[::-1]
    length = np.concatenate([[0.0], np.cumsum(0.5 * (sig[1:] + sig[:-1]) * np.diff(betas))])
    step = 2.0 * float(erfcinv(rate))
    count = max(2, int(math.ceil(length[-1] / step)) + 1)
    placed = np.interp(np.linspace(0.0, length[-1], count), length, betas)
    return np.sort(1.0 / placed)
