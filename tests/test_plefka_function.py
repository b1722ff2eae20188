"""PlefkaExpansion.function(n): the numeric G(m) for explicit n, against the symbolic .gibbs(n) and the
exact Gibbs potential; PlefkaExpansion.latex(): a string LaTeX (and matplotlib mathtext) can read."""

import re

import numpy as np
import pytest
import sympy as sp

from thermopot.errors import ThermopotError
from thermopot.exact.gibbs import gibbs_potential
from thermopot.models import PairwiseModel
from thermopot.symbolic import plefka_expansion
from thermopot.symbolic.plefka import MAX_ORDER, beta


def _couplings(n, rng, scale=1.0):
    J = np.triu(rng.normal(scale=scale, size=(n, n)), 1)
    return rng.normal(scale=0.5, size=n), J + J.T


@pytest.mark.parametrize("order", [1, 2, 3])
def test_function_equals_symbolic_gibbs(order):
    """G and dG/dm from function(4) equal .gibbs(4) and .gradient(4) (SymPy, lambdified) at random
    points to 1e-12."""
    n, b = 4, 0.8
    p = plefka_expansion(order)
    rng = np.random.default_rng(order)
    h, J = _couplings(n, rng)
    ms, hs, Jm = p.symbols(n)
    subs = {beta: b, **dict(zip(hs, h))}
    subs.update({Jm[a, c]: J[a, c] for a in range(n) for c in range(a + 1, n)})
    G_sym = sp.lambdify(ms, p.gibbs(n).subs(subs), "numpy")
    grad_sym = sp.lambdify(ms, p.gradient(n).subs(subs), "numpy")
    x = rng.uniform(-0.9, 0.9, size=(6, n))
    G = p.function(n)
    values, grads = G.value_and_gradient(x, h, J, b)
    np.testing.assert_allclose(values, [G_sym(*row) for row in x], rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads, [np.ravel(grad_sym(*row)).astype(float) for row in x], rtol=0, atol=1e-12)
    assert G(x[0], h, J, b) == pytest.approx(values[0], abs=1e-14)  # one point: a float
    np.testing.assert_allclose(G.gradient(x[1], h, J, b), grads[1], atol=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_function_approaches_exact_gibbs_potential_at_the_order(order):
    """At couplings eps J the truncation error G_order - G_exact is O(eps^(order+1)): halving eps divides
    it by at least about 2^(order+1) (more where the next term is small); a missing term of order k would
    give 2^k. The exact G is the Legendre transform over the 2^6 states."""
    n, T = 6, 1.0
    rng = np.random.default_rng(10 + order)
    h, J = _couplings(n, rng, scale=1 / np.sqrt(n))
    x = rng.uniform(-0.5, 0.5, size=n)
    G = plefka_expansion(order).function(n)
    errors = []
    for eps in (0.1, 0.05):
        exact = float(gibbs_potential(PairwiseModel(h, eps * J), x, T, tol=1e-13).value)
        errors.append(abs(G(x, h, eps * J, 1 / T) - exact))
    slope = np.log2(errors[0] / errors[1])
    assert errors[0] < 10 * 0.1 ** (order + 1) and slope > order + 0.6, (errors, slope)
    if order >= 2:  # the order below misses the term: its error falls only as eps^order
        lower = plefka_expansion(order - 1).function(n)
        err_lower = [abs(lower(x, h, e * J, 1 / T) - float(gibbs_potential(PairwiseModel(h, e * J), x, T,
                                                                            tol=1e-13).value)) for e in (0.1, 0.05)]
        assert np.log2(err_lower[0] / err_lower[1]) < order + 0.6


def test_function_is_fast_at_large_n_where_gibbs_cannot_go():
    """n = 300 at order 4 runs (O(n^3)); values are finite and the gradient matches finite differences."""
    n = 300
    rng = np.random.default_rng(0)
    h, J = _couplings(n, rng, scale=1 / np.sqrt(n))
    G = plefka_expansion(4).function(n)
    x = rng.uniform(-0.5, 0.5, size=n)
    g = G.gradient(x, h, J, 0.5)
    e = np.zeros(n)
    e[7] = 1e-5
    fd = (G(x + e, h, J, 0.5) - G(x - e, h, J, 0.5)) / 2e-5
    assert g[7] == pytest.approx(fd, abs=1e-6)


@pytest.mark.parametrize("args, match", [
    ((np.zeros(3), np.zeros(4), np.zeros((4, 4)), 1.0), "shape"),
    ((np.ones(4), np.zeros(4), np.zeros((4, 4)), 1.0), r"inside \(-1, 1\)"),
    ((np.zeros(4), np.zeros(3), np.zeros((4, 4)), 1.0), "h must"),
    ((np.zeros(4), np.zeros(4), np.triu(np.ones((4, 4)), 1), 1.0), "symmetric"),
    ((np.zeros(4), np.zeros(4), np.eye(4), 1.0), "zero diagonal"),
    ((np.zeros(4), np.zeros(4), np.zeros((4, 4)), 0.0), "beta"),
])
def test_function_bad_input(args, match):
    with pytest.raises(ThermopotError, match=match):
        plefka_expansion(2).function(4)(*args)
    with pytest.raises(ThermopotError, match="n must"):
        plefka_expansion(2).function(0)


def _text_blocks(tex):
    """Contents of every \\text{...} (braces balanced inside)."""
    out = []
    for match in re.finditer(r"\\text\{", tex):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(tex[i], 0)
            i += 1
        out.append(tex[match.end():i - 1])
    return out


def _balanced(tex):
    depth = 0
    for ch in tex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("order", range(1, MAX_ORDER + 1))
def test_latex_is_valid(order):
    """Balanced braces, no ^ inside \\text, one & per line for align*; every line parses in mathtext."""
    mathtext = pytest.importorskip("matplotlib.mathtext")
    p = plefka_expansion(order)
    tex = p.latex()
    assert _balanced(tex)
    blocks = _text_blocks(tex)
    assert len(blocks) >= len(p.graph_terms) and not any("^" in b for b in blocks)
    lines = tex.split(" \\\\\n")
    assert len(lines) == len(p.graph_terms) + 2 and all(line.count("&") == 1 for line in lines)
    parser = mathtext.MathTextParser("path")
    for line in lines:
        parser.parse("$" + line.replace("&", "") + "$")
    wrapped = p.latex(environment="align*")
    assert wrapped.startswith("\\begin{align*}\n") and wrapped.endswith("\n\\end{align*}") and tex in wrapped
    with pytest.raises(ThermopotError, match="environment"):
        p.latex(environment="equation")


def test_latex_checks_catch_the_old_mistake():
    """The checks above fail on the form the labels had before (``\\text{(bond J^2)}``)."""
    old = r"+ x \qquad \text{(bond J^2)}"
    assert any("^" in b for b in _text_blocks(old))
    assert not _balanced(r"\frac{1}{2")
