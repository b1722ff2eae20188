"""Plefka expansion of the Gibbs potential G(m) of a pairwise Ising model, derived to any order.

    -beta G(m) = -beta G_0(m) + beta sum_k h_k m_k + sum_{n>=1} beta^n Phi_n(J, m),
    -beta G_0  = -sum_k [ (1+m_k)/2 log((1+m_k)/2) + (1-m_k)/2 log((1-m_k)/2) ]   (entropy),

expanded around beta = 0 at fixed magnetisations m (Plefka 1982; Georges and Yedidia 1991). Fields
enter exactly: G(m; h) = G(m; 0) - h.m. Each Phi_n is a sum over multigraph classes g with n edges
(counted with multiplicity: the power of J on each edge):

    Phi_n = sum_g 1/|Aut g| sum_{distinct i_0..i_{k-1}} prod_{(u,v,a) in g} J_{i_u i_v}^a  c_g(m_{i_0}, ..., m_{i_{k-1}}).

How the program derives it (:mod:`.derive`): for one graph it expands
log sum_s exp(sum_e J_e s_i s_j + sum_k lambda_k s_k) - lambda.m exactly in J with the Lagrange fields
lambda_k = atanh(m_k) + delta_k re-adjusted order by order so that <s_k> = m_k. The coefficient of
a monomial prod_e J_e^a_e (all a_e >= 1) is the same in every system that contains the graph (the
couplings missing from the monomial can be set to zero, and uncoupled spins only add their entropy),
so the coefficients of the small graph ARE the terms for any N. Only 2-connected graphs (single bonds,
triangles, squares, diamonds, ...) contribute: graphs with an articulation vertex cancel, which
:func:`check_irreducible` verifies by expanding them too.

Second order reproduces theory.md section 2::

    -beta G = -beta G_0 + beta h.m + beta sum_{k<l} J_kl m_k m_l
              + beta^2/2 sum_{k<l} J_kl^2 (1-m_k^2)(1-m_l^2) + O(beta^3),

and stationarity gives the TAP equations m_k = tanh(beta h_k + dPhi/dm_k).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .graphs import automorphisms
from .store import GraphTerm, check_irreducible, derive_graph_terms, load_graph_terms
from ..orders import MAX_ORDER, check_order

__all__ = ["plefka_expansion", "PlefkaExpansion", "GraphTerm", "check_irreducible", "derive_graph_terms",
           "MAX_ORDER", "beta", "m", "h", "J", "N"]

#: the highest order accepted (shipped precomputed; a cold derivation of order 6 takes ~20-40 s on 2
#: cores, while order 7 did not finish within 15 min, the graph enumeration being brute force)

beta = sp.Symbol("beta", positive=True)
N = sp.Symbol("N", integer=True, positive=True)
m = sp.IndexedBase("m")
h = sp.IndexedBase("h")
J = sp.IndexedBase("J")
_INDICES = sp.symbols("i j k l p q", integer=True)
_ROOT = sp.Symbol("r", integer=True)


def entropy_term(x: sp.Expr) -> sp.Expr:
    """-beta G_0 for one spin: the entropy of a +-1 variable with mean x."""
    return -((1 + x) / 2 * sp.log((1 + x) / 2) + (1 - x) / 2 * sp.log((1 - x) / 2))


def readable(coefficient: sp.Expr, syms: tuple) -> sp.Expr:
    """The coefficient as prod_v (1 - m_v^2)^e_v times a factored rest (same polynomial)."""
    poly = sp.Poly(coefficient, *syms)
    factors = []
    for s in syms:
        while True:
            q, r = sp.div(poly, sp.Poly(1 - s**2, *syms))
            if not r.is_zero:
                break
            poly = q
            factors.append(1 - s**2)
    return sp.Mul(sp.factor(poly.as_expr()), *factors)


def _graph_summand(g: GraphTerm, idx: tuple) -> sp.Expr:
    """prod_edges J_{idx_u idx_v}^a * c_g(m_{idx_0}, ...) for concrete or symbolic indices."""
    couplings = sp.Mul(*[J[idx[u], idx[v]] ** a for u, v, a in g.edges])
    coef = readable(g.coefficient, g.vertex_symbols)
    return couplings * coef.subs(dict(zip(g.vertex_symbols, [m[i] for i in idx])), simultaneous=True)


def _graph_expression(g: GraphTerm) -> sp.Expr:
    """beta^n / |Aut| * Sum over indices (pairwise distinct by convention) of the summand."""
    idx = _INDICES[: g.n_vertices]
    return beta**g.order / g.symmetry * sp.Sum(_graph_summand(g, idx), *[(i, 1, N) for i in idx])


@dataclass(frozen=True)
class PlefkaExpansion:
    """-beta G(m) to ``order`` in beta for a pairwise model with fields, valid for any N.

    ``graph_terms``: the derived multigraph classes (:class:`GraphTerm`); ``terms``: SymPy expressions,
    the entropy, the field term, then one per graph class, whose sum is -beta G; in each ``Sum`` the
    summation indices are pairwise DISTINCT (J has a zero diagonal; m, h, J are IndexedBase symbols,
    beta and N symbols exported by this module).
    """

    order: int
    graph_terms: tuple[GraphTerm, ...]

    @property
    def terms(self) -> tuple[sp.Expr, ...]:
        i = _INDICES[0]
        return (sp.Sum(entropy_term(m[i]), (i, 1, N)), beta * sp.Sum(h[i] * m[i], (i, 1, N))) + tuple(
            _graph_expression(g) for g in self.graph_terms)

    @property
    def expression(self) -> sp.Expr:
        """-beta G as one SymPy expression (sum of ``terms``)."""
        return sp.Add(*self.terms)

    def terms_of_order(self, n: int) -> tuple[GraphTerm, ...]:
        return tuple(g for g in self.graph_terms if g.order == n)

    def latex(self) -> str:
        """-beta G as LaTeX, one line per graph class (sums run over distinct indices)."""
        lines = [r"-\beta G(m) = \sum_{i} \Big[-\tfrac{1+m_i}{2}\ln\tfrac{1+m_i}{2}"
                 r" - \tfrac{1-m_i}{2}\ln\tfrac{1-m_i}{2}\Big] + \beta \sum_i h_i m_i"]
        for g in self.graph_terms:
            idx = _INDICES[: g.n_vertices]
            body = sp.latex(_graph_summand(g, idx))
            names = ",".join(map(str, idx))
            pref = sp.latex(beta**g.order / g.symmetry)
            lines.append(rf"+ {pref} \sum_{{{names}\ \mathrm{{distinct}}}} {body}"
                         rf" \qquad \text{{({g.label})}}")
        lines.append(rf"+ O(\beta^{{{self.order + 1}}})")
        return " \\\\\n".join(lines)

    def _rooted(self, root) -> sp.Expr:
        """dPhi/dm_root: each vertex orbit of every graph rooted at ``root``, other indices summed."""
        total, x = sp.S.Zero, sp.Dummy("x")
        for g in self.graph_terms:
            perms = automorphisms(g.n_vertices, tuple((u, v) for u, v, _ in g.edges))
            power = {(u, v): a for u, v, a in g.edges}
            perms = [p for p in perms if all(power[tuple(sorted((p[u], p[v])))] == a for u, v, a in g.edges)]
            orbits = {min(p[v] for p in perms): len({p[v] for p in perms}) for v in range(g.n_vertices)}
            for v, size in orbits.items():
                others = iter(_INDICES)
                rooted = tuple(root if w == v else next(others) for w in range(g.n_vertices))
                body = _graph_summand(g, rooted).subs(m[root], x).diff(x).subs(x, m[root])
                limits = [(i, 1, N) for i in rooted if i != root]
                total += beta**g.order * sp.Rational(size, g.symmetry) * sp.Sum(sp.factor(body), *limits)
        return total

    def tap_equations(self) -> sp.Eq:
        """Stationarity dG/dm_r = 0:  m_r = tanh(beta h_r + dPhi/dm_r) (indices in each sum distinct and
        different from r). At order 2 this is m_r = tanh(beta h_r + beta sum_l J_rl m_l
        - beta^2 m_r sum_l J_rl^2 (1 - m_l^2))."""
        return sp.Eq(m[_ROOT], sp.tanh(beta * h[_ROOT] + self._rooted(_ROOT)))

    # ----- explicit expressions for a given number of spins -----
    def symbols(self, n: int) -> tuple[list, list, sp.Matrix]:
        """Explicit symbols for ``n`` spins: m_1..m_n, h_1..h_n and the symmetric J (zero diagonal)."""
        ms = list(sp.symbols(f"m1:{n + 1}"))
        hs = list(sp.symbols(f"h1:{n + 1}"))
        Jm = sp.zeros(n, n)
        for a, b in itertools.combinations(range(n), 2):
            Jm[a, b] = Jm[b, a] = sp.Symbol(f"J_{a + 1}_{b + 1}")
        return ms, hs, Jm

    def gibbs(self, n: int) -> sp.Expr:
        """G(m) = -(1/beta) * (-beta G) for ``n`` spins in explicit symbols (see :meth:`symbols`)."""
        ms, hs, Jm = self.symbols(n)
        neg_beta_g = sum(entropy_term(x) + beta * hk * x for x, hk in zip(ms, hs))
        for g in self.graph_terms:
            for idx in itertools.permutations(range(n), g.n_vertices):
                couplings = sp.Mul(*[Jm[idx[u], idx[v]] ** a for u, v, a in g.edges])
                if couplings != 0:
                    sub = dict(zip(g.vertex_symbols, [ms[i] for i in idx]))
                    neg_beta_g += beta**g.order / g.symmetry * couplings * g.coefficient.subs(sub, simultaneous=True)
        return -neg_beta_g / beta

    def gradient(self, n: int) -> sp.Matrix:
        """dG/dm_k for ``n`` spins (a column of SymPy expressions)."""
        ms, _, _ = self.symbols(n)
        G = self.gibbs(n)
        return sp.Matrix([sp.diff(G, x) for x in ms])

    def hessian(self, n: int) -> sp.Matrix:
        """d^2G/dm_k dm_l for ``n`` spins."""
        ms, _, _ = self.symbols(n)
        return sp.hessian(self.gibbs(n), ms)


@lru_cache(maxsize=None)
def plefka_expansion(order: int, *, cache: bool = True) -> PlefkaExpansion:
    """The Plefka expansion of -beta G(m) to ``order`` (1..MAX_ORDER) for pairwise models with fields.

    All orders ship precomputed (thermopot/symbolic/plefka/data/plefka.json); when that file is missing the
    derivation runs once and is kept in the user cache. ``cache=False`` re-derives from scratch and
    touches no file. The formulas are in docs/theory.md section 2 (Plefka 1982; Georges and Yedidia 1991).

    Parameters
    ----------
    order : int
        Highest power of beta, 1..MAX_ORDER (1: naive mean field, 2: TAP).
    cache : bool, optional
        Read the shipped or cached terms (default) or derive them again.

    Returns
    -------
    PlefkaExpansion
        ``terms`` (SymPy expressions whose sum is -beta G: the entropy, the field term, then one term per
        multigraph class), ``expression``, ``latex()`` and ``terms_of_order(n)``.

    Raises
    ------
    ThermopotError
        When ``order`` is not an integer in 1..MAX_ORDER.

    Examples
    --------
    >>> from thermopot.symbolic import plefka_expansion
    >>> expansion = plefka_expansion(2)
    >>> len(expansion.terms)        # entropy, fields, the bond J and the Onsager term J^2
    4
    >>> [(g.order, g.n_vertices) for g in plefka_expansion(3).graph_terms]   # bonds J, J^2, J^3; triangle
    [(1, 2), (2, 2), (3, 2), (3, 3)]
    """
    order = check_order(order)
    terms = load_graph_terms(order, cache=cache) if cache else derive_graph_terms(order)
    return PlefkaExpansion(order, tuple(terms))
