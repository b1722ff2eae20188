"""Learning: data sets, exact ML, pseudo-likelihood, nMF/TAP inversion, mixtures by EM, the fit command.

References are exact: Boltzmann probabilities by brute-force enumeration, samples drawn exactly from
them, and data sets holding all 2^N states weighted by their exact probabilities (infinite data)."""

import json
import warnings

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import logsumexp
from scipy.stats import chi2

from conftest import brute_force
from thermopot.errors import SizeError, ThermopotError
from thermopot.landscape import local_minima
from thermopot.learning import (BoundaryWarning, ConvergenceWarning, DataError, Dataset, Mixture, as_dataset,
                                basin_responsibilities, fit, fit_exact, fit_mixture, fit_nmf,
                                fit_pseudolikelihood, fit_tap, load_dataset, pseudolikelihood_objective,
                                sample_exact, save_dataset)
from thermopot.cli import main
from thermopot.models import PairwiseModel, load_model, random_pairwise
from thermopot.states import all_states, spins_to_index

N = 12
IU = np.triu_indices(N, 1)


def rms(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def boltzmann_data(model):
    """All 2^N states weighted by their exact Boltzmann probabilities at T = 1 (infinite data)."""
    return Dataset(all_states(model.n, dtype=np.int8), brute_force(model, 1.0)["p"])


def weak_model(n, j, seed):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, j / np.sqrt(n), (n, n)), 1)
    return PairwiseModel(rng.normal(0.3, 0.3, n), J + J.T)


@pytest.fixture(scope="module")
def truth():
    return random_pairwise(N, seed=1)


@pytest.fixture(scope="module")
def samples(truth):
    return sample_exact(truth, 40000, seed=2)


@pytest.fixture(scope="module")
def exact_fit(samples):
    return fit_exact(samples)


# ---------------------------------------------------------------- exact sampling

def test_exact_samples_follow_boltzmann():
    model = random_pairwise(3, seed=4)
    s = sample_exact(model, 20000, seed=0)
    assert s.dtype == np.int8 and s.shape == (20000, 3)
    counts = np.bincount(spins_to_index(s), minlength=8)
    expected = 20000 * brute_force(model, 1.0)["p"]
    assert ((counts - expected) ** 2 / expected).sum() < chi2.ppf(0.999, 7)
    assert np.array_equal(s, sample_exact(model, 20000, seed=0))


# ---------------------------------------------------------------- exact maximum likelihood

def test_exact_ml_recovers_couplings_and_matches_moments(truth, samples, exact_fit):
    r = exact_fit
    assert r.converged and r.method == "exact"
    assert rms(r.model.J[IU], truth.J[IU]) < 0.05
    ref = brute_force(r.model, 1.0)
    m, C = as_dataset(samples).moments()
    assert np.abs(ref["magnetization"] - m).max() < 1e-6
    assert np.abs(ref["correlation"] - C).max() < 1e-6
    assert r.magnetization_error < 1e-6 and r.correlation_error < 1e-6
    ll = np.mean(-np.asarray(r.model.energy(samples.astype(float)))) - ref["log_z"]
    assert r.log_likelihood == pytest.approx(ll, abs=1e-10)
    # the maximum: the generating model is less likely on these data
    assert ll > np.mean(-np.asarray(truth.energy(samples.astype(float)))) - brute_force(truth, 1.0)["log_z"]


def test_exact_ml_of_infinite_data_is_the_model():
    model = random_pairwise(8, seed=5)
    r = fit_exact(boltzmann_data(model), tol=1e-8)
    assert r.converged and r.magnetization_error < 1e-8 and r.correlation_error < 1e-8
    assert np.abs(r.model.J - model.J).max() < 1e-6 and np.abs(r.model.h - model.h).max() < 1e-6


def test_exact_ml_l2_stationarity():
    model = random_pairwise(6, seed=6)
    data = Dataset(sample_exact(model, 500, seed=1), np.ones(500))
    r = fit_exact(data, l2=0.1, tol=1e-8)
    ref = brute_force(r.model, 1.0)
    m, C = data.moments()
    assert r.converged
    assert np.abs(ref["magnetization"] - m + 0.1 * r.model.h).max() < 1e-8
    off = (ref["correlation"] - C + 0.1 * r.model.J)[np.triu_indices(6, 1)]
    assert np.abs(off).max() < 1e-8


