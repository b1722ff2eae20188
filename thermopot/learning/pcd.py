"""Boltzmann-machine maximum likelihood with the negative phase from persistent chains (PCD; Younes
1989, Tieleman 2008), for N beyond enumeration.

The mean log-likelihood L(h, J) = h.m + sum_{k<l} J_kl C_kl - log Z - (l2 / 2)|theta|^2 has the gradient

    dL/dh_k = m_k - <s_k>_model - l2 h_k,    dL/dJ_kl = C_kl - <s_k s_l>_model - l2 J_kl,

with m, C the data moments. The model moments are estimated from B persistent chains (heat-bath sweeps
of :class:`thermopot.sampling.ensemble.Ensemble`, the compiled kernel when numba is installed) that are
not restarted between steps: after each parameter update the chains' state is adopted by the ensemble of
the new model (its bookkeeping recomputed, the spins kept), runs ``sweeps_per_step`` sweeps and gives
the next estimate. With ``tempering`` (a temperature ladder starting at 1),
the negative phase comes from the T = 1 replicas of a parallel-tempering run instead, whose swaps free
chains trapped in one basin. The fit starts from the pseudo-likelihood model and steps along the gradient
preconditioned by P (:mod:`thermopot.learning.precondition`),

    theta_{t+1} = theta_t + lr_t P g_t,

P = F^{-1} with the data's Fisher matrix F = Cov_data(phi) + (l2 + 0.01) I (``precondition="fisher"``),
the centred diagonal step (``"centred"``) or P = I (``"none"``); ``"auto"`` (the default) takes F while
N(N + 1)/2 <= 465 (N <= 30) and P = I above. The step size decays as lr / (1 + t / decay) (Robbins-Monro;
lr 0.02 with F, 0.05 otherwise) and the returned parameters are the average over the last fraction
``average`` of the steps (Polyak-Ruppert averaging, default the last half),

    theta_returned = (1 / K) sum_{t = T - K}^{T - 1} theta_{t+1},    K = max(1, ceil(average T)),

which removes most of the chains' noise; ``average=0`` returns the last step's parameters.

Diagnostics (``FitResult.diagnostics``): the final model's moments from a longer run of the chains with
batch-means error bars, the largest |model - data| mismatch of the magnetisations and correlations, the
fraction of the N(N + 1)/2 moments matched within 2 standard errors, and, at N small enough to
enumerate, the exact mismatch and how far the chains' estimate (the negative phase) is from the exact
model moments, in standard errors: large values there mean the chains are trapped.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable

import numpy as np

from ..backend import blas_limit, blas_threads, get_namespace, to_numpy
from ..checks import check_count, check_nonnegative, check_positive, check_rng
from ..models import PairwiseModel
from ..sampling.chains import resolve_seed
from ..sampling.ensemble import Ensemble
from ..sampling.statistics import BatchMeans
from ..errors import ThermopotError
from ..sampling.tempering import ParallelTempering, check_ladder
from ..datasets.dataset import Dataset, as_dataset
from .precondition import centred_preconditioner, fisher_preconditioner
from .pseudo import fit_pseudolikelihood
from .result import DIAGNOSTIC_SECONDS, FitResult, check_regularisers, exact_thermo, finish, pack, unpack


def _moments(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chain averages <s_k> and <s_k s_l> over the rows of s (B, N)."""
    return s.mean(axis=0), (s.T @ s) / s.shape[0]


class _NegativePhase:
    """The persistent chains: the state of B chains at T = 1 started from data rows, or the B columns of
    a parallel-tempering run whose ladder starts at T = 1."""

    def __init__(self, model: PairwiseModel, starts: np.ndarray, ladder: np.ndarray | None, seed: int, xp: Any,
                 compiled_kernel: bool | None):
        self.tempering = None
        if ladder is None:
            self.ensemble = Ensemble(model, method="heat-bath", scan="sequential", compiled_kernel=compiled_kernel,
                                     backend=xp)
            self.state = self.ensemble.init(starts, seed=seed)
        else:
            self.tempering = ParallelTempering(model, ladder, chains=starts.shape[0], seed=seed,
                                               compiled_kernel=compiled_kernel, backend=xp)

    def set_couplings(self, h: np.ndarray, J: np.ndarray) -> None:
        """Continue the chains under the model (h, J)."""
        model = PairwiseModel(h, J)
        if self.tempering is not None:
            self.tempering.set_model(model)
        else:
            self.ensemble = self.ensemble.with_model(model)
            self.state = self.ensemble.adopt(self.state)

    def run(self, sweeps: int) -> np.ndarray:
        """``sweeps`` sweeps (each followed by swaps when tempering); the T = 1 states (B, N)."""
        if self.tempering is not None:
            return self.tempering.run(sweeps, record=False, progress=False).states()[0]
        self.state = self.ensemble.run(self.state, sweeps)
        return to_numpy(self.state.s)


