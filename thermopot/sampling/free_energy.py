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
  log Z(beta) = N log 2 - int_0^beta U(b) db by the corrected trapezoid rule on the grid
  0 < beta_1 < ... < beta_K = beta (beta = 0 included, with its exact U(0) and U'(0) = -V(0); the ladder
  points with the measured U and dU/dbeta = -Var(E)): per interval
  int_a^b U = h (U_a + U_b) / 2 + h^2 (U'_a - U'_b) / 12 (exact for cubics). The B columns of the
  parallel-tempering run are independent replicas (swaps stay within a column), so each gives its own
  log Z; the statistical error is the standard error of their mean, se_stat = sd(columns) / sqrt(B),
  which holds whatever the autocorrelation inside a column (B - 1 degrees of freedom) once the columns
  are equilibrated (a basin that no column visits is a bias that no error bar shows).
  The quadrature error is estimated from a coarser, lower-order estimate of the same samples: every
  other ladder point (counted from the coldest) by the same rule, and the piece from 0 to the hottest
  point kept, b, by the second-order expansion U(0) b - V(0) b^2 / 2 (error O(b^3)). With the columns'
  differences d = I_coarse - I_fine, q = |mean(d)|: the coarse estimate's error minus the fine one's, a
  bound on the fine estimate's error whenever the coarse one's is at least twice as large. It is not
  divided by the rule's asymptotic factor 2^4 - 1 = 15, which geometric ladders of a few temperatures do
  not reach, and its sampling noise is kept (subtracting it, q^2 = mean(d)^2 - se(mean d)^2, left too
  small an error bar on 3-temperature ladders at short runs), so q is conservative where the ladder is
  fine. The reported error is se = sqrt(se_stat^2 + q^2).
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
from .tempering import DEFAULT_CHAINS, ParallelTempering, tempering_burn_in

METHODS_LOG_Z = ("ais", "ti")

__all__ = ["log_partition", "LogPartition", "METHODS_LOG_Z", "column_log_z", "ladder_log_z", "energy_integral",
           "quadrature_error", "infinite_temperature_moments", "default_T_max"]


@dataclass(frozen=True)
class LogPartition(Result):
    """log Z at temperature T with its standard error, and the free energy F = -T log Z. ``log_z_quadrature``:
    the part of the error from the quadrature of the TI ladder (included in ``log_z_stderr``; 0 for AIS,
    whose weights are unbiased for Z on any schedule)."""

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
    log_z_quadrature: float = 0.0

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


def _corrected_trapezoid(grid: np.ndarray, u: np.ndarray, du: np.ndarray) -> np.ndarray:
    """int U over the increasing ``grid`` (K,) from U and dU/dbeta (..., K): h (U_a + U_b) / 2 + h^2 (U'_a - U'_b) / 12
    per interval, summed."""
    h = np.diff(grid)
    return np.sum(0.5 * h * (u[..., 1:] + u[..., :-1]) + h**2 * (du[..., :-1] - du[..., 1:]) / 12.0, axis=-1)


