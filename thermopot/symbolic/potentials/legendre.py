"""Symbolic (SymPy) knowledge potentials A, G, Phi for n states and the relations between them.

Only the three definitions are typed in; gradients, Hessians, the Boltzmann weights, both Legendre
transforms, the Gibbs-inequality identity and the coexistence temperature are DERIVED by SymPy
(differentiation, Lagrange stationarity solved by ``sympy.solve``, simplification).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ...errors import ThermopotError
from ...checks import check_integer

#: most states for which the symbolic objects are built (expressions grow as n^2 in the Hessians)
MAX_SYMBOLIC_STATES = 12


def _on_simplex(expr: sp.Expr, probs: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Simplify ``expr`` with log(a b) = log a + log b (all quantities positive) and sum_i probs_i = 1:
    polynomial log arguments are factored, logs split, and the coefficient of every log is factored
    and reduced with the constraint."""
    total = sum(probs)
    expr = expr.replace(sp.log, lambda a: sp.log(a if a.has(sp.exp) else sp.factor(a)))
    expr = sp.expand(sp.expand_log(expr, force=True)).subs(total, 1)
    logs = sorted(expr.atoms(sp.log), key=str)
    return sp.expand(sp.collect(expr, logs, func=lambda c: sp.factor(c).subs(total, 1)))


@dataclass(frozen=True)
class KnowledgePotentials:
    """A, G, Phi of n states, with SymPy gradients and Hessians.

    A(E, T)      = -T log Z,  Z = sum_i exp(-E_i / T)          free energy (concave in E)
    G(x; E, T)   = sum_i x_i E_i + T sum_i x_i log x_i          Gibbs free energy of a distribution x
    Phi(E; w, T) = sum_i w_i E_i - A(E, T)                      training potential (convex in E)
    """

    n: int
    T: sp.Symbol
    E: tuple[sp.Symbol, ...]
    x: tuple[sp.Symbol, ...]
    w: tuple[sp.Symbol, ...]
    A: sp.Expr
    G: sp.Expr
    Phi: sp.Expr
    grad_A: sp.Matrix  #: dA/dE (n x 1): the Boltzmann weights p_i
    hess_A: sp.Matrix  #: d2A/dE2 (n x n)
    grad_G: sp.Matrix  #: dG/dx (n x 1)
    hess_G: sp.Matrix  #: d2G/dx2 (n x n)
    grad_Phi: sp.Matrix  #: dPhi/dE (n x 1) = w - p
    hess_Phi: sp.Matrix  #: d2Phi/dE2 (n x n)
    _functions: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def partition_function(self) -> sp.Expr:
        """Z = sum_i exp(-E_i / T)."""
        return sum(sp.exp(-e / self.T) for e in self.E)

    @property
    def boltzmann(self) -> tuple[sp.Expr, ...]:
        """p_i = exp(-E_i / T) / Z, obtained as dA/dE_i."""
        return tuple(self.grad_A)

    def expression(self, name: str) -> sp.Expr | sp.Matrix:
        """One of "A", "G", "Phi", "grad_A", "hess_A", "grad_G", "hess_G", "grad_Phi", "hess_Phi"."""
        if name not in _NAMES:
            raise ThermopotError(f"unknown potential {name!r}; choose one of {', '.join(_NAMES)}")
        return getattr(self, name)

    def latex(self) -> dict[str, str]:
        """LaTeX of A, G and Phi."""
        return {name: sp.latex(getattr(self, name)) for name in ("A", "G", "Phi")}

    def function(self, name: str) -> Callable:
        """The expression ``name`` as a NumPy function f(E=, x=, w=, T=) of one point (lambdified once,
        then cached); arguments that the expression does not use may be left out. Matrices come back as
        arrays. The formula is evaluated as written (no log-sum-exp): for checks at moderate E / T; the
        robust numeric versions are the functions of ``thermopot.symbolic.potentials``."""
        if name not in self._functions:
            expr = self.expression(name)
            self._functions[name] = sp.lambdify([list(self.E), list(self.x), list(self.w), self.T],
                                                expr, modules="numpy")
        f = self._functions[name]
        zeros = [0.0] * self.n

        def evaluate(E=zeros, x=zeros, w=zeros, T: float = 1.0) -> np.ndarray:
            return np.asarray(f(list(E), list(x), list(w), T), dtype=np.float64).squeeze()

        return evaluate