def test_exact_ml_refused_beyond_the_size_guard():
    with pytest.raises(SizeError, match="exact maximum-likelihood"):
        fit_exact(np.ones((4, 40), dtype=np.int8) * np.array([1, -1, 1, -1])[:, None])


def test_non_converged_fit_is_reported(samples):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        r = fit_exact(samples, max_iter=2)
    assert not r.converged and r.iterations <= 2 and not r.to_dict()["converged"]


# ---------------------------------------------------------------- pseudo-likelihood

def test_pseudolikelihood_matches_exact_within_sampling_error(truth, samples, exact_fit):
    r = fit_pseudolikelihood(samples)
    assert r.converged and r.method == "pseudo"
    err_pl, err_ml = rms(r.model.J[IU], truth.J[IU]), rms(exact_fit.model.J[IU], truth.J[IU])
    assert err_pl < 0.05
    assert abs(err_pl - err_ml) < 0.5 * err_ml      # same accuracy: the sampling error dominates both
    assert rms(r.model.J[IU], exact_fit.model.J[IU]) < err_ml
    assert r.log_likelihood <= exact_fit.log_likelihood + 1e-12


def test_pseudolikelihood_of_infinite_data_is_the_model():
    model = random_pairwise(7, seed=8)
    r = fit_pseudolikelihood(boltzmann_data(model), tol=1e-8)
    assert r.converged
    assert np.abs(r.model.J - model.J).max() < 1e-6 and np.abs(r.model.h - model.h).max() < 1e-6


def test_pseudolikelihood_gradient_is_exact():
    rng = np.random.default_rng(0)
    data = Dataset(np.where(rng.random((50, 5)) < 0.6, 1, -1).astype(np.int8), rng.random(50))
    f = pseudolikelihood_objective(data, l2=0.3)
    theta = rng.normal(0, 0.5, 15)
    numeric = approx_fprime(theta, lambda x: f(x)[0], 1e-7)
    assert np.abs(f(theta)[1] - numeric).max() < 1e-5
    # the value by the definition: -sum_k log P(s_k | rest), averaged with the weights
    h, J = theta[:5], np.zeros((5, 5))
    J[np.triu_indices(5, 1)] = theta[5:]
    J = J + J.T
    s = data.samples.astype(float)
    F = h + s @ J
    value = data.probabilities @ np.log1p(np.exp(-2 * s * F)).sum(axis=1) + 0.15 * theta @ theta
    assert f(theta)[0] == pytest.approx(value, rel=1e-12)


# ---------------------------------------------------------------- mean-field and TAP inversion

def test_tap_beats_naive_mean_field_at_weak_coupling():
    model = weak_model(10, 0.2, seed=3)
    data = boltzmann_data(model)
    nmf, tap = fit_nmf(data), fit_tap(data)
    iu = np.triu_indices(10, 1)
    assert rms(tap.model.J[iu], model.J[iu]) < 0.5 * rms(nmf.model.J[iu], model.J[iu])
    assert rms(tap.model.h, model.h) < 0.5 * rms(nmf.model.h, model.h)
    assert tap.converged and nmf.converged and tap.iterations == 0


def test_inversion_formulas():
    model = weak_model(6, 0.5, seed=2)
    data = boltzmann_data(model)
    m, raw = data.moments()
    c = np.linalg.inv(raw - np.outer(m, m))
    off = ~np.eye(6, dtype=bool)
    nmf, tap = fit_nmf(data).model, fit_tap(data).model
    assert np.allclose(nmf.J[off], -c[off], atol=1e-12)
    assert np.allclose(np.tanh(nmf.h + nmf.J @ m), m, atol=1e-12)       # nMF equations hold at m
    J = tap.J
    assert np.allclose((-J - 2 * J**2 * np.outer(m, m))[off], c[off], atol=1e-12)
    assert np.allclose(np.tanh(tap.h + J @ m - m * ((J**2) @ (1 - m**2))), m, atol=1e-12)


def test_independent_spins_are_exact_for_nmf_and_tap():
    h = np.array([0.3, -0.7, 1.1])
    data = boltzmann_data(PairwiseModel(h, np.zeros((3, 3))))
    for fitter in (fit_nmf, fit_tap):
        model = fitter(data).model
        assert np.abs(model.J).max() < 1e-12 and np.allclose(model.h, h, atol=1e-12)


