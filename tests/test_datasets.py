"""thermopot.datasets: bundled digits (provenance, downsampling, binarising), random patterns, user files."""

import os
import subprocess
import sys

import numpy as np
import pytest

import thermopot
from thermopot.datasets import (DataError, Dataset, binarize, downsample, load_dataset, load_digits,
                                noisy_patterns_dataset,
                                random_patterns_dataset, resampling_matrix)
from thermopot.datasets.digits import derive_digits
from thermopot.errors import ThermopotError
from thermopot.learning import save_dataset

# Printed by `python -m thermopot.datasets.make_digits` (scikit-learn 1.9.1): images per class 0..9
# of the UCI test set, and distinct binary patterns per N.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
DISTINCT = {16: 1284, 25: 1618}


@pytest.mark.parametrize("n", [16, 25])
def test_digits_shapes_values_and_counts(n):
    digits = load_digits(n)
    assert digits.samples.shape == (1797, n) and digits.samples.dtype == np.int8
    assert set(np.unique(digits.samples)) == {-1, 1}
    assert digits.labels.shape == (1797,) and set(np.unique(digits.labels)) == set(range(10))
    assert digits.class_counts().tolist() == CLASS_COUNTS
    assert digits.side ** 2 == n and digits.images().shape == (1797, digits.side, digits.side)
    # median binarisation: every pixel used, none constant, all balanced to |<s>| < 1/2
    assert digits.dataset.constant_columns().size == 0
    assert np.abs(digits.samples.mean(axis=0)).max() < 0.5


def test_digits64_full_resolution():
    """At 8x8 the side-8 resampling is the identity, so each spin is the image pixel itself against its
    median; three pixels (the top-left corner and both ends of row 4: 0, 32, 39) hold ink in
    fewer than half of the images and are constant -1: the pipeline drops them (N = 61)."""
    np.testing.assert_array_equal(resampling_matrix(8), np.eye(8))
    digits = load_digits(64)
    assert digits.samples.shape == (1797, 64) and digits.side == 8
    assert digits.class_counts().tolist() == CLASS_COUNTS
    assert digits.dataset.constant_columns().tolist() == [0, 32, 39]
    assert (digits.samples[:, [0, 32, 39]] == -1).all()
    assert digits.pattern_weights().size == 1792
    # the 4x4 set is the 2x2 block mean of the same images, not of the binary ones: a check that both
    # come from one source is that their median pixel agrees with the block of the 8x8 medians' ink
    small = load_digits(16).samples.reshape(-1, 4, 4)
    big = digits.samples.reshape(-1, 8, 8)
    both_ink = (big.reshape(-1, 4, 2, 4, 2) > 0).all(axis=(2, 4))
    assert (small[both_ink] == 1).mean() > 0.9


@pytest.mark.parametrize("n", [16, 25])
def test_pattern_weights_merge_duplicates(n):
    digits = load_digits(n)
    patterns = digits.pattern_weights()
    assert patterns.size == DISTINCT[n]
    assert np.isclose(patterns.weights.sum(), 1.0)
    assert len(np.unique(patterns.samples, axis=0)) == patterns.size
    # each weight is the pattern's count over M; counts by class add up to the same counts
    counts = digits.pattern_class_counts()
    assert counts.shape == (DISTINCT[n], 10) and counts.sum(axis=0).tolist() == CLASS_COUNTS
    np.testing.assert_allclose(patterns.weights, counts.sum(axis=1) / 1797, rtol=0, atol=1e-15)
    row = int(np.argmax(patterns.weights))
    assert (digits.samples == patterns.samples[row]).all(axis=1).sum() == counts[row].sum()


def test_digits_class_subset():
    digits = load_digits(16, classes=[7, 0, 1, 0])
    assert digits.classes == (0, 1, 7)
    assert digits.size == CLASS_COUNTS[0] + CLASS_COUNTS[1] + CLASS_COUNTS[7]
    full = load_digits(16)
    np.testing.assert_array_equal(digits.samples, full.samples[np.isin(full.labels, (0, 1, 7))])
    assert load_digits(25, classes=3).class_counts().tolist() == [0, 0, 0, 183, 0, 0, 0, 0, 0, 0]


