"""The mixture EM's rule for dropping components (minimum message length, Figueiredo and Jain 2002) and its
noise-aware stopping rule, shared by the exact `fit_mixture` and the sampled remedy `sampled_mixture`."""

import dataclasses
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from thermopot.states import all_states
from thermopot.learning import ConvergenceWarning, Dataset, Mixture, fit_mixture
from thermopot.learning import mixture as mx
from thermopot.learning.mixture import (ComponentDropWarning, effective_parameters, em_stopped,
                                        prune_components)
from thermopot.models import random_pairwise



@pytest.fixture(scope="module")
def data():
    """2000 exact samples of a two-component mixture at N = 7 (28 statistics per component)."""
    models = [random_pairwise(7, seed=11, h_std=1.0), random_pairwise(7, seed=12, h_std=1.0)]
    s, _ = Mixture.from_models(models, [0.4, 0.6]).sample(2000, seed=5)
    return s


def _brute_log_likelihood(mixture: Mixture, s: np.ndarray) -> float:
    """Mean log-likelihood of the rows ``s`` by enumerating the 2^N states of every component."""
    states = all_states(mixture.n, dtype=np.int8).astype(float)
    out = []
    for m, w in zip(mixture.models, mixture.weights):
        log_z = logsumexp(-np.asarray(m.energy(states)))
        out.append(np.log(w) - np.asarray(m.energy(s.astype(float))) - log_z)
    return float(logsumexp(np.stack(out, axis=1), axis=1).mean())


def _four_components(data: np.ndarray, rng_seed: int = 0) -> np.ndarray:
    """Responsibilities (M, 4): two components share the data, two get about 3 samples each."""
    rng = np.random.default_rng(rng_seed)
    resp = np.zeros((len(data), 4))
    resp[:, :2] = rng.dirichlet([1.0, 1.0], size=len(data))
    resp[:, 2:] = 1.5 / len(data)
    return resp / resp.sum(axis=1, keepdims=True)


def test_effective_parameters_count_the_statistics_the_data_pin_down(data):
    """d_k = 1 + sum_i W_k v_i / (W_k v_i + l2) against a direct sum over the 28 statistics of N = 7; with
    l2 = 0 it is 1 + the number of statistics that vary (29 here); a component of no data keeps only its
    weight's 1."""
    s = data.astype(float)
    cw = np.zeros((len(s), 3))
    cw[:500, 0], cw[500:, 1] = 1.0, 1.0
    l2 = 0.01
    d = effective_parameters(s, cw, l2)
    for k, rows in ((0, s[:500]), (1, s[500:])):
        share = len(rows) / len(s)
        stats = [rows[:, i] for i in range(7)] + [rows[:, i] * rows[:, j] for i in range(7) for j in range(i + 1, 7)]
        v = np.array([x.var() for x in stats])
        assert d[k] == pytest.approx(1 + np.sum(share * v / (share * v + l2)), rel=1e-12)
    assert d[2] == 1.0
    assert list(effective_parameters(s, cw, 0.0)) == [29.0, 29.0, 1.0]


