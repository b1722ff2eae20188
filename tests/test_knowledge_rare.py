"""Under-represented patterns: weight scans of one pattern or one class (thermopot.knowledge.rare)."""

import json

import numpy as np
import pytest

from conftest import brute_force
from thermopot.datasets import random_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.knowledge.library import DEFAULT_L2
from thermopot.knowledge.rare import rare_weight_scan
from thermopot.landscape import local_minima
from thermopot.learning import Dataset, fit
from thermopot.report import to_json
from thermopot.states import spins_to_index

FACTORS = [1.0, 0.1, 1e-2, 1e-3, 1e-4]
SAMPLES = 4000


@pytest.fixture(scope="module")
def data():
    """Four random patterns of N = 10 spins, equal weights."""
    return random_patterns_dataset(10, 4, seed=0)


@pytest.fixture(scope="module")
def scan(data):
    return rare_weight_scan(data, 0, FACTORS, retrieval_samples=SAMPLES, seed=1)


def test_full_weight_step_is_the_plain_fit(data, scan):
    """At f = 1 the scan's margin and exact weight are those of the model fitted to the data itself
    (margin = min_k dE_k at the pattern, weight = brute-force Boltzmann probability)."""
    model = fit(data.unique(), "exact", l2=DEFAULT_L2).model
    ref = brute_force(model, 1.0)
    p0 = ref["p"][spins_to_index(data.samples[:1])[0]]
    assert scan.margin[0] == pytest.approx(model.flip_energy_changes(data.samples[0].astype(float)).min(),
                                           abs=1e-5)
    assert scan.boltzmann_weight[0] == pytest.approx(p0, rel=1e-5)
    assert scan.boltzmann_weight[0] == pytest.approx(0.25, abs=0.01)  # 4 patterns: the fit reproduces w


def test_weights_are_the_factors_times_the_target_weight(scan):
    assert scan.base_weight == pytest.approx(0.25)
    np.testing.assert_allclose(scan.factors, FACTORS)  # already sorted from the largest down
    np.testing.assert_allclose(scan.weights, np.array(FACTORS) * 0.25)


def test_target_loses_its_minimum_and_the_grid_brackets_the_threshold(scan):
    assert scan.has_minimum[0] and not scan.has_minimum[-1]
    np.testing.assert_array_equal(scan.has_minimum, scan.margin > 0)
    lo, hi = scan.threshold_bracket
    assert lo == scan.threshold_factor and hi is not None and lo < hi
    i, j = FACTORS.index(lo), FACTORS.index(hi)
    assert j == i - 1 and not scan.has_minimum[i] and scan.has_minimum[j]
    assert scan.has_minimum[:i].all()  # the largest factor without a minimum
    assert lo <= scan.threshold_interpolated <= hi
    assert scan.threshold_weight == pytest.approx(lo * 0.25)


def test_retrieval_rate_matches_exact_weight_and_falls_with_the_weight(scan):
    se = scan.retrieval_stderr
    assert (np.abs(scan.retrieval_rate - scan.boltzmann_weight) <= 4 * se + 1.0 / SAMPLES).all()
    assert (np.diff(scan.boltzmann_weight) < 0).all()  # the exact weight falls with the data weight
    rise = np.diff(scan.retrieval_rate)
    assert (rise <= 3 * np.hypot(se[1:], se[:-1]) + 1.0 / SAMPLES).all()  # monotone within sampling error
    lo = scan.retrieval_threshold_factor
    assert lo is not None and scan.retrieval_count[FACTORS.index(lo)] == 0
    assert (scan.retrieval_count[:FACTORS.index(lo)] > 0).all()


