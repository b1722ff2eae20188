"""Knowledge potentials A, G, Phi, T* and the Krawtchouk truncation (theory.md section 3):
identities checked exactly (symbolically) and to float64 precision (numerically)."""

from math import comb, log

import numpy as np
import pytest
import sympy as sp

from thermopot import backend
from thermopot.errors import ThermopotError
from thermopot.models import PairwiseModel
from thermopot.states import all_states, walsh_couplings
from thermopot.knowledge import potentials as kp
from thermopot.knowledge import truncation as kt
from thermopot.symbolic import potentials as pt

RNG_SEEDS = range(6)


def _random_problem(seed, n=None, scale=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(2, 12))
    scale = scale or float(rng.choice([0.1, 1.0, 10.0]))
    E = rng.normal(scale=scale, size=n)
    x = rng.dirichlet(np.full(n, 0.7))
    T = float(rng.uniform(0.2, 3.0))
    return rng, E, x, T


def _central_gradient(f, E, h=1e-6):
    grad = np.empty_like(E)
    for i in range(E.size):
        step = np.zeros_like(E)
        step[i] = h
        grad[i] = (f(E + step) - f(E - step)) / (2 * h)
    return grad


# --- Gibbs inequality ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_gibbs_inequality_gap_is_T_times_kl(seed):
    _, E, x, T = _random_problem(seed)
    p = kp.boltzmann_weights(E, T)
    gap = kp.kl_gap(x, E, T)
    assert gap > 0
    assert gap == pytest.approx(kp.gibbs_G(x, E, T) - kp.free_energy_A(E, T), rel=1e-9, abs=1e-12)
    assert gap == pytest.approx(T * kp.kl_divergence(x, p), rel=1e-12)
    # equality exactly at the Boltzmann weights
    assert abs(kp.kl_gap(p, E, T)) < 1e-13
    assert kp.gibbs_G(p, E, T) == pytest.approx(kp.free_energy_A(E, T), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_gibbs_gap_is_quadratic_near_the_minimum(seed):
    """Zero only at p: along x = p + eps v (sum v = 0) the gap is T eps^2/2 sum_i v_i^2 / p_i + O(eps^3)."""
    rng, E, _, T = _random_problem(seed, scale=1.0)
    p = kp.boltzmann_weights(E, T)
    v = rng.normal(size=p.size)
    v -= v.mean()
    v *= 0.5 * p.min() / np.abs(v).max()
    curvature = T * np.sum(v**2 / p) / 2
    for eps in (1e-2, 1e-3):
        gap = kp.kl_gap(p + eps * v, E, T)
        assert gap > 0
        assert gap / eps**2 == pytest.approx(curvature, rel=5 * eps)


def test_gibbs_inequality_batched_and_extreme_scales():
    rng = np.random.default_rng(11)
    E = rng.normal(scale=1e4, size=(7, 5))  # exp(-E/T) overflows without log-sum-exp
    x = rng.dirichlet(np.ones(5), size=7)
    T = 0.01
    gap = kp.kl_gap(x, E, T)
    assert gap.shape == (7,) and np.all(gap > 0) and np.all(np.isfinite(gap))
    for b in range(7):
        assert gap[b] == pytest.approx(kp.kl_gap(x[b], E[b], T), rel=1e-12)
    # A of nearly degenerate low-lying states: -T log(count) below the minimum
    assert kp.free_energy_A(np.array([-1e6, -1e6, 0.0]), 1.0) == pytest.approx(-1e6 - log(2), abs=1e-9)


def test_zero_weights_contribute_nothing():
    E = np.array([0.3, -1.0, 2.0])
    x = np.array([0.0, 1.0, 0.0])
    assert kp.gibbs_G(x, E, 0.5) == pytest.approx(-1.0)
    assert kp.shannon_entropy(x) == 0.0
    assert kp.kl_divergence(np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])) == np.inf