def test_em_with_pruning_never_lowers_the_exact_likelihood(data):
    """Exact M-steps, l2 = 0, four components of which two carry about 3 samples (< d / 2 = 14.5): both are
    dropped before the first M-step, and from there the mean log-likelihood (checked against enumeration of
    every component) never falls, as EM guarantees for the mixture that remains."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = fit_mixture(data, init=_four_components(data), method="exact", max_iter=6, tol=0.0)
    assert r.initial_k == 4 and r.mixture.k == 2
    assert [(d.component, d.iteration) for d in r.dropped] == [(2, 1), (3, 1)] or \
        [(d.component, d.iteration) for d in r.dropped] == [(3, 1), (2, 1)]
    assert all(d.count < d.parameters / 2 and d.parameters == 29.0 for d in r.dropped)
    assert any(issubclass(w.category, ComponentDropWarning) and "2 of 4 mixture components dropped" in str(w.message)
               for w in caught)
    assert "2 of 4 mixture components dropped" in r.message
    assert (np.diff(r.history) >= -1e-9).all() and r.history[-1] > r.history[0]
    assert r.log_likelihood == pytest.approx(_brute_log_likelihood(r.mixture, data), abs=1e-10)


def _dropped_and_k_minus_1(data: np.ndarray) -> tuple:
    """The fit from three components of which #1 holds 4 samples' worth of responsibility, and the fit from
    the other two with their responsibilities renormalised (pseudo-likelihood M-steps, l2 = 1e-3)."""
    rng = np.random.default_rng(3)
    resp = np.zeros((len(data), 3))
    resp[:, [0, 2]] = rng.dirichlet([1.0, 1.0], size=len(data))
    resp[:, 1] = 4.0 / len(data)
    resp /= resp.sum(axis=1, keepdims=True)
    options = dict(method="pseudo", l2=1e-3, max_iter=4, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ComponentDropWarning)
        three = fit_mixture(data, init=resp, **options)
        two = resp[:, [0, 2]] / resp[:, [0, 2]].sum(axis=1, keepdims=True)
        fit_two = fit_mixture(data, init=two, prune=False, **options)
    return three, fit_two


def _assert_equal_fits(three, two) -> None:
    assert three.mixture.k == 2 and [d.component for d in three.dropped] == [1]
    np.testing.assert_allclose(three.history, two.history, atol=1e-10)
    np.testing.assert_allclose(three.mixture.weights, two.mixture.weights, atol=1e-10)
    for a, b in zip(three.mixture.models, two.mixture.models):
        np.testing.assert_allclose(a.J, b.J, atol=1e-8)
        np.testing.assert_allclose(a.h, b.h, atol=1e-8)


def test_a_component_without_data_is_dropped_and_the_fit_equals_the_k_minus_1_fit(data):
    three, two = _dropped_and_k_minus_1(data)
    assert three.dropped[0].count == pytest.approx(4.0 / (1 + 4.0 / len(data)))
    _assert_equal_fits(three, two)


def test_k_minus_1_check_catches_a_drop_without_renormalised_responsibilities(data, monkeypatch):
    """Injected mistake: the dropped component's column is deleted but the others are not renormalised (its
    4 samples vanish from the M-steps' weights)."""
    def careless(samples, weights, resp, l2, *, iteration, ids):
        keep, _, dropped = prune_components(samples, weights, resp, l2, iteration=iteration, ids=ids)
        return keep, resp[:, keep], dropped

    monkeypatch.setattr(mx, "prune_components", careless)
    three, two = _dropped_and_k_minus_1(data)
    with pytest.raises(AssertionError):
        _assert_equal_fits(three, two)


def test_the_last_component_is_never_dropped(data, monkeypatch):
    """With sample counts the last component holds all the data and passes whenever the rule applies at all, so
    the guard is checked with d_k forced far above every count (d / 2 = 5e5 for every component, while the
    whole data pass): three components of 1 sample each are all below, yet one remains."""
    monkeypatch.setattr(mx, "effective_parameters",
                        lambda samples, cw, l2: np.full(cw.shape[1], 2.0 if cw.shape[1] == 1 else 1e6))
    resp = np.full((3, 3), 1 / 3)
    keep, r, dropped = prune_components(data[:3].astype(float), np.ones(3), resp, 0.0, iteration=1,
                                        ids=np.arange(3))
    assert keep.size == 1 and len(dropped) == 2 and np.allclose(r, 1.0)


# ---------------------------------------------------------------- the stopping rule
def test_em_stops_when_the_rise_is_within_its_noise():
    """tol + z sqrt(se_t^2 + se_{t-1}^2): a rise of 0.3 with standard errors 0.1 each (noise 0.28 at z = 2)
    continues; the same rise with errors 0.2 stops; with exact log Z (se 0) only tol counts; a fall stops."""
    assert not em_stopped([-10.0, -9.7], [0.1, 0.1], tol=1e-4)
    assert em_stopped([-10.0, -9.7], [0.2, 0.2], tol=1e-4)
    assert not em_stopped([-10.0, -9.9999], [0.0, 0.0], tol=1e-5)
    assert em_stopped([-10.0, -9.9999], [0.0, 0.0], tol=1e-3)
    assert em_stopped([-10.0, -11.0], [0.0, 0.0], tol=0.0)
    assert not em_stopped([-10.0], [0.1], tol=1.0)
    # a likelihood that no longer moves, seen through AIS noise: stops in ~98 % of draws (P(Z < 2))
    rng = np.random.default_rng(0)
    se = 0.3
    noisy = [em_stopped(list(-10 + se * rng.standard_normal(2)), [se, se], tol=1e-4) for _ in range(4000)]
    assert np.mean(noisy) == pytest.approx(0.977, abs=0.01)