def test_resampling_matrix_by_hand():
    np.testing.assert_array_equal(resampling_matrix(4), np.kron(np.eye(4), [0.5, 0.5]))
    expected5 = np.array([[5, 3, 0, 0, 0, 0, 0, 0],
                          [0, 2, 5, 1, 0, 0, 0, 0],
                          [0, 0, 0, 4, 4, 0, 0, 0],
                          [0, 0, 0, 0, 1, 5, 2, 0],
                          [0, 0, 0, 0, 0, 0, 3, 5]]) / 8
    np.testing.assert_array_equal(resampling_matrix(5), expected5)


def test_downsample_fake_images():
    ramp = np.arange(64.0).reshape(1, 8, 8)
    # 2x2 block means of x_jk = 8 j + k: (16 i + 2 l) + (0 + 1 + 8 + 9) / 4
    i, l = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    np.testing.assert_array_equal(downsample(ramp, 4)[0], 16 * i + 2 * l + 4.5)
    # area weights: pixel (0, 1) lies in row cell 0 (weight 5/8) and column cells 0 (3/8) and 1 (2/8)
    dot = np.zeros((1, 8, 8))
    dot[0, 0, 1] = 16
    y = downsample(dot, 5)[0]
    assert y[0, 0] == 16 * (5 / 8) * (3 / 8) and y[0, 1] == 16 * (5 / 8) * (2 / 8)
    assert np.count_nonzero(y) == 2
    # the mean ink is kept by both grids (every row of R sums to 1, columns to side / 8)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 17, size=(3, 8, 8)).astype(float)
    for side in (4, 5):
        np.testing.assert_allclose(downsample(images, side).mean(axis=(1, 2)), images.mean(axis=(1, 2)))


def test_binarize_at_column_median():
    values = np.array([[0, 0, 1], [1, 0, 1], [2, 0, 1], [3, 5, 1]])
    expected = np.array([[-1, -1, -1], [-1, -1, -1], [1, -1, -1], [1, 1, -1]], dtype=np.int8)
    out = binarize(values)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, expected)


def test_derive_digits_fake_set():
    # four images: blank, full ink, left half inked, right half inked
    images = np.zeros((4, 8, 8))
    images[1] = 16
    images[2, :, :4] = 16
    images[3, :, 4:] = 16
    arrays = derive_digits(images)
    # every 4x4 cell sees the values {0, 16, 16, 0} or {0, 16, 0, 16}: median 8, only ink cells become +1
    s16 = arrays["samples_16"].reshape(4, 4, 4)
    assert (s16[0] == -1).all() and (s16[1] == 1).all()
    np.testing.assert_array_equal(s16[2], np.repeat([[1, 1, -1, -1]], 4, axis=0))
    np.testing.assert_array_equal(s16[3], -s16[2])
    # 5x5: the middle column cell straddles pixels 3 and 4 (weights 1/2, 1/2), so both half images give
    # it 8 = its median, which is not above the median: -1 (ties go to -1)
    s25 = arrays["samples_25"].reshape(4, 5, 5)
    assert (s25[0] == -1).all() and (s25[1] == 1).all()
    np.testing.assert_array_equal(s25[2], np.repeat([[1, 1, -1, -1, -1]], 5, axis=0))
    np.testing.assert_array_equal(s25[3], np.repeat([[-1, -1, -1, 1, 1]], 5, axis=0))