# --- A and its derivatives -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_dA_dE_is_boltzmann_weights(seed):
    _, E, _, T = _random_problem(seed, scale=1.0)
    p = kp.free_energy_A_gradient(E, T)
    assert p == pytest.approx(kp.boltzmann_weights(E, T), abs=0)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert _central_gradient(lambda e: kp.free_energy_A(e, T), E) == pytest.approx(p, abs=1e-8)
    hess = kp.free_energy_A_hessian(E, T)
    fd = np.stack([_central_gradient(lambda e, i=i: kp.boltzmann_weights(e, T)[i], E) for i in range(E.size)])
    assert hess == pytest.approx(fd, abs=1e-7)
    assert np.linalg.eigvalsh(hess).max() < 1e-12  # A concave
    assert hess.sum(axis=1) == pytest.approx(np.zeros(E.size), abs=1e-14)  # shift E -> E + c


def test_gibbs_G_derivatives_by_finite_differences():
    _, E, x, T = _random_problem(3, n=6)
    grad = kp.gibbs_G_gradient(x, E, T)
    h = 1e-7
    for i in range(x.size):  # the unconstrained gradient: G extended off the simplex by its formula
        step = np.zeros_like(x)
        step[i] = h
        fd = (np.sum((x + step) * E) + T * np.sum((x + step) * np.log(x + step))
              - np.sum((x - step) * E) - T * np.sum((x - step) * np.log(x - step))) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-7)
    assert kp.gibbs_G_hessian(x, E, T) == pytest.approx(np.diag(T / x), rel=1e-14)


# --- Phi -----------------------------------------------------------------------------------------------

def _spin_features(n, rng, count):
    """A random linear coupling set: products of spins over random subsets (columns of X), E = -X theta."""
    states = all_states(n)
    masks = rng.choice(np.arange(1, 2**n), size=count, replace=False)
    cols = [np.prod(states[:, [k for k in range(n) if m >> k & 1]], axis=1) for m in masks]
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_phi_convex_in_linear_coupling_sets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    X = _spin_features(n, rng, int(rng.integers(2, 2**n)))  # reduced (P < 2^N - 1) or nearly full
    if seed % 2:
        X = rng.normal(size=X.shape)  # any linear coupling set, not only Walsh functions
    w = rng.dirichlet(np.full(2**n, 0.3))
    T = float(rng.uniform(0.3, 2.0))
    thetas = rng.normal(scale=1.5, size=(5, X.shape[1]))
    res = kp.training_Phi_linear(thetas, X, w, T)
    for b in range(5):
        eig = np.linalg.eigvalsh(res.hessian[b])
        assert eig.min() > -1e-12 * max(1.0, eig.max())
        single = kp.training_Phi_linear(thetas[b], X, w, T)
        assert single.value == pytest.approx(res.value[b], rel=1e-13)
        assert single.value == pytest.approx(kp.training_Phi(-X @ thetas[b], w, T), rel=1e-13)
        assert single.value >= T * kp.shannon_entropy(w) - 1e-12  # Phi >= T S[w]
        fd = _central_gradient(lambda t: kp.training_Phi_linear(t, X, w, T).value, thetas[b])
        assert single.gradient == pytest.approx(fd, abs=1e-6)
        # Hessian = Cov_p(X) / T, from explicit Boltzmann weights
        p = kp.boltzmann_weights(-X @ thetas[b], T)
        mean = p @ X
        assert single.hessian == pytest.approx(((X - mean).T * p) @ (X - mean) / T, abs=1e-12)
    # convexity along chords
    a, c = thetas[0], thetas[1]
    for lam in (0.25, 0.5, 0.75):
        mid = kp.training_Phi_linear(lam * a + (1 - lam) * c, X, w, T).value
        assert mid <= lam * res.value[0] + (1 - lam) * res.value[1] + 1e-12


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_phi_minimum_is_T_times_entropy(seed):
    """min_E Phi = T S[w] at E_i = -T log w_i + c (any c), with zero gradient there."""
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(8))
    T = float(rng.uniform(0.3, 2.0))
    for c in (0.0, 3.7):
        E = -T * np.log(w) + c
        assert kp.training_Phi(E, w, T) == pytest.approx(T * kp.shannon_entropy(w), rel=1e-12)
        assert kp.training_Phi_gradient(E, w, T) == pytest.approx(np.zeros(8), abs=1e-15)
    E = rng.normal(size=8)
    p = kp.boltzmann_weights(E, T)
    assert kp.training_Phi(E, w, T) == pytest.approx(
        T * kp.shannon_entropy(w) + T * kp.kl_divergence(w, p), rel=1e-12)
    assert kp.training_Phi_hessian(E, w, T) == pytest.approx(-kp.free_energy_A_hessian(E, T), abs=0)


