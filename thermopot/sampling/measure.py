"""What a sampler records while it runs, and the summary it returns.

Every ``record_every``-th sweep adds, per chain: the energy E and the mean magnetisation
M = (1/N) sum_k s_k to time series (their integrated autocorrelation times by Sokal's automatic
window), and the spins s_k to a batch-means accumulator (per-site magnetisations with error bars);
optionally the correlations <s_k s_l> (summed over chains, batch means over time).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..results import Result, renamed
from .statistics import BatchMeans, mean_stderr

#: largest N for which correlations are accumulated (their batches hold 64 N x N arrays)
MAX_CORRELATION_SPINS = 256


@dataclass(frozen=True)
class SampleResult(Result):
    """Equilibrium averages from B chains, with autocorrelation-aware standard errors.

    magnetization (N,) and magnetization_stderr (N,) (batch means over chains and time);
    magnetization_tau (N,) the batch-means tau_int of each s_k; energy and energy_stderr
    (sqrt(2 tau sigma^2 / (n B)) with the pooled Sokal tau of the energy series); tau_int the pooled
    tau_int of the energy and mean-magnetisation series and tau_int_chains the per-chain values (all in
    sweeps); flip_rate the fraction of accepted flips; correlation (N, N) raw <s_k s_l> with its
    stderr when asked for (else None). ``sweeps`` counts the recorded sweeps per chain; ``generator``
    names the random-number generator ("pcg64" or "philox"; ``rng`` is its deprecated former name) and ``fused`` tells whether the fused CUDA kernel ran the sweeps, ``compiled``
    whether the compiled CPU kernel (numba) did. ``warnings``: the ShortRunWarning messages of the run (a run
    shorter than 50 integrated autocorrelation times), also in the JSON as ``warnings`` and ``short_run``.
    ``burn_in``: the unrecorded sweeps run before the recorded ones (:mod:`.burn_in`; 0 when the caller ran
    them itself).
    """

    n: int
    T: float
    chains: int
    sweeps: int
    method: str
    scan: str
    seed: int
    magnetization: np.ndarray
    magnetization_stderr: np.ndarray
    magnetization_tau: np.ndarray
    energy: float
    energy_stderr: float
    tau_int: dict
    tau_int_chains: dict
    flip_rate: float
    correlation: np.ndarray | None = None
    correlation_stderr: np.ndarray | None = None
    backend: str = "numpy"
    seconds: float = 0.0
    generator: str = "pcg64"
    fused: bool = False
    compiled: bool = False
    warnings: tuple[str, ...] = ()
    burn_in: int = 0
    rng = renamed("generator", "rng")

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot sample`)."""
        data = {"n": self.n, "T": self.T, "chains": self.chains, "sweeps": self.sweeps, "burn_in": self.burn_in,
                "method": self.method, "scan": self.scan, "seed": self.seed, "magnetization": self.magnetization,
                "magnetization_stderr": self.magnetization_stderr, "magnetization_tau": self.magnetization_tau,
                "energy": self.energy, "energy_stderr": self.energy_stderr, "tau_int": self.tau_int,
                "tau_int_chains": self.tau_int_chains, "flip_rate": self.flip_rate, "backend": self.backend,
                "seconds": self.seconds, "generator": self.generator, "rng": self.generator, "fused": self.fused,
                "compiled": self.compiled, "short_run": bool(self.warnings), "warnings": list(self.warnings)}
        if self.correlation is not None:
            data["correlation"] = self.correlation
            data["correlation_stderr"] = self.correlation_stderr
        return self._json(data)


