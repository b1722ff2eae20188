"""The library of bound states: classification of the landscape minima, per-basin free energies, TAP matching."""

import numpy as np
import pytest

from thermopot.datasets import load_digits, random_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.knowledge.library import bound_states
from thermopot.models import MultiSpinModel, PairwiseModel
from thermopot.models.families import hopfield, random_pairwise, random_patterns
from thermopot.report import to_json


def golf_course(n, depth):
    """One isolated well: E(state 0) = -depth, every other state at 0 (a flat plateau)."""
    table = np.zeros(2**n)
    table[0] = -depth
    return MultiSpinModel.from_energy_table(table)


@pytest.fixture(scope="module")
def patterns_library():
    data = random_patterns_dataset(12, 3, seed=0)
    return data, bound_states(data, T=1.0)


def test_every_training_pattern_is_a_minimum(patterns_library):
    data, lib = patterns_library
    assert lib.fit is not None and lib.fit.converged
    assert lib.training_count == data.size == 3
    assert lib.training_count + lib.spurious_count == lib.count == len(lib.states)
    assert (lib.pattern_row >= 0).all()
    # the minimum at pattern_row[mu] is pattern mu itself, classified as training at distance 0
    np.testing.assert_array_equal(lib.states[lib.pattern_row], lib.patterns)
    assert lib.is_training[lib.pattern_row].all()
    np.testing.assert_array_equal(lib.nearest_pattern[lib.pattern_row], np.arange(3))
    np.testing.assert_array_equal(lib.distance[lib.is_training], 0)
    assert (lib.distance[~lib.is_training] > 0).all()
    np.testing.assert_array_equal(lib.pattern_basin, lib.pattern_row)
    np.testing.assert_allclose(lib.nearest_weight[lib.pattern_row], 1 / 3)


@pytest.mark.parametrize("T", [0.4, 1.0, 3.0])
def test_basin_free_energies_combine_to_log_z(patterns_library, T, backend):
    data, fitted = patterns_library
    lib = bound_states(data, T=T, model=fitted.model, tap=False, backend=backend)
    log_z = thermodynamics(lib.model, T).log_z
    every = np.concatenate([lib.free_energies, lib.plateau_free_energies])
    assert np.logaddexp.reduce(-every / T) == pytest.approx(log_z, abs=1e-10)
    assert lib.log_z == pytest.approx(log_z, abs=1e-10)
    assert lib.basin_sizes.sum() + lib.plateau_basin_sizes.sum() == 2**lib.n
    # the weights are Z_a / Z of the basins
    np.testing.assert_allclose(lib.weights, np.exp(-lib.free_energies / T - log_z), rtol=1e-12)


def test_plateaus_are_kept_apart_and_counted_in_log_z():
    n, depth, T = 8, 2.0, 0.7
    lib = bound_states(None, model=golf_course(n, depth), T=T, tap=False)
    assert lib.count == 1 and lib.indices[0] == 0 and lib.energies[0] == pytest.approx(-depth)
    assert len(lib.plateau_energies) > 0 and np.all(lib.plateau_energies == 0)
    assert lib.training_count == 0 and lib.spurious_count == 1
    # closed form: Z = exp(depth / T) + 2^N - 1
    log_z = np.log(np.exp(depth / T) + 2**n - 1)
    every = np.concatenate([lib.free_energies, lib.plateau_free_energies])
    assert np.logaddexp.reduce(-every / T) == pytest.approx(log_z, abs=1e-10)


def test_hopfield_mixture_and_reversed_patterns_are_spurious():
    xi = random_patterns(15, 3, seed=3)
    lib = bound_states(xi, model=hopfield(xi), T=0.3)
    mixture = np.sign(xi.sum(axis=0)).astype(np.int8)
    rows = {tuple(s): a for a, s in enumerate(lib.states)}
    assert tuple(mixture) in rows  # the symmetric 3-mixture is a strict minimum of the Hopfield energy
    for state in [mixture, *(-xi)]:
        a = rows[tuple(state)]
        assert not lib.is_training[a]
        hamming = (state[None, :] != xi).sum(axis=1)
        assert lib.distance[a] == hamming.min()
        assert (lib.patterns[lib.nearest_pattern[a]] != state).sum() == hamming.min()
    assert lib.training_count == 3
    assert lib.count == lib.training_count + lib.spurious_count


