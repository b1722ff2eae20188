"""Compile the symbolic Plefka graph terms into array programs (the code generation of meanfield).

A graph term (1/|Aut|) sum over DISTINCT indices of prod_e J^a_e * c(m_0..m_{k-1}) becomes sums over
ALL index maps, which are matrix products, by Moebius inversion on the partition lattice:

    sum_distinct F = sum_pi mu(pi) sum_all F|_pi,     mu(pi) = prod_blocks (-1)^(|b|-1) (|b|-1)!,

where F|_pi merges the vertices of each block (their polynomials multiply, parallel edges add their
powers). Blocks holding two adjacent vertices give J_ii = 0 and are skipped; these are exactly the
repeated-vertex walk corrections (e.g. the square's tr (D J)^4 minus its two backtracking paths plus
the doubled bond). c is first split into separable products prod_v p_v(m_v).

Quotients with two blocks are single bonds J^a: all of them with the same power are summed into one
symmetric polynomial P_a(x, y) = f(x) f(y) sum_ij C_ij x^i y^j evaluated with one matrix product per
column j (O(B N^2)). Larger quotients (triangles, squares, paths, ...) become einsum contractions,
O(B N^3) for cycles through order 4.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from math import factorial

import numpy as np
import sympy as sp

from .program import BondGroup, Network, Program, UniPoly, write_programs
from ..symbolic.plefka import plefka_expansion

_X, _Y = sp.symbols("x y")


def _coeffs(p: sp.Poly) -> tuple:
    """Coefficients low -> high degree of a univariate polynomial, as floats."""
    return tuple(float(c) for c in reversed(p.all_coeffs()))


def _unipoly(p: sp.Poly) -> UniPoly:
    """A polynomial in x with its first two derivatives, as coefficient tuples."""
    p = sp.Poly(p, _X)
    return UniPoly(_coeffs(p), _coeffs(p.diff(_X)), _coeffs(p.diff(_X).diff(_X)))


def _set_partitions(items: list) -> list[list[list]]:
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for part in _set_partitions(rest):
        out.append([[first]] + part)
        for i in range(len(part)):
            out.append(part[:i] + [[first] + part[i]] + part[i + 1:])
    return out


def _separable(coefficient: sp.Expr, syms: tuple) -> list[tuple[sp.Rational, list[sp.Expr]]]:
    """coefficient = sum_r coef_r prod_v p_{r,v}(m_v): pull out (1 - m_v^2) powers, then group the
    monomials of the rest by their exponents on vertices 1..k-1."""
    poly = sp.Poly(coefficient, *syms)
    common = []
    for v, s in enumerate(syms):
        e = 0
        while True:
            q, r = sp.div(poly, sp.Poly(1 - s**2, *syms))
            if not r.is_zero:
                break
            poly, e = q, e + 1
        common.append((1 - s**2) ** e)
    groups: dict[tuple, sp.Expr] = {}
    for mon, c in poly.terms():
        groups[mon[1:]] = groups.get(mon[1:], sp.S.Zero) + c * syms[0] ** mon[0]
    return [(sp.S.One, [common[0] * g] + [common[v] * syms[v] ** rest[v - 1] for v in range(1, len(syms))])
            for rest, g in groups.items()]


@lru_cache(maxsize=None)
def compile_program(order: int) -> Program:
    """The array program of the interaction part of -beta G (without beta powers) to ``order``."""
    bond_polys: dict[int, sp.Expr] = {}
    networks = []
    for g in plefka_expansion(order).graph_terms:
        syms = g.vertex_symbols
        adjacent = {(u, v) for u, v, _ in g.edges} | {(v, u) for u, v, _ in g.edges}
        for coef, polys in _separable(g.coefficient, syms):
            for part in _set_partitions(list(range(g.n_vertices))):
                if any((u, v) in adjacent for block in part for u, v in itertools.combinations(block, 2)):
                    continue
                mu = np.prod([(-1) ** (len(b) - 1) * factorial(len(b) - 1) for b in part])
                block_of = {v: i for i, b in enumerate(part) for v in b}
                qs = [sp.Mul(*[polys[v].subs(syms[v], _X) for v in b]) for b in part]
                merged: dict[tuple, int] = {}
                for u, v, a in g.edges:
                    key = tuple(sorted((block_of[u], block_of[v])))
                    merged[key] = merged.get(key, 0) + a
                weight = sp.Rational(int(mu), g.symmetry) * coef
                if len(part) == 2:
                    ((_, a),) = merged.items()
                    bond_polys[a] = bond_polys.get(a, 0) + weight * qs[0] * qs[1].subs(_X, _Y)
                else:
                    networks.append(Network(g.order, float(weight),
                                            tuple(_unipoly(sp.Poly(q, _X)) for q in qs),
                                            tuple((b, c, a) for (b, c), a in merged.items())))
    bonds = []
    for a, P in sorted(bond_polys.items()):
        P = sp.Poly(sp.expand((P + P.subs({_X: _Y, _Y: _X}, simultaneous=True)) / 2), _X, _Y)
        if P.is_zero:
            continue
        f = sp.gcd_list([c for c in sp.Poly(P, _Y).all_coeffs() if c != 0], _X)
        R = sp.Poly(sp.cancel(P.as_expr() / (f * f.subs(_X, _Y))), _X, _Y)
        cols: dict[int, sp.Expr] = {}
        for (i, j), c in R.terms():
            cols[j] = cols.get(j, 0) + c * _X**i
        left = tuple(_unipoly(sp.Poly(f * cj, _X)) for j, cj in sorted(cols.items()))
        right = tuple(_unipoly(sp.Poly(f * _X**j, _X)) for j in sorted(cols))
        bonds.append(BondGroup(a, a, left, right))
    return Program(order, tuple(bonds), tuple(networks))


if __name__ == "__main__":  # regenerate the shipped programs
    from ..symbolic.orders import MAX_ORDER

    write_programs([compile_program(k) for k in range(1, MAX_ORDER + 1)])
