"""Symbolic full description of a training set, its Walsh couplings and the Krawtchouk form of an
order-K truncation (theory.md section 3), derived by SymPy for a concrete N and M.

The energy of the full description is written with the pattern indicator
[s = xi] = prod_k (1 + xi_k s_k) / 2 (exact for +-1 spins):
    E(s) = E_gap - sum_mu Delta_mu prod_k (1 + xi^mu_k s_k) / 2.
Expanding the product reads off every Walsh coupling (E = -sum_alpha J_alpha chi_alpha(s)), and the
degree-j part of the product is 2^-N e_j(xi * s), the elementary symmetric polynomial, which for +-1
variables equals the Krawtchouk polynomial K_j(d; N) of the Hamming distance d.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ...checks import check_integer

#: symbols of the Krawtchouk polynomials: distance d, number of spins N, generating variable z
d, N, z = sp.symbols("d N z")

#: most spins for which the symbolic full description is expanded (2^N M terms)
MAX_SYMBOLIC_SPINS = 8


@functools.lru_cache(maxsize=None)
def krawtchouk_expr(j: int, n: int | None = None) -> sp.Expr:
    """K_j(d; N) as a polynomial in d (and in the symbol N when ``n`` is None), derived as the Taylor
    coefficient of z^j of the generating function (1 - z)^d (1 + z)^(N - d) = prod_k (1 + y_k z) for
    d entries y_k = -1 and N - d entries y_k = +1."""
    j = check_integer(j, "order j", 0, n)
    size = N if n is None else check_integer(n, "N", 1)
    generating = (1 - z) ** d * (1 + z) ** (size - d)
    coefficient = sp.diff(generating, z, j).subs(z, 0) / sp.factorial(j)
    return sp.expand(coefficient)


def multilinear(expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Reduce a polynomial modulo g^2 = 1 for every generator (its value on +-1 variables)."""
    poly = sp.Poly(sp.expand(expr), *gens)
    return sp.expand(sum(coeff * sp.prod([g ** (e % 2) for g, e in zip(gens, powers)])
                         for powers, coeff in poly.terms()))


@dataclass(frozen=True)
class FullDescription:
    """E(s) = E_gap - sum_mu Delta_mu [s = xi^mu] for N spins and M symbolic patterns."""

    n: int
    m: int
    s: tuple[sp.Symbol, ...]  #: spins s_0..s_{N-1}
    xi: tuple[tuple[sp.Symbol, ...], ...]  #: patterns xi^mu_k, M rows of N
    delta: tuple[sp.Symbol, ...]  #: gaps Delta_mu = E_gap - E_mu
    gap: sp.Symbol  #: E_gap
    energy: sp.Expr  #: E(s) with the product form of the indicator
    couplings: dict  #: subset mask (int) -> J_alpha, read off the expanded energy

    def truncated(self, order: int) -> sp.Expr:
        """E_K(s) = -sum_{|alpha| <= K} J_alpha chi_alpha(s)."""
        order = check_integer(order, "truncation order K", 0, self.n)
        return sp.expand(-sum(J * sp.prod([self.s[k] for k in range(self.n) if mask >> k & 1])
                              for mask, J in self.couplings.items() if bin(mask).count("1") <= order))

    def distance(self, mu: int) -> sp.Expr:
        """Hamming distance d_mu(s) = sum_k (1 - xi^mu_k s_k) / 2."""
        return sum((1 - x * s) / 2 for x, s in zip(self.xi[mu], self.s))

    def krawtchouk_form(self, order: int) -> sp.Expr:
        """E_gap - 2^-N sum_mu Delta_mu sum_{j=0}^{K} K_j(d_mu(s); N)."""
        order = check_integer(order, "truncation order K", 0, self.n)
        kernel = sum(krawtchouk_expr(j, self.n) for j in range(order + 1))
        return self.gap - sum(dl * kernel.subs(d, self.distance(mu))
                              for mu, dl in enumerate(self.delta)) / 2**self.n

    def krawtchouk_residual(self, order: int) -> sp.Expr:
        """truncated(K) - krawtchouk_form(K) reduced on +-1 spins and patterns: 0 proves the form."""
        gens = self.s + tuple(x for row in self.xi for x in row)
        return multilinear(self.truncated(order) - self.krawtchouk_form(order), gens)


@functools.lru_cache(maxsize=None)
def full_description(n: int, m: int) -> FullDescription:
    """The full description of M symbolic patterns on N spins with its Walsh couplings derived by
    expanding E(s) = E_gap - sum_mu Delta_mu prod_k (1 + xi^mu_k s_k) / 2 in the spins:
    J_{} = -E_gap + 2^-N sum_mu Delta_mu and J_alpha = 2^-N sum_mu Delta_mu prod_{k in alpha} xi^mu_k."""
    n = check_integer(n, "number of spins N", 1, MAX_SYMBOLIC_SPINS)
    m = check_integer(m, "number of patterns M", 1, 2**n)
    s = sp.symbols(f"s_0:{n}")
    xi = tuple(sp.symbols(f"xi_{mu}_0:{n}") for mu in range(m))
    delta = sp.symbols(f"Delta_0:{m}")
    gap = sp.Symbol("E_gap")
    energy = gap - sum(dl * sp.prod([(1 + x * sk) / 2 for x, sk in zip(row, s)])
                       for dl, row in zip(delta, xi))
    terms = {sum(e << k for k, e in enumerate(powers)): coeff
             for powers, coeff in sp.Poly(sp.expand(energy), *s).terms()}
    couplings = {mask: sp.factor_terms(-terms[mask]) for mask in sorted(terms)}
    return FullDescription(n=n, m=m, s=s, xi=xi, delta=delta, gap=gap, energy=energy, couplings=couplings)
