"""The Plefka expansion of one small graph, derived exactly with SymPy's sparse polynomial rings.

For couplings J_e on the edges of a graph with k vertices (fields dropped: they enter G exactly), write
the Lagrange fields as lambda_i = atanh(m_i) + delta_i. With exp(lambda0 s) = cosh(lambda0) (1 + m s),
exp(J s_i s_j) = cosh(J) (1 + t s_i s_j) and exp(delta s) = cosh(delta) (1 + u s), t = tanh J,
u = tanh delta, the interaction part of -beta G (beta absorbed in J) is exactly

    Phi = sum_e log cosh J_e + sum_i [ -log(1 - u_i^2)/2 - m_i atanh(u_i) ] + log P(t, u),
    P   = sum_{F subset of edges} t^F prod_i f_i(deg_F(i) mod 2),   f_i(0) = 1 + u_i m_i, f_i(1) = m_i + u_i,

stationary in u (that stationarity is <s_i> = m_i). The condition dPhi/du_i = 0 is the polynomial
R_i = (u_i - m_i) P + (1 - u_i^2) dP/du_i = 0, whose linear part is (1 - m_i^2) u_i: it fixes u order
by order in J (each u^(p) a polynomial in J and m). Phi is stationary in u, so u exact to order p
makes Phi exact to order 2p + 1; order n needs p = floor(n / 2).

Only monomials in which every edge appears matter for a graph term, so any monomial with
sum_e max(a_e, 1) > n is dropped as soon as it appears (it can only grow under multiplication).
The series of tanh, log cosh, log(1 + x) and atanh come from ``sympy.series``.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring


@lru_cache(maxsize=None)
def _series_coefficients(name: str, order: int) -> tuple:
    """Taylor coefficients c_0..c_order of tanh, log cosh, log(1+x), atanh, -log(1-x^2)/2 at 0."""
    x = sp.Symbol("x")
    f = {"tanh": sp.tanh(x), "logcosh": sp.log(sp.cosh(x)), "log1p": sp.log(1 + x),
         "atanh": sp.atanh(x), "entropy_u": -sp.log(1 - x**2) / 2}[name]
    poly = sp.series(f, x, 0, order + 1).removeO()
    return tuple(QQ.convert(sp.Rational(poly.coeff(x, j))) for j in range(order + 1))


class _Truncated:
    """Polynomials in J_e and m_i truncated at total J-degree ``degree`` and pruned to monomials that
    can still reach a monomial containing every edge within ``order``."""

    def __init__(self, k: int, n_edges: int, order: int):
        names = [f"J{e}" for e in range(n_edges)] + [f"m{i}" for i in range(k)]
        self.ring, *gens = ring(",".join(names), QQ)
        self.J, self.m = gens[:n_edges], gens[n_edges:]
        self.n_edges, self.order = n_edges, order
        self._keep: dict[tuple, int] = {}

    def _need(self, mon: tuple) -> int:
        """(J-degree, minimal completed order) of a monomial's J part."""
        key = mon[: self.n_edges]
        if key not in self._keep:
            self._keep[key] = (sum(key), sum(max(a, 1) for a in key))
        return self._keep[key]

    def trunc(self, p, degree: int | None = None):
        degree = self.order if degree is None else degree
        out = self.ring.zero.copy()
        dict.update(out, {mon: c for mon, c in p.items()
                          if (need := self._need(mon))[0] <= degree and need[1] <= self.order})
        return out

    def mul(self, a, b, degree: int | None = None):
        return self.trunc(a * b, degree)

    def series(self, coeffs: tuple, x, degree: int | None = None):
        """sum_j coeffs[j] x^j for x of J-degree >= 1 (Horner, truncated after every product)."""
        out = self.ring(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            out = self.mul(out, x, degree) + c
        return self.trunc(out, degree)

    def degree_part(self, p, degree: int):
        out = self.ring.zero.copy()
        dict.update(out, {mon: c for mon, c in p.items() if self._need(mon)[0] == degree})
        return out


def graph_coefficients(k: int, edges: tuple[tuple[int, int], ...], order: int) -> dict:
    """Coefficients of -beta G for a graph: {powers (a_e >= 1 per edge, sum <= order): sympy Poly in
    m_0..m_{k-1}} (zero polynomials omitted); beta^(sum a_e) multiplies each monomial prod J_e^a_e."""
    n_edges = len(edges)
    if n_edges > order:
        return {}
    tr = _Truncated(k, n_edges, order)
    R = tr.ring
    tanh = _series_coefficients("tanh", order)
    t = [tr.series(tanh, J) for J in tr.J]

    # T_pi = sum over edge subsets F with odd-degree vertex set pi of prod_{e in F} t_e
    parity_sums: dict[tuple, object] = {}
    for chosen in itertools.product((0, 1), repeat=n_edges):
        term, parity = R.one, [0] * k
        for e, on in enumerate(chosen):
            if on:
                term = tr.mul(term, t[e])
                parity[edges[e][0]] ^= 1
                parity[edges[e][1]] ^= 1
        if term:
            key = tuple(parity)
            parity_sums[key] = parity_sums.get(key, R.zero) + term

    def p_and_derivative(u, degree):
        """P(u) and dP/du_i for all i, truncated at J-degree ``degree``."""
        f = [(R.one + u[i] * tr.m[i], tr.m[i] + u[i]) for i in range(k)]
        df = [(tr.m[i], R.one) for i in range(k)]
        P, dP = R.zero, [R.zero] * k
        for parity, T in parity_sums.items():
            factors = [tr.trunc(f[i][parity[i]], degree) for i in range(k)]
            prefix = [T]
            for i in range(k):
                prefix.append(tr.mul(prefix[-1], factors[i], degree))
            P += prefix[-1]
            suffix = R.one
            for i in reversed(range(k)):
                dP[i] += tr.mul(tr.mul(prefix[i], suffix, degree), df[i][parity[i]], degree)
                suffix = tr.mul(suffix, factors[i], degree)
        return P, dP

    u = [R.zero] * k
    for p in range(1, order // 2 + 1):
        P, dP = p_and_derivative(u, p)
        new = []
        for i in range(k):
            r = tr.mul(u[i] - tr.m[i], P, p) + tr.mul(R.one - tr.mul(u[i], u[i], p), dP[i], p)
            new.append(u[i] - tr.degree_part(r, p).exquo(R.one - tr.m[i] ** 2))
        u = new

    P, _ = p_and_derivative(u, order)
    phi = tr.series(_series_coefficients("log1p", order), P - 1)
    logcosh = _series_coefficients("logcosh", order)
    atanh = _series_coefficients("atanh", order)
    ent = _series_coefficients("entropy_u", order)
    for J in tr.J:
        phi += tr.series(logcosh, J)
    for i in range(k):
        phi += tr.series(ent, u[i]) - tr.mul(tr.m[i], tr.series(atanh, u[i]))

    m_syms = sp.symbols(f"m0:{k}")
    grouped: dict[tuple, dict] = {}
    for mon, c in tr.trunc(phi).items():
        powers = mon[:n_edges]
        if all(a >= 1 for a in powers) and c:
            grouped.setdefault(powers, {})[mon[n_edges:]] = c
    return {powers: sp.Poly.from_dict({mon: sp.Rational(int(c.numerator), int(c.denominator))
                                       for mon, c in terms.items()}, *m_syms)
            for powers, terms in sorted(grouped.items())}