_NAMES = ("A", "G", "Phi", "grad_A", "hess_A", "grad_G", "hess_G", "grad_Phi", "hess_Phi")


@functools.lru_cache(maxsize=None)
def knowledge_potentials(n_states: int) -> KnowledgePotentials:
    """Build A, G, Phi for ``n_states`` states (2..12) and derive their gradients and Hessians:
    E_i real, x_i and w_i positive (probabilities), T positive."""
    n = check_integer(n_states, "number of states", 2, MAX_SYMBOLIC_STATES)
    T = sp.Symbol("T", positive=True)
    E = sp.symbols(f"E_0:{n}", real=True)
    x = sp.symbols(f"x_0:{n}", positive=True)
    w = sp.symbols(f"w_0:{n}", positive=True)
    A = -T * sp.log(sum(sp.exp(-e / T) for e in E))
    G = sum(xi * e for xi, e in zip(x, E)) + T * sum(xi * sp.log(xi) for xi in x)
    Phi = sum(wi * e for wi, e in zip(w, E)) - A
    return KnowledgePotentials(n=n, T=T, E=E, x=x, w=w, A=A, G=G, Phi=Phi,
                               grad_A=_gradient(A, E), hess_A=sp.hessian(A, E), grad_G=_gradient(G, x),
                               hess_G=sp.hessian(G, x), grad_Phi=_gradient(Phi, E),
                               hess_Phi=sp.hessian(Phi, E))


def _gradient(f: sp.Expr, variables: tuple[sp.Symbol, ...]) -> sp.Matrix:
    return sp.Matrix([sp.diff(f, v) for v in variables])


@dataclass(frozen=True)
class Legendre:
    """A minimisation derived symbolically: the stationary point, the value there, and whether the
    value equals the expected potential (``residual`` simplifies to 0)."""

    stationary: dict  #: variable -> expression at the stationary point
    value: sp.Expr  #: the minimised potential, simplified
    target: sp.Expr  #: the potential it should equal
    residual: sp.Expr  #: value - target, simplified (0 when the transform is proven)

    @property
    def holds(self) -> bool:
        return self.residual == 0


def legendre_G_to_A(pot: KnowledgePotentials) -> Legendre:
    """min over the simplex of G(x; E, T) = A(E, T). Lagrange stationarity
    E_i + T (log x_i + 1) + lambda = 0 is solved for x_i = u exp(-E_i / T), u = exp(-1 - lambda / T);
    the normalisation sum_i x_i = 1 fixes u = 1 / Z, so x_i = exp(-E_i / T) / Z (Boltzmann), and G
    there is -T log Z = A. It is the minimum because d2G/dx2 = T diag(1 / x) is positive definite."""
    lam, u = sp.symbols("lambda u", real=True)
    Z = sp.Symbol("Z", positive=True)
    lagrangian = pot.G + lam * (sum(pot.x) - 1)
    x_of_u = {}
    for xi in pot.x:
        (sol,) = sp.solve(sp.diff(lagrangian, xi), xi)
        x_of_u[xi] = sp.powsimp(sp.expand(sol.subs(lam, -pot.T * (1 + sp.log(u)))), force=True)
    # normalisation, with Z = sum_i exp(-E_i / T) held as a symbol: u Z = 1
    norm = sp.factor_terms(sum(x_of_u.values())).subs(pot.partition_function, Z)
    (u_star,) = sp.solve(norm - 1, u)
    at_z = {xi: expr.subs(u, u_star) for xi, expr in x_of_u.items()}
    value = sp.expand(sp.expand_log(pot.G.subs(at_z), force=True))
    value = sp.collect(value, sp.log(Z), func=lambda c: sp.factor_terms(c).subs(pot.partition_function, Z))
    value = value.subs(Z, pot.partition_function)
    stationary = {xi: expr.subs(Z, pot.partition_function) for xi, expr in at_z.items()}
    return Legendre(stationary=stationary, value=value, target=pot.A, residual=sp.simplify(value - pot.A))


