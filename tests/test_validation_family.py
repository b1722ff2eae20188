"""validation/_family.py: the Sidak threshold for the largest |z| of K estimates, against a simulation."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.errors import ThermopotError
from thermopot.validation import family_z


def test_one_gaussian_estimate_keeps_its_multiple():
    assert family_z(1, 3.0) == pytest.approx(3.0, abs=1e-9)
    assert family_z(1, 4.0) == pytest.approx(4.0, abs=1e-9)


@pytest.mark.parametrize(("count", "dof"), [(30, 15), (8, 15), (120, None)])
def test_the_largest_of_count_estimates_exceeds_it_as_often_as_one_gaussian_exceeds_z(count, dof):
    """2e5 families of ``count`` independent t_dof (or Gaussian) values: the fraction whose largest |value|
    passes family_z(count, 2) is 2 (1 - Phi(2)) = 0.0455 within 4 binomial standard errors; a plain
    threshold of 2 is passed far more often (the failure the function exists to avoid)."""
    rng = np.random.default_rng(0)
    draws = 200_000
    values = rng.standard_normal((draws, count)) if dof is None else rng.standard_t(dof, (draws, count))
    largest = np.abs(values).max(axis=1)
    rate, target = (largest > family_z(count, 2.0, dof)).mean(), 0.04550026389635839
    assert abs(rate - target) < 4 * np.sqrt(target * (1 - target) / draws)
    assert (largest > 2.0).mean() > 5 * target


def test_heavier_tails_and_more_estimates_raise_the_threshold():
    assert family_z(30, 3.0, 15) == pytest.approx(5.2938, abs=1e-3)
    assert family_z(1, 3.0) < family_z(1, 3.0, 15) < family_z(30, 3.0, 15)
    assert family_z(30, 3.0) < family_z(30, 3.0, 15)


@pytest.mark.parametrize("bad", [dict(count=0, z=3.0), dict(count=5, z=-1.0), dict(count=5, z=3.0, dof=0)])
def test_bad_input_is_refused(bad):
    with pytest.raises(ThermopotError):
        family_z(**bad)
