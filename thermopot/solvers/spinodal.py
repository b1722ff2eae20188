"""One chosen minimum followed in temperature to the point where it disappears (its spinodal).

:func:`~thermopot.solvers.follow_minima` advances every branch on a fixed grid, so it places a spinodal only
to within the grid step. :func:`track_minimum` follows one minimum m (a TAP state found by ``find_minima``,
say) from T_start towards T_end with a step that adapts: each step predicts x = atanh(m) by the secant of the
last two points and corrects it with the saddle-free Newton iteration of :mod:`.newton` at the new T; the step
is accepted when Newton converges (max_k |m_k - tanh(beta h_k(m))| < tol) onto a minimum (smallest eigenvalue
of K = D^1/2 H D^1/2 above degenerate_tol * T) within ``max_jump`` (max norm in m) of the prediction, and
grown by 1.5 (up to ``step``); otherwise it is halved. When the step falls below ``min_step`` the minimum has
ended: it merged with a saddle (a saddle-node, where the smallest eigenvalue of K vanishes like
sqrt(|T_s - T|)) between the last accepted temperature and the last refused one, less than 2 ``min_step``
beyond it.

Along the way every point records its free energy, the smallest eigenvalue of K and Plefka's global ratio
x = beta^2 J^2 (1/N) sum_k (1 - m_k^2)^2 (valid below 1; :func:`thermopot.meanfield.plefka_ratio`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, backend_name, get_namespace, to_numpy
from ..checks import check_positive, check_temperature
from ..errors import ThermopotError
from ..models import Model, resolve_model
from ..results import Result
from .minima import check_init, classify
from .newton import free_energy_of_x, newton_batch
from .objective import free_energy_interaction, method_order, plefka_ratio

__all__ = ["track_minimum", "MinimumTrack"]


@dataclass(frozen=True)
class MinimumTrack(Result):
    """One minimum followed in T (module docstring): per accepted point T (k,), m (k, N), free_energy (k,),
    hessian_min_eig (k,) (smallest eigenvalue of D^1/2 H D^1/2) and plefka_ratio (k,); ``end`` is
    "spinodal" (the minimum disappeared between T[-1] and T[-1] + direction * resolution; ``spinodal`` is
    the middle of that interval) or "range end" (it reached T_end; ``spinodal`` is nan)."""

    T: np.ndarray
    m: np.ndarray
    free_energy: np.ndarray
    hessian_min_eig: np.ndarray
    plefka_ratio: np.ndarray
    end: str
    spinodal: float
    resolution: float
    method: str
    newton_runs: int
    seconds: float
    backend: str
    seed: None
    converged: bool
    message: str


def _corrected(R: Any, x: Any, T: float, xp: Any, *, tol: float, degenerate_tol: float,
               max_iter: int) -> tuple[Any, bool, float]:
    """(x after Newton at T from x, whether it converged onto a minimum, smallest eigenvalue of K)."""
    state = newton_batch(R, x, T, xp, tol=tol, max_iter=max_iter)
    lam, kind = classify(R, state.x, T, degenerate_tol, xp)
    return state.x, bool(to_numpy(state.converged)[0]) and int(kind[0]) == 0, float(lam[0])


def track_minimum(model: Model | str, m: Any, T_start: float, T_end: float, *, method: str = "tap2",
                  step: float = 0.01, min_step: float = 1e-4, max_jump: float = 0.2, tol: float = 1e-10,
                  degenerate_tol: float = 1e-7, max_iter: int = 60, backend: Any = None) -> MinimumTrack:
    """Follow the minimum of ``method`` near ``m`` (shape (N,), |m_k| < 1) from T_start towards T_end with
    steps between ``min_step`` and ``step`` (module docstring). The point is first polished at T_start by
    Newton; a ThermopotError says so when that does not end at a minimum within ``max_jump`` of m."""
    model = resolve_model(model)
    T_start, T_end = check_temperature(T_start), check_temperature(T_end)
    order = method_order(method)
    step, min_step = check_positive(step, "step"), check_positive(min_step, "min_step")
    max_jump = check_positive(max_jump, "max_jump")
    if T_end == T_start:
        raise ThermopotError(f"T_end must differ from T_start, both are {T_start}")
    if min_step > step:
        raise ThermopotError(f"need min_step <= step, got min_step={min_step}, step={step}")
    m0 = check_init(m, model.n)
    if m0.shape[0] != 1:
        raise ThermopotError(f"m must be one magnetisation vector of shape ({model.n},), got {m0.shape}")
    xp = get_namespace(backend)
    begin = time.perf_counter()
    direction = math.copysign(1.0, T_end - T_start)
    R = free_energy_interaction(model, T_start, order, xp)
    x, ok, lam = _corrected(R, asarray(np.arctanh(m0), xp), T_start, xp, tol=tol, degenerate_tol=degenerate_tol,
                            max_iter=max_iter)
    moved = float(np.max(np.abs(np.tanh(to_numpy(x)) - m0)))
    if not ok or moved > max_jump:
        raise ThermopotError(f"m is not near a minimum of {method} at T = {T_start}: Newton from it ends "
                             f"{moved:.3g} away (max norm; max_jump = {max_jump}), at a point with smallest Hessian "
                             f"eigenvalue {lam:.3g}, {'converged' if ok else 'not a converged minimum'}")
    Ts, xs, lams, frees = [T_start], [x], [lam], [float(to_numpy(free_energy_of_x(R, x, T_start, xp))[0])]
    dT, runs, end = step, 1, "range end"
    while Ts[-1] != T_end:
        if dT < min_step:
            end = "spinodal"
            break
        T = T_end if direction * (T_end - Ts[-1]) <= dT else Ts[-1] + direction * dT
        pred = xs[-1] if len(Ts) < 2 else xs[-1] + (xs[-1] - xs[-2]) * ((T - Ts[-1]) / (Ts[-1] - Ts[-2]))
        R = free_energy_interaction(model, T, order, xp)
        x, ok, lam = _corrected(R, pred, T, xp, tol=tol, degenerate_tol=degenerate_tol, max_iter=max_iter)
        runs += 1
        if ok and float(to_numpy(xp.max(xp.abs(xp.tanh(x) - xp.tanh(pred))))) <= max_jump:
            Ts.append(T), xs.append(x), lams.append(lam)
            frees.append(float(to_numpy(free_energy_of_x(R, x, T, xp))[0]))
            dT = min(1.5 * dT, step)
        else:
            dT /= 2
    mm = np.tanh(np.concatenate([to_numpy(v) for v in xs]))
    ratio = np.array([float(to_numpy(plefka_ratio(model, asarray(mm[i:i + 1], xp), t))[0]) for i, t in enumerate(Ts)])
    spinodal = Ts[-1] + direction * dT if end == "spinodal" else math.nan  # dT: half the last refused step
    message = (f"the minimum disappears at T = {spinodal:.5f} +- {dT:.1e} (smallest eigenvalue {lams[-1]:.3g} "
               f"at T = {Ts[-1]:.5f}, Plefka ratio {ratio[-1]:.3f})" if end == "spinodal" else
               f"the minimum exists from T = {T_start} to {T_end} (smallest eigenvalue >= {min(lams):.3g})")
    return MinimumTrack(T=np.array(Ts), m=mm, free_energy=np.array(frees), hessian_min_eig=np.array(lams),
                        plefka_ratio=ratio, end=end, spinodal=spinodal, resolution=dT if end == "spinodal" else 0.0,
                        method=method, newton_runs=runs, seconds=time.perf_counter() - begin,
                        backend=backend_name(xp), seed=None, converged=True, message=message)
