import numpy as np
import pytest

from conftest import brute_force
from thermopot.exact import restricted_free_energies
from thermopot.landscape import local_minima
from thermopot.models import MultiSpinModel, curie_weiss, random_multispin, ring, sk
from thermopot.states import all_states, spins_to_index


def descend(model, s):
    """Steepest single-flip descent of one state by explicit energy comparisons."""
    s = s.copy()
    while True:
        e0 = model.energy(s)
        changes = []
        for k in range(len(s)):
            t = s.copy()
            t[k] *= -1
            changes.append(model.energy(t) - e0)
        k = int(np.argmin(changes))
        if changes[k] >= 0:
            return s
        s[k] *= -1


@pytest.mark.parametrize("model", [sk(8, seed=3), random_multispin(7, order=3, seed=1),
                                   MultiSpinModel.from_energy_table(np.random.default_rng(2).normal(size=2**8))],
                         ids=["sk", "multispin", "energy-table"])
def test_minima_and_basins_against_explicit_descent(model, backend):
    land = local_minima(model, T=0.6, backend=backend)
    s = all_states(model.n)
    de = model.flip_energy_changes(s)
    stable = np.flatnonzero((de > 0).all(axis=1))
    assert sorted(land.indices) == sorted(stable) and land.count == len(stable)
    assert np.all(np.diff(land.energies) >= 0)
    np.testing.assert_allclose(land.energies, model.energy(land.states.astype(float)))
    ends = np.array([spins_to_index(descend(model, x)) for x in s])
    np.testing.assert_array_equal(land.indices[land.basin], ends)
    assert land.basin_size.sum() == 2**model.n
    ref = restricted_free_energies(model, 0.6, land.basin)
    np.testing.assert_allclose(land.free_energy, ref.free_energy, atol=1e-12)
    total = brute_force(model, 0.6)["log_z"]
    assert np.logaddexp.reduce(-land.free_energy / 0.6) == pytest.approx(total, abs=1e-11)


def test_curie_weiss_has_two_symmetric_minima():
    land = local_minima(curie_weiss(10), T=0.5)
    assert land.count == 2
    np.testing.assert_array_equal(np.sort(land.indices), [0, 2**10 - 1])
    assert land.basin_size[0] == land.basin_size[1]
    np.testing.assert_allclose(land.magnetization[0], -land.magnetization[1], atol=1e-12)
    assert land.free_energy[0] == pytest.approx(land.free_energy[1], abs=1e-12)


def test_plateaus_are_listed_but_not_counted():
    """Moving a domain wall of a zero-field ring costs nothing: those states are stable, not strict."""
    land = local_minima(ring(6))
    assert land.count == 2 and len(land.indices) > 2
    assert set(land.indices[land.strict]) == {0, 63}
    d = land.to_dict()
    assert d["count"] == len(d["minima"]) == 2 and len(d["plateaus"]) == len(land.indices) - 2


def test_to_dict_fields():
    d = local_minima(sk(6, seed=1), T=1.0).to_dict()
    assert d["count"] == len(d["minima"])
    first = d["minima"][0]
    assert {"state", "energy", "basin_size", "free_energy", "magnetization"} <= set(first)
    assert len(first["state"]) == 6 and set(first["state"]) <= {-1, 1}
