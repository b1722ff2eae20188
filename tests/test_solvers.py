import numpy as np
import pytest
from scipy.optimize import brentq

from thermopot.errors import ThermopotError
from thermopot.meanfield import mean_field
from thermopot.models import curie_weiss, hopfield, random_patterns, sk
from thermopot.solvers import compare_with_exact, find_minima, follow_minima


def m_star(n, T):
    """Uniform nMF solution of Curie-Weiss: m = tanh(m (N-1) / (N T)), m > 0."""
    return brentq(lambda m: m - np.tanh(m * (n - 1) / (n * T)), 1e-6, 1.0)


def assert_true_minima(model, result, T, order):
    """Every reported minimum solves its stationarity equations and has a positive definite Hessian."""
    pot = mean_field(model, T, order=order)
    m = result.points[result.is_minimum]
    assert np.abs(pot.gradient(m)).max() < 1e-8
    assert np.all(np.linalg.eigvalsh(pot.hessian(m))[:, 0] > 0)


@pytest.mark.parametrize("method", ["nmf", "tap2", "tap3", "tap4"])
def test_curie_weiss_two_minima_below_tc(method):
    n, T = 40, 0.6
    model = curie_weiss(n)
    res = find_minima(model, T, method=method, starts=64, seed=1)
    assert res.count == 2
    minima = res.points[res.is_minimum]
    np.testing.assert_allclose(minima, -minima[::-1], atol=1e-9)  # +-m* partners
    assert set(res.partner[res.is_minimum]) == {0, 1}
    if method == "nmf":
        np.testing.assert_allclose(np.sort(minima[:, 0]), [-m_star(n, T), m_star(n, T)], atol=1e-10)
    assert_true_minima(model, res, T, {"nmf": 1, "tap2": 2, "tap3": 3, "tap4": 4}[method])


def test_curie_weiss_one_minimum_above_tc():
    res = find_minima(curie_weiss(40), 1.3, method="nmf", starts=64, seed=2)
    assert res.count == 1
    np.testing.assert_allclose(res.points[0], 0.0, atol=1e-10)


def test_maximum_started_on_is_a_saddle_not_a_minimum():
    res = find_minima(curie_weiss(30), 0.5, method="nmf", init=np.zeros((1, 30)))
    assert res.count == 0 and res.saddles == 1 and res.kind[0] == "saddle"
    assert res.hessian_min_eig[0] < 0 and res.converged.all()


def test_hopfield_retrieval_and_mixture_states():
    n, p, T = 300, 3, 0.3
    xi = random_patterns(n, p, seed=1).astype(float)  # an instance whose 3-mixtures are stable at T = 0.3
    res = find_minima(hopfield(xi), T, method="tap2", starts=300, seed=0)
    minima = res.points[res.is_minimum]
    overlaps = minima @ xi.T / n
    for mu in range(p):
        assert overlaps[:, mu].max() > 0.95 and overlaps[:, mu].min() < -0.95  # pattern and mirror
    retrieval = (np.abs(overlaps) > 0.9).any(axis=1)
    mixtures = overlaps[~retrieval]
    assert len(mixtures) >= 2 and np.all(np.abs(mixtures) > 0.3)  # symmetric 3-mixture states and mirrors
    assert_true_minima(hopfield(xi), res, T, 2)


def test_sk_minima_are_true_minima_and_reproducible():
    model = sk(32, seed=0)
    a = find_minima(model, 0.5, method="nmf", starts=100, seed=7)
    b = find_minima(model, 0.5, method="nmf", starts=100, seed=7)
    np.testing.assert_array_equal(a.points, b.points)
    assert a.count >= 5
    assert_true_minima(model, a, 0.5, 1)
    assert np.isclose(a.basin_fraction.sum(), a.converged.mean())


def test_saturated_magnetisations_at_low_temperature():
    model = sk(24, seed=3)
    res = find_minima(model, 0.05, method="nmf", starts=40, seed=0)
    assert res.failed == 0 and res.count >= 1
    assert np.abs(res.points[res.is_minimum]).min() > 0.5


