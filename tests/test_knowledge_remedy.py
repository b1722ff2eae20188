"""The multiple-model remedy: one pairwise model against a mixture (thermopot.knowledge.remedy)."""

import json

import numpy as np
import pytest

from conftest import brute_force
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.knowledge.remedy import compare_remedy
from thermopot.landscape import local_minima
from thermopot.learning import Dataset, fit
from thermopot.learning.mixture import ComponentDropWarning
from thermopot.report import to_json
from thermopot.states import spins_to_index

L2 = 1e-2
SAMPLES = 2000


@pytest.fixture(scope="module")
def data():
    return noisy_patterns_dataset(10, 4, 20, 0.1, seed=0)


@pytest.fixture(scope="module")
def remedy(data):
    """All four class components (prune=False): 20 samples a class cannot pay for the 56 parameters of a
    component at N = 10 by the minimum-message-length rule, which keeps 2 (test_pruning_keeps_the_surviving_k);
    the formulas are checked on the four."""
    d, labels = data
    return compare_remedy(d, labels=labels, l2=L2, max_iter=5, samples=SAMPLES, seed=1, prune=False)


@pytest.fixture(scope="module")
def single_only(data):
    """K = 1: the mixture is the single model."""
    return compare_remedy(data[0], k=1, l2=L2, samples=SAMPLES, seed=1)


def test_kl_is_minus_entropy_minus_log_likelihood(data, remedy):
    """KL(w || p) = -H(w) - L with L from thermopot.learning (moments and log Z for the single model,
    the mixture's own log-likelihood of the raw rows for the mixture)."""
    d = data[0]
    w = d.unique().probabilities
    assert remedy.entropy == pytest.approx(-(w @ np.log(w)), rel=1e-12)
    ll_single = fit(d.unique(), "exact", l2=L2).log_likelihood
    assert remedy.kl_single == pytest.approx(-remedy.entropy - ll_single, abs=1e-8)
    assert remedy.kl_mixture == pytest.approx(-remedy.entropy - remedy.mixture.log_likelihood(d), abs=1e-8)


def test_kl_matches_brute_force_enumeration(data, remedy):
    u = data[0].unique()
    w = u.probabilities
    p = brute_force(remedy.single, 1.0)["p"][spins_to_index(u.samples)]
    assert remedy.kl_single == pytest.approx(float(w @ np.log(w / p)), rel=1e-9)
    assert remedy.kl_single >= 0 and remedy.kl_mixture >= 0


def test_mixture_beats_the_single_model_on_separated_clusters(remedy):
    assert remedy.k == 4 and remedy.k_source == "classes"
    assert remedy.kl_mixture < 0.4 * remedy.kl_single
    assert remedy.coverage_mixture >= remedy.coverage_single
    assert remedy.class_coverage_mixture == 1.0
    assert remedy.pattern_rate_mixture > remedy.pattern_rate_single
    assert remedy.rare_prob_mixture > remedy.rare_prob_single


def test_pruning_keeps_the_surviving_k(data, remedy):
    """With the default pruning, K is the number of components left (2 of the 4 classes of 20 samples: each
    holds fewer samples than half its effective parameters), k_initial the 4 it started from, and the two
    dropped are listed with their counts; the mixture's weights are the survivors'."""
    d, labels = data
    with pytest.warns(ComponentDropWarning, match="2 of 4 mixture components dropped"):
        r = compare_remedy(d, labels=labels, l2=L2, max_iter=5, samples=SAMPLES, seed=1)
    assert (r.k, r.k_initial, len(r.components_dropped)) == (2, 4, 2) and r.mixture.k == 2
    assert r.mixture_weights.shape == (2,) and all(c.count < c.parameters / 2 for c in r.components_dropped)
    assert r.to_dict()["k"] == 2 and len(r.to_dict()["components_dropped"]) == 2


def test_classes_of_zero_weight_rows_are_not_components(data, remedy):
    """Rows of weight 0 (with a class of their own) change nothing: K counts the classes with positive
    weight, and the mixture is the one fitted without those rows."""
    d, labels = data
    padded = Dataset(np.concatenate([d.samples, -d.samples[:3]]), np.concatenate([d.weights, np.zeros(3)]))
    r = compare_remedy(padded, labels=np.concatenate([labels, [9, 9, 9]]), k="classes", l2=L2, max_iter=5,
                       samples=SAMPLES, seed=1, prune=False)
    assert r.k == remedy.k == 4 and r.mixture_weights.shape == (4,)
    assert r.class_coverage_mixture == remedy.class_coverage_mixture == 1.0
    assert r.kl_mixture == pytest.approx(remedy.kl_mixture, rel=1e-10)
    np.testing.assert_allclose(r.mixture_weights, remedy.mixture_weights, rtol=1e-10)


