"""The free energies the solvers minimise: mean-field (order 1) and TAP (orders 2-4) potentials of
:mod:`thermopot.meanfield`, seen through their interaction part R(m) = G(m) + T S_0(m)."""

from __future__ import annotations

from typing import Any

from ..backend import namespace_of
from ..errors import ThermopotError
from ..meanfield import MeanFieldPotential, mean_field
from ..models import Model

#: method name -> Plefka order
METHODS = {"nmf": 1, "tap2": 2, "tap3": 3, "tap4": 4}


def method_order(method: str) -> int:
    """The Plefka order of a method name (nmf, tap2, tap3, tap4)."""
    if method not in METHODS:
        raise ThermopotError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return METHODS[method]


class Interaction:
    """R(m), dR/dm and d2R/dm2 of a mean-field potential (the Interaction protocol of .newton)."""

    def __init__(self, potential: MeanFieldPotential):
        self.potential = potential

    def value(self, m: Any) -> Any:
        return self.potential.interaction(m)[0]

    def gradient(self, m: Any) -> Any:
        return self.potential.interaction(m, gradient=True)[1]

    def hessian(self, m: Any) -> Any:
        return self.potential.interaction(m, hessian=True)[1]


def free_energy_interaction(model: Model, T: float, order: int, xp: Any) -> Interaction:
    """The interaction part of the order-``order`` Plefka free energy of ``model`` at T on ``xp``."""
    return Interaction(mean_field(model, T, order=order, backend=xp))


def plefka_valid(model: Model, m: Any, T: float) -> Any:
    """Plefka's convergence condition at each row of m (rows of a (0, N) array give an empty result)."""
    if m.shape[0] == 0:
        return m[:, 0] > 0
    return mean_field(model, T, order=1, backend=namespace_of(m)).plefka_valid(m)
