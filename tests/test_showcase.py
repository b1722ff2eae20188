"""The showcase sweeps of docs/showcase/ at tiny sizes: the sweep-to-figure path against brute force and
against what the Hopfield model must do far from its transitions."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from thermopot.models import resolve_model

pytest.importorskip("distributed")
SHOWCASE = Path(__file__).resolve().parents[1] / "docs" / "showcase"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, SHOWCASE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stable_count(spec: str) -> int:
    """Brute force: states where every single flip raises the energy."""
    model = resolve_model(spec)
    s = np.array(list(itertools.product([-1.0, 1.0], repeat=model.n)))
    e = np.asarray(model.energy(s))
    raised = [np.asarray(model.energy(s * np.where(np.arange(model.n) == k, -1.0, 1.0))) > e
              for k in range(model.n)]
    return int(np.all(raised, axis=0).sum())


def test_sk_stable_states_sweep_equals_brute_force_counts(tmp_path):
    sk = _script("sk_stable_states")
    out = sk.main(["--out", str(tmp_path / "rows"), "--workers", "1", "--instances", "12", "--sizes", "4,6",
                   "--figure", str(tmp_path / "sk.png")])
    for n, log_mean in zip(out["sizes"], out["log_mean_count"]):
        assert log_mean == pytest.approx(np.log(np.mean([_stable_count(f"sk:n={n},seed={s}") for s in range(12)])),
                                         rel=1e-12)
    slope = (out["log_mean_count"][1] - out["log_mean_count"][0]) / 2  # two sizes: the fit is the chord
    assert out["slope"] == pytest.approx(slope, rel=1e-9)
    assert out["failed_tasks"] == 0 and (tmp_path / "sk.png").stat().st_size > 0


def test_hopfield_retrieval_far_from_the_transitions(tmp_path):
    """Two patterns of N = 40 (alpha = 0.05): retrieved at T = 0.2, not above T = 1 (the paramagnet)."""
    hop = _script("hopfield_retrieval")
    assert hop.retrieval(40, 2, 0.2, seed=0)["retrieved"] == 1.0
    assert hop.retrieval(40, 2, 1.3, seed=0)["retrieved"] == 0.0
    out = hop.main(["--out", str(tmp_path / "rows"), "--workers", "1", "--n", "20", "--seeds", "1", "--loads", "2",
                    "--temperatures", "2", "--figure", str(tmp_path / "hop.png")])
    assert out["failed_tasks"] == 0 and (tmp_path / "hop.png").stat().st_size > 0
    assert np.array(out["retrieved"]).shape == (len(out["p"]), len(out["T"]))


def test_escape_vs_n_sweep_agrees_with_one_by_one_runs(tmp_path):
    """The sweep's per-N averages are the instances run one by one, and its slope is the weighted fit of them;
    the slope helper recovers a known line and the verdict follows its sign rule."""
    esc = _script("escape_vs_n")
    out = esc.main(["--out", str(tmp_path / "rows"), "--workers", "1", "--sizes", "6,8", "--instances", "3",
                    "--chains", "8", "--updates", "20000", "--figure", str(tmp_path / "esc.png")])
    assert out["failed_tasks"] == 0 and (tmp_path / "esc.png").stat().st_size > 0
    for n, mean in zip(out["sizes"], out["log_tau"]):
        direct = [np.log(esc.escape(n, s, chains=8, updates=20000)["tau"]) for s in range(3)]
        assert mean == pytest.approx(np.mean(direct), rel=1e-12)
    x = np.array([8.0, 10.0, 12.0, 14.0])
    s, se = esc.slope(x, 0.3 * x + 1.0, np.full(4, 0.1))
    assert s == pytest.approx(0.3, rel=1e-12) and se == pytest.approx(0.1 / np.sqrt(20.0), rel=1e-12)
    assert esc.verdict(0.3, 0.1) == "supported" and esc.verdict(-0.3, 0.1) == "not supported"
    assert esc.verdict(0.1, 0.1) == "inconclusive at these sizes"
