"""check_moments: a model's moments from fresh independent chains against the data's, tested against exact
enumeration at N = 10 (the moments of the exact ML model equal the data's; the chains' estimate and its
chain-to-chain standard error against the exact model moments)."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.learning import MomentCheck, as_dataset, check_moments, fit, sample_exact
from thermopot.learning.moment_check import data_moment_stderr
from thermopot.learning.result import pack
from thermopot.models import PairwiseModel, random_pairwise


def _samples(model, size, seed):
    data = sample_exact(model, size, seed=seed)
    return data[0] if isinstance(data, tuple) else data


@pytest.fixture(scope="module")
def data_and_ml():
    data = _samples(random_pairwise(10, seed=4, h_std=0.3, j_std=0.4), 3000, seed=1)
    return data, fit(data, "exact")


def test_data_standard_errors_are_the_sample_standard_deviation_over_root_m(data_and_ml):
    """sqrt((1 - x^2) / M) against std(x) / sqrt(M) of the products s_k and s_k s_l computed directly."""
    data = data_and_ml[0].astype(np.float64)
    moments, se = data_moment_stderr(as_dataset(data))
    iu = np.triu_indices(10, 1)
    columns = np.concatenate([data, data[:, iu[0]] * data[:, iu[1]]], axis=1)
    np.testing.assert_allclose(moments, columns.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(se, columns.std(axis=0) / np.sqrt(len(data)), atol=1e-12)


def test_the_chains_estimate_and_its_error_bar_against_exact_enumeration(data_and_ml):
    """At the exact ML point the chains' moments agree with the exact model moments within their own
    chain-to-chain error bars (~95 % within 2), and so with the data's; combined with the data's sampling
    error every moment is within 2."""
    data, ml = data_and_ml
    check = check_moments(ml.model, data, chains=64, sweeps=1000, burn_in=200, seed=0)
    assert isinstance(check, MomentCheck) and check.model_moments.shape == (55,)
    th = thermodynamics(ml.model, 1.0, progress=False)
    exact = pack(th.magnetization, th.correlation)
    z_exact = np.abs(check.model_moments - exact) / check.model_stderr
    assert np.mean(z_exact <= 2) >= 0.85 and z_exact.max() < 4.5
    assert 0.002 < np.median(check.model_stderr) < 0.02  # 64 chains x 1000 sweeps of N = 10
    assert check.fraction_within_2_model_stderr >= 0.85
    assert check.fraction_within_2_stderr == 1.0 and check.max_abs_z < 2
    assert check.largest_mismatch < 0.03


def test_the_check_fails_for_couplings_ten_percent_too_strong(data_and_ml):
    """Injected mistake: J scaled by 1.1 (a fit that overshoots) is seen, most clearly by the model-only
    standard error."""
    data, ml = data_and_ml
    wrong = PairwiseModel(ml.model.h, 1.1 * ml.model.J)
    check = check_moments(wrong, data, chains=64, sweeps=1000, burn_in=200, seed=0)
    assert check.fraction_within_2_model_stderr < 0.6 and check.max_abs_z_model > 5
    assert check.fraction_within_2_stderr < 0.95 and check.max_abs_z > 2.5


def test_the_l2_target_is_the_penalised_stationary_point(data_and_ml):
    """An exact fit with l2 = 0.05 matches data - l2 theta, not the data: the check with the fit's l2
    passes, the one against the raw data fails."""
    data = data_and_ml[0]
    penalised = fit(data, "exact", l2=0.05)
    right = check_moments(penalised.model, data, l2=0.05, chains=64, sweeps=1000, burn_in=200, seed=1)
    raw = check_moments(penalised.model, data, chains=64, sweeps=1000, burn_in=200, seed=1)
    np.testing.assert_allclose(right.target, right.data_moments - 0.05 * pack(penalised.model.h, penalised.model.J))
    assert right.fraction_within_2_model_stderr >= 0.85
    assert raw.fraction_within_2_model_stderr < 0.5


def test_trapped_chains_miss_the_mode_weights_and_tempering_finds_them():
    """A ferromagnet (N = 10, J = 0.5, h = 0.05): exact <s_k> = 0.462. Chains from random starts split
    about evenly between the two modes and stay, so their estimate is off by several of its own (large)
    error bars; the T = 1 replicas of tempering columns agree with enumeration."""
    n = 10
    J = np.full((n, n), 0.5)
    np.fill_diagonal(J, 0.0)
    model = PairwiseModel(np.full(n, 0.05), J)
    exact = thermodynamics(model, 1.0, progress=False).magnetization
    data = _samples(model, 2000, seed=1)
    plain = check_moments(model, data, chains=64, sweeps=1000, burn_in=200, seed=0)
    tempered = check_moments(model, data, chains=64, sweeps=1000, burn_in=200, seed=0,
                             tempering=[1.0, 1.5, 2.2, 3.2, 4.6, 6.6])
    assert exact[0] == pytest.approx(0.462, abs=1e-3)
    assert np.abs(plain.model_moments[:n] - exact).max() / plain.model_stderr[:n].min() > 4
    assert np.abs(tempered.model_moments[:n] - exact).max() / tempered.model_stderr[:n].min() < 3


def test_check_moments_refuses_bad_input(data_and_ml):
    data, ml = data_and_ml
    with pytest.raises(ThermopotError, match="N = 10"):
        check_moments(random_pairwise(8, seed=0), data)
    with pytest.raises(ThermopotError, match="temperature 1"):
        check_moments(ml.model, data, tempering=[1.2, 2.0])
    with pytest.raises(ThermopotError, match="chains"):
        check_moments(ml.model, data, chains=1)