# --- coexistence temperature ---------------------------------------------------------------------------

@pytest.mark.parametrize("n,m,delta,e_lib", [(4, 1, 2.0, 0.0), (6, 5, 3.0, -1.5), (10, 17, 5.0, 2.0),
                                             (12, 2047, 0.7, 0.0)])
def test_coexistence_temperature_equal_free_energies(n, m, delta, e_lib):
    t_star = kp.coexistence_temperature(delta, n, m)
    exact = sp.Float(delta, 30) / sp.log(sp.Rational(2**n - m, m)).evalf(30)  # 30 digits: no cancellation
    assert t_star == pytest.approx(float(exact), rel=4e-16)
    E = np.full(2**n, e_lib + delta)
    library = np.random.default_rng(n).choice(2**n, size=m, replace=False)
    E[library] = e_lib
    inside = np.zeros(2**n, dtype=bool)
    inside[library] = True

    def parts(T):
        return kp.free_energy_A(E[inside], T), kp.free_energy_A(E[~inside], T)

    f_lib, f_cont = parts(t_star)
    assert f_lib == pytest.approx(f_cont, rel=1e-12, abs=1e-12)
    # the total free energy is then A(lib) - T log 2: each part carries weight 1/2
    assert kp.free_energy_A(E, t_star) == pytest.approx(f_lib - t_star * log(2), rel=1e-12, abs=1e-12)
    below, above = parts(0.9 * t_star), parts(1.1 * t_star)
    assert below[0] < below[1] and above[0] > above[1]  # library wins below T*, continuum above


def test_coexistence_symbolic_matches_numeric():
    c = pt.coexistence_derivation()
    sym = c.symbols
    assert sp.simplify(c.library_free_energy - (sym["E_lib"] - sym["T"] * sp.log(sym["M"]))) == 0
    f = sp.lambdify((sym["Delta"], sym["N"], sym["M"]), c.temperature)
    for delta, n, m in [(1.0, 3, 1), (4.0, 8, 100), (0.3, 20, 12345)]:
        assert f(delta, n, m) == pytest.approx(kp.coexistence_temperature(delta, n, m), rel=1e-13)
    # at T* the two free energies are symbolically equal
    diff = (c.library_free_energy - c.continuum_free_energy).subs(sym["T"], c.temperature)
    assert sp.simplify(sp.expand_log(diff, force=True)) == 0
    assert kp.coexistence_temperature(np.array([1.0, 2.0]), 5, 3) == pytest.approx(
        np.array([1.0, 2.0]) / log(29 / 3))


# --- Krawtchouk truncation -----------------------------------------------------------------------------

def test_krawtchouk_values_and_orthogonality():
    for n in range(1, 9):
        dist = np.arange(n + 1)
        rows = np.array([kt.krawtchouk(j, dist, n) for j in range(n + 1)])
        assert rows[:, 0] == pytest.approx([comb(n, j) for j in range(n + 1)], abs=0)
        assert rows.sum(axis=0) == pytest.approx(np.r_[2**n, np.zeros(n)], abs=1e-9)  # sum_j K_j = 2^N [d=0]
        gram = (rows * np.array([comb(n, k) for k in dist])) @ rows.T
        assert gram == pytest.approx(np.diag([2**n * comb(n, j) for j in range(n + 1)]), abs=1e-6)
        for j in range(n + 1):  # symbolic polynomial (generating function) = numeric recurrence
            poly = sp.lambdify(sp.Symbol("d"), pt.krawtchouk_expr(j, n))
            assert np.array([float(poly(k)) for k in dist]) == pytest.approx(rows[j], abs=1e-9)
            # explicit sum over subsets |alpha| = j for one pattern: e_j of +-1 entries
            general = pt.krawtchouk_expr(j).subs({sp.Symbol("N"): n, sp.Symbol("d"): 1})
            assert float(general) == pytest.approx(rows[j, 1], abs=1e-9)