class Series:
    """A series of rows (width,) in one preallocated float64 array (capacity, width) on the backend:
    :meth:`reserve` sizes it for the rows a run will record (no copy when reserved up front); an
    append beyond the capacity doubles it (amortised O(1)).

    :meth:`copy` shares the buffer: copies see their own first ``length`` rows, and a copy appends in
    place only while no other copy has written past its length (else it first copies its rows into a
    buffer of its own). So a chain of sampler states, each continuing the last, appends in amortised
    O(1), and an older state run again never changes what a newer one sees."""

    def __init__(self, width: int, xp: ModuleType, rows: Any = None):
        self.xp = xp
        empty = rows is None
        self.data = xp.zeros((0, width), dtype=xp.float64) if empty else xp.asarray(rows, dtype=xp.float64)
        self.length = int(self.data.shape[0])
        self._written = [self.length]  # rows of ``data`` written by any copy (shared between copies)

    def copy(self) -> "Series":
        """A series with the same rows, sharing the buffer until one of them writes (class docstring)."""
        twin = object.__new__(Series)
        twin.xp, twin.data, twin.length, twin._written = self.xp, self.data, self.length, self._written
        return twin

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows (in a buffer of this series' own once another copy wrote past it)."""
        need = self.length + extra
        if need > self.data.shape[0] or self._written[0] != self.length:
            grown = self.xp.empty((max(need, self.data.shape[0]), self.data.shape[1]), dtype=self.xp.float64)
            grown[:self.length] = self.data[:self.length]
            self.data, self._written = grown, [self.length]

    def append(self, row: Any) -> None:
        """Add one row (width,)."""
        if self.length == self.data.shape[0] or self._written[0] != self.length:
            self.reserve(max(self.length, 16))
        self.data[self.length] = row
        self.length += 1
        self._written[0] = self.length

    def values(self) -> Any:
        """The rows so far (length, width): a view, on the backend."""
        return self.data[:self.length]


class Measurements:
    """Accumulators of one sampler: energy and magnetisation series, per-site batch means, optional
    correlation batch means, and the count of accepted flips."""

    def __init__(self, chains: int, n: int, xp: ModuleType, correlations: bool = False):
        self.xp = xp
        self.energy = Series(chains, xp)
        self.magnet = Series(chains, xp)
        self.spins = BatchMeans((chains, n), xp)
        self.corr = BatchMeans((1, n, n), xp) if correlations else None

    def reserve(self, samples: int) -> None:
        """Preallocate the series for ``samples`` more recordings."""
        self.energy.reserve(samples)
        self.magnet.reserve(samples)

    def record(self, s: Any, energy: Any) -> None:
        """Add one sample: states s (B, N) and their energies (B,)."""
        self.energy.append(energy)
        self.magnet.append(self.xp.mean(s, axis=1))
        self.spins.add(s)
        if self.corr is not None:
            self.corr.add((s.T @ s)[None] / s.shape[0])

    @property
    def samples(self) -> int:
        return self.energy.length

    def copy(self) -> "Measurements":
        """Accumulators equal to these that :meth:`record` can extend without changing these (the
        series share their buffers, see :class:`Series`; the batch means are copied)."""
        twin = object.__new__(Measurements)
        twin.xp, twin.energy, twin.magnet = self.xp, self.energy.copy(), self.magnet.copy()
        twin.spins = self.spins.copy()
        twin.corr = None if self.corr is None else self.corr.copy()
        return twin

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """Energy and mean-magnetisation series, each (samples, B), as NumPy."""
        return to_numpy(self.energy.values()), to_numpy(self.magnet.values())

    def summary(self, every: int) -> dict:
        """Means, standard errors and tau_int (tau converted to sweeps with the recording interval)."""
        energy, magnet = self.series()
        e_mean, e_err, e_tau_chains, e_tau = mean_stderr(energy)
        _, _, m_tau_chains, m_tau = mean_stderr(magnet)
        out = {"energy": e_mean, "energy_stderr": e_err,
               "tau_int": {"energy": e_tau * every, "magnetization": m_tau * every},
               "tau_int_chains": {"energy": e_tau_chains * every, "magnetization": m_tau_chains * every},
               "magnetization": to_numpy(self.spins.mean()),
               "magnetization_stderr": to_numpy(self.spins.stderr()),
               "magnetization_tau": to_numpy(self.spins.tau()) * every}
        if self.corr is not None:
            out["correlation"] = to_numpy(self.corr.mean())
            out["correlation_stderr"] = to_numpy(self.corr.stderr())
        return out

    def arrays(self) -> dict:
        """Everything as named arrays (for a checkpoint)."""
        energy, magnet = self.series()
        out = {"meas_energy": energy, "meas_magnet": magnet, **self.spins.arrays("meas_spins_")}
        if self.corr is not None:
            out.update(self.corr.arrays("meas_corr_"))
        return out

    @classmethod
    def from_arrays(cls, arrays: dict, xp: ModuleType) -> "Measurements":
        """Rebuild from :meth:`arrays`."""
        chains, n = arrays["meas_spins_total"].shape
        meas = cls(chains, n, xp, correlations="meas_corr_ints" in arrays)
        meas.energy = Series(chains, xp, arrays["meas_energy"])
        meas.magnet = Series(chains, xp, arrays["meas_magnet"])
        meas.spins = BatchMeans.from_arrays(arrays, "meas_spins_", xp)
        if meas.corr is not None:
            meas.corr = BatchMeans.from_arrays(arrays, "meas_corr_", xp)
        return meas
