"""The user's own data on the sampled knowledge path (issue 12, bad input): 0/1 data through ``binary01``
(``--binary01``) give the run of the same data as +-1 spins; an array of fewer samples than spins (often
a transposed one) is named by a DataWarning that the command prints also when the run is refused."""

from __future__ import annotations

import functools
import json
import math
import warnings

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.datasets import DataError, DataWarning, noisy_patterns_dataset
from thermopot.knowledge.pipeline import resolve_data, run_knowledge
from thermopot.knowledge.sampled_pipeline import SAMPLED_QUICK

from test_knowledge_sampled_pipeline import SMALL


@pytest.fixture(scope="module")
def spins():
    """(M, N) = (400, 12) +-1 samples: 4 centres with 8 % of the spins flipped."""
    data = noisy_patterns_dataset(12, 4, 100, 0.08, seed=1)
    return np.asarray((data[0] if isinstance(data, tuple) else data).samples)


def test_binary01_data_give_the_run_of_the_same_spins(spins):
    """x = (s + 1) / 2 with binary01=True is the data set s: the same seed gives the same log Z and bound
    states to the last bit; without binary01 the 0/1 data are refused with the advice."""
    bits = ((spins + 1) // 2).astype(np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = run_knowledge(spins, method="sampled", settings=SMALL, progress=False).summary()
        b = run_knowledge(bits, method="sampled", settings=SMALL, progress=False, binary01=True).summary()
    assert b["n"] == 12 and b["samples"] == 400
    assert b["log_z"] == a["log_z"] and b["log_z_stderr"] == a["log_z_stderr"]
    assert [s["state"] for s in b["bound_states"]] == [s["state"] for s in a["bound_states"]]
    with pytest.raises(DataError, match="binary01"):
        run_knowledge(bits, method="sampled", settings=SMALL, progress=False)


def test_cli_binary01(tmp_path, spins, capsys):
    """`thermopot knowledge DATA --binary01` reads 0/1 samples as spins (1 -> +1): the same data set as the
    +-1 file (N, M, distinct patterns and the description's gap); without the flag exit 2 naming it."""
    ones, bits = tmp_path / "pm.npz", tmp_path / "01.npz"
    np.savez(ones, samples=spins)
    np.savez(bits, samples=((spins + 1) // 2).astype(np.int8))
    assert main(["knowledge", str(bits), "--method", "sampled", "--json"]) == 2
    assert "--binary01" in capsys.readouterr().err
    _, expected, _ = resolve_data(str(ones))
    _, got, _ = resolve_data(str(bits), binary01=True)
    assert np.array_equal(got.samples, expected.samples) and np.array_equal(got.samples, spins)


def test_transposed_array_is_named_before_the_refusal(tmp_path, spins, capsys):
    """The transposed (12, 400) array: a DataWarning naming the shape from run_knowledge and resolve_data,
    and the command prints it next to the refusal (too few samples for the held-out split); the right way
    round (400, 12) gets no such warning."""
    path = tmp_path / "t.npz"
    np.savez(path, samples=spins.T)
    with pytest.warns(DataWarning, match=r"\(M, N\) = \(12, 400\)"):
        resolve_data(spins.T)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        resolve_data(spins)  # no warning the right way round
    assert main(["knowledge", str(path), "--method", "sampled", "--json"]) == 2
    err = capsys.readouterr().err
    assert "thermopot: warning: data set" in err and "(12, 400)" in err and "transposed" in err
    assert "too few samples for a held-out split" in err



@functools.lru_cache(maxsize=None)  # shared by the two slow tests below
def _digits64_mixture(l2: float, **settings):
    """EM of the sampled remedy on the digits at 8x8 (N = 61, 10 classes), warm from a pseudo-likelihood
    single model, with the given ridge: (the SampledMixture, the EM warnings). By default all ten components
    and both iterations (no pruning, no stop): the warning is what the first test tests."""
    import dataclasses

    from thermopot.knowledge.pipeline import drop_constant_columns
    from thermopot.knowledge.sampled_pipeline import SAMPLED_QUICK, _fit, sampled_mixture

    settings = dataclasses.replace(SAMPLED_QUICK, **{"em_iterations": 2, "l2": l2, "em_prune": False,
                                                     "em_tol": -math.inf, **settings})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name, data, labels = resolve_data("digits64")
        data, _ = drop_constant_columns(name, data)
        single = _fit(data, settings, 0, None, method="pseudo").model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        em = sampled_mixture(data, labels, single, settings, seed=0)
    return em, [str(w.message) for w in caught if "mixture EM" in str(w.message)]


@pytest.mark.slow
def test_mixture_em_warns_when_pseudo_likelihood_steps_lower_the_likelihood():
    """Digits at 8x8, 10 class components of ~180 samples in N = 61, each M-step with the single model's
    prior (penalty l2 / W_k): with l2 = 1e-4 the second pseudo-likelihood M-step lowers the mean
    log-likelihood (measured -19.45 -> -22.74, AIS error 0.13), which an EM step with maximum-likelihood
    M-steps cannot do, and the warning names the fall; with the default l2 = 1e-3 the same EM rises
    (-16.62 -> -15.91) and stays silent. (Before the penalty was scaled by 1 / W_k, l2 = 1e-3 fell too:
    -16.3 -> -23.2.)"""
    em, notes = _digits64_mixture(1e-4)
    assert em.history[1] < em.history[0] - 3.0
    assert len(notes) == 1 and "fell from" in notes[0] and "em_method='pcd'" in notes[0]
    em, notes = _digits64_mixture(1e-3)
    assert em.history[1] > em.history[0] + 0.5 and notes == []


@pytest.mark.slow
def test_em_stopped_by_a_fall_keeps_the_mixture_before_it():
    """The same fall (l2 = 1e-4, the second pseudo-likelihood M-step lowers the mean log-likelihood by over 3
    while its standard error is ~0.13) under the default stopping rule: EM stops, says it did not converge,
    and returns the mixture of iteration 1, identical (same seeds) to a run of one iteration; the injected
    mistake, keeping the fallen iterate, returns other couplings."""
    em, notes = _digits64_mixture(1e-4, em_tol=SAMPLED_QUICK.em_tol)
    one, _ = _digits64_mixture(1e-4, em_iterations=1)
    assert em.iterations == 2 and not em.converged and "mixture of iteration 1 is kept" in em.message
    assert "the mixture kept is iteration 1's" in notes[0]
    assert em.history[1] < em.history[0] - 3.0
    np.testing.assert_array_equal(em.weights, one.weights)
    for kept, first in zip(em.models, one.models, strict=True):
        np.testing.assert_array_equal(kept.J, first.J)
    fallen, _ = _digits64_mixture(1e-4)  # no stop: the models after the fall
    assert max(np.abs(f.J - k.J).max() for f, k in zip(fallen.models, em.models)) > 1e-3


def test_em_drop_check_against_its_standard_errors():
    """The rule of the EM warning on given histories: a fall of 1.0 with standard errors 0.1 warns (and names
    the iterations); a fall of 0.2 with the same errors (within 3 combined errors, 0.42) does not; a rise
    does not; one iteration does not."""
    from thermopot.knowledge.sampled_pipeline import MixtureEMWarning, _warn_em_drop

    with pytest.warns(MixtureEMWarning, match=r"fell from -10 to -11 .* iterations 2 and 3 of 3, the mixture kept "
                                              r"is iteration 3's \(-11\)"):
        _warn_em_drop([-10.5, -10.0, -11.0], [0.1, 0.1, 0.1], "pseudo")
    with pytest.warns(MixtureEMWarning, match=r"the mixture kept is iteration 2's \(-10\)"):
        _warn_em_drop([-10.5, -10.0, -11.0], [0.1, 0.1, 0.1], "pseudo", kept=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixtureEMWarning)
        _warn_em_drop([-10.0, -10.2], [0.1, 0.1], "pseudo")
        _warn_em_drop([-12.0, -10.0], [0.1, 0.1], "pcd")
        _warn_em_drop([-12.0], [0.1], "pcd")


def test_em_method_reaches_the_remedy(spins, capsys):
    """em_method="pcd" (`--em-method pcd`) is the M-step of the sampled remedy (its record says so and the
    KL of the mixture is finite with an error bar); a bad value is refused before any step; the exact method
    refuses the option as it refuses holdout."""
    from thermopot.errors import ThermopotError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_knowledge(spins, method="sampled", settings=SMALL, progress=False, em_method="pcd")
    assert run.settings.em_method == "pcd" and run.steps["remedy"]["em_method"] == "pcd"
    s = run.summary()
    assert np.isfinite(s["kl_mixture"]) and s["kl_mixture_stderr"] > 0
    with pytest.raises(ThermopotError, match="em_method must be one of pseudo, pcd"):
        run_knowledge(spins, method="sampled", settings=SMALL, progress=False, em_method="exact")
    with pytest.raises(ThermopotError, match="em_method is an option of the sampled pipeline"):
        run_knowledge(spins, method="exact", progress=False, em_method="pcd")
    assert main(["knowledge", "clusters", "--method", "sampled", "--em-method", "magic"]) == 2
