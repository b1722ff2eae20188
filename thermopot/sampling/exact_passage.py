"""Exact mean first-passage times of the sampler's own single-spin dynamics, over all 2^N states.

The reference for :func:`~thermopot.sampling.first_passage`: the same dynamics (heat bath or Metropolis, random or
sequential scan), the same escape set and the same clock (single-spin updates, counting the one that
escapes; a sweep is N updates; a chain starts at a sweep boundary, so a sequential scan visits site 0
first). The escape set X is either the states of overlap q(s) = (1/N) sum_k s_k s0_k < ``threshold``
with the start s0 (leaving its ball), or the ``targets`` (reaching a set); A is the rest.

An update of site k flips it with probability p_k(s) = 1 / (1 + exp(dE_k / T)) (heat bath) or
min(1, exp(-dE_k / T)) (Metropolis), dE_k = E(s^k) - E(s): the kernel P_k has P_k(s, s^k) = p_k(s) and
P_k(s, s) = 1 - p_k(s). Q_k is P_k restricted to A (rows and columns; a move into X ends the clock).
With tau(s) the mean number of updates to reach X from s in A:

- random scan (a uniform site per update): P = (1/N) sum_k P_k is time-homogeneous and
  (I - Q) tau = 1, Q = (1/N) sum_k Q_k, a sparse system with at most N + 1 entries per row, solved
  directly (``scipy.sparse.linalg.splu``, SuperLU with a minimum-degree ordering of A + A^T, then one
  step of iterative refinement);
- sequential scan (sites 0, 1, ..., N-1, 0, ...): with tau_k the time left when the next update visits
  site k, tau_k = 1 + Q_k tau_{k+1 mod N}. Eliminating the phases,

      (I - M) tau_0 = c,   M = Q_0 Q_1 ... Q_{N-1},   c = v_0,  v_{N-1} = 1,  v_k = 1 + Q_k v_{k+1},

  where M (the sweep operator on A) is applied as N sparse matrix-vector products (2 entries per row
  each) inside GMRES (``scipy.sparse.linalg.gmres``, restart ``GMRES_RESTART``, stopping at
  ||r||_2 <= ``rtol`` ||c||_2 / sqrt(|A|), at most ``GMRES_MAXITER`` restart cycles).

Both solves are checked on their true residual r = b - A x: the normwise backward error
||r|| / (||A|| ||x|| + ||b||) (infinity norms; ||I - M|| <= 2) must be <= ``rtol``, or a ThermopotError.
The answer is tau(s0) (tau_0(s0) for a sequential scan), 0 when s0 is already in X. Its relative error is
at most about the backward error times the condition number of the system, which grows like the escape
time itself (in sweeps); a flip probability that underflows at very low T makes the time infinite and
the solve fails that check.
For an isolated well of depth Delta (every flip out costs Delta) both give 1 + exp(Delta / T) (heat bath)
and exp(Delta / T) (Metropolis), whatever the scan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, gmres, splu

from ..backend import get_namespace, resolve_block_size, to_numpy
from ..checks import check_choice, check_positive, check_temperature
from ..errors import SizeError, ThermopotError
from ..exact.guard import check_budget
from ..landscape import energy_table
from ..models import Model, resolve_model
from ..results import Result
from ..states import spins_to_index
from .chains import real_array
from .kernels import METHODS, SCANS
from ._passage_inputs import check_one_condition, check_targets, check_threshold

#: most spins accepted (2^N energies and index maps are kept; the solves are bounded by the guard below)
MAX_EXACT_PASSAGE_SPINS = 20
#: GMRES restart length of the sequential-scan solve (Krylov vectors kept: GMRES_RESTART x |A| floats)
GMRES_RESTART = 200
#: GMRES iterations allowed (restart cycles x restart)
GMRES_MAXITER = 20
#: cost model of the size guard, upper bounds measured on a busy 2-core Intel Xeon AVX-512 (README): the
#: random-scan LU (SuperLU, minimum-degree ordering of A + A^T) of the whole hypercube less one state kept
#: 0.21 |A|^2 factor entries (12 B each) and took 8.3e-12 |A|^3 s (N = 12-14: 0.57 s, 4.3 s, 30 s);
#: the sequential-scan GMRES costs about 1e-9 s per state of A, per (restart + 4 N), per iteration
LU_BYTES_PER_STATE_SQUARED = 3.0
LU_SECONDS_PER_STATE_CUBED = 1.0e-11
GMRES_SECONDS = 1.0e-9


@dataclass(frozen=True)
class ExactPassage(Result):
    """The exact mean first-passage time ``mean`` (single-spin updates) from the start state (index
    ``start``) to the escape set, for the dynamics (``method``, ``scan``) at ``T``; ``states``: |A|, the
    states not yet escaped; ``residual``: the backward error of the solve (module docstring);
    ``iterations``: GMRES iterations (the direct solve: 1, its refinement step); ``solver``."""

    mean: float
    n: int
    T: float
    method: str
    scan: str
    start: int
    states: int
    residual: float
    iterations: int
    solver: str
    seconds: float = 0.0

    @property
    def sweeps(self) -> float:
        """The mean first-passage time in sweeps (N updates)."""
        return self.mean / self.n

    def to_dict(self) -> dict:
        return self._json({"mean": self.mean, "sweeps": self.sweeps, "n": self.n, "T": self.T,
                           "method": self.method, "scan": self.scan, "start": self.start, "states": self.states,
                           "residual": self.residual, "iterations": self.iterations, "solver": self.solver,
                           "seconds": self.seconds})


def _flip_probability(method: str, de: np.ndarray, T: float) -> np.ndarray:
    """p(dE) of the update rule (module docstring), without overflow."""
    x = de / T
    if method == "heat-bath":
        return np.exp(-np.logaddexp(0.0, x))  # 1 / (1 + e^x)
    return np.exp(-np.maximum(x, 0.0))


def _not_escaped(n: int, start: int, threshold: float | None, targets: np.ndarray | None) -> np.ndarray:
    """Boolean mask (2^N,) of A, the states from which the clock still runs."""
    idx = np.arange(2**n, dtype=np.int64)
    if threshold is None:
        inside = np.ones(2**n, dtype=bool)
        inside[to_numpy(spins_to_index(targets))] = False
        return inside
    diff = idx ^ start
    hamming = np.zeros(2**n, dtype=np.int64)
    for k in range(n):
        hamming += (diff >> k) & 1
    return (n - 2 * hamming) >= threshold * n  # the sampler's test: sum_k s_k s0_k < threshold N escapes


def _site_kernels(energies: np.ndarray, inside: np.ndarray, method: str, T: float) -> list[sp.csr_matrix]:
    """Q_k (|A|, |A|) for k = 0..N-1: 1 - p_k on the diagonal, p_k at s^k when s^k is in A."""
    n = int(np.log2(len(energies)))
    states = np.flatnonzero(inside)
    local = np.full(len(energies), -1, dtype=np.int64)
    local[states] = np.arange(len(states))
    rows = np.arange(len(states))
    out = []
    for k in range(n):
        other = states ^ (1 << k)
        p = _flip_probability(method, energies[other] - energies[states], T)
        stay = local[other] >= 0
        out.append(sp.csr_matrix((np.concatenate([1.0 - p, p[stay]]),
                                  (np.concatenate([rows, rows[stay]]), np.concatenate([rows, local[other[stay]]]))),
                                 shape=(len(states), len(states))))
    return out


def _guard(n: int, size: int, scan: str, max_seconds: float | None) -> None:
    """Refuse (SizeError) a solve over ``size`` states of A that would not fit or would take too long."""
    table = 2.0**n * 24.0  # energies, index map, mask
    if scan == "random":
        memory = table + 40.0 * (n + 1) * size + LU_BYTES_PER_STATE_SQUARED * float(size) ** 2
        seconds = LU_SECONDS_PER_STATE_CUBED * float(size) ** 3
    else:
        memory = table + 8.0 * size * (GMRES_RESTART + 3 * n + 8)
        seconds = GMRES_SECONDS * size * (GMRES_RESTART + 4 * n) * GMRES_RESTART * GMRES_MAXITER
    check_budget(memory, seconds, f"the exact first-passage time ({scan} scan) of N={n} spins over "
                                  f"{size} states not yet escaped", "numpy", max_seconds=max_seconds)


def _backward_error(a: Any, x: np.ndarray, b: np.ndarray, norm_a: float) -> float:
    """The normwise backward error ||b - A x|| / (||A|| ||x|| + ||b||) (infinity norms)."""
    r = b - a @ x
    return float(np.max(np.abs(r)) / (norm_a * np.max(np.abs(x)) + np.max(np.abs(b))))


def _random_scan(kernels: list[sp.csr_matrix]) -> tuple[np.ndarray, float, int]:
    """tau solving (I - Q) tau = 1, Q the mean of the Q_k, by sparse LU and one step of iterative
    refinement; (tau, backward error, 1 refinement)."""
    q = sum(kernels) / len(kernels)
    a = (sp.identity(q.shape[0], format="csc") - q).tocsc()
    ones = np.ones(q.shape[0])
    try:
        lu = splu(a, permc_spec="MMD_AT_PLUS_A")
    except RuntimeError as err:  # "Factor is exactly singular": no escape from some state in float64
        raise ThermopotError(f"the exact first-passage time is infinite in float64 ({err}): the escape set "
                             "cannot be reached because a flip probability underflows (T too low)") from None
    tau = lu.solve(ones)
    tau = tau + lu.solve(ones - a @ tau)
    return tau, _backward_error(a, tau, ones, float(abs(a).sum(axis=1).max())), 1


def _sequential_scan(kernels: list[sp.csr_matrix], rtol: float) -> tuple[np.ndarray, float, int]:
    """tau_0 solving (I - M) tau_0 = c by GMRES (module docstring); (tau_0, backward error, iterations)."""
    size = kernels[0].shape[0]

    def sweep(x: np.ndarray) -> np.ndarray:  # M x = Q_0 (Q_1 (... (Q_{N-1} x)))
        for q in reversed(kernels):
            x = q @ x
        return x

    c = np.ones(size)
    for q in reversed(kernels[:-1]):
        c = 1.0 + q @ c
    op = LinearOperator((size, size), matvec=lambda x: x - sweep(np.ravel(x)), dtype=np.float64)
    count = [0]
    # ||r||_2 <= rtol ||c||_2 / sqrt(|A|) implies ||r||_inf <= rtol ||c||_inf: the backward error is <= rtol
    tau, _ = gmres(op, c, rtol=rtol / np.sqrt(size), atol=0.0, restart=min(GMRES_RESTART, size),
                   maxiter=GMRES_MAXITER, callback=lambda _: count.__setitem__(0, count[0] + 1),
                   callback_type="pr_norm")
    return tau, _backward_error(op, tau, c, 2.0), count[0]  # ||I - M|| <= 2 (M substochastic)


def exact_first_passage(model: Model | str, T: float, initial: Any, *, threshold: float | None = None,
                        targets: Any = None, method: str = "heat-bath", scan: str = "random",
                        rtol: float = 1e-10, max_seconds: float | None = None) -> ExactPassage:
    """The exact mean first-passage time, in single-spin updates, of the sampler's chain started at
    ``initial`` ((N,) of +-1) until its overlap with ``initial`` drops below ``threshold`` or it reaches
    one of ``targets`` ((N,) or (P, N)); give exactly one (as :func:`~thermopot.sampling.first_passage`). See the
    module docstring. ``rtol``: the backward error required of either solve (GMRES, for a sequential
    scan, stops at the relative residual rtol / sqrt(|A|), which implies it). A size that would not fit in
    memory or take longer than ``max_seconds`` (default THERMOPOT_MAX_SECONDS, else an hour) is refused
    with a SizeError."""
    t0 = time.perf_counter()
    check_one_condition(threshold, targets)
    model = resolve_model(model)
    T = check_temperature(T)
    method = check_choice(method, "method", METHODS)
    scan = check_choice(scan, "scan", SCANS)
    rtol = check_positive(rtol, "rtol")
    n = model.n
    s0 = real_array(initial, "initial")
    if s0.shape != (n,) or not np.isin(s0, (-1.0, 1.0)).all():
        raise ThermopotError(f"initial must be one state of N = {n} spins +-1, got shape {s0.shape}")
    start = int(spins_to_index(s0))
    if threshold is not None:
        threshold = check_threshold(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise ThermopotError(f"threshold is an overlap in [-1, 1], got {threshold!r}")
    tgt = None if targets is None else check_targets(targets, n)
    if n > MAX_EXACT_PASSAGE_SPINS:
        raise SizeError(f"the exact first-passage time of N={n} spins is not supported: it keeps the 2^N "
                        f"states of the chain, N <= {MAX_EXACT_PASSAGE_SPINS}")
    inside = _not_escaped(n, start, threshold, tgt)
    size = int(inside.sum())
    _guard(n, size, scan, max_seconds)
    done = dict(n=n, T=T, method=method, scan=scan, start=start, states=size)
    if not inside[start]:
        return ExactPassage(mean=0.0, residual=0.0, iterations=0, solver="none", seconds=0.0, **done)
    xp = get_namespace("numpy")
    energies = np.asarray(energy_table(model, xp, resolve_block_size(None, xp)), dtype=np.float64)
    kernels = _site_kernels(energies, inside, method, T)
    if scan == "random":
        tau, residual, iterations = _random_scan(kernels)
        solver = "splu"
    else:
        tau, residual, iterations = _sequential_scan(kernels, rtol)
        solver = "gmres"
    position = int(np.count_nonzero(inside[:start]))
    mean = float(tau[position])
    if not np.all(np.isfinite(tau)) or residual > rtol or mean < 1.0:
        raise ThermopotError(f"the exact first-passage solve ({solver}, {scan} scan, N={n}, T={T:g}) did not "
                             f"converge: backward error {residual:.3g} (required {rtol:g}), time {mean:.6g}; "
                             "at very low T a flip probability underflows and the time is infinite")
    return ExactPassage(mean=mean, residual=residual, iterations=iterations, solver=solver,
                        seconds=time.perf_counter() - t0, **done)
