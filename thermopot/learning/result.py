"""What every fitting method returns, and what they share: parameter packing, the L-BFGS driver,
regularisation checks and exact diagnostics.

The fitted model is P(s) = exp(-E(s)) / Z at T = 1 with E(s) = -h.s - sum_{k<l} J_kl s_k s_l. The
log-likelihood reported is the mean over the (weighted) data,

    L = sum_m p_m log P(s_m) = h.m + sum_{k<l} J_kl C_kl - log Z,

with m and C the data moments; it is computed exactly by enumeration whenever N passes the size guard
with a short time limit (``DIAGNOSTIC_SECONDS``), and is None otherwise.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..errors import SizeError, ThermopotError
from ..exact import Thermo, check_size, thermodynamics
from ..models import PairwiseModel
from ..datasets.dataset import Dataset
from ..progress import Progress
from ..results import Result

#: longest enumeration spent on the optional diagnostics (log-likelihood, moment errors), seconds
DIAGNOSTIC_SECONDS = 30.0
#: the largest L2 penalty accepted (beyond it the parameters are ~1/l2, numerically zero)
MAX_L2 = 1e12
#: the methods that maximise a likelihood (infinite couplings where the data sit on the boundary)
LIKELIHOOD_METHODS = ("exact", "pseudo", "pcd")


class ConvergenceWarning(RuntimeWarning):
    """A fit stopped before its convergence criterion was met (the result says so too)."""


class BoundaryWarning(RuntimeWarning):
    """The data put some maximum-likelihood couplings at infinity (the result says so too)."""


@dataclass(frozen=True)
class FitResult(Result):
    """A fitted pairwise model with its diagnostics.

    ``magnetization_error`` and ``correlation_error`` are max_k |<s_k>_model - m_k| and
    max_{k<l} |<s_k s_l>_model - C_kl| against the (regularised) data moments, exact by enumeration
    (None when N is too large). ``objective`` is the value the method minimised. ``boundary_pairs``
    counts the pairs of columns whose maximum-likelihood coupling is infinite (an unregularised
    likelihood fit with a joint value the data never show, :meth:`~thermopot.datasets.Dataset.boundary_pairs`): their
    fitted couplings are finite only because the fit stopped, and grow as ``tol`` shrinks. Zero is
    not a guarantee: data can sit on other faces of the moment space (e.g. three spins never all
    equal) with no pair missing a joint value.
    """

    model: PairwiseModel
    method: str
    log_likelihood: float | None
    magnetization_error: float | None
    correlation_error: float | None
    iterations: int
    converged: bool
    seconds: float
    objective: float | None = None
    message: str = ""
    options: dict = field(default_factory=dict)
    boundary_pairs: int = 0
    #: method-specific checks (PCD: the sampled and exact moment mismatch, see thermopot.learning.pcd)
    diagnostics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot fit`: h, J, method, log_likelihood, seconds, ...)."""
        return self._json({"h": self.model.h, "J": self.model.J, "method": self.method,
                           "log_likelihood": self.log_likelihood, "seconds": self.seconds, "n": self.model.n,
                           "magnetization_error": self.magnetization_error,
                           "correlation_error": self.correlation_error, "iterations": self.iterations,
                           "converged": self.converged, "objective": self.objective, "message": self.message,
                           "options": self.options, "boundary_pairs": self.boundary_pairs,
                           "diagnostics": self.diagnostics})


def pack(h: np.ndarray, J: np.ndarray) -> np.ndarray:
    """Parameter vector theta = (h_1..h_N, J_kl for k < l in row order)."""
    return np.concatenate([h, J[np.triu_indices(len(h), 1)]])


