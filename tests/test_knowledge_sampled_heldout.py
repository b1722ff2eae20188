"""The sampled remedy held out (``_heldout_rows``): the mean log-likelihood per held-out sample of the single
model and of the mixture, and the paired gain mixture - single with its standard error, against enumeration
of the same models (N = 12) and against the spread of the gain over replicates; the shared formula
(``sampled_errors.mean_with_error``) against a Monte Carlo of its own estimator."""

from __future__ import annotations

import dataclasses
import json
import re
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from thermopot.cli import main
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.knowledge import pipeline
from thermopot.knowledge import sampled_errors
from thermopot.knowledge import sampled_pipeline as sp
from thermopot.knowledge.pipeline import run_knowledge
from thermopot.knowledge.sampled_errors import mean_with_error
from thermopot.learning import Dataset
from thermopot.states import all_states

from test_knowledge_sampled_pipeline import SMALL

HELD = dataclasses.replace(SMALL, holdout=0.25, em_prune=False)


def _run(settings=HELD, remedy=None):
    """The sampled pipeline on the planted clusters (N = 12, 4 classes, 400 samples) with the EM's result
    recorded; ``remedy`` replaces ``_remedy`` (an injected mistake)."""
    seen = {}
    original = sp.sampled_mixture

    def recording(*args, **kwargs):
        seen["em"] = original(*args, **kwargs)
        return seen["em"]

    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mp.setattr(sp, "sampled_mixture", recording)
        if remedy is not None:
            mp.setattr(sp, "_remedy", remedy)
        run = run_knowledge("clusters", method="sampled", settings=settings, progress=False)
    return run, seen["em"]


@pytest.fixture(scope="module")
def held():
    return _run()


def _exact_log_p(models, weights, samples) -> np.ndarray:
    """log p(x) of a mixture from the enumerated log Z of each component (T = 1)."""
    x = samples.astype(float)
    return logsumexp(np.stack([np.log(w) - np.asarray(m.energy(x)) - thermodynamics(m, 1.0, progress=False).log_z
                               for m, w in zip(models, weights)], axis=1), axis=1)


def _z_scores(run, em) -> dict:
    """(estimate - exact) / (its error from log Z alone) of the held-out rows, the exact value being the same
    models evaluated on the run's held-out samples with enumerated log Z's."""
    r, held = run.steps["remedy"], run.heldout
    p = held.probabilities
    single = _exact_log_p([run.model], [1.0], held.samples)
    mixture = _exact_log_p(em.models, em.weights, held.samples)
    z_single, z_mix = r["heldout_log_z_stderr_single"], r["heldout_log_z_stderr_mixture"]
    return {"single": (r["heldout_log_likelihood_single"] - p @ single) / z_single,
            "mixture": (r["heldout_log_likelihood_mixture"] - p @ mixture) / z_mix,
            "gain": (r["remedy_heldout_gain"] - p @ (mixture - single)) / np.hypot(z_single, z_mix)}


def test_heldout_rows_match_enumeration_of_the_same_models(held):
    run, em = held
    s, r = run.summary(), run.steps["remedy"]
    assert s["mixture_components"] == 4 and r["heldout_samples"] == 100 == run.heldout.size
    z = _z_scores(run, em)
    assert max(abs(v) for v in z.values()) < 3, z
    # the single model's row is the likelihood step's held-out value (the same log Z, no second AIS)
    assert s["heldout_log_likelihood_single"] == pytest.approx(s["log_likelihood_heldout"], abs=1e-12)
    # the reported errors hold the log Z part and the spread over the 100 held-out samples
    for row, part in (("heldout_log_likelihood_single", "heldout_log_z_stderr_single"),
                      ("heldout_log_likelihood_mixture", "heldout_log_z_stderr_mixture")):
        assert s[f"{row}_stderr"] > r[part] > 0
    assert s["remedy_heldout_gain_stderr"] > np.hypot(r["heldout_log_z_stderr_single"],
                                                      r["heldout_log_z_stderr_mixture"])
    assert "remedy_heldout_gain" not in s["not_computed"]
    json.dumps(run.to_dict())


def test_enumeration_check_catches_rows_evaluated_on_the_training_samples(held):
    """The injected mistake: the held-out rows computed on the training samples (where the mixture is
    favoured); against the exact held-out values this is many log Z errors off."""
    original = sp._remedy

    def on_training(train, *args, heldout=None, **kwargs):
        return original(train, *args, heldout=train, **kwargs)

    run, em = _run(remedy=on_training)
    assert max(abs(v) for v in _z_scores(run, em).values()) > 3