def test_temperature_reads_the_fitted_model_at_t(data):
    """At T = 2 the exact weight is the brute-force Boltzmann probability of the fitted model at T = 2;
    being a minimum does not depend on T."""
    hot = rare_weight_scan(data, 1, [1.0], T=2.0, retrieval_samples=10, seed=0)
    model = fit(data.unique(), "exact", l2=DEFAULT_L2).model
    p = brute_force(model, 2.0)["p"][spins_to_index(data.samples[1:2])[0]]
    assert hot.boltzmann_weight[0] == pytest.approx(p, rel=1e-5)
    assert hot.has_minimum[0] == (model.flip_energy_changes(data.samples[1].astype(float)).min() > 0)


def test_backends_agree(data, gpu_backend):
    short, ref = (rare_weight_scan(data, 0, FACTORS[:2], retrieval_samples=SAMPLES, seed=1, backend=b)
                  for b in (gpu_backend, "numpy"))
    np.testing.assert_allclose(short.margin, ref.margin, atol=1e-6)
    np.testing.assert_allclose(short.boltzmann_weight, ref.boltzmann_weight, rtol=1e-6)


def test_class_scan_counts_minima_nearest_to_the_class():
    data = random_patterns_dataset(10, 6, seed=0)
    labels = np.array([0, 0, 0, 0, 1, 1])
    scan = rare_weight_scan(data, 1, [1.0, 1e-4], by="class", labels=labels, retrieval_samples=2000, seed=0)
    assert scan.base_weight == pytest.approx(1 / 3)
    assert len(scan.target_patterns) == 2 and scan.margin is None
    # independent count at f = 1: strict minima whose nearest pattern (Hamming) is row 4 or 5
    land = local_minima(fit(data.unique(), "exact", l2=DEFAULT_L2).model)
    states = land.states[land.strict].astype(int)
    dist = (10 - states @ data.samples.T.astype(int)) // 2
    assert scan.class_minima[0] == int((labels[dist.argmin(axis=1)] == 1).sum())
    assert scan.has_minimum[0] and scan.class_minima[0] >= 1
    assert scan.class_minima[1] == 0 and scan.threshold_bracket == (1e-4, 1.0)
    p = brute_force(fit(data.unique(), "exact", l2=DEFAULT_L2).model, 1.0)["p"]
    assert scan.boltzmann_weight[0] == pytest.approx(p[spins_to_index(data.samples[4:])].sum(), rel=1e-5)


def test_pattern_target_takes_all_duplicate_rows():
    """A row repeated in the data is one pattern: its weight is the sum over its copies."""
    base = random_patterns_dataset(8, 3, seed=1)
    doubled = Dataset(np.vstack([base.samples, base.samples[:1]]), np.ones(4))
    scan = rare_weight_scan(doubled, 3, [1.0], retrieval_samples=10)
    assert scan.base_weight == pytest.approx(0.5)
    np.testing.assert_array_equal(scan.target_patterns, base.samples[:1])


def test_to_dict_is_json(scan):
    out = json.loads(to_json(scan.to_dict()))
    assert out["threshold_bracket"] == list(scan.threshold_bracket)
    assert out["retrieval"] == "exact" and len(out["factors"]) == len(FACTORS)


@pytest.mark.parametrize("factors", [[1.0, 0.0], [-0.5], [float("nan")], [], [4.0]])
def test_bad_factors_are_refused(data, factors):
    with pytest.raises(ThermopotError, match="factor"):
        rare_weight_scan(data, 0, factors)


@pytest.mark.parametrize("kwargs, match", [
    ({"target": 4}, "outside the data"),
    ({"target": "a"}, "row index"),
    ({"target": 0, "by": "class"}, "needs labels"),
    ({"target": 2, "by": "class", "labels": [0, 0, 1, 1]}, "not among the labels"),
    ({"target": 0, "by": "row"}, "by must be"),
    ({"target": 0, "T": 0.0}, "temperature"),
    ({"target": 0, "retrieval_samples": 0}, "retrieval_samples"),
])
def test_bad_input_is_refused(data, kwargs, match):
    with pytest.raises(ThermopotError, match=match):
        rare_weight_scan(data, factors=[1.0], **kwargs)