def model_ladder(tempering: Any) -> np.ndarray | None:
    """None, or ``tempering`` as a checked ladder that starts at the model's temperature 1."""
    if tempering is None:
        return None
    ladder = check_ladder(tempering)
    if ladder[0] != 1.0:
        raise ThermopotError(f"tempering: the ladder must start at the model's temperature 1, got {ladder.tolist()}")
    return ladder


PRECONDITIONERS = ("auto", "fisher", "centred", "none")
LEARNING_RATES = {"fisher": 0.02, "centred": 0.05, "none": 0.05}
#: the most parameters N(N + 1)/2 for which ``precondition="auto"`` takes the Fisher matrix (N = 30: its
#: solve made a fit of 256 chains at most ~2x as long as plain steps; 3x at N = 40, 4x at N = 61)
FISHER_MAX_PARAMETERS = 465


def resolve_precondition(precondition: str, n: int) -> str:
    """The preconditioner's name, with "auto" read as "fisher" while the N(N + 1)/2 parameters are at
    most :data:`FISHER_MAX_PARAMETERS` and "none" above."""
    if precondition not in PRECONDITIONERS:
        raise ThermopotError(f"precondition must be one of {', '.join(PRECONDITIONERS)}, got {precondition!r}")
    if precondition == "auto":
        return "fisher" if n * (n + 1) // 2 <= FISHER_MAX_PARAMETERS else "none"
    return precondition


def step_direction(precondition: str, data: Dataset, l2: float) -> Callable[[np.ndarray], np.ndarray]:
    """g -> P g for the resolved ``precondition`` (:mod:`thermopot.learning.precondition`)."""
    if precondition == "fisher":
        return fisher_preconditioner(data, l2=l2)
    if precondition == "centred":
        return centred_preconditioner(data, l2=l2)
    return lambda gradient: gradient