def test_tap_without_real_root_is_reported():
    # m1 = m2 = 0.6 with a negative connected correlation: c12 = 0.4167, 1 - 8 c m1 m2 = -0.2
    s = np.array([[1, 1]] * 60 + [[1, -1]] * 20 + [[-1, 1]] * 20, dtype=np.int8)
    with pytest.warns(ConvergenceWarning, match="no real TAP solution"):
        r = fit_tap(s)
    assert not r.converged
    m = s.mean(axis=0)
    assert r.model.J[0, 1] == pytest.approx(-1 / (4 * m[0] * m[1]))


# ---------------------------------------------------------------- weights, duplicates, regularisation

@pytest.mark.parametrize("method", ["exact", "pseudo", "nmf", "tap"])
def test_weighted_data_equals_repeated_rows(method):
    rng = np.random.default_rng(1)
    rows = sample_exact(weak_model(6, 0.5, seed=3), 400, seed=4)
    counts = rng.integers(1, 5, size=400)
    a = fit(rows, method, weights=counts).model
    b = fit(np.repeat(rows, counts, axis=0), method).model
    tol = 1e-10 if method in ("nmf", "tap") else 1e-5
    assert np.abs(a.J - b.J).max() < tol and np.abs(a.h - b.h).max() < tol


def test_constant_columns_refused_unless_regularised():
    s = sample_exact(random_pairwise(5, seed=2), 300, seed=1)
    s[:, 3] = -1
    for method in ("exact", "pseudo", "nmf", "tap"):
        with pytest.raises(ThermopotError, match="constant column.*spin 3 is -1.*infinite"):
            fit(s, method)
    assert fit(s, "exact", l2=0.01).model.h[3] < -1
    assert fit(s, "exact", pseudocount=0.01).model.h[3] < -1
    assert fit(s, "pseudo", l2=0.01).model.h[3] < -1
    assert fit(s, "tap", pseudocount=0.01).model.h[3] < -1


def test_bad_regulariser_and_options():
    s = sample_exact(random_pairwise(4, seed=2), 100, seed=1)
    with pytest.raises(ThermopotError, match="l2 must be a finite number >= 0"):
        fit(s, "exact", l2=-1.0)
    for method in ("exact", "pseudo"):
        with pytest.raises(ThermopotError, match="l2 = 1e\\+300 is beyond 1e\\+12"):
            fit(s, method, l2=1e300)
    with pytest.raises(ThermopotError, match="pseudocount must be < 1"):
        fit(s, "nmf", pseudocount=1.0)
    with pytest.raises(ThermopotError, match="'nmf' does not take l2"):
        fit(s, "nmf", l2=0.1)
    with pytest.raises(ThermopotError, match="'pseudo' does not take pseudocount"):
        fit(s, "pseudo", pseudocount=0.1)
    with pytest.raises(ThermopotError, match="unknown fitting method 'ml'"):
        fit(s, "ml")


def test_singular_correlations_refused_for_inversions():
    s = sample_exact(random_pairwise(4, seed=2), 100, seed=1)
    s[:, 2] = s[:, 1]
    with pytest.raises(ThermopotError, match="singular.*pseudocount"):
        fit_nmf(s)
    assert np.isfinite(fit_tap(s, pseudocount=0.05).model.J).all()


# ---------------------------------------------------------------- data sets

def test_dataset_moments_unique_and_file_roundtrip(tmp_path):
    s = np.array([[1, -1, 1], [1, -1, 1], [-1, -1, 1], [1, 1, -1]], dtype=np.int8)
    w = np.array([1.0, 2.0, 0.0, 1.0])
    d = as_dataset(s, w)
    m, C = d.moments()
    assert np.allclose(m, [1.0, -0.5, 0.5]) and np.allclose(C, (s.T * w) @ s / 4)
    u = d.unique()
    assert u.size == 2 and u.total_weight == 4 and np.allclose(u.moments()[1], C)
    assert list(d.constant_columns()) == [0]      # the zero-weight row does not count
    assert list(as_dataset(s).constant_columns()) == []
    assert list(as_dataset(s[:2]).constant_columns()) == [0, 1, 2]
    path = tmp_path / "data.npz"
    save_dataset(path, d)
    back = load_dataset(path)
    assert back.samples.dtype == np.int8 and np.array_equal(back.samples, s) and np.array_equal(back.weights, w)