@pytest.mark.parametrize("n", range(1, 11))
def test_krawtchouk_truncation_equals_truncated_walsh_sum(n):
    rng = np.random.default_rng(100 + n)
    m = int(rng.integers(1, min(6, 2**n) + 1))
    states = all_states(n)
    patterns = states[rng.choice(2**n, size=m, replace=False)]
    deltas = rng.uniform(0.5, 3.0, size=m) * n
    gap = float(rng.normal())
    for order in range(n + 1):
        kraw = kt.truncated_energy(patterns, deltas, order, states, gap_energy=gap)
        walsh = kt.truncated_energy_walsh(patterns, deltas, order, states, gap_energy=gap)
        assert kraw == pytest.approx(walsh, abs=1e-11 * n)
        # |K_j| <= C(N, j): the order-K energy varies over states by at most this much
        bound = 2.0**-n * deltas.sum() * sum(comb(n, j) for j in range(1, order + 1))
        assert np.ptp(kraw) <= 2 * bound + 1e-12
    table = kt.pattern_energy_table(patterns, deltas, gap_energy=gap)
    assert kraw == pytest.approx(table, abs=1e-11 * n)  # K = N is the full description
    assert kt.pattern_couplings(patterns, deltas, np.arange(2**n), gap_energy=gap) == pytest.approx(
        walsh_couplings(table), abs=1e-13)
    assert kt.truncated_energy(patterns, deltas, 1, states[3 % 2**n]) == pytest.approx(
        kt.truncated_energy_walsh(patterns, deltas, 1, states[3 % 2**n]), abs=1e-12)


def test_order_two_truncation_is_hebbian_and_exponentially_small():
    n, m = 9, 3
    rng = np.random.default_rng(5)
    states = all_states(n)
    xi = states[rng.choice(2**n, size=m, replace=False)]
    deltas = np.full(m, 0.5 * n)  # extensive gap Delta = eps N
    h = 2.0**-n * deltas @ xi
    J = 2.0**-n * np.einsum("m,mk,ml->kl", deltas, xi, xi)
    np.fill_diagonal(J, 0.0)
    const = 2.0**-n * deltas.sum()
    e2 = kt.truncated_energy(xi, deltas, 2, states)
    assert e2 == pytest.approx(PairwiseModel(h, J).energy(states) - const, abs=1e-12)
    scale = 2.0**-n * deltas.sum() * n**2
    assert 0.05 * scale < np.ptp(e2) < scale  # ~ 2^-N Delta N^2, while the full description spreads by Delta


@pytest.mark.parametrize("n", [6, 9, 12])
def test_order_two_spread_of_one_pattern(n):
    """One pattern: E_2 = E_gap - 2^-N Delta (1 + u + (u^2 - N) / 2), u = N - 2d, so the spread over
    states is 2^-N Delta (N + 1)^2 / 2 (N odd, min at u = -1) or 2^-N Delta ((N + 1)^2 - 1) / 2 (N even,
    min at u = 0 or -2): the scale 2^-N Delta N^2 / 2, against Delta for the full description."""
    states = all_states(n)
    delta = 0.5 * n
    e2 = kt.truncated_energy(states[:1], [delta], 2, states)
    expected = 2.0**-n * delta * ((n + 1) ** 2 - (1 - n % 2)) / 2
    assert np.ptp(e2) == pytest.approx(expected, rel=1e-12)
    assert e2.argmin() == 0  # the pattern is still the ground state


