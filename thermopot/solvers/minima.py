"""Find every minimum of a mean-field or TAP free energy from many starts at once (theory.md section 2).

All starts are advanced together, first by a damped fixed-point iteration (cheap, O(N^2) per start and
step at order <= 2) into the basin of a minimum, only until max_k |m_k - tanh(beta h_k(m))| < COARSE_TOL
(its linear convergence would need ~20 more iterations per decade). The relaxed starts are grouped
(max-norm distance < ANCHOR_TOL); the first start of each group (its anchor) runs the saddle-free Newton
iteration of :mod:`.newton` to convergence (O(N^3) per iteration, once per group), and every other start
runs the chord iteration with its anchor's Hessian (O(N^2) per iteration), so each start is converged on
its own (max_k |m_k - tanh(beta h_k(m))| < tol: the stationarity equations themselves). Starts whose
anchor or chord iteration does not converge fall back to the full relaxation (to RELAX_TOL), with one
Newton run per point the relaxation reaches. Converged starts leave the active set.
Converged points are de-duplicated (max-norm distance < dedup_tol, in O(B log B): :mod:`.dedup`),
each distinct stationary point is
classified by the smallest eigenvalue of K = D^1/2 H D^1/2 (congruent to the Hessian H of G in m, so
of the same sign; D = diag(1 - m^2)): a minimum when it exceeds degenerate_tol * T, a saddle when it is
below -degenerate_tol * T, degenerate in between. Only minima are counted as minima.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from ..backend import asarray, backend_name, blas_limit, blas_threads, get_namespace, to_numpy
from ..checks import check_count, check_positive, check_rng, check_temperature, recorded_seed
from ..errors import ThermopotError
from ..models import Model, PairwiseModel, resolve_model
from ..results import renamed
from .dedup import MAX, flip_partners, group_rows, unique_points
from .guard import SINGLE_THREAD_FLOPS, check_minima_size
from .newton import (RELAX_TOL, NewtonState, chord_batch, free_energy_of_x, hessian_rows, newton_batch,
                     relax_batch, scaled_hessian)
from .objective import free_energy_interaction, method_order, plefka_ratio, plefka_valid
from .seeds import check_seeds, seeded_starts
from .result import Minima
from .stationary import classify_spectrum, kind_names

#: the relaxation hands a start over once max_k |m_k - tanh(beta h_k)| < COARSE_TOL (SK N = 64, T = 0.5:
#: ~50 iterations instead of ~140 to RELAX_TOL)
COARSE_TOL = 1e-2
#: relaxed starts closer than this (max norm in m) share an anchor, whose Hessian their chord iteration uses
ANCHOR_TOL = 3e-2
#: the anchor grouping compares each relaxed start with this many neighbours (dedup.group_rows's
#: max_offset): linear time even when all starts crowd near one point; a split group costs one more anchor
ANCHOR_NEIGHBOURS = 32
#: chord iterations per start before it falls back to the full relaxation
CHORD_ITERATIONS = 30


@dataclass(frozen=True)
class MeanFieldMinima(Minima):
    """Distinct stationary points of a mean-field or TAP free energy G(m) found from the starts (the
    :class:`~thermopot.solvers.Minima` convention): minima first (by free energy), then the rest.

    Per point: points (the magnetisations m), free_energy (the objective), kind, hessian_min_eig (smallest
    eigenvalue of D^1/2 H D^1/2, the sign of the Hessian), plefka_valid (Plefka's per-site condition),
    plefka_global (his global, Almeida-Thouless, condition plefka_ratio = beta^2 J^2 (1/N) sum_k
    (1 - m_k^2)^2 < 1; see thermopot.meanfield), partner (row of the spin-flip image -m when the model is
    symmetric under s -> -s, else -1); basin_fraction (fraction of all starts that ended there) is derived.
    Per start: converged, start_point (row reached, -1 when not converged), residual.
    """

    objective_name: ClassVar[str] = "free_energy"
    per_point: ClassVar[tuple[str, ...]] = ("hessian_min_eig", "plefka_valid", "partner", "plefka_global",
                                            "plefka_ratio")

    free_energy: np.ndarray
    hessian_min_eig: np.ndarray
    plefka_valid: np.ndarray
    partner: np.ndarray
    residual: np.ndarray
    method: str
    plefka_global: np.ndarray | None = None
    plefka_ratio: np.ndarray | None = None
    m = renamed("points", "m")

    def to_dict(self) -> dict:
        """JSON-ready fields (docs/architecture.md, `thermopot minima`): the counts, and one row per minimum
        (its record, with the point also under its former name ``m`` for one release)."""
        rows = [{"m": record["point"], **record} for record in self.minima()]
        return self._json({"count": self.count, "minima": rows, "saddles": self.saddles, "starts": self.starts,
                           "failed": self.failed, "method": self.method, "T": self.T,
                           "iterations": self.iterations, "backend": self.backend, "seconds": self.seconds,
                           "seed": self.seed, "message": self.message})


def flip_symmetric(model: Model) -> bool:
    """True when E(-s) = E(s): no field and no odd-order coupling."""
    if isinstance(model, PairwiseModel):
        return not np.any(model.h)
    masks, couplings = model.walsh_terms()
    odd = np.array([bin(int(a)).count("1") % 2 == 1 for a in masks], dtype=bool)
    return not np.any(couplings[odd])


def _check_options(tol: Any, dedup_tol: Any, degenerate_tol: Any, max_iter: Any) -> tuple[float, float, float, int]:
    """The tolerances (finite, > 0, tol < dedup_tol < 1) and max_iter (an integer >= 1), checked."""
    tol, dedup_tol = check_positive(tol, "tol"), check_positive(dedup_tol, "dedup_tol")
    if not tol < dedup_tol < 1:
        raise ThermopotError(f"need 0 < tol < dedup_tol < 1, got tol={tol}, dedup_tol={dedup_tol}")
    return tol, dedup_tol, check_positive(degenerate_tol, "degenerate_tol"), check_count(max_iter, "max_iter")


def _check_range(n: int, T: float) -> None:
    """Refuse a T at which the free energies (of size T N log 2) leave the float64 range."""
    if T * n * math.log(2.0) > np.finfo(np.float64).max / 16:
        raise ThermopotError(f"temperature T = {T!r} is too high for N = {n} spins: the free energy "
                             f"-T N log 2 = -{T:.3g} x {n * math.log(2.0):.3g} leaves the float64 range")


def check_init(init: Any, n: int) -> np.ndarray:
    """``init`` as a (K >= 1, N) float64 array of magnetisations strictly inside (-1, 1)."""
    m0 = np.asarray(to_numpy(init))
    if np.iscomplexobj(m0) or not (np.issubdtype(m0.dtype, np.number) or m0.dtype == bool):
        raise ThermopotError(f"init must hold real magnetisations, got dtype {m0.dtype}")
    m0 = np.atleast_2d(m0.astype(np.float64))
    if m0.ndim != 2 or m0.shape[1] != n or m0.shape[0] == 0:
        raise ThermopotError(f"init must have shape (K, N) with K >= 1 and N = {n}, got {m0.shape}")
    if not np.isfinite(m0).all() or (np.abs(m0) >= 1).any():
        raise ThermopotError("init magnetisations must be finite and strictly inside (-1, 1)")
    return m0


def initial_points(n: int, starts: int, seed: Any, init: np.ndarray | None, xp: Any) -> Any:
    """x = atanh(m) of the starts: the checked ``init`` (K, N) if given, else m uniform in (-1, 1)."""
    m0 = check_rng(seed).uniform(-1.0, 1.0, size=(starts, n)) * (1 - 1e-9) if init is None else init
    return asarray(np.arctanh(m0), xp)


def classify(R: Any, x: Any, T: float, degenerate_tol: float, xp: Any) -> tuple[np.ndarray, np.ndarray]:
    """(smallest eigenvalue of K, kind index into KINDS) for rows of x (in chunks of hessian_rows)."""
    rows = hessian_rows(x.shape[1], xp)
    lam = np.concatenate([to_numpy(xp.linalg.eigvalsh(scaled_hessian(R, x[i:i + rows], T, xp))[:, 0])
                          for i in range(0, x.shape[0], rows)] or [np.zeros(0)])
    kind = classify_spectrum(lam, degenerate_tol * T)
    return lam, kind


def polish(R: Any, x: Any, T: float, xp: Any, *, tol: float, group_tol: float, step_tol: float,
           max_iter: int) -> tuple[np.ndarray, np.ndarray, NewtonState]:
    """Newton on the relaxed starts, once per group: starts within ``group_tol`` of each other (the
    relaxation's own tolerance) share the Newton run of their first member, so the O(N^3) phase costs
    O(U N^3) with U groups instead of O(B N^3). Returns (first start of each group (U,), group of every
    start (B,), the Newton state of each group)."""
    reps, labels = unique_points(xp.tanh(x), group_tol, xp)
    state = newton_batch(R, xp.take(x, reps, axis=0), T, xp, tol=tol, step_tol=step_tol, max_iter=max_iter)
    return to_numpy(reps), to_numpy(labels), state


def _scatter(target: NewtonState, rows: Any, part: NewtonState, xp: Any) -> None:
    """Write the states of ``part`` into rows ``rows`` of ``target``."""
    idx = asarray(rows, xp, xp.int64)
    for f in fields(NewtonState):
        getattr(target, f.name)[idx] = getattr(part, f.name)


def settle(R: Any, x: Any, T: float, xp: Any, *, tol: float, dedup_tol: float, max_iter: int,
           budget: Callable[[int], Any] | None = None) -> NewtonState:
    """Converge every coarsely relaxed start (module docstring): anchors by Newton, the other starts of
    their group by the chord iteration from their own relaxed point, and the starts left over by the full
    relaxation and :func:`polish`. ``budget(groups)``, when given, is called with the number of anchors
    before their Newton runs (the size guard's second check) and, when starts are left over, with the anchors
    plus those starts before their Newton runs. Returns the state of every start."""
    step_tol = dedup_tol / 10
    b = x.shape[0]
    reps, labels = group_rows(xp.tanh(x), ANCHOR_TOL, MAX, max_offset=ANCHOR_NEIGHBOURS)  # may split groups
    if budget is not None:
        budget(int(reps.shape[0]))
    reps, labels = asarray(reps, xp, xp.int64), asarray(labels, xp, xp.int64)
    anchors = newton_batch(R, xp.take(x, reps, axis=0), T, xp, tol=tol, step_tol=step_tol, max_iter=max_iter)
    reps, labels, ok = to_numpy(reps), to_numpy(labels), to_numpy(anchors.converged)
    state = NewtonState(x=xp.asarray(x, dtype=xp.float64) + 0.0, converged=xp.zeros(b, dtype=bool),
                        iterations=xp.zeros(b, dtype=xp.int64), residual=xp.full(b, np.inf))
    _scatter(state, reps, anchors, xp)
    is_rep = np.zeros(b, dtype=bool)
    is_rep[reps] = True
    members = np.flatnonzero(~is_rep & ok[labels])
    if members.size:
        used = np.unique(labels[members])  # converged anchors with members (only these need chord matrices)
        new_label = np.full(ok.size, -1, dtype=np.int64)
        new_label[used] = np.arange(used.size)
        anchor_x = xp.take(anchors.x, asarray(used, xp, xp.int64), axis=0)
        chord = chord_batch(R, xp.take(x, asarray(members, xp, xp.int64), axis=0), anchor_x,
                            new_label[labels[members]], T, xp, tol=tol, step_tol=step_tol, max_iter=CHORD_ITERATIONS)
        # a start converged onto its anchor's point (well inside dedup_tol) takes that point exactly, so
        # that the de-duplication sees one cell per point however many starts reached it
        own = xp.take(anchor_x, asarray(new_label[labels[members]], xp, xp.int64), axis=0)
        snap = chord.converged & (xp.max(xp.abs(xp.tanh(chord.x) - xp.tanh(own)), axis=1) < dedup_tol / 100)
        chord.x = xp.where(snap[:, None], own, chord.x)
        _scatter(state, members, chord, xp)
    rest = np.flatnonzero(~to_numpy(state.converged))
    if rest.size and budget is not None:  # the starts left over may each need a Newton run of their own
        budget(int(reps.shape[0]) + int(rest.size))
    if rest.size:  # the full relaxation, then one Newton run per point it reaches
        xr = relax_batch(R, xp.take(x, asarray(rest, xp, xp.int64), axis=0), T, xp)
        _, group, sub = polish(R, xr, T, xp, tol=tol, group_tol=min(RELAX_TOL, dedup_tol), step_tol=step_tol,
                               max_iter=max_iter)
        g = asarray(group, xp, xp.int64)
        _scatter(state, rest, NewtonState(*(xp.take(getattr(sub, f.name), g, axis=0)
                                            for f in fields(NewtonState))), xp)
    return state


def find_minima(model: Model | str, T: float, *, method: str = "tap2", starts: int = 256, seed: Any = None,
                backend: Any = None, init: Any = None, tol: float = 1e-10, dedup_tol: float = 1e-6,
                degenerate_tol: float = 1e-7, max_iter: int = 200, max_seconds: float | None = None,
                seeds: str | None = None) -> MeanFieldMinima:
    """All minima of the approximate free energy ``method`` (nmf, tap2, tap3, tap4) at temperature T
    reached from ``starts`` random starts (or the rows of ``init``), as one batched array program.

    ``seeds``: where the ``starts`` starts come from in the spin-glass phase ("quench", "nmf", "thermal",
    "random"; :mod:`.seeds`), each run through the Bolthausen (AMP) iteration first at order 2; None (the
    default) keeps the uniform random starts. Give ``init`` or ``seeds``, not both.

    ``seed``: None, an integer >= 0 or a numpy Generator (SPEC 7). A job whose estimated memory or time
    (``solvers.guard.estimate_minima``) exceeds the free memory or ``max_seconds`` (default
    THERMOPOT_MAX_SECONDS) is refused with a SizeError: at once when its relaxation and one Newton run
    would not fit, after the coarse relaxation when the Newton runs of the groups it reached would not."""
    model = resolve_model(model)
    T = check_temperature(T)
    order = method_order(method)
    tol, dedup_tol, degenerate_tol, max_iter = _check_options(tol, dedup_tol, degenerate_tol, max_iter)
    _check_range(model.n, T)
    m0 = None if init is None else check_init(init, model.n)
    count = check_count(starts, "starts") if m0 is None else m0.shape[0]
    xp = get_namespace(backend)
    if seeds is not None and (check_seeds(seeds) and m0 is not None):
        raise ThermopotError("give init= or seeds=, not both")
    check_minima_size(model.n, count, order, xp, max_seconds=max_seconds, groups=1)
    begin, recorded = time.perf_counter(), recorded_seed(seed)
    if seeds is not None:  # seeded starts (solvers.seeds), then the same relaxation and Newton polish
        rng = check_rng(seed)
        m0, seed = seeded_starts(model, T, order=order, seeds=seeds, starts=count, seed=rng, xp=xp), rng
    with blas_threads(blas_limit(2.0 * max(count, model.n) * model.n**2, SINGLE_THREAD_FLOPS), xp):  # (B x N) @ (N x N), N x N eigh
        R = free_energy_interaction(model, T, order, xp)
        x = relax_batch(R, initial_points(model.n, count, seed, m0, xp), T, xp, tol=COARSE_TOL)
        state = settle(R, x, T, xp, tol=tol, dedup_tol=dedup_tol, max_iter=max_iter,
                       budget=lambda groups: check_minima_size(model.n, count, order, xp, max_seconds=max_seconds,
                                                               groups=groups))
        group = np.arange(count)
        points = _distinct(R, state, group, T, xp, dedup_tol=dedup_tol, degenerate_tol=degenerate_tol)
    return _result(model, T, method, points, state, group, dedup_tol=dedup_tol, max_iter=max_iter, xp=xp,
                   begin=begin, seed=recorded)


def _distinct(R: Any, state: NewtonState, group: np.ndarray, T: float, xp: Any, *, dedup_tol: float,
              degenerate_tol: float) -> tuple:
    """(x (U, N), smallest eigenvalue, kind, free energy, start_point (B,)) of the distinct converged
    points, minima first, each kind by free energy; start_point = -1 for starts that did not converge."""
    conv = to_numpy(state.converged)
    conv_groups = np.flatnonzero(conv)
    point_of_group = np.full(conv.shape[0], -1, dtype=np.int64)
    if conv_groups.size == 0:
        return xp.zeros((0, state.x.shape[1])), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0), \
            point_of_group[group]
    xc = xp.take(state.x, asarray(conv_groups, xp, xp.int64), axis=0)
    reps, labels = unique_points(xp.tanh(xc), dedup_tol, xp)
    xu = xp.take(xc, reps, axis=0)
    lam, kind = classify(R, xu, T, degenerate_tol, xp)
    free = to_numpy(free_energy_of_x(R, xu, T, xp))
    order_rows = np.lexsort((free, kind != 0))  # minima first, each group by free energy
    rank = np.empty_like(order_rows)
    rank[order_rows] = np.arange(order_rows.size)
    point_of_group[conv_groups] = rank[to_numpy(labels)]
    return (xp.take(xu, asarray(order_rows, xp, xp.int64), axis=0), lam[order_rows], kind[order_rows],
            free[order_rows], point_of_group[group])


def _result(model: Model, T: float, method: str, points: tuple, state: NewtonState, group: np.ndarray, *,
            dedup_tol: float, max_iter: int, xp: Any, begin: float, seed: int | None) -> MeanFieldMinima:
    """The result of the distinct points, with per-start status taken from each start's Newton group."""
    xu, lam, kind, free, start_point = points
    mu = xp.tanh(xu)
    partner = (to_numpy(flip_partners(mu, dedup_tol, xp)) if flip_symmetric(model) and mu.shape[0]
               else np.full(mu.shape[0], -1, dtype=np.int64))
    conv = to_numpy(state.converged)[group]
    failed = int((~conv).sum())
    message = f"{conv.shape[0] - failed} of {conv.shape[0]} starts converged"
    if failed > conv.shape[0] / 2:
        message = (f"most starts failed to converge ({failed} of {conv.shape[0]} after {max_iter} "
                   "iterations): raise max_iter or check the temperature against the Plefka condition")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    ratio = to_numpy(plefka_ratio(model, mu, T))
    return MeanFieldMinima(points=to_numpy(mu), free_energy=free, hessian_min_eig=lam, kind=kind_names(kind),
                           plefka_valid=to_numpy(plefka_valid(model, mu, T)), partner=partner, converged=conv,
                           start_point=start_point, residual=to_numpy(state.residual)[group], method=method, T=T,
                           iterations=int(to_numpy(state.iterations).max(initial=0)),
                           seconds=time.perf_counter() - begin, backend=backend_name(xp), seed=seed,
                           message=message, plefka_global=ratio < 1, plefka_ratio=ratio)
