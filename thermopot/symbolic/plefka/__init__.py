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
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from .graphs import automorphisms
from .store import GraphTerm, check_irreducible, derive_graph_terms, load_graph_terms
from ..orders import MAX_ORDER, check_order
from ...backend import asarray, namespace_of, to_numpy
from ...checks import check_count, check_positive, check_real
from ...errors import ThermopotError

__all__ = ["plefka_expansion", "PlefkaExpansion", "PlefkaFunction", "GraphTerm", "check_irreducible", "derive_graph_terms",
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


def _label_latex(label: str) -> str:
    r"""A graph label such as ``bond J^2`` or ``triangle J^(2,1,1)`` as LaTeX: the words in ``\text``, the
    power of J in math (``\text{(bond }J^{2}\text{)}``)."""
    parts = re.split(r"J\^(\([^)]*\)|\d+)", label)
    out = [r"\text{(" + parts[0]]
    for power, words in zip(parts[1::2], parts[2::2]):
        out.append(rf"}}J^{{{power}}}\text{{{words}")
    return "".join(out) + ")}"


def _graph_expression(g: GraphTerm) -> sp.Expr:
    """beta^n / |Aut| * Sum over indices (pairwise distinct by convention) of the summand."""
    idx = _INDICES[: g.n_vertices]
    return beta**g.order / g.symmetry * sp.Sum(_graph_summand(g, idx), *[(i, 1, N) for i in idx])


@dataclass(frozen=True)
class PlefkaFunction:
    """G(m) of a :class:`PlefkaExpansion` for ``n`` explicit spins, as array code (see
    :meth:`PlefkaExpansion.function`): the numeric twin of :meth:`PlefkaExpansion.gibbs`, with the same
    arguments (m, h, J, beta), evaluated through the compiled mean-field program of the same graph terms
    (``thermopot.meanfield.evaluate``, imported on the first call: matrix products and einsum contractions, O(B n^2) through order 2 and
    O(B n^3) beyond), never through SymPy.

        G(m) = -(1/beta) [ S_0(m) + beta h.m + sum_{k=1}^{order} beta^k Phi_k(J, m) ],
        dG/dm = atanh(m)/beta - h - (1/beta) dPhi/dm.

    ``m`` has shape (n,) or (B, n) with every entry in (-1, 1); ``h`` shape (n,); ``J`` (n, n), symmetric
    with a zero diagonal; ``beta`` > 0. Returns a float (or (B,) array) and the gradient with the shape
    of ``m``, on the array namespace of ``m`` (NumPy or CuPy).
    """

    order: int
    n: int

    def _inputs(self, m: Any, h: Any, J: Any, beta: Any) -> tuple:
        n = self.n
        check_real(m, "magnetisations m")
        xp = namespace_of(m)
        x = asarray(m, xp)
        if x.ndim not in (1, 2) or x.shape[-1] != n:
            raise ThermopotError(f"m must have shape ({n},) or (B, {n}) for this {n}-spin function, "
                                 f"got {tuple(x.shape)}")
        if not bool(xp.all(xp.abs(x) < 1)):  # also refuses NaN
            raise ThermopotError("magnetisations m must be finite and lie strictly inside (-1, 1)")
        hv = np.asarray(h, dtype=np.float64)
        Jm = np.asarray(J, dtype=np.float64)
        if hv.shape != (n,) or not np.all(np.isfinite(hv)):
            raise ThermopotError(f"h must be a finite array of shape ({n},), got shape {hv.shape}")
        if Jm.shape != (n, n) or not np.all(np.isfinite(Jm)):
            raise ThermopotError(f"J must be a finite array of shape ({n}, {n}), got shape {Jm.shape}")
        if np.any(np.diag(Jm) != 0) or np.abs(Jm - Jm.T).max() > 1e-12 * max(1.0, np.abs(Jm).max()):
            raise ThermopotError("J must be symmetric with a zero diagonal (J_kl = J_lk, J_kk = 0)")
        b = check_positive(beta, "beta")
        return xp, (x[None, :] if x.ndim == 1 else x), x.ndim == 1, asarray(hv, xp), asarray(Jm, xp), b

    def value_and_gradient(self, m: Any, h: Any, J: Any, beta: float) -> tuple[Any, Any]:
        """(G(m), dG/dm) sharing the matrix products."""
        from ...meanfield.evaluate import coupling_powers, interaction  # noqa: PLC0415 (numeric layer above)
        from ...meanfield.program import load_program  # noqa: PLC0415

        xp, x, single, hv, Jm, b = self._inputs(m, h, J, beta)
        program = load_program(self.order)
        phi, dphi, _ = interaction(xp, program, b, coupling_powers(xp, Jm, program), x, True, False)
        s0 = -xp.sum((1 + x) / 2 * xp.log((1 + x) / 2) + (1 - x) / 2 * xp.log((1 - x) / 2), axis=1)
        value = -(s0 + b * (x @ hv) + phi) / b
        grad = xp.atanh(x) / b - hv[None, :] - dphi / b
        return (float(to_numpy(value[0])), grad[0]) if single else (value, grad)

    def __call__(self, m: Any, h: Any, J: Any, beta: float) -> Any:
        """G(m): a float for m of shape (n,), a (B,) array for (B, n)."""
        return self.value_and_gradient(m, h, J, beta)[0]

    def gradient(self, m: Any, h: Any, J: Any, beta: float) -> Any:
        """dG/dm_k, the shape of m (equal to :meth:`PlefkaExpansion.gradient` evaluated there)."""
        return self.value_and_gradient(m, h, J, beta)[1]


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

    def latex(self, *, environment: str | None = None) -> str:
        r"""-beta G as LaTeX, one line per graph class (sums run over distinct indices), for an amsmath
        ``align*`` environment: lines end with ``\\`` and align at ``&`` (the ``=`` of the first line).
        Put it between ``\begin{align*}`` and ``\end{align*}`` (preamble: ``\usepackage{amsmath}``), or
        pass ``environment="align*"`` to get it wrapped. Graph labels are set as text, their powers of J
        in math (no ``^`` inside ``\text``); only ``\frac``, ``\left``/``\right``, ``\sum``, ``\text``
        and ``\mathrm`` are used, so each line (without the ``&``) also renders in matplotlib's mathtext."""
        if environment not in (None, "align*"):
            raise ThermopotError(f"environment must be None or 'align*', got {environment!r}")
        lines = [r"-\beta G(m) &= \sum_{i} \left[-\frac{1+m_i}{2}\ln\frac{1+m_i}{2}"
                 r" - \frac{1-m_i}{2}\ln\frac{1-m_i}{2}\right] + \beta \sum_{i} h_i m_i"]
        for g in self.graph_terms:
            idx = _INDICES[: g.n_vertices]
            body = sp.latex(_graph_summand(g, idx))
            names = ",".join(map(str, idx))
            pref = sp.latex(beta**g.order / g.symmetry)
            lines.append(rf"&\quad + {pref} \sum_{{{names}\ \mathrm{{distinct}}}} {body}"
                         rf" \qquad {_label_latex(g.label)}")
        lines.append(rf"&\quad + O(\beta^{{{self.order + 1}}})")
        body = " \\\\\n".join(lines)
        return body if environment is None else f"\\begin{{align*}}\n{body}\n\\end{{align*}}"

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

    def function(self, n: int) -> PlefkaFunction:
        """G(m) for ``n`` explicit spins as a fast callable ``G(m, h, J, beta)`` (with ``.gradient`` and
        ``.value_and_gradient``), the numeric equivalent of :meth:`gibbs` (same value to rounding) without
        building the SymPy expression: it runs the compiled mean-field program of this order, so n = 12 at
        order 6 takes milliseconds where ``gibbs(12)`` takes minutes, and n in the thousands works.

        >>> import numpy as np
        >>> G = plefka_expansion(2).function(3)
        >>> J = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0.]])
        >>> # order 2, one bond, m = 0, beta = 1: G = -3 log 2 - (beta/2) J^2 = -2.5794415...
        >>> round(G(np.zeros(3), np.zeros(3), J, beta=1.0), 6)
        -2.579442
        """
        n = check_count(n, "n")
        return PlefkaFunction(self.order, n)

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