def test_tap_minima_matched_by_sign():
    xi = random_patterns(15, 3, seed=3)
    lib = bound_states(xi, model=hopfield(xi), T=0.3, tap_starts=128, seed=1)
    assert lib.tap_count == len(lib.tap_m) > 0
    for m, row in zip(lib.tap_m, lib.tap_match):
        signs = np.where(m > 0, 1, -1)
        if row >= 0:
            np.testing.assert_array_equal(lib.states[row], signs)
        else:
            assert not (lib.states == signs).all(axis=1).any()
    assert lib.tap_matched == int((lib.tap_match >= 0).sum())
    # at T = 0.3 each stored pattern is a TAP minimum, found and matched to its own landscape minimum
    assert set(lib.pattern_row) <= set(lib.tap_match)
    assert bound_states(xi, model=hopfield(xi), T=0.3, tap=False).tap_count is None


def test_majority_class_by_weight():
    xi = random_patterns(10, 3, seed=4).astype(np.int8)
    samples = xi[[0, 0, 0, 1, 2, 2]]
    labels = np.array([5, 5, 7, 3, 1, 2])
    model = hopfield(xi)
    lib = bound_states(samples, model=model, labels=labels, T=0.5, tap=False)
    by_pattern = {tuple(p): c for p, c in zip(lib.patterns, lib.pattern_classes)}
    assert by_pattern[tuple(xi[0])] == 5 and by_pattern[tuple(xi[1])] == 3
    assert by_pattern[tuple(xi[2])] == 1  # a tie goes to the smallest class
    np.testing.assert_array_equal(lib.classes, lib.pattern_classes[lib.nearest_pattern])
    np.testing.assert_allclose(lib.pattern_weights[[tuple(p) for p in lib.patterns].index(tuple(xi[0]))], 0.5)


def steepest_descent(model, s):
    """Reference: flip the spin with the most negative dE (lowest k on ties) until none lowers E."""
    s = s.astype(np.float64).copy()
    while True:
        flipped = np.repeat(s[None, :], len(s), axis=0) * (1 - 2 * np.eye(len(s)))
        de = np.asarray(model.energy(flipped)) - float(model.energy(s))
        if de.min() >= -1e-12:
            return s
        s[np.argmin(de)] *= -1


def test_rows_of_maps_states_to_their_basins(patterns_library):
    _, lib = patterns_library
    np.testing.assert_array_equal(lib.rows_of(lib.states), np.arange(lib.count))
    np.testing.assert_array_equal(lib.rows_of(lib.patterns), lib.pattern_basin)
    rng = np.random.default_rng(0)
    starts = rng.choice([-1, 1], size=(20, lib.n))
    rows = lib.rows_of(starts)
    for s, a in zip(starts, rows):
        np.testing.assert_array_equal(steepest_descent(lib.model, s), lib.states[a])
    with pytest.raises(ThermopotError, match="shape"):
        lib.rows_of(lib.states[:, :-1])


def test_digits_library_is_consistent():
    digits = load_digits(n_pixels=16)
    lib = bound_states(digits, T=1.0, tap=False)
    assert set(np.unique(lib.classes)) <= set(range(10))
    counts = digits.pattern_class_counts()  # rows in the same sorted order as lib.patterns
    np.testing.assert_array_equal(lib.pattern_classes, counts.argmax(axis=1))
    np.testing.assert_allclose(lib.pattern_weights, digits.pattern_weights().weights, rtol=1e-12)
    assert lib.training_count == int((lib.pattern_row >= 0).sum())
    assert lib.count == lib.training_count + lib.spurious_count
    assert lib.log_z == pytest.approx(thermodynamics(lib.model, 1.0).log_z, abs=1e-10)
    assert len(lib.patterns) == len(np.unique(digits.samples, axis=0))
    text = to_json(lib.to_dict())
    assert '"training_count": %d' % lib.training_count in text


def test_bad_input_is_refused():
    data = random_patterns_dataset(8, 2, seed=0)
    with pytest.raises(ThermopotError, match="temperature"):
        bound_states(data, T=0.0)
    with pytest.raises(ThermopotError, match="give the data"):
        bound_states(None)
    with pytest.raises(ThermopotError, match="N = 6"):
        bound_states(data, model=random_pairwise(6, seed=0))
    with pytest.raises(ThermopotError, match="labels"):
        bound_states(data, labels=np.array([1, 2, 3]))
    with pytest.raises(ThermopotError, match="does not take l2"):
        bound_states(data, method="nmf", l2=0.1)


def test_given_model_is_used_as_is():
    model = PairwiseModel(np.zeros(6), np.zeros((6, 6)) + 0.5 * (1 - np.eye(6)))
    lib = bound_states(np.ones((1, 6)), model=model, T=1.0, tap=False)
    assert lib.model is model and lib.fit is None
    # ferromagnet: the two aligned states are the only minima; all +1 is the training pattern
    assert lib.count == 2 and lib.training_count == 1
    assert lib.distance[~lib.is_training][0] == 6
