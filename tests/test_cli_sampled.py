"""The command line of the sampled path: `thermopot logz` against `thermopot enumerate`, and
`thermopot fit --method pcd`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.learning import sample_exact, save_dataset
from thermopot.models import load_model, random_pairwise


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("method", ["ais", "ti"])
def test_logz_agrees_with_enumeration(capsys, method):
    spec = "random:n=10,seed=2"
    exact = _json(capsys, ["enumerate", spec, "--T", "0.8", "--json"])["log_z"]
    data = _json(capsys, ["logz", spec, "--T", "0.8", "--method", method, "--sweeps", "600", "--seed", "1", "--json"])
    assert {"log_z", "log_z_stderr", "method", "seconds", "free_energy"} <= set(data)
    assert data["method"] == method and 0 < data["log_z_stderr"] < 0.05
    assert abs(data["log_z"] - exact) < 4 * data["log_z_stderr"]


def test_logz_bad_input(capsys):
    assert main(["logz", "sk:n=6,seed=0", "--T", "-1"]) == 2
    assert main(["logz", "sk:n=6,seed=0", "--T", "1", "--method", "magic"]) == 2


def test_fit_pcd_writes_the_model(tmp_path, capsys):
    data = sample_exact(random_pairwise(8, seed=1), 500, seed=0)
    path = save_dataset(tmp_path / "d.npz", data[0] if isinstance(data, tuple) else data)
    out = tmp_path / "m.npz"
    result = _json(capsys, ["fit", str(path), "--method", "pcd", "--steps", "300", "--chains", "64", "--seed", "1",
                            "--out", str(out), "--json"])
    assert result["method"] == "pcd" and "exact_moment_mismatch" in result["diagnostics"]
    assert result["diagnostics"]["exact_moment_mismatch"] < 0.05
    np.testing.assert_allclose(load_model(out).J, np.array(result["J"]))
    assert main(["fit", str(path), "--method", "exact", "--chains", "5"]) == 2  # an option exact does not take


def test_fit_takes_a_bundled_data_set_by_name(capsys):
    """`thermopot fit digits` fits the bundled 4x4 digits (no file needed); an unknown name lists the sets."""
    from thermopot.datasets import load_digits
    from thermopot.learning import fit

    result = _json(capsys, ["fit", "digits", "--method", "pseudo", "--json"])
    expected = fit(load_digits(16).dataset, "pseudo").model
    assert result["samples"] == 1797
    np.testing.assert_allclose(np.array(result["h"]), expected.h, atol=1e-10)
    assert main(["fit", "no-such-set", "--method", "pseudo"]) == 2
    assert "not a bundled data set (digits" in capsys.readouterr().err


def test_fit_pcd_takes_the_averaging_fraction_and_a_tempering_ladder(tmp_path, capsys):
    """--average, --tempering and --precondition reach fit_pcd (its options in the JSON) and the result still matches the
    exact moments; a ladder that is not a list of numbers, or does not start at 1, is refused."""
    data = sample_exact(random_pairwise(8, seed=1), 500, seed=0)
    path = save_dataset(tmp_path / "d.npz", data[0] if isinstance(data, tuple) else data)
    result = _json(capsys, ["fit", str(path), "--method", "pcd", "--steps", "300", "--chains", "64", "--seed", "1",
                            "--average", "0.3", "--tempering", "1,1.5", "--precondition", "none", "--json"])
    assert result["options"]["average"] == 0.3 and result["options"]["tempering"] == [1.0, 1.5]
    assert result["options"]["precondition"] == "none" and result["options"]["learning_rate"] == 0.05
    assert result["diagnostics"]["exact_moment_mismatch"] < 0.05
    assert main(["fit", str(path), "--method", "pcd", "--tempering", "1,hot"]) == 2
    assert "comma-separated temperatures" in capsys.readouterr().err
    assert main(["fit", str(path), "--method", "pcd", "--steps", "10", "--tempering", "1.2,2"]) == 2
    assert main(["fit", str(path), "--method", "pcd", "--steps", "10", "--average", "2"]) == 2


def test_logz_ti_names_a_ladder_that_does_not_mix(capsys):
    """TI on 3 temperatures from T = 0.4 (Hopfield N = 16, 3 patterns): the pair (0.4, 1.973) swaps about 2 %
    of the time (< LOW_SWAP_RATE); the JSON's warnings and stderr name both temperatures. 24 temperatures:
    no warning, and log Z within 4 standard errors of enumeration."""
    spec = "hopfield:n=16,p=3,seed=1"
    exact = _json(capsys, ["enumerate", spec, "--T", "0.4", "--json"])["log_z"]
    assert main(["logz", spec, "--T", "0.4", "--method", "ti", "--steps", "3", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert len(data["warnings"]) == 1 and "between T = 0.4 and T = 1.973" in data["warnings"][0]
    assert "thermopot: warning: parallel tempering: swap rate" in captured.err
    fine = _json(capsys, ["logz", spec, "--T", "0.4", "--method", "ti", "--json"])
    assert fine["warnings"] == [] and abs(fine["log_z"] - exact) < 4 * fine["log_z_stderr"]


def test_noted_warnings_collects_user_warnings_and_passes_the_others_on(capsys):
    """The command's warning helper: a UserWarning lands in the notes once (raised twice) and on stderr as
    `thermopot: warning: ...`, also when the block raises; a RuntimeWarning is not a note but is shown as
    Python shows it."""
    import warnings

    from thermopot.cli.command import noted_warnings

    with pytest.warns(RuntimeWarning, match="overflow here"):
        with pytest.raises(ValueError):
            with noted_warnings() as notes:
                warnings.warn("the ladder does not mix", UserWarning)
                warnings.warn("the ladder does not mix", UserWarning)
                warnings.warn("overflow here", RuntimeWarning)
                raise ValueError("refused")
    assert notes == ["the ladder does not mix"]
    assert capsys.readouterr().err.count("thermopot: warning: the ladder does not mix") == 1


def test_fit_json_carries_the_fits_own_warnings(capsys, tmp_path):
    """Every command runs in noted_warnings (cli.main): thermopot's own RuntimeWarning subclasses (a fit's
    BoundaryWarning) are notes like UserWarnings: in the JSON's warnings and on stderr as
    `thermopot: warning: ...`, not as Python's raw `file:line: BoundaryWarning` (stop 23's finding); a fit
    without one has an empty list. Columns 1 and 2 are equal, so (s1, s2) = (+1, -1) never occurs."""
    from thermopot.cli.command import is_note
    from thermopot.learning.result import BoundaryWarning, ConvergenceWarning

    rng = np.random.default_rng(0)
    s = np.where(rng.random((200, 5)) < 0.5, 1, -1).astype(np.int8)
    np.savez(tmp_path / "clean.npz", samples=s)
    s[:, 2] = s[:, 1]
    np.savez(tmp_path / "bound.npz", samples=s)
    assert main(["fit", str(tmp_path / "bound.npz"), "--method", "exact", "--json"]) == 0
    out, err = capsys.readouterr()
    bound = json.loads(out)
    assert bound["boundary_pairs"] == 1 and len(bound["warnings"]) == 1
    assert "spins 1 and 2" in bound["warnings"][0] and "regularise" in bound["warnings"][0]
    assert f"thermopot: warning: {bound['warnings'][0]}" in err and "BoundaryWarning" not in err
    assert _json(capsys, ["fit", str(tmp_path / "clean.npz"), "--method", "exact", "--json"])["warnings"] == []
    assert is_note(BoundaryWarning) and is_note(ConvergenceWarning) and is_note(UserWarning)
    assert not is_note(RuntimeWarning) and not is_note(DeprecationWarning)