def test_continuation_curie_weiss_spinodal():
    n = 30
    temps = np.linspace(0.5, 1.2, 15)
    br = follow_minima(curie_weiss(n), temps, method="nmf", starts=32, seed=0)
    below = temps < (n - 1) / n - 0.02
    above = temps > (n - 1) / n + 0.02
    assert np.all(br.count[below] == 2) and np.all(br.count[above] == 1)
    # supercritical pitchfork: the two ferromagnetic branches meet at m = 0 at T_c = (N-1)/N, one of
    # them ends there (merged) and the other goes on as the paramagnetic minimum
    ends = sorted(b.end for b in br.branches)
    assert ends == ["merged", "range end"]
    merged = next(b for b in br.branches if b.end == "merged")
    assert merged.T[-1] < (n - 1) / n < merged.T[-1] + (temps[1] - temps[0]) + 1e-12
    survivor = next(b for b in br.branches if b.end == "range end")
    np.testing.assert_allclose(survivor.m[np.array(survivor.T) > (n - 1) / n], 0.0, atol=1e-8)


def test_comparison_with_exact_library():
    model = curie_weiss(12)
    cmp = compare_with_exact(model, 0.5, method="tap2", starts=32)
    assert len(cmp.minimum) == 2 and len(cmp.unmatched_basins) == 0 and len(cmp.unmatched_minima) == 0
    assert np.all(cmp.distance < 0.05)


@pytest.mark.parametrize("kwargs, msg", [
    ({"method": "tap9"}, "method"), ({"starts": 0}, "starts"), ({"T": 0.0}, "temperature"),
    ({"T": -1.0}, "temperature"), ({"init": np.ones((2, 5))}, "init"),
])
def test_bad_input(kwargs, msg):
    args = {"model": curie_weiss(6), "T": 0.5, "method": "nmf"}
    args.update(kwargs)
    with pytest.raises(ThermopotError, match=msg):
        find_minima(**args)


@pytest.mark.gpu
def test_numpy_and_cupy_agree():
    model = sk(16, seed=1)
    a = find_minima(model, 0.4, method="tap2", starts=64, seed=3, backend="numpy")
    b = find_minima(model, 0.4, method="tap2", starts=64, seed=3, backend="cupy")
    assert a.count == b.count
    np.testing.assert_allclose(a.points, b.points, atol=1e-8)


def test_continuation_keeps_branches_that_move_fast_on_their_first_step():
    """Near T_c the ferromagnetic m changes by more than 0.1 per grid step: still one branch each."""
    br = follow_minima(curie_weiss(20), [0.93, 0.88, 0.83, 0.78], method="nmf", starts=32, seed=0)
    assert [b.end for b in br.branches] == ["range end", "range end"]
    assert all(len(b.T) == 4 for b in br.branches)


def test_critical_point_is_not_many_minima():
    """At T_c = (N-1)/N the minimum at m = 0 is quartic: the starts must not stop at distinct points."""
    res = find_minima(curie_weiss(20), 0.95, method="nmf", starts=64, seed=0)
    assert res.count + res.saddles <= 2 and np.abs(res.points).max() < 1e-3


def test_comparison_refuses_a_landscape_at_another_temperature():
    from thermopot.landscape import local_minima

    with pytest.raises(ThermopotError, match="T ="):
        compare_with_exact(curie_weiss(8), 0.5, method="nmf", landscape=local_minima(curie_weiss(8), T=1.0))


def test_hessian_chunks_give_the_same_minima(monkeypatch):
    """Newton and the classification run in chunks of hessian_rows points (bounded memory): a block
    of 3 points gives the minima and free energies of one batch (up to the rounding of the batched
    products, and up to the global flip s -> -s of this h = 0 model, whose representative may change)."""
    import thermopot.solvers.newton as newton_module

    whole = find_minima(sk(12, seed=3), 0.4, method="nmf", starts=40, seed=2, backend="numpy")
    monkeypatch.setattr(newton_module, "default_block_size", lambda xp: 3 * 12 * 12)
    assert newton_module.hessian_rows(12, None) == 3
    chunked = find_minima(sk(12, seed=3), 0.4, method="nmf", starts=40, seed=2, backend="numpy")
    assert whole.count == chunked.count >= 2 and len(whole.points) == len(chunked.points)
    np.testing.assert_allclose(chunked.free_energy, whole.free_energy, rtol=0, atol=1e-12)
    same = np.minimum(np.abs(chunked.points - whole.points).max(axis=1),
                      np.abs(chunked.points + whole.points).max(axis=1))
    assert same.max() < 1e-9
