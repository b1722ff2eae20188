"""The symbolic Plefka expansion: derived terms, graph classes, TAP equations, symbolic derivatives."""

import numpy as np
import pytest
import sympy as sp

from thermopot.errors import ThermopotError
from thermopot.meanfield import mean_field
from thermopot.models import random_pairwise
from thermopot.symbolic.plefka import (MAX_ORDER, beta, check_irreducible, derive_graph_terms, h, m,
                                       plefka_expansion)


def _term(expansion, label):
    (g,) = [g for g in expansion.graph_terms if g.label == label]
    return g


def test_orders_one_and_two_are_the_theory_md_terms():
    p = plefka_expansion(2)
    x, y = sp.symbols("m0 m1")
    assert [g.label for g in p.graph_terms] == ["bond J^1", "bond J^2"]
    bond1, bond2 = p.graph_terms
    # 1/|Aut| sum_{i != j} = sum_{i<j}: beta sum_{k<l} J m m + beta^2/2 sum_{k<l} J^2 (1-m^2)(1-m^2)
    assert bond1.symmetry == 2 and sp.expand(bond1.coefficient - x * y) == 0
    assert bond2.symmetry == 2 and sp.expand(bond2.coefficient - (1 - x**2) * (1 - y**2) / 2) == 0


def test_orders_three_and_four_match_georges_yedidia():
    """Georges and Yedidia, J. Phys. A 24, 2173 (1991), eq. (29): the beta^3 and beta^4 terms."""
    p = plefka_expansion(4)
    x, y, z, w = sp.symbols("m0 m1 m2 m3")
    q = lambda s: 1 - s**2  # noqa: E731
    expected = {  # label: (symmetry, coefficient)
        "bond J^3": (2, sp.Rational(2, 3) * x * q(x) * y * q(y)),
        "triangle": (6, q(x) * q(y) * q(z)),
        "bond J^4": (2, -sp.Rational(1, 12) * q(x) * q(y) * (1 + 3 * x**2 + 3 * y**2 - 15 * x**2 * y**2)),
        "triangle J^(2,1,1)": (2, 2 * x * q(x) * y * q(y) * q(z)),
        "square": (8, q(x) * q(y) * q(z) * q(w)),
    }
    assert len(p.terms_of_order(3)) == 2 and len(p.terms_of_order(4)) == 3
    for label, (sym, coef) in expected.items():
        g = _term(p, label)
        assert g.symmetry == sym
        assert sp.expand(g.coefficient - coef) == 0, label


def test_only_two_connected_graphs_contribute():
    assert check_irreducible(4) == []
    names = {g.name for g in plefka_expansion(6).graph_terms}
    assert names == {"bond", "triangle", "square", "diamond", "pentagon", "K4", "K2,3", "pentagon+chord", "hexagon"}


def test_shipped_data_equals_a_fresh_derivation():
    fresh = derive_graph_terms(4)
    shipped = plefka_expansion(4).graph_terms
    assert [(g.order, g.edges, g.symmetry) for g in fresh] == [(g.order, g.edges, g.symmetry) for g in shipped]
    assert all(sp.expand(a.coefficient - b.coefficient) == 0 for a, b in zip(fresh, shipped))


def test_terms_latex_and_expression():
    p = plefka_expansion(4)
    assert len(p.terms) == 2 + len(p.graph_terms)
    assert all(isinstance(t, sp.Expr) for t in p.terms)
    tex = p.latex()
    assert "square" in tex and r"O(\beta^{5})" in tex
    assert p.expression.has(beta)


def test_order_two_gives_the_tap_equations_of_theory_md():
    p = plefka_expansion(2)
    eq = p.tap_equations()
    r, i = sp.Symbol("r", integer=True), sp.Symbol("i", integer=True)
    from thermopot.symbolic.plefka import J, N
    expected = (beta * h[r] + beta * sp.Sum(J[r, i] * m[i], (i, 1, N))
                - beta**2 * m[r] * sp.Sum(J[r, i] ** 2 * (1 - m[i] ** 2), (i, 1, N)))
    assert eq.lhs == m[r]
    # every sum runs over the single index i from 1 to N: compare the summands
    summands = (eq.rhs.args[0] - expected).replace(lambda e: isinstance(e, sp.Sum), lambda e: e.function)
    assert sp.expand(summands) == 0
    # explicit N = 4: dG/dm_k = T atanh m_k - h_k - sum_l J_kl m_l + beta m_k sum_l J_kl^2 (1 - m_l^2)
    ms, hs, Jm = p.symbols(4)
    grad = p.gradient(4)
    for k in range(4):
        want = (sp.atanh(ms[k]) / beta - hs[k] - sum(Jm[k, l] * ms[l] for l in range(4))
                + beta * ms[k] * sum(Jm[k, l] ** 2 * (1 - ms[l] ** 2) for l in range(4)))
        assert sp.simplify((grad[k] - want).rewrite(sp.log)) == 0


@pytest.mark.parametrize("order, n", [(2, 5), (4, 4)])
def test_symbolic_gradient_and_hessian_against_finite_differences_and_numeric(order, n):
    T = 1.7
    p = plefka_expansion(order)
    ms, hs, Jm = p.symbols(n)
    model = random_pairwise(n, seed=3)
    subs = {beta: 1 / T, **dict(zip(hs, model.h))}
    subs.update({Jm[a, b]: model.J[a, b] for a in range(n) for b in range(a + 1, n)})
    G = sp.lambdify(ms, p.gibbs(n).subs(subs), "numpy")
    grad = sp.lambdify(ms, p.gradient(n).subs(subs), "numpy")
    hess = sp.lambdify(ms, p.hessian(n).subs(subs), "numpy")
    x = np.random.default_rng(1).uniform(-0.6, 0.6, n)
    eps = 1e-6
    fd = np.array([(G(*(x + eps * e)) - G(*(x - eps * e))) / (2 * eps) for e in np.eye(n)])
    g = np.asarray(grad(*x), dtype=float).ravel()
    H = np.asarray(hess(*x), dtype=float)
    fdH = np.array([(np.asarray(grad(*(x + eps * e)), float).ravel() - np.asarray(grad(*(x - eps * e)), float).ravel())
                    / (2 * eps) for e in np.eye(n)])
    np.testing.assert_allclose(g, fd, atol=1e-7)
    np.testing.assert_allclose(H, fdH, atol=1e-6)
    num = mean_field(model, T, order=order)
    np.testing.assert_allclose(G(*x), num.value(x), rtol=1e-12)
    np.testing.assert_allclose(g, num.gradient(x), atol=1e-11)
    np.testing.assert_allclose(H, num.hessian(x), atol=1e-10)


@pytest.mark.parametrize("order", [0, -1, MAX_ORDER + 1, 2.5, "two"])
def test_bad_order(order):
    with pytest.raises(ThermopotError, match="order"):
        plefka_expansion(order)
