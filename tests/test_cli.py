"""The `thermopot` command line: JSON fields and values equal to the Python API, plain output, bad input
(exit 2, one line on stderr, no traceback), validate and bench."""

import json
import subprocess
import sys

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.exact import thermodynamics
from thermopot.landscape import local_minima
from thermopot.models import resolve_model, save_model

ENUMERATE_FIELDS = {"n", "T", "log_z", "free_energy", "energy", "entropy", "heat_capacity", "magnetization",
                    "correlation", "backend", "seconds"}


def _run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    assert len(out.strip().splitlines()) == 1, "--json prints exactly one line on stdout"
    return json.loads(out)


def test_enumerate_json_matches_python_api(capsys):
    spec = "random:n=9,seed=4"
    data = _run_json(capsys, ["enumerate", spec, "--T", "0.7", "--json", "--backend", "numpy"])
    assert ENUMERATE_FIELDS <= set(data)
    th = thermodynamics(resolve_model(spec), 0.7, backend="numpy")
    assert data["n"] == 9 and data["T"] == 0.7 and data["backend"] == "numpy"
    for key in ("log_z", "free_energy", "energy", "entropy", "heat_capacity"):
        assert data[key] == pytest.approx(getattr(th, key), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(data["magnetization"], th.magnetization, atol=1e-12)
    corr = np.array(data["correlation"])
    np.testing.assert_allclose(corr, th.correlation, atol=1e-12)
    assert corr.shape == (9, 9) and np.all(np.diag(corr) == 1.0)


def test_enumerate_block_size_and_model_file(capsys, tmp_path):
    model = resolve_model("sk:n=7,seed=2")
    path = tmp_path / "model.npz"
    save_model(path, model)
    small = _run_json(capsys, ["enumerate", str(path), "--T", "1.3", "--json", "--block-size", "16"])
    big = _run_json(capsys, ["enumerate", "sk:n=7,seed=2", "--T", "1.3", "--json"])
    assert small["log_z"] == pytest.approx(big["log_z"], rel=1e-13)
    np.testing.assert_allclose(small["correlation"], big["correlation"], atol=1e-13)


def test_enumerate_plain_output(capsys):
    assert main(["enumerate", "curie-weiss:n=6,j=1", "--T", "2"]) == 0
    out = capsys.readouterr().out
    th = thermodynamics(resolve_model("curie-weiss:n=6,j=1"), 2.0)
    assert "N = 6 spins" in out and "log Z" in out and f"{th.log_z:.10g}" in out
    assert not out.lstrip().startswith("{")


def test_landscape_json_matches_python_api(capsys):
    spec = "hopfield:n=10,p=2,seed=1"
    data = _run_json(capsys, ["landscape", spec, "--T", "0.5", "--json"])
    land = local_minima(resolve_model(spec), T=0.5)
    assert data["count"] == land.count >= 2
    assert len(data["minima"]) == len(land.energies)
    for row, state, energy, size, f, m in zip(data["minima"], land.states, land.energies, land.basin_size,
                                              land.free_energy, land.magnetization):
        assert set(row) >= {"state", "energy", "basin_size", "free_energy", "magnetization"}
        assert row["state"] == state.tolist() and set(row["state"]) <= {-1, 1}
        assert row["energy"] == pytest.approx(energy, abs=1e-12)
        assert row["basin_size"] == size
        assert row["free_energy"] == pytest.approx(f, abs=1e-12)
        np.testing.assert_allclose(row["magnetization"], m, atol=1e-12)
    assert sum(r["basin_size"] for r in data["minima"]) == 2**10


def test_landscape_without_temperature(capsys):
    data = _run_json(capsys, ["landscape", "curie-weiss:n=8", "--json"])
    assert data["count"] == 2 and "free_energy" not in data["minima"][0]
    assert main(["landscape", "curie-weiss:n=8", "--T", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 strict single-flip minima" in out and "++++++++" in out and "--------" in out


def _corrupt(tmp_path):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"this is not a zip file")
    return str(path)


def _asymmetric(tmp_path):
    path = tmp_path / "asym.npz"
    J = np.array([[0.0, 1.0], [2.0, 0.0]])
    np.savez(path, h=np.zeros(2), J=J)
    return str(path)


def _incomplete(tmp_path):
    path = tmp_path / "incomplete.npz"
    np.savez(path, h=np.zeros(3))
    return str(path)


BAD_INPUT = {
    "unknown generator": (lambda p: ["enumerate", "nosuch:n=3", "--T", "1"], "unknown model generator"),
    "bad spec parameter": (lambda p: ["enumerate", "sk:n=4,zeta=1", "--T", "1"], "bad parameter"),
    "negative temperature": (lambda p: ["enumerate", "sk:n=4", "--T", "-1"], "T"),
    "zero temperature": (lambda p: ["landscape", "sk:n=4", "--T", "0"], "T"),
    "temperature not a number": (lambda p: ["enumerate", "sk:n=4", "--T", "abc"], "invalid float"),
    "missing temperature": (lambda p: ["enumerate", "sk:n=4"], "--T"),
    "missing file": (lambda p: ["enumerate", str(p / "none.npz"), "--T", "1"], "does not exist"),
    "corrupt file": (lambda p: ["enumerate", _corrupt(p), "--T", "1"], "not a readable"),
    "asymmetric J": (lambda p: ["enumerate", _asymmetric(p), "--T", "1"], "symmetric"),
    "incomplete file": (lambda p: ["landscape", _incomplete(p)], "needs"),
    "too many spins": (lambda p: ["enumerate", "sk:n=60", "--T", "1"], "N=60"),
    "unknown backend": (lambda p: ["enumerate", "sk:n=4", "--T", "1", "--backend", "fortran"], "backend"),
    "bad block size": (lambda p: ["enumerate", "sk:n=4", "--T", "1", "--block-size", "0"], "--block-size"),
    "unknown command": (lambda p: ["frobnicate"], "invalid choice"),
    "no command": (lambda p: [], "required"),
    "unknown validation": (lambda p: ["validate", "--only", "nosuch", "--out", str(p / "r")], "nosuch"),
    "unknown benchmark": (lambda p: ["bench", "--only", "nosuch"], "nosuch"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    argv, words = BAD_INPUT[case]
    code = main(argv(tmp_path))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thermopot: error: ")
    assert words in lines[0]
    assert "Traceback" not in captured.err


def test_bad_input_in_a_subprocess_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "thermopot.cli", "enumerate", "sk:n=4", "--T", "-2", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("thermopot: error: ")
    assert "Traceback" not in proc.stderr


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("enumerate", "landscape", "validate", "bench"):
        assert name in out


def test_validate_quick_thermodynamics(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code = main(["validate", "--quick", "--only", "thermodynamics", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0
    results = json.loads((out_dir / "results.json").read_text())
    assert results["passed"] is True and results["count"] >= 20 and results["failed"] == 0
    assert {"name", "theory", "exact", "difference", "tolerance", "verdict"} <= set(results["checks"][0])
    md = (out_dir / "report.md").read_text()
    assert md.count("| pass |") == results["count"]
    figures = sorted(p.name for p in (out_dir / "figures").glob("*.png"))
    assert len(figures) >= 2 and all(f"figures/{f}" in md for f in figures)
    assert f"{results['count']} of {results['count']} checks pass" in out


def test_bench_quick_json(capsys):
    data = _run_json(capsys, ["bench", "--quick", "--json", "--only", "enumeration,minima"])
    assert data["quick"] is True and "cpu" in data["machine"]
    rows = data["rows"]
    assert rows and all({"name", "value", "unit", "backend", "note"} <= set(r) for r in rows)
    assert any(r["name"].startswith("speed-up") for r in rows)
    assert all(r["value"] > 0 for r in rows)
    floors = [r for r in rows if "floor" in r]  # the engine against the exp floor measured in the same run
    assert floors and all(r["floor"] > 0 and r["floor_name"] for r in floors)


def test_bench_rows_show_the_ratio_to_their_floor():
    from thermopot.cli.bench import floor_ratio

    assert floor_ratio({"value": 30.0, "floor": 120.0, "floor_name": "exp floor"}) == "0.25 x exp floor"
    assert floor_ratio({"value": 30.0, "unit": "s"}) == ""


def test_minima_json_matches_python_api(capsys):
    from thermopot.solvers import find_minima

    data = _run_json(capsys, ["minima", "curie-weiss:n=20", "--T", "0.5", "--method", "nmf", "--starts", "16",
                              "--seed", "3", "--json"])
    assert {"count", "minima", "saddles", "starts", "seconds"} <= set(data)
    assert data["count"] == 2 and data["starts"] == 16
    assert {"m", "free_energy", "hessian_min_eig", "plefka_valid", "basin_fraction"} <= set(data["minima"][0])
    res = find_minima(resolve_model("curie-weiss:n=20"), 0.5, method="nmf", starts=16, seed=3)
    np.testing.assert_allclose([row["m"] for row in data["minima"]], res.points[res.is_minimum], atol=1e-12)


def test_sample_json_fields(capsys):
    data = _run_json(capsys, ["sample", "random:n=6,seed=1", "--T", "1", "--chains", "8", "--sweeps", "50",
                              "--json"])
    assert {"magnetization", "magnetization_stderr", "energy", "energy_stderr", "tau_int", "seconds"} <= set(data)
    assert len(data["magnetization"]) == 6


@pytest.mark.parametrize("argv", [["minima", "sk:n=8,seed=0", "--T", "0.5", "--method", "tap9"],
                                  ["minima", "sk:n=8,seed=0", "--T", "-1"],
                                  ["sample", "sk:n=8,seed=0", "--T", "0", "--chains", "4"]])
def test_minima_and_sample_bad_input(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("thermopot: error:") and len(err.strip().splitlines()) == 1