def _gain_replicates(held, replicates: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(gain, its reported se) over replicates, each with a fresh held-out set of 400 samples drawn from the
    single model's exact distribution and fresh AIS estimates of every log Z (16 chains, 20 steps: log Z
    errors about as large as the spread over the samples)."""
    run, em = held
    states = np.asarray(all_states(12), dtype=np.int8)
    log_w = -np.asarray(run.model.energy(states.astype(float)))
    prob = np.exp(log_w - logsumexp(log_w))
    models = list(em.models)
    gains, errors = [], []
    for i in range(replicates):
        held_out = Dataset(states[rng.choice(states.shape[0], size=400, p=prob)], np.ones(400))
        z = [sp._log_z(m, 1.0, 16, 20, 1000 + 50 * i + c, None) for c, m in enumerate([run.model, *models])]
        rows = sp._heldout_rows(held_out, run.model, z[0], models, em.weights, z[1:], 1.0, False)
        gains.append(rows["remedy_heldout_gain"]), errors.append(rows["remedy_heldout_gain_stderr"])
    return np.array(gains), np.array(errors)


REPLICATES = 40


def _spread_ratio(held) -> float:
    """sd of the gain over the replicates / the rms of its reported se (1 when the se is right; sampling
    error of the sd over 40 replicates about 11 %)."""
    gains, errors = _gain_replicates(held, REPLICATES, np.random.default_rng(7))
    return float(gains.std(ddof=1) / np.sqrt(np.mean(errors**2)))


def test_gain_error_matches_its_spread_over_replicates(held):
    assert 0.7 < _spread_ratio(held) < 1.4


def test_spread_check_catches_a_gain_error_without_the_log_z_errors(held, monkeypatch):
    original = sampled_errors.mean_with_error
    monkeypatch.setattr(sp, "mean_with_error", lambda v, w=None, *, log_z_errors=(): original(v, w))
    assert _spread_ratio(held) > 1.4


def test_a_mixture_that_is_the_single_model_gains_exactly_nothing(tmp_path, monkeypatch, capsys):
    """EM prunes 45 training samples of N = 12 (78 couplings and fields per component) down to one component:
    the mixture is the single model, its held-out rows are the single model's and the gain is 0 +- 0; the CLI
    table has the row, and without a held-out split the rows are None with the reason."""
    data, _ = noisy_patterns_dataset(12, 3, 20, 0.1, seed=2)
    path = tmp_path / "few.npz"
    np.savez(path, samples=data.samples)
    monkeypatch.setattr(pipeline, "SAMPLED_QUICK", dataclasses.replace(SMALL, holdout=0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["knowledge", str(path), "--method", "sampled", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["mixture_components"] == 1
        assert out["remedy_heldout_gain"] == 0.0 and out["remedy_heldout_gain_stderr"] == 0.0
        for end in ("", "_stderr"):
            assert out[f"heldout_log_likelihood_mixture{end}"] == out[f"heldout_log_likelihood_single{end}"]
        assert out["heldout_log_likelihood_single"] == pytest.approx(out["log_likelihood_heldout"], abs=1e-12)
        assert main(["knowledge", str(path), "--method", "sampled"]) == 0
        assert re.search(r"held out: mixture - single +0 \+- 0 per sample", capsys.readouterr().out)
        assert main(["knowledge", str(path), "--method", "sampled", "--holdout", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for row in sp.HELDOUT_ROWS:
        assert out[row] is None and out[f"{row}_stderr"] is None
        assert out["not_computed"][row] == sp.NO_HELDOUT


def test_mean_with_error_against_a_monte_carlo_of_its_estimator():
    """Weighted means of 30 independent values with very unequal weights: the sd of the estimate over 4000
    draws against the rms of its se (within 5 %; se^2 is unbiased); the unweighted var / n (the injected
    mistake) is far off; equal weights give var(ddof=1) / n; the log Z errors add in quadrature."""
    rng = np.random.default_rng(3)
    w = rng.exponential(size=30) ** 2
    draws = rng.normal(2.0, 1.5, size=(4000, 30))
    means, errors = np.array([mean_with_error(v, w) for v in draws]).T
    assert np.sqrt(np.mean(errors**2)) == pytest.approx(means.std(), rel=0.05)
    assert np.sqrt(np.mean(draws.var(axis=1, ddof=1) / 30)) < 0.8 * means.std()
    v = draws[0]
    assert mean_with_error(v) == pytest.approx((v.mean(), v.std(ddof=1) / np.sqrt(30)), rel=1e-12)
    assert mean_with_error(v, log_z_errors=(0.3, 0.4))[1] == pytest.approx(np.hypot(v.std(ddof=1) / np.sqrt(30), 0.5))
    with pytest.raises(ThermopotError, match="at least 2 samples of positive weight"):
        mean_with_error([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ThermopotError, match="weights must be 2 finite non-negative"):
        mean_with_error([1.0, 2.0], [1.0, -1.0])
