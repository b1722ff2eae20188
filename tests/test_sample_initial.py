"""`thermopot sample --initial FILE.npz` and the warning for runs shorter than 50 autocorrelation times."""

import json
import warnings

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.landscape import local_minima
from thermopot.models import PairwiseModel, curie_weiss
from thermopot.sampling import MIN_RUN_TAUS, ShortRunWarning, sample
from thermopot.sampling import load_initial_states
from thermopot.sampling.statistics import short_run_message


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_initial_state_keeps_chains_in_its_basin(tmp_path, capsys):
    """Curie-Weiss N = 10 at T = 0.3: chains started in the all -1 state stay in its basin (no flip of
    the whole system in 300 sweeps) and their magnetisation equals the exact per-basin <s>_a of that
    basin within 5 standard errors; started in all +1 they give the mirror image."""
    n, T = 10, 0.3
    land = local_minima(curie_weiss(n), T=T)
    for sign in (-1, 1):
        path = tmp_path / f"start{sign}.npz"
        np.savez(path, states=np.full(n, sign, dtype=np.int8))
        data = _json(capsys, ["sample", "curie-weiss:n=10", "--T", str(T), "--sweeps", "300", "--chains", "8",
                              "--initial", str(path), "--json"])
        basin = int(np.argmax(land.states.sum(axis=1) * sign))  # the all-sign state
        want = land.magnetization[basin]
        assert np.all(np.sign(want) == sign)
        err = np.maximum(np.array(data["magnetization_stderr"]), 1e-3)
        assert np.all(np.abs(np.array(data["magnetization"]) - want) < 5 * err)
        assert data["chains"] == 8 and data["initial"] == str(path)


def test_one_state_per_chain_sets_the_chain_count(tmp_path, capsys):
    rng = np.random.default_rng(0)
    states = np.where(rng.random((5, 6)) < 0.5, -1, 1)
    path = tmp_path / "chains.npz"
    np.savez(path, states)  # its only array
    data = _json(capsys, ["sample", "random:n=6,seed=1", "--T", "1", "--sweeps", "50", "--initial", str(path),
                          "--json"])
    assert data["chains"] == 5
    assert main(["sample", "random:n=6,seed=1", "--T", "1", "--sweeps", "50", "--chains", "4",
                 "--initial", str(path)]) == 2
    assert "5 chains but chains = 4" in capsys.readouterr().err


@pytest.mark.parametrize("array, match", [
    (np.ones(7), r"7 spins .* N = 6"),
    (np.ones((2, 2, 6)), r"shape \(N,\) or \(chains, N\)"),
    (np.array([0, 1, 1, 0, 1, 0]), r"only \+1 and -1, found \[0, 1\]"),
    (np.full(6, 0.4), r"magnetisations .*np.where\(m >= 0, 1, -1\)"),
])
def test_initial_file_is_validated(tmp_path, array, match):
    path = tmp_path / "bad.npz"
    np.savez(path, initial=array)
    with pytest.raises(ThermopotError, match=match):
        load_initial_states(path, 6)


def test_initial_file_needs_a_known_key_when_it_holds_several(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.ones(3), b=np.ones(3))
    with pytest.raises(ThermopotError, match="store the states as one of initial"):
        load_initial_states(path, 3)
    np.savez(path, a=np.ones(3), spins=-np.ones(3))
    np.testing.assert_array_equal(load_initial_states(path, 3), -np.ones(3))


def test_short_run_message_threshold():
    """The issue's case: tau = 882 sweeps in a 2000-sweep run is flagged; 50 tau is the boundary."""
    text = short_run_message(2000, {"energy": 882.0, "magnetization": 10.0})
    assert "2000 recorded sweeps are 2.27 integrated autocorrelation times of the energy" in text
    assert "at least 44100 sweeps" in text
    assert short_run_message(50 * 882, {"energy": 882.0}) is None
    assert short_run_message(50 * 882 - 1, {"energy": 882.0}) is not None
    assert short_run_message(10, {"energy": float("nan")}) is None and MIN_RUN_TAUS == 50


def test_sample_warns_on_short_runs_only():
    """Independent spins (J = 0): tau_int = 1/2 sweep, so 20 sweeps (40 tau) warn and 400 do not."""
    free = PairwiseModel(np.full(4, 0.3), np.zeros((4, 4)))
    with pytest.warns(ShortRunWarning, match="20 recorded sweeps"):
        sample(free, 1.0, chains=16, sweeps=20, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortRunWarning)
        res = sample(free, 1.0, chains=16, sweeps=400, seed=0)
    assert res.tau_int["energy"] < 400 / MIN_RUN_TAUS


def test_cli_reports_short_runs(capsys):
    data = _json(capsys, ["sample", "random:n=5,seed=2", "--T", "1", "--sweeps", "10", "--json"])
    assert data["short_run"] is True and "recorded sweeps" in data["warnings"][0]
    assert main(["sample", "random:n=5,seed=2", "--T", "1", "--sweeps", "10"]) == 0
    assert "WARNING: the run is short" in capsys.readouterr().out