def test_bundled_file_matches_source():
    """Regenerate from scikit-learn (when installed) and compare with the shipped arrays."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    source = sklearn_datasets.load_digits()
    arrays = derive_digits(source.images)
    for n in (16, 25, 64):
        digits = load_digits(n)
        np.testing.assert_array_equal(digits.samples, arrays[f"samples_{n}"])
        np.testing.assert_array_equal(digits.labels, source.target)


def test_digits_load_without_sklearn():
    root = os.path.dirname(os.path.dirname(os.path.abspath(thermopot.__file__)))
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from thermopot.datasets import load_digits\n"
            "d = load_digits(25)\n"
            "assert 'sklearn' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
            "print(d.samples.shape, d.pattern_weights().size)")
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1797, 25) 1618"


def test_random_patterns_distinct_reproducible_weighted():
    data = random_patterns_dataset(10, 30, seed=3)
    assert isinstance(data, Dataset) and data.samples.shape == (30, 10) and data.samples.dtype == np.int8
    assert len(np.unique(data.samples, axis=0)) == 30
    np.testing.assert_allclose(data.weights, np.full(30, 1 / 30))
    again = random_patterns_dataset(10, 30, seed=3)
    np.testing.assert_array_equal(again.samples, data.samples)
    assert not np.array_equal(random_patterns_dataset(10, 30, seed=4).samples, data.samples)
    # geometric weights q^mu / sum q^nu
    geo = random_patterns_dataset(6, 4, weights=0.5, seed=1)
    np.testing.assert_allclose(geo.weights, np.array([8, 4, 2, 1]) / 15)
    given = random_patterns_dataset(6, 3, weights=[1, 2, 5], seed=1)
    np.testing.assert_allclose(given.weights, [0.125, 0.25, 0.625])
    # all 2^n states when m = 2^n
    full = random_patterns_dataset(4, 16, seed=0)
    assert len(np.unique(full.samples, axis=0)) == 16
    assert np.isclose(full.weights.sum(), 1.0)


def test_load_user_dataset(tmp_path):
    path = tmp_path / "data.npz"
    save_dataset(path, np.array([[1, -1], [1, -1], [-1, 1]]), [1.0, 2.0, 3.0])
    data = load_dataset(path)
    assert data.samples.dtype == np.int8 and data.samples.shape == (3, 2)
    merged = data.unique()
    np.testing.assert_array_equal(merged.samples, [[-1, 1], [1, -1]])
    np.testing.assert_allclose(merged.weights, [3.0, 3.0])
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "missing.npz")


@pytest.mark.parametrize("call, match", [
    (lambda: load_digits(20), "n_pixels must be one of"),
    (lambda: load_digits(16, classes=[1, 10]), "not a digit class"),
    (lambda: load_digits(16, classes=[]), "non-empty"),
    (lambda: load_digits(16, classes=[2.5]), "not a digit class"),
    (lambda: random_patterns_dataset(3, 9), "1..2\\^n = 8"),
    (lambda: random_patterns_dataset(3, 0), "number of patterns m"),
    (lambda: random_patterns_dataset(0, 1), "number of spins n"),
    (lambda: random_patterns_dataset(63, 1), "number of spins n"),
    (lambda: random_patterns_dataset(4, 3, weights=[1, 2]), "shape \\(3,\\)"),
    (lambda: random_patterns_dataset(4, 3, weights=[1, 0, 2]), "> 0"),
    (lambda: random_patterns_dataset(4, 3, weights=[1, -1, 2]), "> 0"),
    (lambda: random_patterns_dataset(4, 3, weights=1.5), "\\(0, 1\\]"),
    (lambda: random_patterns_dataset(4, 3, weights="x"), "ratio q"),
    (lambda: downsample(np.zeros((2, 7, 7)), 4), "shape \\(M, 8, 8\\)"),
    (lambda: noisy_patterns_dataset(6, 2, 5, 0.5), "flip probability"),
    (lambda: noisy_patterns_dataset(6, 0, 5, 0.1), "number of centres"),
    (lambda: noisy_patterns_dataset(6, 2, 0, 0.1), "copies"),
])
def test_bad_input(call, match):
    with pytest.raises(ThermopotError, match=match):
        call()


def test_noisy_patterns_flip_each_spin_with_the_given_probability():
    data, labels = noisy_patterns_dataset(20, 3, 2000, 0.2, seed=7)
    assert data.samples.shape == (6000, 20) and data.samples.dtype == np.int8
    assert np.array_equal(labels, np.repeat([0, 1, 2], 2000))
    for mu in range(3):
        rows = data.samples[labels == mu].astype(float)
        centre = np.sign(rows.mean(axis=0))  # the majority of copies keeps the centre's sign
        flipped = np.mean(rows != centre)
        assert abs(flipped - 0.2) < 4 * np.sqrt(0.2 * 0.8 / rows.size)
    clean, _ = noisy_patterns_dataset(20, 3, 4, 0.0, seed=7)
    assert len(np.unique(clean.samples, axis=0)) == 3
