"""`thermopot knowledge --labels FILE|KEY` (labels stored in the data .npz used by default) and
`--rare-target CLASS|PATTERN`; the table says what each value is and how many starts a count came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.knowledge import pipeline
from thermopot.knowledge._inputs import resolve_labels, resolve_rare_target
from thermopot.knowledge.pipeline import Settings, resolve_data

TINY = Settings(reduced_starts=1, reduced_pattern_starts=1, potential_starts=2, temperatures=(0.7, 6.0),
                m_values=(2, 3), counts_starts=1, counts_pattern_starts=3, chains=16, sweeps=30,
                trap_temperatures=(0.3, 0.2), trap_chains=4, trap_updates=5_000, trap_sizes=(6,), trap_size_chains=4,
                frequency_sweeps=100, occupancy_chains=4, occupancy_sweeps=30,
                rare_factors=(1.0, 0.1, 0.01), samples=200, em_iterations=2)


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """8 spins, 3 noisy centres of 40 copies: samples, labels (0, 1, 2) and a relabelling (2 - label)."""
    data, labels = noisy_patterns_dataset(8, 3, 40, 0.1, seed=3)
    folder = tmp_path_factory.mktemp("knowledge")
    path = folder / "data.npz"
    np.savez(path, samples=data.samples, labels=labels, other=2 - labels)
    np.save(folder / "flipped.npy", 2 - labels)
    return path, data, np.asarray(labels)


def test_labels_stored_in_the_npz_are_used_by_default(clusters):
    path, data, labels = clusters
    _, dataset, got = resolve_data(str(path))
    np.testing.assert_array_equal(got, labels)
    np.testing.assert_array_equal(resolve_data(str(path), "other")[2], 2 - labels)  # a key of the file
    np.testing.assert_array_equal(resolve_data(str(path), str(path.parent / "flipped.npy"))[2], 2 - labels)
    assert resolve_data(str(path), "none")[2] is None
    assert resolve_data(data.samples)[2] is None  # a bare array brings no labels


@pytest.mark.parametrize("spec, match", [
    ("missing", "neither an existing file nor an array of the data file"),
    (np.zeros(5, dtype=int), r"shape \(120,\)"),
    (np.full(120, 0.5), "integers"),
])
def test_bad_labels(clusters, spec, match):
    with pytest.raises(ThermopotError, match=match):
        resolve_data(str(clusters[0]), spec)


def test_rare_target_choices(clusters):
    _, data, labels = clusters
    s, w = data.samples, data.weights
    assert resolve_rare_target(None, s, w, labels) is None
    assert resolve_rare_target("class:2", s, w, labels) == (2, "class")
    assert resolve_rare_target("1", s, w, labels) == (1, "class")  # bare, with labels: a class
    assert resolve_rare_target("7", s, w, None) == (7, "pattern")  # bare, without labels: a row
    assert resolve_rare_target("pattern:7", s, w, labels) == (7, "pattern")
    text = "".join("+" if v > 0 else "-" for v in s[11])
    row, by = resolve_rare_target(f"pattern:{text}", s, w, labels)
    assert by == "pattern" and np.array_equal(s[row], s[11]) and row <= 11
    for spec, match in [("class:9", "not among the labels"), ("pattern:500", "outside the data"),
                        ("pattern:++", "8 characters"), ("group:1", "use class:LABEL")]:
        with pytest.raises(ThermopotError, match=match):
            resolve_rare_target(spec, s, w, labels)
    with pytest.raises(ThermopotError, match="no labels"):
        resolve_rare_target("class:1", s, w, None)


def test_cli_end_to_end_labels_rare_target_and_table(clusters, monkeypatch, capsys):
    """The stored labels are used (labelled), --rare-target class:1 lowers class 1 (its base weight is the
    fraction of rows labelled 1), and the table names counts with their starts and fractions."""
    path, _, labels = clusters
    monkeypatch.setattr(pipeline, "QUICK", TINY)
    assert main(["knowledge", "--dataset", str(path), "--rare-target", "class:1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["labelled"] is True
    assert data["rare_target"]["by"] == "class" and data["rare_target"]["target"] == 1
    assert data["rare_target"]["base_weight"] == pytest.approx(np.mean(labels == 1), abs=1e-12)
    assert data["phi_starts"] == TINY.potential_starts and data["retrieval_chains"] == TINY.chains
    assert main(["knowledge", "--dataset", str(path), "--labels", "none", "--rare-target", "pattern:3"]) == 0
    text = capsys.readouterr().out
    assert f"count {data['phi_minima']} (from {TINY.potential_starts} starts)" in text
    assert f"of {TINY.chains} chains" in text and "fraction" in text
    assert "rare target (pattern of row 3)" in text and "of the data weight" in text
