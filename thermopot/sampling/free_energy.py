"""log Z beyond enumeration: annealed importance sampling and thermodynamic integration.

Both start from infinite temperature, where Z(0) = 2^N exactly and the mean energy is
U(0) = -J_0 (the constant term; every other Walsh term averages to zero over the states) and its
variance is V(0) = sum_{alpha != 0} J_alpha^2 (for a pairwise model sum_k h_k^2 + sum_{k<l} J_kl^2).

- **AIS** (Neal 2001): M chains start from independent uniform states (exact samples at beta = 0) and
  follow a schedule 0 = beta_0 < beta_1 < ... < beta_K = beta; with a sweep at beta_k after each step,
  the importance weight log w = -sum_k (beta_k - beta_{k-1}) E(s_{k-1}) has E[w] = Z(beta) / Z(0), so
  log Z = N log 2 + log mean(w). The standard error is the delta-method one, sd(w) / (mean(w) sqrt(M)),
  computed in the log domain. The schedule is beta_k = beta (k / K)^2 (denser where the Boltzmann
  distribution changes fastest at small beta for a zero-mean energy).
- **TI** (thermodynamic integration along a parallel-tempering ladder, :mod:`.tempering`):
  log Z(beta) = N log 2 - int_0^beta U(b) db, with the integral from 0 to the ladder's smallest beta_1
  from the high-temperature expansion U(b) = U(0) - b V(0) + O(b^2), and between the ladder's betas by
  the corrected trapezoid rule that uses the measured derivative dU/dbeta = -Var(E):
  int_a^b U = h (U_a + U_b) / 2 + h^2 (U'_a - U'_b) / 12 (exact for cubics). The B columns of the
  parallel-tempering run are independent replicas, so each gives its own log Z; the result is their
  mean with the standard error of the mean.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import backend_name, get_namespace, to_numpy
from ..checks import check_choice, check_count, check_positive, check_temperature
from ..errors import ThermopotError
from ..models import Model, MultiSpinModel, resolve_model
from ..results import Result
from .chains import resolve_seed
from .ensemble import Ensemble
from .kernels import METHODS, SCANS
from .tempering import DEFAULT_CHAINS, ParallelTempering

METHODS_LOG_Z = ("ais", "ti")

__all__ = ["log_partition", "LogPartition", "METHODS_LOG_Z", "column_log_z", "energy_integral",
           "infinite_temperature_moments", "default_T_max"]


@dataclass(frozen=True)
class LogPartition(Result):
    """log Z at temperature T with its standard error, and the free energy F = -T log Z."""

    log_z: float
    log_z_stderr: float
    free_energy: float
    free_energy_stderr: float
    method: str
    T: float
    n: int
    chains: int
    steps: int
    seed: int
    backend: str
    seconds: float

    _null_nonfinite = True  # to_dict: NaN as None


def infinite_temperature_moments(model: Model) -> tuple[float, float]:
    """U(0) and V(0): the mean and variance of E over the uniform distribution of the 2^N states."""
    if isinstance(model, MultiSpinModel):
        subsets = np.asarray(model.subsets, dtype=bool)
        couplings = np.asarray(model.couplings, dtype=np.float64)
        empty = ~subsets.any(axis=1)
        return -float(couplings[empty].sum()), float(np.sum(couplings[~empty] ** 2))
    h, J = np.asarray(model.h, dtype=np.float64), np.asarray(model.J, dtype=np.float64)
    return 0.0, float(np.sum(h**2) + 0.5 * np.sum(J**2))


def _log_mean_exp(x: np.ndarray) -> tuple[float, float]:
    """log mean(exp x) and the delta-method standard error of it, sd(e^x) / (mean(e^x) sqrt(M))."""
    top = float(np.max(x))
    w = np.exp(x - top)
    mean = float(np.mean(w))
    stderr = float(np.std(w, ddof=1) / (mean * math.sqrt(x.size))) if x.size > 1 else float("nan")
    return top + math.log(mean), stderr


def _ais(model: Model, T: float, *, chains: int, steps: int, method: str, scan: str, seed: int,
         compiled_kernel: bool | None, xp: Any) -> tuple[float, float]:
    beta = 1.0 / T
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    ensemble = Ensemble(model, method=method, scan=scan, compiled_kernel=compiled_kernel, backend=xp)
    chains_now = ensemble.work(ensemble.init(1.0 - 2.0 * rng.integers(0, 2, size=(chains, model.n)), seed=seed))
    betas = beta * (np.arange(steps + 1) / steps) ** 2
    log_w = np.zeros(chains)
    for k in range(1, steps + 1):
        log_w -= (betas[k] - betas[k - 1]) * to_numpy(chains_now.energies())
        chains_now.set_temperatures(np.full(chains, 1.0 / betas[k]))
        chains_now.sweep()
    log_ratio, stderr = _log_mean_exp(log_w)
    return model.n * math.log(2.0) + log_ratio, stderr


def energy_integral(betas: np.ndarray, u: np.ndarray, du: np.ndarray, u0: float, v0: float) -> np.ndarray:
    """int_0^beta_K U(b) db from U and dU/dbeta (..., K) at increasing betas (K,): U(0) beta_1 - V(0) beta_1^2 / 2
    up to beta_1, then the corrected trapezoid h (U_a + U_b) / 2 + h^2 (U'_a - U'_b) / 12 per interval."""
    h = np.diff(betas)
    inner = 0.5 * h * (u[..., 1:] + u[..., :-1]) + h**2 * (du[..., :-1] - du[..., 1:]) / 12.0
    return u0 * betas[0] - 0.5 * v0 * betas[0] ** 2 + np.sum(inner, axis=-1)


def column_log_z(pt: ParallelTempering) -> np.ndarray:
    """log Z at the coldest temperature of a recorded tempering run, one estimate per column (B,), by
    thermodynamic integration over its ladder (see the module docstring)."""
    u0, v0 = infinite_temperature_moments(pt.model)
    count = pt.energy_acc.count
    mean = to_numpy(pt.energy_acc.total) / count  # (B, R): each column's mean energy per temperature
    var = np.maximum(to_numpy(pt.energy_acc.total_sq) / count - mean**2, 0.0)
    betas = 1.0 / pt.temperatures[::-1]  # increasing
    return pt.model.n * math.log(2.0) - energy_integral(betas, mean[:, ::-1], -var[:, ::-1], u0, v0)


def _ti(model: Model, T: float, *, chains: int, steps: int, sweeps: int, method: str, scan: str, seed: int,
        compiled_kernel: bool | None, xp: Any, T_max: float) -> tuple[float, float]:
    pt = ParallelTempering(model, np.geomspace(T, T_max, steps), chains=chains, method=method, scan=scan,
                           seed=seed, compiled_kernel=compiled_kernel, backend=xp)
    pt.run(max(1, sweeps // 5), record=False)
    pt.run(sweeps)
    per_column = column_log_z(pt)
    return float(np.mean(per_column)), float(np.std(per_column, ddof=1) / math.sqrt(per_column.size))


def default_T_max(model: Model, T: float) -> float:
    """A hottest temperature far in the regime of the high-temperature expansion: 20 sqrt(V(0) / N) + 10 T."""
    _, v0 = infinite_temperature_moments(model)
    return 20.0 * math.sqrt(v0 / max(model.n, 1)) + 10.0 * T


def log_partition(model: Model | str, T: float, *, method: str = "ais", chains: int | None = None,
                  steps: int | None = None, sweeps: int = 2000, T_max: float | None = None,
                  sweep_method: str = "heat-bath", scan: str = "sequential", seed: Any = None,
                  compiled_kernel: bool | None = None, backend: Any = None) -> LogPartition:
    """log Z(T) with a standard error, without enumerating the states (see the module docstring).

    ``method="ais"``: ``chains`` (default 256) annealed chains over ``steps`` (default 1000) temperatures.
    ``method="ti"``: a parallel-tempering ladder of ``steps`` (default 24) temperatures geometric from T to
    ``T_max`` (default 20 sqrt(V(0) / N) + 10 T: far in the high-temperature regime where the expansion
    holds), ``chains`` (default 16) columns, ``sweeps`` recorded sweeps.
    """
    model = resolve_model(model)
    T = check_temperature(T)
    method = check_choice(method, "method", METHODS_LOG_Z)
    sweep_method = check_choice(sweep_method, "sweep_method", METHODS)
    scan = check_choice(scan, "scan", SCANS)
    seed_int = resolve_seed(seed)
    xp = get_namespace(backend)
    t0 = time.perf_counter()
    if method == "ais":
        chains = check_count(256 if chains is None else chains, "chains", 2)
        steps = check_count(1000 if steps is None else steps, "steps")
        log_z, stderr = _ais(model, T, chains=chains, steps=steps, method=sweep_method, scan=scan, seed=seed_int,
                             compiled_kernel=compiled_kernel, xp=xp)
    else:
        chains = check_count(DEFAULT_CHAINS if chains is None else chains, "chains", 2)
        steps = check_count(24 if steps is None else steps, "steps", 2)
        sweeps = check_count(sweeps, "sweeps", 2)
        T_max = default_T_max(model, T) if T_max is None else check_positive(T_max, "T_max")
        if T_max <= T:
            raise ThermopotError(f"T_max = {T_max} must exceed T = {T}")
        log_z, stderr = _ti(model, T, chains=chains, steps=steps, sweeps=sweeps, method=sweep_method, scan=scan,
                            seed=seed_int, compiled_kernel=compiled_kernel, xp=xp, T_max=T_max)
    return LogPartition(log_z=log_z, log_z_stderr=stderr, free_energy=-T * log_z, free_energy_stderr=T * stderr,
                        method=method, T=T, n=model.n, chains=chains, steps=steps, seed=seed_int,
                        backend=backend_name(xp), seconds=time.perf_counter() - t0)
