"""Full description of a training set: fields, Walsh identities, Krawtchouk truncation, coexistence."""

import json
import math

import numpy as np
import pytest

from thermopot.errors import SizeError, ThermopotError
from thermopot.knowledge.description import (
    coupling_residual,
    describe,
    krawtchouk_residual,
    shift_residual,
    truncation_scale,
)
from thermopot.learning import Dataset
from thermopot.states import all_states, index_to_spins


def _random_data(n, m, seed):
    """M distinct random patterns of N spins with random (unnormalised) weights."""
    rng = np.random.default_rng(seed)
    index = rng.choice(2**n, size=m, replace=False)
    return Dataset(index_to_spins(index, n, None, np.int8), rng.uniform(0.2, 3.0, m))


def test_fields_from_duplicated_samples():
    rows = np.array([[1, 1, -1, 1], [1, 1, -1, 1], [-1, 1, 1, 1], [1, 1, -1, 1], [-1, -1, -1, -1]])
    d = describe(rows, T0=0.5, eps=2.0)
    assert (d.n, d.m) == (4, 3)
    # merged and sorted: [-1,-1,-1,-1] once, [-1,1,1,1] once, [1,1,-1,1] three times
    np.testing.assert_allclose(d.weights, [0.2, 0.2, 0.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(d.energies, -0.5 * np.log(d.weights), rtol=1e-15)
    assert d.e_lib == d.energies.max() and d.gap == 8.0 and d.e_gap == d.e_lib + 8.0
    np.testing.assert_allclose(d.depths, d.e_gap - d.energies, rtol=1e-15)
    assert d.depths.min() == pytest.approx(d.gap, rel=1e-15)  # every pattern at least Delta below the gap
    table = d.energy_table
    expected = np.full(16, d.e_gap)
    expected[d.indices] = d.energies
    np.testing.assert_allclose(table, expected, rtol=1e-14)
    np.testing.assert_array_equal(index_to_spins(d.indices, 4, None, np.int8), d.patterns)


def test_couplings_are_the_walsh_sum():
    d = describe(_random_data(5, 6, 0))
    s = all_states(5)
    masks = np.arange(32)
    chi = np.prod(np.where((masks[:, None] >> np.arange(5)) & 1, s[:, None, :], 1.0), axis=-1)  # (states, alpha)
    np.testing.assert_allclose(d.couplings, -(d.energy_table @ chi) / 32, rtol=0, atol=1e-13)


@pytest.mark.parametrize("n,m", [(3, 2), (5, 3), (6, 7), (7, 20)])
def test_gap_enters_only_the_constant_coupling(n, m):
    d = describe(_random_data(n, m, n + m), T0=0.7, eps=1.3)
    scale = np.abs(d.couplings).max()
    assert coupling_residual(d) <= 1e-13 * scale
    assert d.couplings[0] == pytest.approx(-d.e_gap + d.depths.sum() / 2**n, abs=1e-13 * scale)
    assert shift_residual(d, 7.5) <= 1e-13 * (scale + 7.5)
    in_alpha = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)  # (alpha, k)
    chi_mu = np.prod(np.where(in_alpha[:, None, :], d.patterns[None, :, :], 1), axis=-1)  # (alpha, mu)
    np.testing.assert_allclose(d.couplings[1:], (chi_mu @ d.depths)[1:] / 2**n, atol=1e-13 * scale)


@pytest.mark.parametrize("n,m", [(4, 3), (6, 5), (8, 9)])
def test_krawtchouk_form_equals_walsh_truncation(n, m):
    d = describe(_random_data(n, m, 10 * n + m))
    for order in range(n + 1):
        assert krawtchouk_residual(d, order) <= 1e-12 * d.e_gap
    np.testing.assert_allclose(d.truncated_energy(n), d.energy_table, rtol=1e-13)  # K = N: the full table


def test_blocked_truncation_is_bit_identical(monkeypatch):
    """All states streamed in blocks (state_blocks) give exactly the values of the states passed at once,
    and the Krawtchouk residual does not depend on the block size."""
    import thermopot.knowledge._description_identities as identities
    import thermopot.knowledge.description as description

    d = describe(_random_data(9, 7, 3))
    whole = d.truncated_energy(2, all_states(9))
    residual = krawtchouk_residual(d, 2)
    monkeypatch.setattr(description, "_BLOCK_ELEMENTS", 7 * 50)  # 50 states per block, last one partial
    monkeypatch.setattr(identities, "_BLOCK_ELEMENTS", 9 * 30)
    blocked = d.truncated_energy(2)
    assert blocked.shape == (2**9,)
    np.testing.assert_array_equal(blocked, whole)
    assert krawtchouk_residual(d, 2) == residual
    assert np.abs(blocked - d.e_gap).max() > 0  # a real truncation, not the constant gap


@pytest.mark.parametrize("n,m", [(5, 2), (8, 4)])
def test_truncation_scale_bound(n, m):
    d = describe(_random_data(n, m, n * m))
    for order in range(n + 1):
        sc = truncation_scale(d, order)
        assert sc.max_deviation <= sc.bound * (1 + 1e-12)
        assert sc.bound == pytest.approx(d.depths.sum() * sum(math.comb(n, j) for j in range(order + 1)) / 2**n,
                                         rel=1e-14)
    assert truncation_scale(d, n).max_deviation == pytest.approx(d.depths.max(), rel=1e-13)  # K = N: exact
    assert truncation_scale(d, 0).max_deviation == pytest.approx(d.depths.sum() / 2**n, rel=1e-13)  # J_{} only


def test_equal_weights_coexistence_is_the_formula():
    for n, m in [(4, 3), (8, 5), (12, 40)]:
        d = describe(_random_data(n, m, n).with_weights(np.ones(m)), eps=0.8)
        expected = 0.8 * n / math.log((2**n - m) / m)
        assert d.t_star == pytest.approx(expected, rel=1e-14)
        assert d.t_coexistence == pytest.approx(expected, rel=1e-12)
        assert d.garbage_weight(d.t_star) == pytest.approx(0.5, abs=1e-12)


def test_exact_coexistence_root_and_garbage_weight():
    d = describe(_random_data(7, 6, 3), T0=1.0, eps=0.6)
    tc = d.t_coexistence
    assert d.t_star < tc < d.depths.max() / math.log((2**7 - 6) / 6)
    assert d.library_free_energy(tc) == pytest.approx(d.continuum_free_energy(tc), abs=1e-12)
    temps = np.array([0.3, 1.0, tc, 5.0, 40.0])
    p = np.exp(-(d.energy_table[:, None] - d.e_lib) / temps)  # brute-force Boltzmann weights
    mask = np.ones(2**7, dtype=bool)
    mask[d.indices] = False
    np.testing.assert_allclose(d.garbage_weight(temps), p[mask].sum(0) / p.sum(0), rtol=1e-12)
    assert d.garbage_weight(tc) == pytest.approx(0.5, abs=1e-12)
    assert d.garbage_weight(0.3) < 0.5 < d.garbage_weight(5.0)


def test_no_coexistence_when_the_library_is_half_the_states():
    d = describe(_random_data(3, 4, 1))
    assert d.t_star is None and d.t_coexistence is None


def test_backend_independent(gpu_backend):
    data = _random_data(6, 5, 4)
    ref, d = describe(data, backend="numpy"), describe(data, backend=gpu_backend)
    np.testing.assert_allclose(d.couplings, ref.couplings, rtol=0, atol=1e-14)
    np.testing.assert_allclose(d.truncated_energy(2), ref.truncated_energy(2), rtol=1e-14)
    assert krawtchouk_residual(d, 3) <= 1e-12 * d.e_gap


def test_to_dict_is_json():
    d = describe(_random_data(5, 4, 2))
    out = json.loads(json.dumps(d.to_dict()))
    assert out["m"] == 4 and out["e_gap"] == d.e_gap and out["patterns"] == d.patterns.tolist()
    assert json.loads(json.dumps(truncation_scale(d, 2).to_dict()))["order"] == 2


def test_bad_input():
    with pytest.raises(ThermopotError, match="empty"):
        describe(np.zeros((0, 4)))
    with pytest.raises(ThermopotError, match="constant"):
        describe(np.ones((5, 4), dtype=int))
    with pytest.raises(ThermopotError, match="T0"):
        describe(_random_data(4, 3, 0), T0=0.0)
    with pytest.raises(ThermopotError, match="eps"):
        describe(_random_data(4, 3, 0), eps=float("nan"))
    with pytest.raises(SizeError, match="not computed"):
        describe(np.array([[1] * 40, [-1] * 40]))
    with pytest.raises(ThermopotError, match="temperature"):
        describe(_random_data(4, 3, 0)).garbage_weight(0.0)
