"""Find every minimum of a mean-field or TAP free energy from many starts at once (theory.md section 2).

All starts are advanced together, first by a damped fixed-point iteration (cheap, O(N^2) per start and
step at order <= 2) into the basin of a minimum, then, once per cluster of coinciding starts, by the
saddle-free Newton iteration of :mod:`.newton`; converged starts (max_k |m_k - tanh(beta h_k(m))| < tol:
the stationarity equations themselves) leave the active set.
Converged points are de-duplicated (max-norm distance < dedup_tol), each distinct stationary point is
classified by the smallest eigenvalue of K = D^1/2 H D^1/2 (congruent to the Hessian H of G in m, so
of the same sign; D = diag(1 - m^2)): a minimum when it exceeds degenerate_tol * T, a saddle when it is
below -degenerate_tol * T, degenerate in between. Only minima are counted as minima.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, backend_name, get_namespace, to_numpy
from ..errors import ThermopotError
from ..checks import check_temperature
from ..models import Model, PairwiseModel, resolve_model
from .dedup import flip_partners, unique_points
from .newton import NewtonState, free_energy_of_x, hessian_rows, newton_batch, relax_batch, scaled_hessian
from .objective import free_energy_interaction, method_order, plefka_valid

KINDS = ("minimum", "saddle", "degenerate")


@dataclass(frozen=True)
class Minima:
    """Distinct stationary points found from the starts: minima first (by free energy), then the rest.

    Per point: m, free_energy, hessian_min_eig (smallest eigenvalue of D^1/2 H D^1/2, the sign of the
    Hessian), is_minimum, kind, plefka_valid, basin_fraction (fraction of all starts that ended there),
    partner (row of the spin-flip image -m when the model is symmetric under s -> -s, else -1).
    Per start: converged, start_point (row reached, -1 when not converged), residual.
    """

    m: np.ndarray
    free_energy: np.ndarray
    hessian_min_eig: np.ndarray
    is_minimum: np.ndarray
    kind: np.ndarray
    plefka_valid: np.ndarray
    basin_fraction: np.ndarray
    partner: np.ndarray
    converged: np.ndarray
    start_point: np.ndarray
    residual: np.ndarray
    method: str
    T: float
    iterations: int
    seconds: float
    backend: str
    message: str

    @property
    def count(self) -> int:
        """Number of distinct true minima."""
        return int(self.is_minimum.sum())

    @property
    def saddles(self) -> int:
        """Number of distinct stationary points that are not minima (saddles and degenerate points)."""
        return int((~self.is_minimum).sum())

    @property
    def starts(self) -> int:
        return int(self.converged.shape[0])

    @property
    def failed(self) -> int:
        """Starts that did not converge within the iteration budget."""
        return int((~self.converged).sum())

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot minima`)."""
        rows = [{"m": self.m[a].tolist(), "free_energy": float(self.free_energy[a]),
                 "hessian_min_eig": float(self.hessian_min_eig[a]),
                 "plefka_valid": bool(self.plefka_valid[a]), "basin_fraction": float(self.basin_fraction[a]),
                 "partner": int(self.partner[a])}
                for a in np.flatnonzero(self.is_minimum)]
        return {"count": self.count, "minima": rows, "saddles": self.saddles, "starts": self.starts,
                "failed": self.failed, "method": self.method, "T": self.T, "iterations": self.iterations,
                "backend": self.backend, "seconds": self.seconds, "message": self.message}


def flip_symmetric(model: Model) -> bool:
    """True when E(-s) = E(s): no field and no odd-order coupling."""
    if isinstance(model, PairwiseModel):
        return not np.any(model.h)
    masks, couplings = model.walsh_terms()
    odd = np.array([bin(int(a)).count("1") % 2 == 1 for a in masks], dtype=bool)
    return not np.any(couplings[odd])


def _check_options(starts: int, tol: float, dedup_tol: float, max_iter: int) -> None:
    if int(starts) != starts or starts < 1:
        raise ThermopotError(f"starts must be an integer >= 1, got {starts!r}")
    if not (0 < tol < dedup_tol < 1):
        raise ThermopotError(f"need 0 < tol < dedup_tol < 1, got tol={tol}, dedup_tol={dedup_tol}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ThermopotError(f"max_iter must be an integer >= 1, got {max_iter!r}")


def initial_points(n: int, starts: int, seed: Any, init: Any, xp: Any) -> Any:
    """x = atanh(m) of the starts: ``init`` (K, N) magnetisations if given, else m uniform in (-1, 1)."""
    if init is None:
        m0 = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(int(starts), n)) * (1 - 1e-9)
    else:
        m0 = np.atleast_2d(np.asarray(to_numpy(init), dtype=np.float64))
        if m0.ndim != 2 or m0.shape[1] != n:
            raise ThermopotError(f"init must have shape (K, N) with N = {n}, got {m0.shape}")
        if not np.isfinite(m0).all() or (np.abs(m0) >= 1).any():
            raise ThermopotError("init magnetisations must be finite and strictly inside (-1, 1)")
    return asarray(np.arctanh(m0), xp)