def test_binary01_data_converted_only_when_asked(tmp_path):
    x = np.array([[0, 1, 1], [1, 0, 1]], dtype=np.uint8)
    with pytest.raises(DataError, match="0/1.*binary01=True"):
        as_dataset(x)
    assert np.array_equal(as_dataset(x, binary01=True).samples, [[-1, 1, 1], [1, -1, 1]])
    path = tmp_path / "b.npz"
    np.savez(path, samples=x)
    with pytest.raises(DataError, match="b.npz.*0/1"):
        load_dataset(path)
    assert load_dataset(path, binary01=True).n == 3
    with pytest.raises(DataError, match="binary01=True needs 0/1 samples"):
        as_dataset(np.array([[1, -1]]), binary01=True)


@pytest.mark.parametrize("samples, weights, message", [
    (np.zeros((0, 4)), None, "empty"),
    (np.zeros((3, 0)), None, "empty"),
    (np.array([1, -1, 1]), None, "shape \\(M, N\\)"),
    (np.array([[1, 2], [-1, 1]]), None, "must be \\+-1 spins, found the values -1, 1, 2"),
    (np.array([[1.0, np.nan]]), None, "must be \\+-1"),
    (np.array([["a", "b"]]), None, "must be numbers"),
    (np.array([[1, -1], [1, 1]]), [1.0], "shape \\(2,\\)"),
    (np.array([[1, -1], [1, 1]]), [1.0, -1.0], ">= 0"),
    (np.array([[1, -1], [1, 1]]), [1.0, np.inf], "NaN or infinite"),
    (np.array([[1, -1], [1, 1]]), [0.0, 0.0], "sum to zero"),
])
def test_bad_data_refused(samples, weights, message):
    with pytest.raises(DataError, match=message):
        as_dataset(samples, weights)


def test_bad_data_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_dataset(tmp_path / "junk.npz")
    np.savez(tmp_path / "model.npz", h=np.zeros(3), J=np.zeros((3, 3)))
    with pytest.raises(DataError, match="needs 'samples'"):
        load_dataset(tmp_path / "model.npz")


# ---------------------------------------------------------------- mixtures

def brute_mixture_log_prob(models, weights, s):
    per = []
    for model, w in zip(models, weights):
        ref = brute_force(model, 1.0)
        per.append(np.log(w) - np.asarray(model.energy(s.astype(float))) - ref["log_z"])
    return logsumexp(np.stack(per, axis=1), axis=1)


def test_mixture_log_likelihood_equals_brute_force():
    models = [random_pairwise(6, seed=k, h_std=0.8) for k in range(3)]
    weights = np.array([0.2, 0.5, 0.3])
    mix = Mixture.from_models(models, 2 * weights)    # weights are normalised
    s = all_states(6, dtype=np.int8)
    lp = brute_mixture_log_prob(models, weights, s)
    assert np.allclose(mix.log_prob(s), lp, atol=1e-12)
    assert logsumexp(lp) == pytest.approx(0.0, abs=1e-12)
    rows, w = s[::5], np.arange(len(s[::5])) + 1.0
    assert mix.log_likelihood(rows, w) == pytest.approx(w @ lp[::5] / w.sum(), abs=1e-12)
    r = mix.responsibilities(s)
    assert np.allclose(r.sum(axis=1), 1.0)


def test_mixture_samples_follow_the_mixture():
    models = [random_pairwise(3, seed=1, h_std=1.5), random_pairwise(3, seed=2, h_std=1.5)]
    mix = Mixture.from_models(models, [0.25, 0.75])
    s, labels = mix.sample(20000, seed=3)
    assert s.shape == (20000, 3) and labels.shape == (20000,)
    counts = np.bincount(spins_to_index(s), minlength=8)
    expected = 20000 * np.exp(mix.log_prob(all_states(3, dtype=np.int8)))
    assert ((counts - expected) ** 2 / expected).sum() < chi2.ppf(0.999, 7)
    assert abs(labels.mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 20000)


@pytest.fixture(scope="module")
def mixture_data():
    models = [random_pairwise(7, seed=11, h_std=1.0), random_pairwise(7, seed=12, h_std=1.0)]
    s, _ = Mixture.from_models(models, [0.4, 0.6]).sample(2000, seed=5)
    return s


