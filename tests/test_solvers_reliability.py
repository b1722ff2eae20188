"""find_minima at the limits: size guard, bad input, extreme temperatures, O(B log B) de-duplication and the
shared Newton runs (issue 16 items 1, 4, 5, 6)."""

import math
import tracemalloc
import warnings

import numpy as np
import pytest

from thermopot.backend import get_namespace
from thermopot.errors import SizeError, ThermopotError
from thermopot.meanfield import plefka_valid
from thermopot.models import curie_weiss, sk
from thermopot.solvers import find_minima
from thermopot.solvers.dedup import MAX, RELATIVE_MAX, TOTAL_VARIATION, flip_partners, group_rows
from thermopot.solvers.guard import estimate_minima


def test_guard_refuses_too_many_starts_naming_memory_and_time():
    with pytest.raises(SizeError, match=r"(?s)10000000000000 starts.*needs about .*iB of memory and about .*free"):
        find_minima(sk(20, seed=0), 0.5, starts=10**13)


def test_guard_refuses_a_job_longer_than_max_seconds():
    with pytest.raises(SizeError, match="more than the limit"):
        find_minima(sk(20, seed=0), 0.5, starts=100_000, max_seconds=1.0)


@pytest.mark.parametrize("n, starts, method", [(16, 2000, "nmf"), (24, 400, "tap2"), (12, 20, "tap3")])
def test_guard_estimate_bounds_the_measured_peak(n, starts, method):
    """The memory estimate is at least the traced peak / 1.5 (NumPy allocations, tracemalloc)."""
    xp = get_namespace("numpy")
    estimate, _ = estimate_minima(n, starts, {"nmf": 1, "tap2": 2, "tap3": 3}[method], xp)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        find_minima(sk(n, seed=1), 0.4, method=method, starts=starts, seed=0, backend="numpy")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak <= 1.5 * estimate


