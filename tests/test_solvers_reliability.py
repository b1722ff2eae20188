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
    np.testing.assert_array_equal(a.m, b.m)
    np.testing.assert_array_equal(a.start_point, b.start_point)


@pytest.mark.parametrize("T", [1e155, 1e200, 1e300])
@pytest.mark.parametrize("method", ["nmf", "tap2", "tap4"])
def test_huge_temperature_gives_the_paramagnet(T, method):
    """At T >> |J| the only minimum is m = 0 with G = -T S_0(0) = -T N log 2 (the interaction terms are
    below T's rounding), Hessian T I, and Plefka's condition holds."""
    n = 8
    res = find_minima(curie_weiss(n), T, method=method, starts=6, seed=0)
    assert res.count == 1 and res.saddles == 0
    np.testing.assert_array_equal(res.m[0], np.zeros(n))
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
    """200 starts within 1e-9 of one point plus 3 elsewhere: Newton runs on 4 points, not 203, and every
    start gets the result of its group."""
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
    assert sizes == [4]
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