def fit_pcd(data: Dataset | Any, weights: Any = None, *, l2: float = 0.0, chains: int = 256, steps: int = 2000,
            sweeps_per_step: int = 1, learning_rate: float | None = None, decay: float | None = None,
            average: float = 0.5, tempering: Any = None, precondition: str = "auto",
            init: PairwiseModel | None = None, diagnostic_sweeps: int = 400,
            seed: Any = None, compiled_kernel: bool | None = None, backend: Any = None) -> FitResult:
    """Pairwise model of ``data`` by persistent contrastive divergence (see the module docstring).

    ``precondition``: "auto" (default: "fisher" up to N = 30, "none" above), "fisher" (steps F^{-1} g),
    "centred" (centred diagonal steps, any N) or "none" (plain gradient steps).
    ``learning_rate``: default 0.02 with "fisher", 0.05 with "centred" and "none".

    ``tempering``: None, or a ladder of temperatures starting at 1 (e.g. ``[1, 1.3, 1.7, 2.2]``) for a
    parallel-tempering negative phase. ``decay``: steps over which the step size halves (default
    steps / 4). ``average``: the fraction of the steps, at the end, whose parameters are averaged (0: the
    last step's). ``init``: the starting model (default the pseudo-likelihood fit with the same l2).
    """
    start = time.perf_counter()
    data = as_dataset(data, weights)
    check_regularisers(data, "pcd", l2=l2, allowed=("l2",))
    chains = check_count(chains, "chains", 2)
    steps = check_count(steps, "steps", 2)
    sweeps_per_step = check_count(sweeps_per_step, "sweeps_per_step")
    precondition = resolve_precondition(precondition, data.n)
    lr = check_positive(LEARNING_RATES[precondition] if learning_rate is None else learning_rate, "learning_rate")
    decay = steps / 4 if decay is None else check_positive(decay, "decay")
    average = check_nonnegative(average, "average")
    if average > 1:
        raise ThermopotError(f"average must be a fraction of the steps in [0, 1], got {average!r}")
    first_averaged = steps - max(1, math.ceil(average * steps - 1e-9))  # = steps // 2 at 0.5
    ladder = model_ladder(tempering)
    rng = check_rng(seed)
    seed_int = resolve_seed(seed)
    xp = get_namespace(backend)
    n = data.n
    m_data, c_data = data.moments()
    model = init if init is not None else fit_pseudolikelihood(data, l2=l2, backend=backend).model
    direction = step_direction(precondition, data, l2)
    theta = pack(model.h, model.J)
    target = pack(m_data, c_data)
    starts = data.samples[rng.choice(data.size, size=chains, p=data.probabilities)].astype(np.float64)
    phase = _NegativePhase(model, starts, ladder, seed_int, xp, compiled_kernel)
    total, averaged = np.zeros_like(theta), 0
    with blas_threads(blas_limit(2.0 * chains * n * n), xp):  # B x N x N products: small ones on one thread
        for t in range(steps):
            s = phase.run(sweeps_per_step)
            gradient = target - pack(*_moments(s)) - l2 * theta
            theta = theta + lr / (1.0 + t / decay) * direction(gradient)
            phase.set_couplings(*unpack(theta, n))
            if t >= first_averaged:
                total += theta
                averaged += 1
    theta = total / averaged
    h, J = unpack(theta, n)
    phase.set_couplings(h, J)
    fitted = PairwiseModel(h, J, meta={"fit": "pcd"})
    diagnostics = _diagnostics(phase, fitted, m_data, c_data, diagnostic_sweeps, backend)
    result = finish(fitted, "pcd", data, start=start, iterations=steps, converged=True,
                    options={"l2": l2, "chains": chains, "steps": steps, "sweeps_per_step": sweeps_per_step,
                             "learning_rate": lr, "average": average, "precondition": precondition, "tempering": None if ladder is None else ladder.tolist()},
                    backend=backend)
    return dataclasses.replace(result, diagnostics=diagnostics)


def _diagnostics(phase: _NegativePhase, model: PairwiseModel, m_data: np.ndarray, c_data: np.ndarray,
                 sweeps: int, backend: Any) -> dict:
    """The final model's moments from ``sweeps`` more sweeps of the chains, against the data and, when N
    can be enumerated, against the exact model moments (see the module docstring)."""
    n = model.n
    iu = np.triu_indices(n, 1)
    acc = BatchMeans((1, n + iu[0].size), get_namespace("numpy"))
    for _ in range(check_count(sweeps, "diagnostic_sweeps", 2)):
        m, c = _moments(phase.run(1))
        acc.add(np.concatenate([m, c[iu]])[None, :])
    est, err = to_numpy(acc.mean()), to_numpy(acc.stderr())
    data = np.concatenate([m_data, c_data[iu]])
    mismatch = est - data
    out = {"sampled_magnetization_mismatch": float(np.abs(mismatch[:n]).max()),
           "sampled_correlation_mismatch": float(np.abs(mismatch[n:]).max()) if iu[0].size else 0.0,
           "moment_stderr_max": float(np.nanmax(err)),
           "fraction_within_2_stderr": float(np.mean(np.abs(mismatch) <= 2 * err)),
           "diagnostic_sweeps": int(sweeps)}
    thermo = exact_thermo(model, backend, DIAGNOSTIC_SECONDS)
    if thermo is not None:
        exact = np.concatenate([thermo.magnetization, thermo.correlation[iu]])
        out["exact_moment_mismatch"] = float(np.abs(exact - data).max())
        z = np.abs(est - exact) / np.where(err > 0, err, np.inf)
        out["negative_phase_error"] = float(np.abs(est - exact).max())
        out["negative_phase_max_z"] = float(z.max())
    return out