@pytest.mark.parametrize("kwargs, msg", [
    ({"starts": float("nan")}, "starts"), ({"starts": 2.5}, "starts"), ({"starts": -3}, "starts"),
    ({"init": np.zeros((0, 6))}, "init"), ({"init": np.zeros((2, 5))}, "N = 6"),
    ({"init": np.zeros((2, 6), dtype=complex)}, "real"), ({"init": np.full((1, 6), np.nan)}, "finite"),
    ({"tol": float("nan")}, "tol"), ({"tol": -1e-10}, "tol"), ({"dedup_tol": -1.0}, "dedup_tol"),
    ({"degenerate_tol": float("nan")}, "degenerate_tol"), ({"max_iter": 0}, "max_iter"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": "abc"}, "seed"),
])
def test_bad_input_is_refused_naming_it(kwargs, msg):
    with pytest.raises(ThermopotError, match=msg):
        find_minima(curie_weiss(6), 0.5, method="nmf", **kwargs)


def test_options_after_model_and_T_are_keyword_only():
    with pytest.raises(TypeError):
        find_minima(curie_weiss(6), 0.5, "nmf")


def test_seed_may_be_a_generator():
    """SPEC 7: a Generator is used as it is; from the same state it gives the integer seed's result."""
    a = find_minima(sk(10, seed=0), 0.4, method="nmf", starts=20, seed=5)
    b = find_minima(sk(10, seed=0), 0.4, method="nmf", starts=20, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.start_point, b.start_point)


@pytest.mark.parametrize("T", [1e155, 1e200, 1e300])
@pytest.mark.parametrize("method", ["nmf", "tap2", "tap4"])
def test_huge_temperature_gives_the_paramagnet(T, method):
    """At T >> |J| the only minimum is m = 0 with G = -T S_0(0) = -T N log 2 (the interaction terms are
    below T's rounding), Hessian T I, and Plefka's condition holds."""
    n = 8
    res = find_minima(curie_weiss(n), T, method=method, starts=6, seed=0)
    assert res.count == 1 and res.saddles == 0
    np.testing.assert_array_equal(res.points[0], np.zeros(n))
    assert res.free_energy[0] == pytest.approx(-T * n * math.log(2.0), rel=1e-14)
    assert res.hessian_min_eig[0] == pytest.approx(T, rel=1e-12)
    assert res.plefka_valid.all()


def test_plefka_valid_at_huge_temperature():
    m = np.array([[0.3, -0.2, 0.9, 0.0]])
    assert plefka_valid(sk(4, seed=0), m, 1e200).tolist() == [True]
    assert plefka_valid(sk(4, seed=0), m[0], 1e300) is True


def test_temperature_beyond_the_float_range_is_refused():
    with pytest.raises(ThermopotError, match="float64 range"):
        find_minima(curie_weiss(8), 1e308, method="nmf", starts=4)


def _single_linkage(points, tol, distance):
    """Reference groups: connected components of distance < tol, by brute force over all pairs."""
    b = len(points)
    label = list(range(b))
    for i in range(b):
        for j in range(i):
            if distance(points[i:i + 1], points[j:j + 1])[0] < tol:
                old, new = max(label[i], label[j]), min(label[i], label[j])
                label = [new if x == old else x for x in label]
    reps = sorted(set(label))
    return np.array(reps), np.array([reps.index(x) for x in label])


@pytest.mark.parametrize("metric", [MAX, RELATIVE_MAX, TOTAL_VARIATION])
def test_grouping_equals_brute_force_single_linkage(metric):
    """Clusters of spread 1e-9 around random centres, some straddling grid cells (centres placed on cell
    boundaries), grouped at tol = 1e-6: the same representatives and labels as all-pairs single linkage."""
    rng = np.random.default_rng(3)
    tol = 1e-6
    for _ in range(20):
        d, u, b = rng.integers(1, 7), rng.integers(1, 12), rng.integers(1, 80)
        centres = rng.uniform(-1, 1, (u, d))
        centres[: u // 2] = np.round(centres[: u // 2] / metric.cell(tol, d)) * metric.cell(tol, d)  # on boundaries
        if metric is TOTAL_VARIATION:
            centres = np.abs(centres) / np.abs(centres).sum(axis=1, keepdims=True)
        points = centres[rng.integers(0, u, b)] + rng.normal(0, 1e-9, (b, d))
        reps, labels = group_rows(points, tol, metric)
        ref_reps, ref_labels = _single_linkage(points, tol, metric.distance)
        np.testing.assert_array_equal(reps, ref_reps)
        np.testing.assert_array_equal(labels, ref_labels)


def test_flip_partners():
    c = np.random.default_rng(0).uniform(-1, 1, (4, 5))
    m = np.concatenate([c, -c[:2], np.zeros((1, 5))])   # rows 0, 1 have partners 4, 5; row 6 is m = 0
    np.testing.assert_array_equal(flip_partners(m, 1e-6), [4, 5, -1, -1, 0, 1, 6])


def test_starts_that_relax_to_one_point_share_one_newton_run(monkeypatch):
    """200 starts within 1e-9 of one point plus 3 elsewhere: Newton runs once, on at most 4 anchors (the
    start at m = 0.5 may join the m = 0.9 group after the coarse relaxation), not 203, and every start
    gets the result of its group."""
    import thermopot.solvers.minima as minima_module

    sizes = []
    real = minima_module.newton_batch

    def counting(R, x0, *args, **kwargs):
        sizes.append(x0.shape[0])
        return real(R, x0, *args, **kwargs)

    monkeypatch.setattr(minima_module, "newton_batch", counting)
    n, T = 20, 0.6
    rng = np.random.default_rng(0)
    init = np.concatenate([np.full((200, n), 0.9) + rng.normal(0, 1e-9, (200, n)),
                           np.full((1, n), -0.9), np.zeros((1, n)), np.full((1, n), 0.5)])
    res = find_minima(curie_weiss(n), T, method="nmf", init=init)
    assert len(sizes) == 1 and 3 <= sizes[0] <= 4
    assert res.count == 2 and res.converged.all()
    assert (res.start_point[:200] == res.start_point[0]).all()
    assert res.basin_fraction[res.start_point[0]] >= 200 / 203


def test_library_code_does_not_print(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = find_minima(sk(12, seed=0), 0.3, method="nmf", starts=20, seed=0, tol=1e-300, max_iter=1)
    assert res.failed > 10 and "most starts failed" in res.message
    assert any("most starts failed" in str(w.message) for w in caught)
    out = capsys.readouterr()
    assert out.out == "" and "thermopot: warning" not in out.err


def _fields_model(n: int):
    from thermopot.models import PairwiseModel

    rng = np.random.default_rng(3)
    J = rng.normal(0, 1 / np.sqrt(n), (n, n))
    J = np.triu(J, 1) + np.triu(J, 1).T
    return PairwiseModel(rng.normal(0, 0.3, n), J)


@pytest.mark.parametrize("order", [1, 2])
def test_closed_form_interaction_matches_the_plefka_program(order):
    """The solvers' closed-form R and dR/dm (orders 1-2) equal the general program's, fields included."""
    from thermopot.meanfield import mean_field
    from thermopot.solvers.objective import Interaction, PairwiseInteraction, free_energy_interaction

    xp = get_namespace("numpy")
    for model, T in ((_fields_model(9), 0.4), (sk(11, seed=2), 1.3), (curie_weiss(7), 0.7)):
        fast = free_energy_interaction(model, T, order, xp)
        assert isinstance(fast, PairwiseInteraction)
        ref = Interaction(mean_field(model, T, order, backend=xp))
        m = np.random.default_rng(order).uniform(-0.99, 0.99, (6, model.n))
        value, grad = fast.value_and_gradient(m)
        np.testing.assert_allclose(value, ref.value(m), rtol=0, atol=1e-12)
        np.testing.assert_allclose(grad, ref.gradient(m), rtol=0, atol=1e-12)


def test_chord_iteration_reaches_the_newton_point_of_its_anchor():
    """Starts near a converged point, iterated with that point's frozen Hessian, converge to it (to 1e-9,
    residual < 1e-10); an anchor that is not their stationary point (shifted by 0.3) leaves them unconverged
    or converged elsewhere, never reported at the wrong anchor."""
    from thermopot.solvers.newton import chord_batch, newton_batch, relax_batch, residual
    from thermopot.solvers.objective import free_energy_interaction

    xp = get_namespace("numpy")
    T, model = 0.5, sk(16, seed=4)
    R = free_energy_interaction(model, T, 1, xp)
    x0 = np.arctanh(np.random.default_rng(0).uniform(-0.99, 0.99, (40, 16)))
    x = relax_batch(R, x0, T, xp, tol=1e-2)
    ref = newton_batch(R, x, T, xp, tol=1e-12, step_tol=1e-10)
    assert ref.converged.all()
    near = ref.x + np.random.default_rng(1).normal(0, 1e-3, ref.x.shape)
    st = chord_batch(R, near, ref.x, np.arange(40), T, xp, tol=1e-10, step_tol=1e-9)
    assert st.converged.all() and (residual(R, st.x, T, xp) < 1e-10).all()
    np.testing.assert_allclose(np.tanh(st.x), np.tanh(ref.x), rtol=0, atol=1e-9)
    assert st.iterations.max() < 10
    bad = chord_batch(R, near, ref.x + 0.3, np.arange(40), T, xp, tol=1e-10, step_tol=1e-9, max_iter=3)
    assert (bad.residual[bad.converged] < 1e-10).all()


@pytest.mark.parametrize("method, n, T", [("nmf", 20, 0.5), ("tap2", 30, 0.3), ("nmf", 24, 0.3)])
def test_coarse_relaxation_and_chord_find_the_same_minima_as_the_full_relaxation(method, n, T):
    """The set of minima (and each start's minimum for all but a few starts) equals that of the full
    relaxation to RELAX_TOL with one Newton run per relaxed point (the method before the chord iteration)."""
    from thermopot.solvers.dedup import unique_points
    from thermopot.solvers.minima import initial_points, polish
    from thermopot.solvers.newton import RELAX_TOL, relax_batch
    from thermopot.solvers.objective import free_energy_interaction, method_order

    from thermopot.models import hopfield, random_patterns

    xp = get_namespace("numpy")
    model = sk(n, seed=5) if method == "nmf" else hopfield(random_patterns(n, 3, seed=1).astype(float))
    starts = 600
    res = find_minima(model, T, method=method, starts=starts, seed=2)
    R = free_energy_interaction(model, T, method_order(method), xp)
    x = relax_batch(R, initial_points(n, starts, 2, None, xp), T, xp)
    _, group, state = polish(R, x, T, xp, tol=1e-10, group_tol=RELAX_TOL, step_tol=1e-7, max_iter=200)
    m_ref = np.tanh(state.x[group])
    reps, _ = unique_points(m_ref, 1e-6, xp)
    ref_points = m_ref[reps]
    found = res.points[res.is_minimum]
    assert res.failed == 0 and res.count >= 2
    dist = np.abs(found[:, None, :] - ref_points[None, :, :]).max(axis=2)
    # every minimum found is a reference point, and every reference minimum is found
    assert (dist.min(axis=1) < 1e-6).all()
    from thermopot.solvers.minima import classify
    lam, kind = classify(R, np.arctanh(ref_points), T, 1e-7, xp)
    assert (dist[:, kind == 0].min(axis=0) < 1e-6).all()
    same = np.abs(res.points[res.start_point] - m_ref).max(axis=1) < 1e-6
    assert same.mean() > 0.97