def unpack(theta: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(h, J) from theta, J symmetric with a zero diagonal."""
    J = np.zeros((n, n))
    J[np.triu_indices(n, 1)] = theta[n:]
    return theta[:n].copy(), J + J.T


def check_regularisers(data: Dataset, method: str, *, l2: float = 0.0, pseudocount: float = 0.0,
                       allowed: tuple[str, ...] = ("l2", "pseudocount")) -> None:
    """Refuse a negative regulariser, and constant columns when none is asked for (``allowed``: the
    regularisers the method takes, named in the message)."""
    for name, value in (("l2", l2), ("pseudocount", pseudocount)):
        if not np.isfinite(value) or value < 0:
            raise ThermopotError(f"{name} must be a finite number >= 0, got {value!r}")
    if l2 > MAX_L2:
        raise ThermopotError(f"l2 = {l2:g} is beyond {MAX_L2:g}: the penalty would pin every parameter to "
                             f"about 1/l2 (numerically zero) and overflow the objective; use a smaller l2")
    if pseudocount >= 1:
        raise ThermopotError(f"pseudocount must be < 1 (it mixes the data with the uniform "
                             f"distribution), got {pseudocount!r}")
    const = data.constant_columns()
    if len(const) and l2 == 0 and pseudocount == 0:
        k = int(const[0])
        value = int(data.samples[data.weights > 0][0, k])
        which = " or ".join(f"{a} > 0" for a in allowed)
        raise ThermopotError(
            f"{len(const)} constant column(s) in the data (first: spin {k} is {value:+d} in every sample): "
            f"their maximum-likelihood fields are infinite; regularise explicitly with {which}")


def data_moments(data: Dataset, pseudocount: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Data moments mixed with the uniform distribution: m' = (1-a) m, C' = (1-a) C + a I."""
    m, C = data.moments()
    if pseudocount:
        m, C = (1 - pseudocount) * m, (1 - pseudocount) * C + pseudocount * np.eye(data.n)
    return m, C


def log_likelihood(model: PairwiseModel, m: np.ndarray, C: np.ndarray, log_z: float) -> float:
    """L = h.m + sum_{k<l} J_kl C_kl - log Z."""
    return float(model.h @ m + 0.5 * np.sum(model.J * C) - log_z)


def moment_errors(th: Thermo, m: np.ndarray, C: np.ndarray) -> tuple[float, float]:
    """(max |m_model - m|, max off-diagonal |C_model - C|)."""
    off = np.abs(th.correlation - C)[np.triu_indices(len(m), 1)]
    return float(np.abs(th.magnetization - m).max()), float(off.max()) if off.size else 0.0


def exact_thermo(model: PairwiseModel, backend: Any, max_seconds: float | None = None) -> Thermo | None:
    """Exact moments and log Z of ``model`` at T = 1, or None when N does not pass the size guard."""
    try:
        check_size(model.n, backend, max_seconds=max_seconds)
    except SizeError:
        return None
    return thermodynamics(model, 1.0, backend=backend, progress=False)


def boundary_note(pairs: np.ndarray, remedy: str) -> str:
    """The message for data with :meth:`~thermopot.datasets.Dataset.boundary_pairs` ``pairs`` (non-empty)."""
    k, l = (int(v) for v in pairs[0])
    return (f"{len(pairs)} pair(s) of columns never show one of their four joint values (first: spins "
            f"{k} and {l}): their maximum-likelihood couplings are infinite and the fitted ones grow as "
            f"tol shrinks; regularise with {remedy}")


def finish(model: PairwiseModel, method: str, data: Dataset, *, start: float, iterations: int,
           converged: bool, objective: float | None = None, message: str = "", options: dict | None = None,
           pseudocount: float = 0.0, backend: Any = None, thermo: Thermo | None = None) -> FitResult:
    """Assemble a FitResult with exact diagnostics when N allows, warning when not converged."""
    m, C = data_moments(data, pseudocount)
    th = thermo if thermo is not None else exact_thermo(model, backend, DIAGNOSTIC_SECONDS)
    ll = mag_err = corr_err = None
    if th is not None:
        ll = log_likelihood(model, *data.moments(), th.log_z)
        mag_err, corr_err = moment_errors(th, m, C)
    if not converged:
        warnings.warn(f"{method} fit did not converge after {iterations} iterations: {message}",
                      ConvergenceWarning, stacklevel=3)
    options = dict(options or {})
    boundary = np.zeros((0, 2), dtype=int)
    if method in LIKELIHOOD_METHODS and not options.get("l2") and not options.get("pseudocount"):
        boundary = data.boundary_pairs()
    if len(boundary):
        note = boundary_note(boundary, "l2 > 0" + (" or pseudocount > 0" if method == "exact" else ""))
        message = f"{message}; {note}" if message else note
        warnings.warn(f"{method} fit: {note}", BoundaryWarning, stacklevel=3)
    return FitResult(model=model, method=method, log_likelihood=ll, magnetization_error=mag_err,
                     correlation_error=corr_err, iterations=int(iterations), converged=bool(converged),
                     seconds=time.perf_counter() - start, objective=objective, message=message,
                     options=options, boundary_pairs=len(boundary))


def lbfgs(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, tol: float,
          max_iter: int) -> tuple[np.ndarray, float, np.ndarray, int, str]:
    """Minimise a smooth convex ``fun`` (value, gradient) by L-BFGS until max |gradient| <= tol:
    (x, value, gradient, iterations, scipy's message). Restarts (up to 3 times) when the line search
    stalls above the tolerance, which clears a poor curvature memory."""
    x, total, message = np.asarray(x0, dtype=np.float64), 0, ""
    best: tuple[float, np.ndarray] | None = None
    with Progress(None, max_iter, unit="iteration", desc="L-BFGS fit") as bar:  # shown when slow
        for _ in range(4):
            res = minimize(fun, x, jac=True, method="L-BFGS-B", callback=lambda *_: bar.update(),
                           options={"maxiter": max(1, max_iter - total), "gtol": tol, "ftol": 0.0,
                                    "maxcor": 30, "maxls": 50})
            x, total, message = res.x, total + int(res.nit), str(res.message)
            best = (float(res.fun), np.asarray(res.jac))
            if np.abs(best[1]).max() <= tol or total >= max_iter or res.nit == 0:
                break
    if np.abs(best[1]).max() > tol and total < max_iter:
        x, best, steps = _gradient_polish(fun, x, best, tol, min(POLISH_STEPS, max_iter - total))
        total += steps
        if np.abs(best[1]).max() <= tol:
            message = f"{message}; finished by {steps} gradient-only line-search steps"
    return x, best[0], best[1], total, message


#: most steps of :func:`_gradient_polish` after L-BFGS stalls
POLISH_STEPS = 20


def _gradient_polish(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                     best: tuple[float, np.ndarray], tol: float, steps: int
                     ) -> tuple[np.ndarray, tuple[float, np.ndarray], int]:
    """Steepest descent with an exact line search found from gradients alone: along d = -g the step
    alpha = |d|^2 / (d . H d), with H d = (g(x + h d) - g(x)) / h. L-BFGS's line search compares values,
    and stalls ("relative reduction of F <= factr epsmch" with ftol = 0) once the decrease g^2 / (2 lambda)
    left is below the rounding eps |F| of the objective (at |g| ~ 1e-8 for F ~ 1; where it stalls depends
    on the floating-point path of the CPU and BLAS); the gradient is still accurate to about eps, so these
    steps finish the job. Stops at tol, at ``steps``, or when a step does not shrink max |g|."""
    grad, taken = best[1], 0
    for _ in range(steps):
        if np.abs(grad).max() <= tol:
            break
        d = -grad
        h = 1e-4 / float(np.linalg.norm(d))
        curvature = float(d @ (fun(x + h * d)[1] - grad)) / h
        if not curvature > 0:
            break
        trial = x + (float(d @ d) / curvature) * d
        value, new = fun(trial)
        taken += 1
        if not np.abs(new).max() < np.abs(grad).max():
            break
        x, best, grad = trial, (float(value), np.asarray(new)), np.asarray(new)
    return x, best, taken
