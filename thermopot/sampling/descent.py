"""Zero-temperature quench: steepest single-flip descent of many states at once, for any N.

Each state moves to its neighbour with the most negative flip cost dE_k = 2 s_k h_k(s) (the lowest k on
ties) until no flip lowers the energy: the rule of :mod:`thermopot.landscape`, whose exact basins it
reproduces state by state, without the table of all 2^N energies. Pairwise models keep the local fields
H = h + s J and update them by one row of J per flip (O(B N) per step); multi-spin models recompute
their flip costs (O(B K) per step); each step looks only at the states that moved in the step before
(one that did not move cannot move later). Every step lowers the energy, so the descent ends; ``max_steps``
bounds it (default 10 N + 10; a few N are typical) and the result says which states are stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import asarray, get_namespace, to_numpy
from ..checks import check_count
from ..errors import ThermopotError
from ..models import Model, PairwiseModel, resolve_model
from ..results import Result

__all__ = ["Descent", "descend"]


@dataclass(frozen=True)
class Descent(Result):
    """Where steepest descent took each state: ``states`` (B, N) of +-1, their ``energies`` (B,),
    ``steps`` (B,) flips taken, ``stable`` (B,) whether no flip lowers the energy (False only when
    ``max_steps`` ran out), ``strict`` (B,) whether every flip raises it."""

    states: np.ndarray
    energies: np.ndarray
    steps: np.ndarray
    stable: np.ndarray
    strict: np.ndarray


def _flip_costs(model: Model, s: Any, fields: Any) -> Any:
    """dE (B, N) from the current fields (pairwise) or from scratch (multi-spin)."""
    if fields is not None:
        return 2.0 * s * fields
    return model.flip_energy_changes(s)


def descend(model: Model | str, states: Any, *, max_steps: int | None = None, backend: Any = None) -> Descent:
    """Steepest single-flip descent of ``states`` ((N,) or (B, N) of +-1) to single-flip-stable states."""
    model = resolve_model(model)
    xp = get_namespace(backend)
    s0 = np.asarray(to_numpy(states))
    if np.iscomplexobj(s0):
        raise ThermopotError("states must be real +-1 values, got a complex array")
    s0 = np.atleast_2d(s0).astype(np.float64)
    if s0.ndim != 2 or s0.shape[1] != model.n or not np.isin(s0, (-1.0, 1.0)).all():
        raise ThermopotError(f"states must be +-1 arrays of shape (N,) or (B, N) with N = {model.n}, got {s0.shape}")
    limit = 10 * model.n + 10 if max_steps is None else check_count(max_steps, "max_steps", 0)
    s = asarray(s0, xp)
    pairwise = isinstance(model, PairwiseModel)
    J = asarray(model.J, xp) if pairwise else None
    fields = asarray(model.h, xp)[None, :] + s @ J if pairwise else None
    steps = xp.zeros(s.shape[0], dtype=xp.int64)
    active = xp.arange(s.shape[0])  # the states that moved in the last step (a state that stops stays)
    for _ in range(limit):
        de = _flip_costs(model, s[active], None if fields is None else fields[active])
        k = xp.argmin(de, axis=1)  # the first minimum: the lowest k on ties
        moving = de[xp.arange(active.shape[0]), k] < 0
        if not bool(xp.any(moving)):
            break
        idx = active[moving]
        site = k[moving]
        active = idx
        ds = -2.0 * s[idx, site]
        s[idx, site] += ds
        if pairwise:
            fields[idx] += ds[:, None] * J[site]
        steps[idx] += 1
    de = _flip_costs(model, s, fields)
    return Descent(states=to_numpy(s).astype(np.int8), energies=to_numpy(model.energy(s)),
                   steps=to_numpy(steps), stable=to_numpy(xp.all(de >= 0, axis=1)),
                   strict=to_numpy(xp.all(de > 0, axis=1)))
