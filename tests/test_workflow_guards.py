"""Workflow guards: compare_with_exact refuses a too-large model before its TAP search; data with fewer
samples than spins (a transposed array) gets a warning naming the shape; an exact fit too large to
enumerate points to pseudo-likelihood and PCD; result objects print readably."""

import json
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import DataWarning, as_dataset, save_dataset, warn_few_samples
from thermopot.errors import SizeError
from thermopot.learning import fit
from thermopot.models import sk
from thermopot.results import Result, brief
from thermopot.solvers import compare, compare_with_exact


def test_compare_with_exact_refuses_before_the_tap_search(monkeypatch):
    """N = 45 (2^45 states) is refused by the landscape guard; find_minima never runs."""
    def no_search(*args, **kwargs):
        raise AssertionError("the TAP search ran before the size check")

    monkeypatch.setattr(compare, "find_minima", no_search)
    with pytest.raises(SizeError, match=r"exact landscape.*N=45"):
        compare_with_exact(sk(45, seed=0), 0.5)
    # the guard does not refuse what fits: a given landscape skips it, a small model runs
    monkeypatch.undo()
    result = compare_with_exact(sk(8, seed=0), 0.5, starts=16)
    assert result.landscape.count >= 1


def _spins(m, n, seed=0):
    return np.where(np.random.default_rng(seed).random((m, n)) < 0.5, -1, 1).astype(np.int8)


def test_transposed_data_warns_with_its_shape():
    x = _spins(200, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(x, "nmf")  # 200 samples of 6 spins: no warning
    with pytest.warns(DataWarning, match=r"shape \(M, N\) = \(6, 20\).*samples\.T"):
        fit(x.T[:, :20], "pseudo", l2=1.0)
    # distinct weighted patterns (the knowledge pipeline's data) are not flagged
    assert not warn_few_samples(as_dataset(_spins(3, 12), weights=[0.5, 0.3, 0.2]))
    assert warn_few_samples.__name__ and not warn_few_samples(as_dataset(x))


def test_exact_fit_too_large_suggests_pseudo_and_pcd(tmp_path, capsys):
    x = _spins(300, 40)
    with pytest.raises(SizeError, match=r"N=40.*method='pseudo'.*method='pcd'"):
        fit(x, "exact")
    path = save_dataset(tmp_path / "d.npz", x)
    assert main(["fit", path, "--method", "exact"]) == 2
    assert "--method pseudo" in capsys.readouterr().err
    small = fit(x, "pseudo")  # the suggested method runs at this N
    assert small.model.n == 40


def test_fit_cli_warns_on_a_transposed_file(tmp_path, capsys):
    """The shape warning of a (5, 8) file reaches the user of `thermopot fit` (every command runs in
    noted_warnings): in the JSON's warnings and on stderr."""
    path = save_dataset(tmp_path / "t.npz", _spins(5, 8))
    assert main(["fit", path, "--method", "pseudo", "--l2", "0.5", "--json"]) == 0
    out, err = capsys.readouterr()
    notes = json.loads(out)["warnings"]
    assert any("(5, 8)" in note for note in notes) and "thermopot: warning:" in err and "(5, 8)" in err


@dataclass(frozen=True)
class _Big(Result):
    basin: np.ndarray
    m: np.ndarray
    T: float
    names: list


def test_result_repr_is_short_for_large_arrays():
    """Arrays over 10 entries appear as shape, dtype, min, max; small ones in full; long lists by length."""
    r = _Big(basin=np.arange(2**16) % 7, m=np.array([0.25, -0.5]), T=0.5, names=["a"] * 40)
    text = repr(r)
    assert text == r.summary() and len(text) < 400
    assert "basin=array(shape=(65536,), dtype=int64, min=0, max=6)" in text
    assert "m=[ 0.25, -0.5 ]" in text and "T=0.5" in text and "names=list of 40 str" in text
    assert brief(np.array([1.0, np.nan] * 8)) == "array(shape=(16,), dtype=float64, min=1, max=1, non-finite=8)"


def test_compare_with_exact_prints_in_a_few_lines():
    """The 2^N basin array of the landscape no longer fills the screen (N = 14: 16384 entries)."""
    result = compare_with_exact(sk(14, seed=2), 0.5, starts=16)
    text = repr(result)
    assert "basin=array(shape=(16384,)" in text and len(text.splitlines()) < 60 and len(text) < 6000
