"""Bad input on the command line (the B1 audit): every case gives exit 2, one line ``thermopot: error: ...``
on stderr naming the problem, nothing on stdout and no traceback; and a good --out path is honoured."""

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from thermopot.checks import MIN_TEMPERATURE, check_temperature
from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.models import load_model, resolve_model


def _fails(capsys, argv, *words):
    """Run the CLI on ``argv``; assert the bad-input contract and that the message holds every word."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thermopot: error: "), captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _data(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _spins(m=40, n=4, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(m, n))


# --- model generator specs -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, words", [
    ("sk:n=4,seed=-1", ("seed", ">= 0", "-1")),                       # was a NumPy ValueError traceback
    ("hopfield:n=6,p=2,seed=-5", ("seed", "-5")),
    ("random:n=4,h_std=-1", ("h_std", ">= 0")),                      # was a NumPy ValueError traceback
    ("random:n=4,j_std=nan", ("j_std", "nan")),
    ("multispin:n=4,scale=-1", ("scale", ">= 0")),                   # was a NumPy ValueError traceback
    ("sk:n=3,n=4", ("n", "given twice")),                            # was silently N = 4
    ("sk:n=-3", ("at least 1 spin", "-3")),
    ("multispin:n=40,order=40,terms=5", ("candidate subsets", "order")),  # was a hang listing 2^40 subsets
    ("multispin:n=3000,order=3,terms=5", ("at most 62", "3000")),        # was a hang
])
def test_bad_generator_specs(spec, words, capsys):
    _fails(capsys, ["enumerate", spec, "--T", "1"], *words)


def test_seed_zero_and_good_std_still_work():
    assert resolve_model("sk:n=5,seed=0").n == 5
    np.testing.assert_array_equal(resolve_model("random:n=4,seed=2,h_std=0").h, np.zeros(4))
    assert resolve_model("multispin:n=8,order=3,terms=5,seed=1").order <= 3


# --- model files -----------------------------------------------------------------------------------------

def test_complex_couplings_are_refused_not_truncated(tmp_path, capsys):
    path = _data(tmp_path, "c.npz", h=np.zeros(2), J=np.array([[0, 1j], [1j, 0]]))
    _fails(capsys, ["enumerate", path, "--T", "1"], "J must be real", "complex")


def test_corrupt_archive_member(tmp_path, capsys):
    import zipfile
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("J.npy", b"not an array")
    _fails(capsys, ["landscape", path], "corrupt", "'J'")  # was AttributeError: 'bytes' object has no 'ndim'


@pytest.mark.parametrize("content", [b"a text file renamed .npz\n", b"\x93NUMPY a .npy file"])
def test_file_that_is_not_a_zip(content, tmp_path, capsys):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    _fails(capsys, ["enumerate", path, "--T", "1"], "not a readable .npz file", "not a zip archive")


def test_directory_as_model_file(tmp_path, capsys):
    _fails(capsys, ["enumerate", tmp_path, "--T", "1"], "is a directory")


def test_asymmetric_message_shows_plain_numbers(tmp_path, capsys):
    path = _data(tmp_path, "a.npz", h=np.zeros(2), J=np.array([[0.0, 1.5], [2.5, 0.0]]))
    line = _fails(capsys, ["enumerate", path, "--T", "1"], "symmetric", "1.5", "2.5")
    assert "np.float64" not in line


# --- temperatures ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["enumerate", "sk:n=3,seed=0", "--T", "1e-320"],          # was NaN
                                  ["enumerate", "sk:n=3,seed=0", "--T", "1e-300"],          # was C = NaN
                                  ["minima", "sk:n=4,seed=0", "--T", "1e-300", "--starts", "2"],  # OverflowError
                                  ["sample", "sk:n=4,seed=0", "--T", "1e-300", "--sweeps", "4"],
                                  ["landscape", "sk:n=4,seed=0", "--T", "1e-100"]])
def test_temperature_below_float64_range(argv, capsys):
    _fails(capsys, argv, "smallest supported T")


def test_smallest_temperature_gives_finite_results(capsys):
    check_temperature(MIN_TEMPERATURE)
    with pytest.raises(ThermopotError, match="smallest supported"):
        check_temperature(MIN_TEMPERATURE / 2)
    assert main(["enumerate", "sk:n=4,seed=0", "--T", str(MIN_TEMPERATURE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    states = np.array(list(itertools.product((-1, 1), repeat=4)))
    ground = float(resolve_model("sk:n=4,seed=0").energy(states).min())
    assert np.isfinite([data["log_z"], data["free_energy"], data["energy"], data["heat_capacity"]]).all()
    assert data["energy"] == pytest.approx(ground, rel=1e-12)
    assert data["free_energy"] == pytest.approx(ground, rel=1e-12)


# --- integer options -------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, option", [
    (["sample", "sk:n=4,seed=0", "--T", "1", "--sweeps", "4", "--seed", "-1"], "--seed"),  # was a traceback
    (["minima", "sk:n=4,seed=0", "--T", "1", "--seed", "-1"], "--seed"),                   # was a traceback
    (["validate", "--only", "thermodynamics", "--seed", "-1"], "--seed"),
    (["knowledge", "--seed", "-1"], "--seed"),
    (["entropic", "--seed", "-2"], "--seed"),
    (["sample", "sk:n=4,seed=0", "--T", "1", "--sweeps", "4", "--burn-in", "-1"], "--burn-in"),
    (["landscape", "sk:n=4,seed=0", "--limit", "-1"], "--limit"),  # was silently no rows
    (["minima", "sk:n=4,seed=0", "--T", "1", "--limit", "x"], "--limit"),
])
def test_negative_integer_options(argv, option, capsys):
    _fails(capsys, argv, option, ">= 0")


def test_time_limit_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "abc")  # was a ValueError traceback
    _fails(capsys, ["enumerate", "sk:n=3,seed=0", "--T", "1"], "THERMOPOT_MAX_SECONDS", "abc")
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "nan")  # was silently no limit
    _fails(capsys, ["enumerate", "sk:n=3,seed=0", "--T", "1"], "THERMOPOT_MAX_SECONDS", "nan")


# --- fit: data files and --out ---------------------------------------------------------------------------

def test_complex_samples_and_weights(tmp_path, capsys):
    s = _spins()
    _fails(capsys, ["fit", _data(tmp_path, samples=s.astype(complex))], "samples must be real", "complex")
    _fails(capsys, ["fit", _data(tmp_path, samples=s, weights=np.ones(len(s), dtype=complex))],
           "weights must be real", "complex")


def test_negative_weight_message_shows_plain_number(tmp_path, capsys):
    line = _fails(capsys, ["fit", _data(tmp_path, samples=_spins(), weights=-np.ones(40))], "weights", ">= 0", "-1.0")
    assert "np.float64" not in line


def test_fit_out_is_a_directory_or_in_a_missing_folder(tmp_path, capsys):
    data = _data(tmp_path, samples=_spins())
    _fails(capsys, ["fit", data, "--out", tmp_path], "is a directory")  # was written silently to <dir>.npz
    assert not (tmp_path.parent / (tmp_path.name + ".npz")).exists()
    _fails(capsys, ["fit", data, "--out", tmp_path / "no" / "m.npz"], "folder", "does not exist")


def test_fit_out_without_suffix_reports_the_file_written(tmp_path, capsys):
    data = _data(tmp_path, samples=_spins())
    assert main(["fit", str(data), "--method", "nmf", "--out", str(tmp_path / "model"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    written = tmp_path / "model.npz"
    assert info["model_file"] == str(written)
    model = load_model(written)
    np.testing.assert_array_equal(model.J, np.array(info["J"]))
    np.testing.assert_array_equal(model.h, np.array(info["h"]))


# --- the process as a whole ------------------------------------------------------------------------------

def test_former_traceback_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "thermopot.cli", "enumerate", "sk:n=4,seed=-1", "--T", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("thermopot: error: ")
    assert "Traceback" not in proc.stderr and "seed" in proc.stderr
