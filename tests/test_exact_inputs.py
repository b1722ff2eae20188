"""gibbs_potential without false refusals, and bad input refused by name (issue 16 items 4 and 5)."""

import math
import warnings

import numpy as np
import pytest

from thermopot.errors import ThermopotError
from thermopot.exact import gibbs_potential, thermodynamics
from thermopot.models import PairwiseModel, curie_weiss, sk


def _binary_entropy(p):
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def test_gibbs_potential_exists_where_the_weight_sits_on_two_states():
    """Couplings x1e3, T = 0.01, m = 0.3: the conjugate field puts all weight on the two ground states
    (was refused as 'singular'). Then G = E0 - T H((1 + m) / 2) exactly, and the curvature is T / (4 (1 - m^2))
    along (1,1,1,1)/2 and beyond float64 (inf) across it."""
    model, T, m = curie_weiss(4, j=1000.0), 0.01, 0.3
    g = gibbs_potential(model, np.full(4, m), T)
    e0 = -1000.0 * (16 - 4) / 8
    assert g.converged and g.free_energy == pytest.approx(e0 - T * _binary_entropy((1 + m) / 2), rel=1e-14)
    assert np.all(np.diag(g.hessian) == np.inf) and np.all(g.hessian[~np.eye(4, dtype=bool)] == -np.inf)
    scaled = sk(4, seed=0)
    big = PairwiseModel(scaled.h * 1e3, scaled.J * 1e3)
    assert gibbs_potential(big, np.full(4, m), T).converged


def test_gibbs_potential_non_converged_warns():
    model = sk(5, seed=1)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        g = gibbs_potential(model, np.full(5, 0.4), 0.5, max_iter=1, tol=1e-14)
    assert not g.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gibbs_potential(model, np.full(5, 0.4), 0.5).converged


@pytest.mark.parametrize("bad, match", [(np.full(4, 0.3 + 0.1j), "complex"), ("abc", "numbers"),
                                        (np.zeros(3), "shape")])
def test_gibbs_potential_bad_m(bad, match):
    with pytest.raises(ThermopotError, match=match):
        gibbs_potential(sk(4, seed=0), bad, 1.0)


@pytest.mark.parametrize("option", [{"tol": float("nan")}, {"tol": -1e-8}, {"max_iter": 0}, {"max_iter": 2.5}])
def test_gibbs_potential_bad_options(option):
    with pytest.raises(ThermopotError, match=next(iter(option))):
        gibbs_potential(sk(4, seed=0), np.zeros(4), 1.0, **option)


@pytest.mark.parametrize("observable", [lambda s: s.sum(), lambda s: s[0], lambda s: s[:, :, None],
                                        lambda s: s[:, 0] * 1j, "not a function"])
def test_observables_of_the_wrong_shape(observable):
    with pytest.raises(ThermopotError, match="observable 'bad'"):
        thermodynamics(sk(5, seed=0), 1.0, observables={"bad": observable})