def test_symbolic_full_description_couplings_and_krawtchouk_form():
    n, m = 4, 2
    fd = pt.full_description(n, m)
    for order in range(n + 1):
        assert fd.krawtchouk_residual(order) == 0
    rng = np.random.default_rng(2)
    states = all_states(n)
    xi = states[rng.choice(2**n, size=m, replace=False)]
    deltas = rng.uniform(1, 2, size=m)
    values = {fd.gap: 0.4, **dict(zip(fd.delta, deltas))}
    values.update({sym: val for row, vals in zip(fd.xi, xi) for sym, val in zip(row, vals)})
    numeric = kt.pattern_couplings(xi, deltas, np.arange(2**n), gap_energy=0.4)
    assert [float(fd.couplings[a].subs(values)) for a in range(2**n)] == pytest.approx(numeric, abs=1e-14)
    s0 = dict(zip(fd.s, states[5]))
    assert float(fd.krawtchouk_form(2).subs(values).subs(s0)) == pytest.approx(
        kt.truncated_energy(xi, deltas, 2, states[5], gap_energy=0.4), abs=1e-14)


# --- symbolic = numeric ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4])
def test_symbolic_derivations_hold(n):
    pot = pt.knowledge_potentials(n)
    g_min = pt.legendre_G_to_A(pot)
    assert g_min.holds
    assert [sp.simplify(g_min.stationary[x] - p) for x, p in zip(pot.x, pot.boltzmann)] == [0] * n
    phi_min = pt.legendre_Phi_to_entropy(pot)
    assert phi_min.holds and not phi_min.value.has(sp.Symbol("z", positive=True))
    assert pt.gibbs_identity(pot) == 0
    assert pt.training_identity(pot) == 0
    assert sp.simplify(pot.grad_Phi - (sp.Matrix(pot.w) - pot.grad_A)) == sp.zeros(n, 1)


def test_symbolic_and_numeric_agree():
    n = 4
    pot = pt.knowledge_potentials(n)
    rng = np.random.default_rng(8)
    for _ in range(3):
        E = rng.normal(size=n)
        x, w = rng.dirichlet(np.ones(n), size=2)
        T = float(rng.uniform(0.3, 2.0))
        args = dict(E=E, x=x, w=w, T=T)
        pairs = {
            "A": kp.free_energy_A(E, T), "grad_A": kp.free_energy_A_gradient(E, T),
            "hess_A": kp.free_energy_A_hessian(E, T), "G": kp.gibbs_G(x, E, T),
            "grad_G": kp.gibbs_G_gradient(x, E, T), "hess_G": kp.gibbs_G_hessian(x, E, T),
            "Phi": kp.training_Phi(E, w, T), "grad_Phi": kp.training_Phi_gradient(E, w, T),
            "hess_Phi": kp.training_Phi_hessian(E, w, T),
        }
        for name, value in pairs.items():
            assert pot.function(name)(**args) == pytest.approx(value, rel=1e-12, abs=1e-13), name
    assert set(pot.latex()) == {"A", "G", "Phi"} and r"\log" in pot.latex()["A"]


# --- bad input ------------------------------------------------------------------------------------------

E3 = np.array([0.0, 1.0, 2.0])
X3 = np.array([0.2, 0.3, 0.5])