def test_em_never_decreases_the_likelihood(mixture_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = fit_mixture(mixture_data, 2, seed=0, max_iter=8)
    assert r.iterations == 8 and r.mixture.k == 2
    assert (np.diff(r.history) >= -1e-9).all()
    assert r.history[-1] > r.history[0]
    assert r.log_likelihood == pytest.approx(r.mixture.log_likelihood(mixture_data), abs=1e-12)
    # a mixture explains the data better than one model fitted by exact ML
    assert r.log_likelihood > fit_exact(mixture_data).log_likelihood


def test_em_m_step_puts_the_single_models_prior_on_every_component(mixture_data):
    """MAP-EM: the M-step of component k maximises sum_m p_m r_mk log P_k(s_m) - (l2 / 2) |theta_k|^2, whose
    stationarity, with the component's moments from enumeration, reads <s>_k - <s>_data,k = -(l2 / W_k) theta_k
    (and the same for s_i s_j and J_ij). Responsibilities of weights W = (0.2, 0.8) tell it from the penalty
    l2 on each component's own mean objective (a prior W_k times weaker: -l2 theta_k), which fails here."""
    from thermopot.learning.mixture import component_l2

    m = len(mixture_data)
    resp = np.zeros((m, 2))
    resp[: m // 5, 0] = 1.0
    resp[m // 5:, 1] = 1.0
    l2 = 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = fit_mixture(mixture_data, init=resp, max_iter=1, l2=l2, method="exact")
    iu = np.triu_indices(7, 1)
    s = mixture_data.astype(float)
    for c, share in enumerate((0.2, 0.8)):
        assert r.mixture.weights[c] == pytest.approx(share)
        model, rows = r.mixture.models[c], s[resp[:, c] > 0]
        exact = brute_force(model, 1.0)
        residual = np.concatenate([exact["magnetization"] - rows.mean(axis=0),
                                   (exact["correlation"] - rows.T @ rows / len(rows))[iu]])
        theta = np.concatenate([model.h, model.J[iu]])
        np.testing.assert_allclose(residual, -(l2 / share) * theta, atol=2e-6)
        assert np.abs(theta).max() > 0.1  # the penalty term is far from zero: the test can tell l2 / W_k from l2
    assert component_l2(l2, resp[:, 0], m) == pytest.approx(l2 / 0.2) and component_l2(0.0, resp[:, 0], m) == 0.0


def test_mixture_from_the_minima_of_a_single_model(mixture_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = fit_mixture(mixture_data, max_iter=3, method="pseudo")
    single = fit_pseudolikelihood(mixture_data).model
    assert r.init == "basins" and r.mixture.k == local_minima(single).count
    resp = basin_responsibilities(single, as_dataset(mixture_data))
    assert resp.shape == (2000, r.mixture.k) and np.allclose(resp.sum(axis=1), 1.0)
    assert resp.max() == pytest.approx(0.9 + 0.1 / r.mixture.k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        given = fit_mixture(mixture_data, init=resp, max_iter=2, method="pseudo")
    assert given.init == "given" and given.mixture.k == r.mixture.k


def test_mixture_bad_input(mixture_data):
    with pytest.raises(ThermopotError, match="K must be an integer >= 1"):
        fit_mixture(mixture_data, 0)
    with pytest.raises(ThermopotError, match="M-step method"):
        fit_mixture(mixture_data, 2, method="nmf")
    with pytest.raises(ThermopotError, match="needs the number of components"):
        fit_mixture(mixture_data, init="random")
    with pytest.raises(ThermopotError, match="shape \\(M, K\\)"):
        fit_mixture(mixture_data, 2, init=np.ones((5, 2)) / 2)
    with pytest.raises(ThermopotError, match="unknown mixture initialisation"):
        fit_mixture(mixture_data, 2, init="kmeans")
    with pytest.raises(ThermopotError, match="same N"):
        Mixture.from_models([random_pairwise(3, seed=0), random_pairwise(4, seed=0)], [0.5, 0.5])
    with pytest.raises(ThermopotError, match="weights"):
        Mixture.from_models([random_pairwise(3, seed=0)], [-1.0])


# ---------------------------------------------------------------- the fit command

def test_fit_command(tmp_path, samples, capsys):
    path = tmp_path / "d.npz"
    save_dataset(path, samples[:2000])
    out = tmp_path / "m.npz"
    assert main(["fit", str(path), "--method", "tap", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("h", "J", "method", "log_likelihood", "seconds"):
        assert key in data
    assert data["method"] == "tap" and len(data["J"]) == N and np.isfinite(data["log_likelihood"])
    assert np.allclose(load_model(out).J, data["J"]) and data["model_file"] == str(out)
    assert main(["fit", str(path), "--method", "tap"]) == 0 and "tap fit of N = 12" in capsys.readouterr().out
    # --force: m.npz exists now; nmf refuses l2 with a one-line error, exit 2
    assert main(["fit", str(path), "--method", "nmf", "--l2", "0.1", "--out", str(out), "--force"]) == 2
    assert "does not take l2" in capsys.readouterr().err


def test_backends_agree(gpu_backend, samples):
    """The same fits on the GPU as on NumPy (skipped without a GPU)."""
    data = samples[:5000]
    for fitter in (fit_exact, fit_pseudolikelihood):
        ref, other = fitter(data, backend="numpy").model, fitter(data, backend=gpu_backend).model
        assert np.abs(ref.J - other.J).max() < 1e-6 and np.abs(ref.h - other.h).max() < 1e-6


# -- data on the boundary of the moment space ------------------------------------------------------

def test_boundary_pairs_match_a_direct_count():
    rng = np.random.default_rng(4)
    s = np.where(rng.random((12, 7)) < 0.3, -1, 1)
    s[:, 6] = 1  # a constant column: refused on its own, not listed
    w = rng.random(12)
    w[:3] = 0.0  # rows of zero weight do not count
    data = Dataset(s, w)
    live = s[w > 0]
    varying = [k for k in range(7) if len(set(live[:, k])) == 2]
    expected = [(k, l) for k in varying for l in varying
                if k < l and len({(a, b) for a, b in zip(live[:, k], live[:, l])}) < 4]
    assert expected and [tuple(p) for p in data.boundary_pairs()] == expected


@pytest.mark.parametrize("method", ["exact", "pseudo"])
def test_infinite_couplings_are_reported(method):
    """A copied column puts the ML coupling at infinity: the fit says so (message, warning, count),
    the fitted coupling grows as the tolerance shrinks, and l2 > 0 gives a finite one."""
    rng = np.random.default_rng(0)
    s = np.where(rng.random((400, 5)) < 0.5, -1, 1)
    s[:, 4] = -s[:, 1]
    couplings = []
    for tol in (1e-3, 1e-7):
        with pytest.warns(BoundaryWarning, match="spins 1 and 4"):
            res = fit(s, method, tol=tol)
        assert res.boundary_pairs == 1 and "infinite" in res.message
        assert res.to_dict()["boundary_pairs"] == 1
        couplings.append(-res.model.J[1, 4])
    assert couplings[1] > couplings[0] + 1.0  # no finite maximum: tighter tolerance, larger coupling
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit(s, method, l2=0.01)
    assert res.boundary_pairs == 0 and res.converged and abs(res.model.J[1, 4]) < 10


def test_mixture_reports_the_boundary_once():
    rng = np.random.default_rng(2)
    s = np.where(rng.random((300, 5)) < 0.5, -1, 1)
    s[:, 3] = s[:, 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_mixture(s, 2, method="pseudo", seed=0, max_iter=5)
    boundary = [w for w in caught if issubclass(w.category, BoundaryWarning)]
    assert len(boundary) == 1 and "spins 0 and 3" in str(boundary[0].message)
    assert res.boundary_pairs == 1 and res.to_dict()["boundary_pairs"] == 1


def test_lbfgs_finishes_where_the_objective_rounding_stalls_its_line_search(monkeypatch):
    """F = 1e6 + x.A.x / 2 - b.x: eps |F| ~ 1e-10 hides the last decreases from L-BFGS's value-based line
    search, which stalls near |g| ~ 1e-5 (checked with the polish switched off); the gradient-only steps
    reach tol = 1e-9 and the exact minimum A^-1 b."""
    from thermopot.learning import result as fitting

    rng = np.random.default_rng(0)
    q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    A = q @ np.diag([0.5, 0.8, 1.0, 1.3, 1.6, 2.0]) @ q.T
    b = rng.normal(size=6)

    def fun(x):
        return 1e6 + 0.5 * x @ A @ x - b @ x, A @ x - b

    monkeypatch.setattr(fitting, "POLISH_STEPS", 0)
    stalled = fitting.lbfgs(fun, np.zeros(6), 1e-9, 500)
    assert np.abs(stalled[2]).max() > 1e-9
    monkeypatch.setattr(fitting, "POLISH_STEPS", 20)
    x, _, grad, _, message = fitting.lbfgs(fun, np.zeros(6), 1e-9, 500)
    assert np.abs(grad).max() <= 1e-9 and "gradient-only" in message
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-8)