def classify(R: Any, x: Any, T: float, degenerate_tol: float, xp: Any) -> tuple[np.ndarray, np.ndarray]:
    """(smallest eigenvalue of K, kind index into KINDS) for rows of x (in chunks of hessian_rows)."""
    rows = hessian_rows(x.shape[1], xp)
    lam = np.concatenate([to_numpy(xp.linalg.eigvalsh(scaled_hessian(R, x[i:i + rows], T, xp))[:, 0])
                          for i in range(0, x.shape[0], rows)] or [np.zeros(0)])
    kind = np.where(lam > degenerate_tol * T, 0, np.where(lam < -degenerate_tol * T, 1, 2))
    return lam, kind


def polish(R: Any, x: Any, T: float, xp: Any, *, tol: float, dedup_tol: float, max_iter: int) -> NewtonState:
    """Newton on the relaxed starts, once per cluster: starts within dedup_tol / 100 of each other share
    the Newton run of their first member (the clustering makes the O(N^3) phase cost O(U N^3) with U
    distinct points instead of O(B N^3))."""
    reps, labels = unique_points(xp.tanh(x), dedup_tol / 100, xp)
    state = newton_batch(R, xp.take(x, reps, axis=0), T, xp, tol=tol, step_tol=dedup_tol / 10, max_iter=max_iter)
    return NewtonState(x=xp.take(state.x, labels, axis=0), converged=xp.take(state.converged, labels),
                       iterations=xp.take(state.iterations, labels), residual=xp.take(state.residual, labels))


def find_minima(model: Model | str, T: float, method: str = "tap2", starts: int = 256, seed: Any = None,
                backend: Any = None, *, init: Any = None, tol: float = 1e-10, dedup_tol: float = 1e-6,
                degenerate_tol: float = 1e-7, max_iter: int = 200) -> Minima:
    """All minima of the approximate free energy ``method`` (nmf, tap2, tap3, tap4) at temperature T
    reached from ``starts`` random starts (or the rows of ``init``), as one batched array program."""
    model = resolve_model(model)
    T = check_temperature(T)
    order = method_order(method)
    _check_options(starts, tol, dedup_tol, max_iter)
    xp = get_namespace(backend)
    begin = time.perf_counter()
    R = free_energy_interaction(model, T, order, xp)
    state = polish(R, relax_batch(R, initial_points(model.n, starts, seed, init, xp), T, xp), T, xp,
                   tol=tol, dedup_tol=dedup_tol, max_iter=max_iter)
    conv = to_numpy(state.converged)
    conv_rows = np.flatnonzero(conv)
    start_point = np.full(conv.shape[0], -1, dtype=np.int64)
    if conv_rows.size:
        xc = xp.take(state.x, asarray(conv_rows, xp, xp.int64), axis=0)
        reps, labels = unique_points(xp.tanh(xc), dedup_tol, xp)
        xu = xp.take(xc, reps, axis=0)
        lam, kind = classify(R, xu, T, degenerate_tol, xp)
        free = to_numpy(free_energy_of_x(R, xu, T, xp))
        order_rows = np.lexsort((free, kind != 0))  # minima first, each group by free energy
        rank = np.empty_like(order_rows)
        rank[order_rows] = np.arange(order_rows.size)
        start_point[conv_rows] = rank[to_numpy(labels)]
        xu = xp.take(xu, asarray(order_rows, xp, xp.int64), axis=0)
        lam, kind, free = lam[order_rows], kind[order_rows], free[order_rows]
    else:
        xu, lam, kind, free = xp.zeros((0, model.n)), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0)
    mu = xp.tanh(xu)
    partner = (to_numpy(flip_partners(mu, dedup_tol, xp)) if flip_symmetric(model) and mu.shape[0]
               else np.full(mu.shape[0], -1, dtype=np.int64))
    fraction = np.bincount(start_point[start_point >= 0], minlength=mu.shape[0]) / conv.shape[0]
    failed = int((~conv).sum())
    message = f"{conv.shape[0] - failed} of {conv.shape[0]} starts converged"
    if failed > conv.shape[0] / 2:
        message = (f"most starts failed to converge ({failed} of {conv.shape[0]} after {max_iter} "
                   "iterations): raise max_iter or check the temperature against the Plefka condition")
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        print(f"thermopot: warning: {message}", file=sys.stderr)
    return Minima(m=to_numpy(mu), free_energy=free, hessian_min_eig=lam, is_minimum=kind == 0,
                  kind=np.array([KINDS[k] for k in kind]), plefka_valid=to_numpy(plefka_valid(model, mu, T)),
                  basin_fraction=fraction, partner=partner, converged=conv, start_point=start_point,
                  residual=to_numpy(state.residual), method=method, T=T,
                  iterations=int(to_numpy(state.iterations).max(initial=0)),
                  seconds=time.perf_counter() - begin, backend=backend_name(xp), message=message)