def test_rare_set_and_sampled_rates(data, remedy):
    w = data[0].unique().probabilities
    np.testing.assert_array_equal(remedy.rare_rows, np.flatnonzero(np.isclose(w, w.min())))
    assert remedy.rare_weight == pytest.approx(w[remedy.rare_rows].sum())
    for name in ("single", "mixture"):
        p, rate = getattr(remedy, f"rare_prob_{name}"), getattr(remedy, f"rare_rate_{name}")
        assert abs(rate - p) <= 4 * np.sqrt(p * (1 - p) / SAMPLES) + 1 / SAMPLES


def test_mixture_of_one_is_the_single_model(single_only):
    r = single_only
    assert r.k == 1 and r.k_source == "given"
    assert r.kl_mixture == pytest.approx(r.kl_single, abs=1e-6)
    assert r.coverage_mixture == r.coverage_single and r.rare_rate_mixture == r.rare_rate_single
    assert r.class_coverage_single is None


def test_k_from_the_minima_of_the_single_model(data):
    """Without labels K is the number of strict minima of the single fitted model; EM started from
    their basins cannot end below the single model's likelihood (its first M-step refits each basin)."""
    d = data[0]
    r = compare_remedy(d, l2=L2, max_iter=3, samples=SAMPLES, seed=1)
    assert r.k_source == "minima" and r.class_coverage_single is None
    assert r.k_initial == r.single_minima == local_minima(fit(d.unique(), "exact", l2=L2).model).count
    assert r.k == r.k_initial - len(r.components_dropped) >= 1
    assert r.kl_mixture < r.kl_single
    more = compare_remedy(d, k=r.k_initial + 2, l2=L2, max_iter=2, samples=10, seed=1, prune=False)  # random start
    assert more.k == more.k_initial == r.k_initial + 2 and len(more.mixture_weights) == r.k_initial + 2
    assert more.mixture_weights.sum() == pytest.approx(1.0)


def test_temperature_rescales_the_models(data, single_only):
    d = data[0]
    hot = compare_remedy(d, k=1, T=2.0, l2=L2, samples=10, seed=1)
    u = d.unique()
    w = u.probabilities
    p = brute_force(single_only.single, 2.0)["p"][spins_to_index(u.samples)]
    assert hot.kl_single == pytest.approx(float(w @ np.log(w / p)), rel=1e-7)


def test_backends_agree(data, gpu_backend):
    r, ref = (compare_remedy(data[0], k=1, l2=L2, samples=SAMPLES, seed=1, backend=b) for b in (gpu_backend, "numpy"))
    assert r.kl_single == pytest.approx(ref.kl_single, abs=1e-8)
    assert r.coverage_single == ref.coverage_single


def test_rare_given_as_rows_and_as_count(data):
    d, labels = data
    r = compare_remedy(d, k=1, l2=L2, samples=10, rare=[0, 1, 0])
    u = d.unique()
    rows = [int(np.flatnonzero((u.samples == d.samples[i]).all(axis=1))[0]) for i in (0, 1)]
    np.testing.assert_array_equal(r.rare_rows, np.unique(rows))
    r2 = compare_remedy(d, k=1, l2=L2, samples=10, rare=3)
    assert len(r2.rare_rows) == 3 and r2.rare_weight == pytest.approx(np.sort(u.probabilities)[:3].sum())


def test_to_dict_is_json(remedy):
    out = json.loads(to_json(remedy.to_dict()))
    assert out["kl_single"] == pytest.approx(remedy.kl_single) and "mixture" not in out
    assert len(out["mixture_weights"]) == remedy.k


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "k must be"),
    ({"k": "clusters"}, "k must be"),
    ({"k": "classes"}, "needs labels"),
    ({"method": "nmf"}, "method must be"),
    ({"samples": 0}, "samples"),
    ({"T": -1.0}, "temperature"),
    ({"rare": 0}, "lowest-weight"),
    ({"rare": [1000]}, "rare rows"),
    ({"rare": "x"}, "rare must be"),
])
def test_bad_input_is_refused(data, kwargs, match):
    with pytest.raises(ThermopotError, match=match):
        compare_remedy(data[0], **{"k": 1, **kwargs})
