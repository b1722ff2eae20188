
import numpy as np
import pytest

from thermopot.errors import ModelError
from thermopot.models import (MultiSpinModel, PairwiseModel, curie_weiss, from_spec, hopfield, load_model,
                              random_multispin, random_pairwise, random_patterns, resolve_model, ring,
                              save_model, sk)
from thermopot.states import all_states, mask_subsets


def explicit_energy(model, s):
    n = model.n
    return -sum(model.h[k] * s[k] for k in range(n)) - sum(
        model.J[k, l] * s[k] * s[l] for k in range(n) for l in range(k + 1, n))


def test_pairwise_energy_matches_the_definition():
    model = random_pairwise(6, seed=0)
    s = all_states(6)
    np.testing.assert_allclose(model.energy(s), [explicit_energy(model, x) for x in s], atol=1e-12)
    assert model.energy(s[3]) == pytest.approx(explicit_energy(model, s[3]))


def test_multispin_energy_matches_the_definition():
    model = random_multispin(6, order=4, seed=1)
    s = all_states(6)
    expected = [-sum(c * np.prod(x[sub]) for sub, c in zip(model.subsets, model.couplings)) for x in s]
    np.testing.assert_allclose(model.energy(s), expected, atol=1e-12)


@pytest.mark.parametrize("model", [random_pairwise(7, seed=3), random_multispin(7, order=3, seed=4)],
                         ids=["pairwise", "multispin"])
def test_flip_energy_changes_and_local_fields(model):
    s = all_states(7)
    de = model.flip_energy_changes(s)
    for k in range(7):
        flipped = s.copy()
        flipped[:, k] *= -1
        np.testing.assert_allclose(de[:, k], model.energy(flipped) - model.energy(s), atol=1e-12)
    np.testing.assert_allclose(model.local_fields(s), de / (2 * s), atol=1e-12)