@pytest.mark.parametrize("call,match", [
    (lambda: kp.free_energy_A(E3, 0.0), "temperature"),
    (lambda: kp.free_energy_A(E3, -1.0), "temperature"),
    (lambda: kp.free_energy_A(E3, float("nan")), "temperature"),
    (lambda: kp.free_energy_A(E3, "hot"), "temperature"),
    (lambda: kp.free_energy_A(np.array([0.0, np.nan]), 1.0), "NaN"),
    (lambda: kp.free_energy_A(np.array([]), 1.0), "non-empty"),
    (lambda: kp.gibbs_G(np.array([0.5, 0.6, -0.1]), E3, 1.0), "simplex"),
    (lambda: kp.gibbs_G(np.array([0.2, 0.2, 0.2]), E3, 1.0), "sum to 1"),
    (lambda: kp.gibbs_G(np.array([0.5, 0.5]), E3, 1.0), "same number of states"),
    (lambda: kp.gibbs_G(np.full((2, 3), 1 / 3), np.zeros((4, 3)), 1.0), "broadcast"),
    (lambda: kp.gibbs_G_gradient(np.array([0.0, 0.5, 0.5]), E3, 1.0), "strictly"),
    (lambda: kp.training_Phi(E3, np.array([np.nan, 0.5, 0.5]), 1.0), "NaN"),
    (lambda: kp.kl_gap(X3, E3[:2], 1.0), "same number of states"),
    (lambda: kp.training_Phi_linear(np.zeros(2), np.ones((3, 3)), X3, 1.0), "same P"),
    (lambda: kp.training_Phi_linear(np.zeros(3), np.ones((3, 3)), np.full(4, 0.25), 1.0), "one per row"),
    (lambda: kp.coexistence_temperature(1.0, 3, 8), "< 2\\^N"),
    (lambda: kp.coexistence_temperature(1.0, 3, 9), "< 2\\^N"),
    (lambda: kp.coexistence_temperature(1.0, 3, 4), "no coexistence"),
    (lambda: kp.coexistence_temperature(0.0, 3, 1), "Delta"),
    (lambda: kp.coexistence_temperature(float("nan"), 3, 1), "Delta"),
    (lambda: kp.coexistence_temperature(1.0, 3, 0), "M"),
    (lambda: kt.krawtchouk(4, 1, 3), "order j"),
    (lambda: kt.krawtchouk(1, np.nan, 3), "NaN"),
    (lambda: kt.truncated_energy(np.ones((1, 3)), [1.0], 4, np.ones(3)), "order K"),
    (lambda: kt.truncated_energy(np.ones((1, 3)), [1.0], 1, np.ones(4)), "N = 3"),
    (lambda: kt.truncated_energy(np.ones((1, 3)), [1.0], 1, np.array([1.0, 0.0, 1.0])), "\\+1 and -1"),
    (lambda: kt.truncated_energy(np.ones((2, 3)), [1.0, 2.0], 1, np.ones(3)), "distinct"),
    (lambda: kt.truncated_energy(np.ones((1, 3)), [1.0, 2.0], 1, np.ones(3)), "one per pattern"),
    (lambda: kt.truncated_energy_walsh(np.ones((1, 3)), [1.0], 1, np.ones(3), gap_energy=np.nan), "NaN"),
    (lambda: kt.pattern_energy_table(np.ones((1, 25)), [1.0]), "N <= 24"),
    (lambda: kt.pattern_couplings(np.ones((1, 3)), [1.0], np.array([8])), "masks"),
    (lambda: pt.knowledge_potentials(1), "number of states"),
    (lambda: pt.knowledge_potentials(3).expression("B"), "unknown potential"),
    (lambda: pt.full_description(3, 9), "number of patterns"),
])
def test_bad_input_raises_clear_error(call, match):
    with pytest.raises(ThermopotError, match=match):
        call()


# --- GPU -----------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not backend.gpu_available(), reason="needs CuPy and a usable GPU")
def test_cupy_matches_numpy():
    xp = backend.get_namespace("cupy")
    rng, E, x, T = _random_problem(4, n=7)
    w = rng.dirichlet(np.ones(7))
    for f, args in [(kp.free_energy_A, (E, T)), (kp.free_energy_A_hessian, (E, T)), (kp.kl_gap, (x, E, T)),
                    (kp.training_Phi_gradient, (E, w, T)), (kp.gibbs_G, (x, E, T))]:
        on_gpu = f(*[xp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        assert np.asarray(on_gpu) == pytest.approx(f(*args), rel=1e-12, abs=1e-14)
    n = 8
    states = all_states(n)
    xi = states[[0, 77, 200]]
    for order in (1, 2, 5):
        a = kt.truncated_energy(xp.asarray(xi), xp.asarray([1.0, 2.0, 3.0]), order, xp.asarray(states))
        b = kt.truncated_energy_walsh(xp.asarray(xi), xp.asarray([1.0, 2.0, 3.0]), order, xp.asarray(states))
        assert isinstance(a, np.ndarray) and a == pytest.approx(b, abs=1e-12)


def test_moved_numeric_names_are_deprecated_aliases():
    """The numeric potentials moved to thermopot.knowledge; their old names still work for one release."""
    with pytest.warns(DeprecationWarning, match="moved to thermopot.knowledge.potentials.free_energy_A"):
        old = pt.free_energy_A
    assert old is kp.free_energy_A
    with pytest.warns(DeprecationWarning, match="thermopot.knowledge.truncation.krawtchouk"):
        assert pt.krawtchouk is kt.krawtchouk
