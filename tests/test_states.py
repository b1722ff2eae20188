import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thermopot.errors import ThermopotError
from thermopot.models import random_pairwise
from thermopot.states import (all_states, fwht, index_to_spins, mask_subsets, spins_to_index, state_blocks,
                              subset_masks, walsh_couplings, walsh_energies)

floats = st.floats(-1e3, 1e3, allow_nan=False)


def hadamard(n):
    i = np.arange(2**n)
    pop = np.vectorize(lambda x: bin(x).count("1"))(i[:, None] & i[None, :])
    return (-1.0) ** pop


def test_index_convention():
    s = index_to_spins(np.array([0, 1, 2, 5]), 3)
    np.testing.assert_array_equal(s, [[1, 1, 1], [-1, 1, 1], [1, -1, 1], [-1, 1, -1]])
    np.testing.assert_array_equal(spins_to_index(all_states(6)), np.arange(64))


def test_state_blocks_cover_all_states_in_order():
    blocks = list(state_blocks(7, 30))
    assert [b[0] for b in blocks] == list(range(0, 128, 30))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), all_states(7))


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_fwht_equals_hadamard_matrix(n):
    v = np.random.default_rng(n).normal(size=2**n)
    np.testing.assert_allclose(fwht(v), hadamard(n) @ v, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), data=st.data())
def test_fwht_round_trip_and_linearity(n, data):
    a = data.draw(arrays(np.float64, 2**n, elements=floats))
    b = data.draw(arrays(np.float64, 2**n, elements=floats))
    c = data.draw(floats)
    np.testing.assert_allclose(fwht(fwht(a)) / 2**n, a, atol=1e-9)
    np.testing.assert_allclose(fwht(a + c * b), fwht(a) + c * fwht(b), atol=1e-6)
    np.testing.assert_allclose(walsh_energies(walsh_couplings(a)), a, atol=1e-9)


def test_fwht_along_an_axis():
    m = np.random.default_rng(0).normal(size=(3, 16))
    np.testing.assert_allclose(fwht(m, axis=1), m @ hadamard(4).T, atol=1e-12)


def test_walsh_couplings_of_a_pairwise_model_are_its_fields_and_couplings():
    model = random_pairwise(6, seed=2)
    J = walsh_couplings(model.energy(all_states(6)))
    masks, coup = model.walsh_terms()
    expected = np.zeros(64)
    expected[masks] = coup
    np.testing.assert_allclose(J, expected, atol=1e-12)


def test_subset_masks_round_trip():
    sub = np.random.default_rng(1).random((10, 7)) < 0.4
    np.testing.assert_array_equal(mask_subsets(subset_masks(sub), 7), sub)


def test_bad_input():
    with pytest.raises(ThermopotError, match="power of two"):
        fwht(np.ones(12))
    with pytest.raises(ThermopotError, match="number of spins"):
        index_to_spins(np.arange(3), 0)
    with pytest.raises(ThermopotError, match="state_blocks"):
        all_states(30)