def test_pairwise_local_fields_are_minus_the_energy_gradient():
    model = random_pairwise(5, seed=5)
    x, eps = np.random.default_rng(0).uniform(-1, 1, 5), 1e-6
    grad = [(model.energy(x + eps * e) - model.energy(x - eps * e)) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(model.local_fields(x), -np.array(grad), atol=1e-8)


def test_pairwise_and_its_walsh_form_agree():
    model = sk(6, seed=2, h=0.3)
    masks, coup = model.walsh_terms()
    multi = MultiSpinModel(mask_subsets(masks, 6), coup)
    s = all_states(6)
    np.testing.assert_allclose(multi.energy(s), model.energy(s), atol=1e-12)
    np.testing.assert_allclose(model.with_fields(np.ones(6)).energy(s),
                               multi.with_fields(np.ones(6)).energy(s), atol=1e-12)


def test_energy_table_round_trip():
    e = np.random.default_rng(3).normal(size=2**5)
    model = MultiSpinModel.from_energy_table(e)
    np.testing.assert_allclose(model.energy(all_states(5)), e, atol=1e-12)


def test_from_terms_merges_repeated_subsets():
    model = MultiSpinModel.from_terms([[0, 1], [1, 0], [2]], [0.5, 0.25, 1.0], n=3)
    assert len(model.couplings) == 2
    s = all_states(3)
    np.testing.assert_allclose(model.energy(s), -0.75 * s[:, 0] * s[:, 1] - s[:, 2])


def test_families():
    cw = curie_weiss(8, j=2.0, h=0.1)
    off = ~np.eye(8, dtype=bool)
    assert np.all(cw.J[off] == 0.25) and np.all(np.diag(cw.J) == 0) and np.all(cw.h == 0.1)
    s = all_states(8)
    M = s.sum(1)
    np.testing.assert_allclose(cw.energy(s), -(2.0 / 16) * (M**2 - 8) - 0.1 * M, atol=1e-12)
    xi = random_patterns(20, 3, seed=1)
    hop = hopfield(xi)
    expected = xi.T.astype(float) @ xi / 20
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(hop.J, expected)
    big = sk(400, seed=0)
    upper = big.J[np.triu_indices(400, 1)]
    assert abs(upper.var() * 400 - 1) < 0.02 and abs(upper.mean()) < 0.01
    np.testing.assert_array_equal(sk(10, seed=7).J, sk(10, seed=7).J)
    r = ring(5, j=1.5)
    assert r.J[0, 1] == 1.5 and r.J[4, 0] == 1.5 and r.J[0, 2] == 0


def test_specs():
    assert from_spec("sk:n=20,seed=0").n == 20
    np.testing.assert_array_equal(from_spec("sk:n=12,seed=4").J, sk(12, seed=4).J)
    hop = from_spec("hopfield:n=30,p=3,seed=1")
    np.testing.assert_array_equal(hop.meta["patterns"], random_patterns(30, 3, seed=1))
    assert from_spec("curie-weiss:n=50,j=1").J[0, 1] == pytest.approx(1 / 50)
    for bad, msg in [("foo:n=3", "unknown model generator"), ("sk:n=3,q=1", "bad parameter"),
                     ("sk:seed=1", "needs n"), ("sk:n=x", "must be int")]:
        with pytest.raises(ModelError, match=msg):
            from_spec(bad)


def test_npz_round_trip(tmp_path):
    for model in (sk(7, seed=1, h=0.2), random_multispin(6, order=3, seed=2)):
        path = tmp_path / "m.npz"
        save_model(path, model)
        back = resolve_model(str(path))
        s = all_states(model.n)
        np.testing.assert_array_equal(back.energy(s), model.energy(s))


def test_bad_files(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip file")
    with pytest.raises(ModelError, match="not a readable .npz"):
        load_model(corrupt)
    incomplete = tmp_path / "incomplete.npz"
    np.savez(incomplete, h=np.zeros(3))
    with pytest.raises(ModelError, match="needs 'h' and 'J'"):
        load_model(incomplete)


@pytest.mark.parametrize("h, J, msg", [
    (np.zeros(3), [[0, 1, 0], [0, 0, 0], [0, 0, 0]], "symmetric"),
    (np.zeros(3), np.zeros((3, 2)), "square"),
    (np.zeros(3), np.eye(3), "zero diagonal"),
    (np.zeros(3), [[0, np.nan, 0], [np.nan, 0, 0], [0, 0, 0]], "NaN"),
    (np.zeros(2), np.zeros((3, 3)), r"shape \(3,\)"),
    ([np.inf, 0, 0], np.zeros((3, 3)), "infinite"),
    (np.zeros(3), np.zeros(3), "2 dimension"),
    (np.zeros(3), [["a", "b", "c"]] * 3, "real numbers"),
])
def test_bad_pairwise_models(h, J, msg):
    with pytest.raises(ModelError, match=msg):
        PairwiseModel(h, J)


def test_bad_multispin_models():
    with pytest.raises(ModelError, match="more than once"):
        MultiSpinModel([[1, 1, 0], [1, 1, 0]], [1.0, 2.0])
    with pytest.raises(ModelError, match="boolean"):
        MultiSpinModel([[2, 1, 0]], [1.0])
    with pytest.raises(ModelError, match="couplings must have shape"):
        MultiSpinModel([[1, 1, 0]], [1.0, 2.0])
    with pytest.raises(ModelError, match="outside"):
        MultiSpinModel.from_terms([[0, 5]], [1.0], n=3)
    with pytest.raises(ModelError, match=r"shape \(N,\) or \(B, N\)"):
        sk(4, seed=0).energy(np.ones((2, 5)))


def test_model_arrays_are_read_only_and_owned():
    """A model owns read-only copies of its parameters: the caller's array and anything that holds the
    model's arrays (sampler kernels, caches) cannot change the model by writing in place."""
    h, J = np.array([0.1, -0.2, 0.3]), np.array([[0.0, 0.5, 0.0], [0.5, 0.0, -0.4], [0.0, -0.4, 0.0]])
    model = PairwiseModel(h, J)
    h[0] = 9.0
    assert model.h[0] == 0.1
    for arr in (model.h, model.J):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0
    multi = MultiSpinModel([[True, True, False], [False, True, True]], [1.0, -0.5])
    with pytest.raises(ValueError, match="read-only"):
        multi.couplings[0] = 2.0
