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

    def value_and_gradient(self, m: Any) -> tuple[Any, Any]:
        return self.potential.interaction(m, gradient=True)


class PairwiseInteraction(Interaction):
    """Orders 1 and 2 of a pairwise model in closed form, for the solvers' many cheap evaluations
    (no input checks, two matrix products for R and dR/dm together):
        R(m) = c - h.m - (1/2) m.J m - (beta/4) sum_kl J_kl^2 q_k q_l,   q = 1 - m^2 (last term: order 2),
        dR/dm = -h - J m + beta m * (J^2 q).
    The Hessian comes from the general program (``MeanFieldPotential``)."""

    def __init__(self, potential: MeanFieldPotential):
        super().__init__(potential)
        self.beta = 1.0 / potential.T

    def value_and_gradient(self, m: Any) -> tuple[Any, Any]:
        p = self.potential
        jm = m @ p.J
        grad = -p.h - jm
        value = p.constant - m @ p.h - 0.5 * (m * jm).sum(axis=1)
        if p.order == 2:
            q = 1.0 - m * m
            j2q = q @ p.J2
            value = value - (0.25 * self.beta) * (q * j2q).sum(axis=1)
            grad = grad + self.beta * m * j2q
        return value, grad

    def value(self, m: Any) -> Any:
        return self.value_and_gradient(m)[0]

    def gradient(self, m: Any) -> Any:
        return self.value_and_gradient(m)[1]


def free_energy_interaction(model: Model, T: float, order: int, xp: Any) -> Interaction:
    """The interaction part of the order-``order`` Plefka free energy of ``model`` at T on ``xp``
    (:class:`PairwiseInteraction` for orders 1-2 of a pairwise model)."""
    potential = mean_field(model, T, order=order, backend=xp)
    closed = order <= 2 and getattr(potential, "_product", None) is None
    return (PairwiseInteraction if closed else Interaction)(potential)


def plefka_valid(model: Model, m: Any, T: float) -> Any:
    """Plefka's convergence condition at each row of m (rows of a (0, N) array give an empty result)."""
    if m.shape[0] == 0:
        return m[:, 0] > 0
    return mean_field(model, T, order=1, backend=namespace_of(m)).plefka_valid(m)


def plefka_ratio(model: Model, m: Any, T: float) -> Any:
    """Plefka's global ratio x = beta^2 J^2 (1/N) sum_k (1 - m_k^2)^2 at each row of m (valid when x < 1)."""
    if m.shape[0] == 0:
        return m[:, 0]
    return mean_field(model, T, order=1, backend=namespace_of(m)).plefka_ratio(m)