def _from_zero(betas: np.ndarray, u: np.ndarray, du: np.ndarray, u0: float,
               v0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid 0, beta_1, ..., beta_K with U and dU/dbeta, the exact U(0) = u0 and U'(0) = -v0 first."""
    lead = u.shape[:-1] + (1,)
    return (np.concatenate([[0.0], betas]), np.concatenate([np.full(lead, u0), u], axis=-1),
            np.concatenate([np.full(lead, -v0), du], axis=-1))


def energy_integral(betas: np.ndarray, u: np.ndarray, du: np.ndarray, u0: float, v0: float) -> np.ndarray:
    """int_0^beta_K U(b) db from U and dU/dbeta (..., K) at increasing betas (K,) by the corrected trapezoid
    h (U_a + U_b) / 2 + h^2 (U'_a - U'_b) / 12 per interval of the grid 0, beta_1, ..., beta_K, with the exact
    U(0) = u0 and U'(0) = -v0 at beta = 0 (error O(h^5) per interval)."""
    return _corrected_trapezoid(*_from_zero(betas, u, du, u0, v0))


def quadrature_error(betas: np.ndarray, u: np.ndarray, du: np.ndarray, u0: float, v0: float) -> float:
    """The quadrature error estimate q of :func:`energy_integral` on ``betas`` from the columns (B, K) of ``u``
    and ``du`` (or one series (K,)): with d = I_coarse - I_fine, where I_coarse keeps every other point of the
    ladder counted from the coldest (beta_K, beta_{K-2}, ...) and integrates from 0 to the hottest point kept,
    b, by the second-order expansion U(0) b - V(0) b^2 / 2, q = |mean(d)| (see the module docstring)."""
    fine = energy_integral(betas, u, du, u0, v0)
    keep = np.arange(betas.size - 1, -1, -2)[::-1]
    hottest = betas[keep[0]]
    coarse = u0 * hottest - 0.5 * v0 * hottest**2 + _corrected_trapezoid(betas[keep], u[..., keep], du[..., keep])
    return abs(float(np.mean(coarse - fine)))


def _ladder_moments(pt: ParallelTempering) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The increasing betas (K,) of a recorded tempering run with each column's mean energy and
    dU/dbeta = -Var(E) (B, K) at them."""
    count = pt.energy_acc.count
    mean = to_numpy(pt.energy_acc.total) / count  # (B, R): each column's mean energy per temperature
    var = np.maximum(to_numpy(pt.energy_acc.total_sq) / count - mean**2, 0.0)
    return 1.0 / pt.temperatures[::-1], mean[:, ::-1], -var[:, ::-1]


def column_log_z(pt: ParallelTempering) -> np.ndarray:
    """log Z at the coldest temperature of a recorded tempering run, one estimate per column (B,), by
    thermodynamic integration over its ladder (see the module docstring)."""
    u0, v0 = infinite_temperature_moments(pt.model)
    return pt.model.n * math.log(2.0) - energy_integral(*_ladder_moments(pt), u0, v0)


def ladder_log_z(pt: ParallelTempering) -> tuple[float, float, float]:
    """log Z at the coldest temperature of a recorded tempering run by thermodynamic integration:
    ``(log_z, stderr, quadrature)``, the mean of the columns' estimates, sqrt(se_stat^2 + q^2) and the
    quadrature error estimate q (see the module docstring)."""
    per_column = column_log_z(pt)
    quadrature = quadrature_error(*_ladder_moments(pt), *infinite_temperature_moments(pt.model))
    statistical = float(np.std(per_column, ddof=1) / math.sqrt(per_column.size))
    return float(np.mean(per_column)), math.hypot(statistical, quadrature), quadrature


def _ti(model: Model, T: float, *, chains: int, steps: int, sweeps: int, method: str, scan: str, seed: int,
        compiled_kernel: bool | None, xp: Any, T_max: float) -> tuple[float, float, float]:
    pt = ParallelTempering(model, np.geomspace(T, T_max, steps), chains=chains, method=method, scan=scan,
                           seed=seed, compiled_kernel=compiled_kernel, backend=xp)
    tempering_burn_in(pt, None, sweeps=sweeps)  # the burn-in rule (.burn_in)
    pt.run(sweeps)
    pt.swap_rates(warn=True)  # a LowSwapRateWarning names each pair of the ladder that does not mix
    return ladder_log_z(pt)


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
    holds), ``chains`` (default 16) columns, ``sweeps`` recorded sweeps; a neighbouring pair of the ladder
    whose swap rate is below LOW_SWAP_RATE gets a LowSwapRateWarning naming its two temperatures.
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
        quadrature = 0.0
        log_z, stderr = _ais(model, T, chains=chains, steps=steps, method=sweep_method, scan=scan, seed=seed_int,
                             compiled_kernel=compiled_kernel, xp=xp)
    else:
        chains = check_count(DEFAULT_CHAINS if chains is None else chains, "chains", 2)
        steps = check_count(24 if steps is None else steps, "steps", 2)
        sweeps = check_count(sweeps, "sweeps", 2)
        T_max = default_T_max(model, T) if T_max is None else check_positive(T_max, "T_max")
        if T_max <= T:
            raise ThermopotError(f"T_max = {T_max} must exceed T = {T}")
        log_z, stderr, quadrature = _ti(model, T, chains=chains, steps=steps, sweeps=sweeps, method=sweep_method, scan=scan,
                            seed=seed_int, compiled_kernel=compiled_kernel, xp=xp, T_max=T_max)
    return LogPartition(log_z=log_z, log_z_stderr=stderr, free_energy=-T * log_z, free_energy_stderr=T * stderr,
                        method=method, T=T, n=model.n, chains=chains, steps=steps, seed=seed_int,
                        backend=backend_name(xp), seconds=time.perf_counter() - t0, log_z_quadrature=quadrature)
