"""The C10 baselines against independent references: the Walsh model at order 1 is the product of the
site marginals (closed form), at order 2 the exact pairwise maximum-likelihood fit; the RBM's log p is the
brute-force sum over hidden and visible states, and at its optimum the moments match (stationarity)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.knowledge.baselines import (fit_hidden_model, fit_walsh_model, hidden_units_for,
                                           walsh_subsets)
from thermopot.learning import fit
from thermopot.states import all_states


@pytest.fixture(scope="module")
def samples():
    data, _ = noisy_patterns_dataset(6, 2, 40, 0.2, seed=3)
    return np.repeat(data.samples, np.round(data.weights).astype(int), axis=0)


def test_order_one_walsh_model_is_the_product_of_the_site_marginals(samples):
    model = fit_walsh_model(samples, 6, l2=0.0, tol=1e-8)
    m = samples.mean(axis=0)
    s = all_states(6)
    expected = np.log((1 + s * m) / 2).sum(axis=1)
    assert model.converged and model.parameters == 6
    np.testing.assert_allclose(model.log_p, expected, atol=1e-7)


def test_order_two_walsh_model_is_the_exact_pairwise_fit(samples):
    model = fit_walsh_model(samples, 6 + 15, l2=1e-2, tol=1e-8)
    pair = fit(samples, "exact", l2=1e-2, tol=1e-8).model
    s = all_states(6)
    log_w = -np.asarray(pair.energy(s))
    np.testing.assert_allclose(model.log_p, log_w - np.logaddexp.reduce(log_w), atol=1e-6)


def test_walsh_subsets_fill_the_top_order_by_moment():
    moments = np.zeros(16)
    moments[[0b0111, 0b1011, 0b1101]] = [0.1, -0.5, 0.3]
    chosen, top = walsh_subsets(moments, 4 + 6 + 2)
    assert top == 3 and set(chosen) >= {0b1011, 0b1101} and 0b0111 not in chosen
    with pytest.raises(ThermopotError, match="parameters"):
        walsh_subsets(moments, 16)


def test_hidden_model_log_p_is_the_sum_over_hidden_states_and_its_moments_match(samples):
    l2 = 1e-2
    model = fit_hidden_model(samples, 3, l2=l2, seed=0, tol=1e-7, max_iter=2000)
    a, c, W = (model.arrays[k] for k in "acW")
    v = all_states(6)
    h = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    joint = (v @ a)[:, None] + (h @ c)[None, :] + v @ W.T @ h.T  # -E(v, h), (2^6, 2^3)
    log_pv = np.logaddexp.reduce(joint, axis=1)
    log_pv -= np.logaddexp.reduce(log_pv)
    np.testing.assert_allclose(model.log_p, log_pv, atol=1e-10)
    p = np.exp(log_pv)
    assert model.converged and model.parameters == 6 + 3 + 18
    np.testing.assert_allclose(samples.mean(axis=0) - p @ v, l2 * a, atol=1e-6)  # d/da = 0 at the optimum
    ph = np.exp(joint - np.logaddexp.reduce(joint.ravel()))  # p(v, h)
    vh_model = np.einsum("vh,vk,hj->jk", ph, v, h)
    t = np.tanh(samples @ W.T + c)
    np.testing.assert_allclose(t.T @ samples / len(samples) - vh_model, l2 * W, atol=1e-6)


def test_hidden_units_for_meets_the_budget():
    assert hidden_units_for(4246, 16) == 249 and 16 + 249 + 16 * 249 >= 4246 > 16 + 248 + 16 * 248
    with pytest.raises(ThermopotError, match="visible states"):
        fit_hidden_model(np.ones((4, 17), dtype=np.int8), 2, l2=0.0, seed=0)