def _sampled_run(seed=0, **changes):
    """The sampled remedy's EM on planted N = 16 data (two patterns, 10 % flipped, 400 samples): 8 iterations
    allowed, AIS 16 chains x 50 steps (noisy log Z_k)."""
    from thermopot.knowledge.sampled_pipeline import SAMPLED_QUICK, _fit, sampled_mixture

    rng = np.random.default_rng(1)
    xi = rng.choice([-1, 1], size=(2, 16))
    s = xi[rng.integers(0, 2, 400)] * np.where(rng.random((400, 16)) < 0.1, -1, 1)
    labels = None
    settings = dataclasses.replace(SAMPLED_QUICK, em_iterations=8, em_ais_chains=16, em_ais_steps=50, **changes)
    train = Dataset(s.astype(np.int8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = _fit(train, settings, 0, None, method="pseudo").model
        return sampled_mixture(train, labels, single, settings, seed=seed)


def _assert_stops_at_the_first_rise_within_noise(em) -> None:
    """The run stopped (before its cap of 8) right after the first iteration whose rise was below
    tol + 2 se of the rise."""
    rise = np.diff(em.history)
    noise = 1e-4 + 2.0 * np.hypot(em.history_stderr[1:], em.history_stderr[:-1])
    first = int(np.flatnonzero(rise < noise)[0])
    assert em.converged and em.iterations == first + 2 < 8


@pytest.fixture(scope="module")
def noisy_run():
    """Seed 2: the likelihood first rises by 0.077 against a noise of 0.41 (se 0.135 and 0.152): a plain tol
    on the change would go on (to iteration 6, the first fall, in the run without the rule)."""
    return _sampled_run(2)


def test_sampled_em_stops_when_its_rises_are_within_the_ais_noise(noisy_run):
    em = noisy_run
    assert em.history_stderr.min() > 0 and em.history[1] > em.history[0]  # noisy, and still rising
    _assert_stops_at_the_first_rise_within_noise(em)
    assert em.iterations == 2 and len(em.models) == len(em.weights) and em.weights.sum() == pytest.approx(1.0)


def test_stopping_check_catches_a_plain_tol_rule(monkeypatch):
    """Injected mistake: the rule without its noise term (a plain tol on the change, as fit_mixture had): the
    noisy likelihood rises by more than 1e-4 at first, so EM goes on past the change within noise."""
    import thermopot.knowledge.sampled_pipeline as sp

    monkeypatch.setattr(sp, "em_stopped", lambda history, stderr, *, tol, noise_z: em_stopped(
        history, np.zeros(len(stderr)), tol=tol))
    with pytest.raises(AssertionError):
        _assert_stops_at_the_first_rise_within_noise(_sampled_run(2))


def test_sampled_em_without_pruning_or_stopping_keeps_every_component(noisy_run):
    """em_prune=False and em_noise_z = em_tol = -inf: the old EM (all components, all iterations)."""
    em = _sampled_run(2, em_prune=False, em_noise_z=0.0, em_tol=-np.inf)
    assert em.iterations == 8 and not em.converged and not em.dropped
    assert len(em.models) == em.initial_k >= len(noisy_run.models)


def test_sampled_em_drops_a_class_with_too_few_samples():
    """Three class components on planted N = 16 (two patterns, 200 samples each) where the third class labels
    3 of the samples (16 samples' worth with the 0.1 smoothing): d_3 / 2 ~ 65, so it is dropped before the
    first M-step (iteration 1), said by a ComponentDropWarning, and the surviving K = 2 models and weights are
    what the fit returns; the remedy's record (whose k is the JSON's mixture_components) has K = 2 too."""
    from thermopot.knowledge.sampled_pipeline import SAMPLED_QUICK, _fit, _remedy, sampled_mixture

    rng = np.random.default_rng(1)
    xi = rng.choice([-1, 1], size=(2, 16))
    labels = rng.integers(0, 2, 400)
    s = (xi[labels] * np.where(rng.random((400, 16)) < 0.1, -1, 1)).astype(np.int8)
    labels[:3] = 2
    settings = dataclasses.replace(SAMPLED_QUICK, em_iterations=3, em_ais_chains=16, em_ais_steps=50, ais_chains=16,
                                   ais_steps=50, samples=200, chains=16)
    train = Dataset(s)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        single = _fit(train, settings, 0, None, method="pseudo").model
        em = sampled_mixture(train, labels, single, settings, seed=0)
        record = _remedy(train, labels, single, (0.0, 0.0), np.arange(2), settings, 0, None)
    assert em.initial_k == 3 and len(em.models) == 2 and em.weights.shape == (2,)
    assert [(d.component, d.iteration) for d in em.dropped] == [(2, 1)]
    assert em.dropped[0].count < em.dropped[0].parameters / 2
    assert any(issubclass(w.category, ComponentDropWarning) and "1 of 3 mixture components dropped" in str(w.message)
               for w in caught)
    assert (record["k"], record["k_initial"], len(record["mixture_weights"])) == (2, 3, 2)
    assert record["components_dropped"][0]["component"] == 2 and "1 of 3" in record["em_message"]


def test_where_the_data_are_fewer_than_half_the_parameters_only_empty_components_go():
    """N = 12 (79 statistics + the weight, l2 = 0) from 30 samples: even one component holding all of them
    has M < d / 2 = 40, so the rule cannot rank K; a component of 3 samples stays, one of 0.3 goes (rule
    "weight": less than half a sample)."""
    rng = np.random.default_rng(4)
    s = rng.choice([-1.0, 1.0], size=(30, 12))
    assert effective_parameters(s, np.ones((30, 1)), 0.0)[0] / 2 > 30
    resp = np.zeros((30, 3))
    resp[:, 0] = 1.0
    resp[:3, 0], resp[:3, 1] = 0.0, 1.0
    resp[:3, 2] = 0.1  # 0.3 samples' worth
    resp /= resp.sum(axis=1, keepdims=True)
    keep, _, dropped = prune_components(s, np.ones(30), resp, 0.0, iteration=1, ids=np.arange(3))
    assert list(keep) == [0, 1] and [(d.component, d.rule) for d in dropped] == [(2, "weight")]
    assert dropped[0].count < 0.5 and dropped[0].parameters == 1.0


def test_a_mixture_pruned_to_one_component_reports_the_single_models_rows():
    """Two classes, one of 3 samples: it is dropped, the sampled mixture is the single model itself, and
    the remedy's mixture rows (KL, log-likelihood, coverages, rare rates) are the single model's, not a
    second AIS and chain estimate of the same model (which differed in the third digit: 14.50 against 14.46
    on the digits at 8x8). The injected mistake, estimating the mixture anew, gives other values."""
    from thermopot.knowledge import sampled_pipeline as sp

    rng = np.random.default_rng(2)
    xi = rng.choice([-1, 1], size=16)
    s = (xi * np.where(rng.random((400, 16)) < 0.1, -1, 1)).astype(np.int8)
    labels = np.zeros(400, dtype=int)
    labels[:3] = 1
    settings = dataclasses.replace(sp.SAMPLED_QUICK, em_iterations=3, em_ais_chains=16, em_ais_steps=50,
                                   ais_chains=16, ais_steps=50, samples=200, chains=16)
    train = Dataset(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = sp._fit(train, settings, 0, None, method="pseudo").model
        log_z = sp._log_z(single, settings.T_fit, 16, 50, 7, None)
        record = sp._remedy(train, labels, single, log_z, np.arange(2), settings, 0, None)
    assert (record["k"], record["k_initial"]) == (1, 2)
    for key in ("kl", "log_likelihood", "coverage", "class_coverage", "pattern_rate", "rare_rate"):
        assert record[f"{key}_mixture"] == record[f"{key}_single"]
    assert record["kl_mixture_stderr"] == record["kl_single_stderr"] > 0


def test_single_rows_check_fails_when_the_mixture_is_estimated_anew(monkeypatch):
    """The injected mistake for the test above: without the identity shortcut (models[0] is not the
    single model object, so the mixture is sampled and its log Z estimated anew) the rows differ."""
    from thermopot.knowledge import sampled_pipeline as sp

    inner = sp.sampled_mixture

    def copied(*args, **kwargs):
        em = inner(*args, **kwargs)
        return dataclasses.replace(em, models=tuple(type(m)(m.h, m.J) for m in em.models))  # equal copies
    monkeypatch.setattr(sp, "sampled_mixture", copied)
    with pytest.raises(AssertionError):
        test_a_mixture_pruned_to_one_component_reports_the_single_models_rows()


def test_normalised_weights_carry_no_sample_size_and_drop_nothing(data):
    """The same 2000 rows as counts (weight 1 each) and as normalised weights (1/2000 each, the knowledge
    pipeline's w_mu): the counts drop the two components of ~3 samples (as above); the normalised weights, which
    say nothing of how many samples there were, drop none (before: every component but one went, as each held
    < 0.5 'samples') and the fit is the one without pruning."""
    options = dict(init=_four_components(data), method="exact", max_iter=3, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ComponentDropWarning)
        counts = fit_mixture(data, **options)
        probs = fit_mixture(data, weights=np.full(len(data), 1 / len(data)), **options)
        plain = fit_mixture(data, weights=np.full(len(data), 1 / len(data)), prune=False, **options)
    assert counts.mixture.k == 2 and len(counts.dropped) == 2
    assert probs.mixture.k == 4 and probs.dropped == () and "not sample counts" in probs.message
    np.testing.assert_allclose(probs.history, plain.history, atol=1e-12)
    assert not mx.weights_are_counts([0.5, 1.0]) and mx.weights_are_counts([1.0, 3.0, 0.0])


def test_a_fall_at_an_iteration_with_a_drop_is_not_warned_of_as_a_bad_m_step():
    """A component dropped before iteration 3's M-step makes the mixture smaller, and its likelihood may fall
    (module docstring; the stopping rule skips that iteration): the MixtureEMWarning, which says an ML M-step
    cannot lower it, names only falls at iterations without a drop."""
    from thermopot.knowledge.sampled_pipeline import MixtureEMWarning, _warn_em_drop

    history, se = [-10.5, -10.0, -11.0], [0.1, 0.1, 0.1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixtureEMWarning)
        _warn_em_drop(history, se, "pseudo", dropped_at={3})
    with pytest.warns(MixtureEMWarning, match="iterations 2 and 3 of 3"):
        _warn_em_drop(history, se, "pseudo", dropped_at={2})
    with pytest.warns(MixtureEMWarning, match="iterations 1 and 2 of 3"):  # the fall without a drop is named
        _warn_em_drop([-10.0, -11.0, -12.5], se, "pseudo", dropped_at={3})


def test_sampled_em_refuses_no_iterations():
    """em_iterations = 0 (or negative) is refused with a ThermopotError naming it, by sampled_mixture and by the
    sampled pipeline before its first step (was an UnboundLocalError on W after the other steps had run)."""
    from thermopot.errors import ThermopotError
    from thermopot.knowledge.sampled_pipeline import SAMPLED_QUICK, run_sampled, sampled_mixture
    from thermopot.models import random_pairwise

    s = np.where(np.random.default_rng(0).random((40, 6)) < 0.5, 1, -1).astype(np.int8)
    for bad in (0, -1):
        settings = dataclasses.replace(SAMPLED_QUICK, em_iterations=bad)
        with pytest.raises(ThermopotError, match="em_iterations"):
            sampled_mixture(Dataset(s), None, random_pairwise(6, seed=0), settings, seed=0)
        with pytest.raises(ThermopotError, match="em_iterations"):
            run_sampled("x", Dataset(s), None, settings=settings, progress=False)