def legendre_Phi_to_entropy(pot: KnowledgePotentials) -> Legendre:
    """min over the energies of Phi(E; w, T) = T S[w], S[w] = -sum_i w_i log w_i. Stationarity
    w_i = exp(-E_i / T) / Z is solved for E_i with Z held as a symbol z: E_i = -T log(w_i z), a line of
    minima (the gauge E -> E + c leaves Phi unchanged); on the simplex the value does not depend on z."""
    z = sp.Symbol("z", positive=True)
    stationary = {}
    for e, wi in zip(pot.E, pot.w):
        (sol,) = sp.solve(wi * z - sp.exp(-e / pot.T), e)
        stationary[e] = sp.expand_log(sol, force=True)
    target = -pot.T * sum(wi * sp.log(wi) for wi in pot.w)
    value = _on_simplex(pot.Phi.subs(stationary), pot.w)
    return Legendre(stationary=stationary, value=value, target=target,
                    residual=_on_simplex(value - target, pot.w))


def kl_expression(pot: KnowledgePotentials, q: tuple[sp.Symbol, ...]) -> sp.Expr:
    """KL(q || p) = sum_i q_i log(q_i / p_i), p the Boltzmann weights dA/dE."""
    return sum(qi * sp.log(qi / pi) for qi, pi in zip(q, pot.boltzmann))


def gibbs_identity(pot: KnowledgePotentials) -> sp.Expr:
    """G(x; E, T) - A(E, T) - T KL(x || p), simplified on the simplex: 0 (the Gibbs inequality
    G >= A, equality iff x = p, with the gap T KL)."""
    return _on_simplex(pot.G - pot.A - pot.T * kl_expression(pot, pot.x), pot.x)


def training_identity(pot: KnowledgePotentials) -> sp.Expr:
    """Phi(E; w, T) - T S[w] - T KL(w || p), simplified on the simplex: 0, so Phi >= T S[w]
    (Phi is T times the cross-entropy of w against the Boltzmann weights)."""
    entropy = -sum(wi * sp.log(wi) for wi in pot.w)
    return _on_simplex(pot.Phi - pot.T * entropy - pot.T * kl_expression(pot, pot.w), pot.w)


@dataclass(frozen=True)
class Coexistence:
    """Library (M states at E_lib) against continuum (2^N - M states at E_lib + Delta)."""

    symbols: dict  #: "T", "N", "M", "Delta", "E_lib" -> Symbol
    library_free_energy: sp.Expr  #: A of the library alone, E_lib - T log M
    continuum_free_energy: sp.Expr  #: A of the continuum alone, E_lib + Delta - T log(2^N - M)
    temperature: sp.Expr  #: T* solving library = continuum

    def latex(self) -> str:
        return f"T^* = {sp.latex(self.temperature)}"


@functools.lru_cache(maxsize=None)
def coexistence_derivation() -> Coexistence:
    """Derive T* = Delta / log((2^N - M) / M): each part's free energy is A restricted to its states,
    -T log(count * exp(-energy / T)), and T* is the solution of F_library = F_continuum."""
    T, N, M, Delta = sp.symbols("T N M Delta", positive=True)
    e_lib = sp.Symbol("E_lib", real=True)

    def part(count: sp.Expr, energy: sp.Expr) -> sp.Expr:
        return sp.expand(sp.expand_log(-T * sp.log(count * sp.exp(-energy / T)), force=True))

    f_lib, f_cont = part(M, e_lib), part(2**N - M, e_lib + Delta)
    (t_star,) = sp.solve(sp.Eq(f_lib, f_cont), T)
    t_star = Delta / sp.logcombine(Delta / t_star, force=True)
    return Coexistence(symbols={"T": T, "N": N, "M": M, "Delta": Delta, "E_lib": e_lib},
                       library_free_energy=f_lib, continuum_free_energy=f_cont, temperature=t_star)
