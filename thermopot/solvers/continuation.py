"""Continuation in temperature: follow every minimum as T changes, find where it ends and where new
ones appear.

Each branch is advanced by a predictor (secant extrapolation of x = atanh(m) from its last two points)
and a corrector (the batched saddle-free Newton iteration at the new T, all branches at once). A branch
ends at a spinodal when the corrector no longer converges, converges to a point that is not a minimum
(smallest eigenvalue of D^1/2 H D^1/2 at or below degenerate_tol * T), or jumps away from the
prediction (onto another basin); it ends as merged when it lands on a point another branch holds. At
every temperature a few fresh random starts (re-seeding) catch minima that appear.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..backend import asarray, get_namespace, to_numpy
from ..errors import ThermopotError
from ..checks import check_count, check_rng, check_temperature
from ..models import Model, resolve_model
from ..results import Result
from .minima import classify, find_minima
from .newton import free_energy_of_x, newton_batch
from .objective import free_energy_interaction, method_order, plefka_valid


@dataclass(frozen=True)
class Branch(Result):
    """One minimum followed in temperature: T (k,), m (k, N), free_energy (k,), hessian_min_eig (k,),
    plefka_valid (k,) (Plefka's per-site condition 1 - beta^2 (1 - m_i^2) sum_j J_ij^2 (1 - m_j^2) > 0 for
    every i, at each point), why it ended ("spinodal", "merged" or "range end"), and ``init_row``: the
    first row of ``follow_minima(init=...)`` that relaxed onto it (None for a branch found by a random
    start)."""

    T: list = field(default_factory=list)
    x: list = field(default_factory=list)
    free_energy: list = field(default_factory=list)
    hessian_min_eig: list = field(default_factory=list)
    end: str = "range end"
    plefka_valid: list = field(default_factory=list)
    init_row: int | None = None

    @property
    def m(self) -> np.ndarray:
        return np.tanh(np.array(self.x))

    def to_dict(self) -> dict:
        return self._json({"T": self.T, "m": self.m, "free_energy": self.free_energy,
                           "hessian_min_eig": self.hessian_min_eig, "plefka_valid": self.plefka_valid,
                           "end": self.end, "init_row": self.init_row})


@dataclass(frozen=True)
class Branches(Result):
    """All branches over a temperature grid, and the number of minima alive at each temperature."""

    temperatures: np.ndarray
    branches: list
    count: np.ndarray
    method: str

    def to_dict(self) -> dict:
        return self._json({"method": self.method, "temperatures": self.temperatures, "count": self.count,
                           "branches": self.branches})

    def plot(self, path: str, exact: tuple[np.ndarray, np.ndarray] | None = None) -> str:
        """Deprecated alias of ``thermopot.report.plot_branches`` (plots belong to the report layer)."""
        warnings.warn("Branches.plot is deprecated; use thermopot.report.plot_branches(branches, path)",
                      DeprecationWarning, stacklevel=2)
        from ..report import plot_branches  # noqa: PLC0415 (deprecated alias, removed in the next release)

        return plot_branches(self, path, exact=exact)


def _grid(temperatures: Any) -> np.ndarray:
    grid = np.asarray([check_temperature(t) for t in np.atleast_1d(temperatures)], dtype=np.float64)
    if grid.size < 2 or not (np.all(np.diff(grid) > 0) or np.all(np.diff(grid) < 0)):
        raise ThermopotError("temperatures must hold at least two values, strictly increasing or decreasing")
    return grid


def _init_rows(first: Any) -> dict:
    """{minimum row of ``first``: the first init row that reached it}; warns about rows that reached no
    minimum (no convergence, or a saddle)."""
    point = np.asarray(first.start_point)
    reached = (point >= 0) & np.isin(point, np.flatnonzero(first.is_minimum))
    if not reached.all():
        lost = np.flatnonzero(~reached)
        warnings.warn(f"{lost.size} of {point.size} init rows reached no minimum at T = {first.T:g} and are not "
                      f"followed (rows {lost[:10].tolist()}{' ...' if lost.size > 10 else ''})",
                      RuntimeWarning, stacklevel=3)
    rows: dict = {}
    for r in np.flatnonzero(reached):
        rows.setdefault(int(point[r]), int(r))
    return rows


def follow_minima(model: Model | str, temperatures: Any, *, method: str = "tap2", starts: int = 64,
                  reseed: int | None = None, seed: Any = None, backend: Any = None, init: Any = None,
                  tol: float = 1e-10, dedup_tol: float = 1e-6, degenerate_tol: float = 1e-7,
                  max_iter: int = 60) -> Branches:
    """Follow every minimum of ``method`` over the temperature grid (monotone, >= 2 values).

    The branches start at ``temperatures[0]`` from the minima reached by ``starts`` random starts, or,
    with ``init`` (magnetisations of shape (N,) or (k, N), each |m_i| < 1: chosen states, e.g. minima
    found by ``find_minima`` or TAP states), from the minima the rows of ``init`` relax to there; each
    branch records the first row that reached it (``Branch.init_row``), and a warning names the rows
    that reached no minimum. ``reseed`` fresh random starts per later temperature catch minima that
    appear (default starts // 4, or 0 with ``init``: only the chosen states are followed)."""
    model = resolve_model(model)
    grid = _grid(temperatures)
    order = method_order(method)
    xp = get_namespace(backend)
    rng = check_rng(seed)
    starts = check_count(starts, "starts")
    if reseed is None:
        reseed = 0 if init is not None else max(1, starts // 4)
    reseed = check_count(reseed, "reseed", minimum=0)
    first = find_minima(model, grid[0], method=method, starts=starts, seed=rng, backend=xp, tol=tol,
                        dedup_tol=dedup_tol, degenerate_tol=degenerate_tol, init=init)
    branches: list[Branch] = []
    alive: list[Branch] = []
    ends: dict[int, str] = {}  # id(branch) -> why it ended (Branch is frozen)

    def start_branch(T: float, m: np.ndarray, free: float, lam: float, row: int | None = None) -> None:
        b = Branch(T=[T], x=[np.arctanh(m)], free_energy=[free], hessian_min_eig=[lam],
                   plefka_valid=[bool(plefka_valid(model, m[None, :], T)[0])], init_row=row)
        branches.append(b)
        alive.append(b)

    rows = None if init is None else _init_rows(first)
    for a in np.flatnonzero(first.is_minimum):
        start_branch(grid[0], first.points[a], first.free_energy[a], first.hessian_min_eig[a],
                     None if rows is None else rows.get(int(a)))
    count = [len(alive)]
    for T in grid[1:]:
        if alive:
            pred = np.array([b.x[-1] if len(b.T) < 2 else
                             b.x[-1] + (b.x[-1] - b.x[-2]) * (T - b.T[-1]) / (b.T[-1] - b.T[-2]) for b in alive])
            R = free_energy_interaction(model, T, order, xp)
            st = newton_batch(R, asarray(pred, xp), T, xp, tol=tol, max_iter=max_iter)
            lam, kind = classify(R, st.x, T, degenerate_tol, xp)
            free = to_numpy(free_energy_of_x(R, st.x, T, xp))
            x_new, conv = to_numpy(st.x), to_numpy(st.converged)
            valid = to_numpy(plefka_valid(model, np.tanh(x_new), T))
            dist = np.abs(np.tanh(x_new) - np.tanh(pred)).max(axis=1)
            moved = np.array([np.abs(np.tanh(b.x[-1]) - np.tanh(b.x[-2])).max() if len(b.T) > 1 else 0.0
                              for b in alive])
            jump = dist > np.maximum(0.5, 10 * moved)  # landed in another basin, far from the prediction
            survivors = []
            for i in np.argsort(dist):
                b = alive[i]
                if not conv[i] or kind[i] != 0:
                    ends[id(b)] = "spinodal"
                elif any(np.abs(np.tanh(x_new[i]) - np.tanh(s.x[-1])).max() < dedup_tol for s in survivors):
                    ends[id(b)] = "merged"
                elif jump[i]:
                    ends[id(b)] = "spinodal"
                else:
                    b.T.append(T), b.x.append(x_new[i]), b.free_energy.append(free[i])
                    b.hessian_min_eig.append(lam[i]), b.plefka_valid.append(bool(valid[i]))
                    survivors.append(b)
            alive[:] = survivors
        if reseed == 0:
            count.append(len(alive))
            continue
        fresh = find_minima(model, T, method=method, starts=reseed, seed=rng, backend=xp, tol=tol,
                            dedup_tol=dedup_tol, degenerate_tol=degenerate_tol)
        for a in np.flatnonzero(fresh.is_minimum):
            if all(np.abs(fresh.points[a] - np.tanh(b.x[-1])).max() >= dedup_tol for b in alive):
                start_branch(T, fresh.points[a], fresh.free_energy[a], fresh.hessian_min_eig[a])
        count.append(len(alive))
    branches = [replace(b, end=ends[id(b)]) if id(b) in ends else b for b in branches]
    return Branches(temperatures=grid, branches=branches, count=np.array(count), method=method)
