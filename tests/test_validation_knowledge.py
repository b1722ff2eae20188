"""Every check of validation/knowledge.py fails when a plausible mistake is injected into the code under
test (and passes without it): a flipped sign, the wrong truncation order, the gap left out, the wrong
temperature, exact independent sampling in place of chains, the reduced family replaced by the full simplex."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thermopot.datasets import noisy_patterns_dataset, random_patterns_dataset
from thermopot.knowledge import bound_states, describe, full_potential_minima, phi_minima, trapping_times
from thermopot.knowledge import description as description_module
from thermopot.knowledge import library as library_module
from thermopot.knowledge.description import KnowledgeDescription
from thermopot.knowledge.retrieval import basin_occupancy, pattern_frequencies
from thermopot.learning.exact_sampling import sample_exact
from thermopot.models import PairwiseModel
from thermopot.states import spins_to_index
from thermopot.validation import Context
from thermopot.validation import knowledge as vk


@pytest.fixture
def ctx(tmp_path):
    return Context(module="knowledge", out=tmp_path)


@pytest.fixture(scope="module")
def data():
    return noisy_patterns_dataset(10, 3, 80, 0.15, seed=1)[0]


@pytest.fixture(scope="module")
def lib(data):
    return bound_states(data, T=1.0, tap=False)


def _fresh(data) -> KnowledgeDescription:
    return describe(data)


def test_couplings_check_catches_a_flipped_sign(ctx, data, monkeypatch):
    assert vk.check_couplings(ctx, _fresh(data)).passed
    real = description_module.walsh_couplings
    monkeypatch.setattr(description_module, "walsh_couplings", lambda table: -real(table))
    assert not vk.check_couplings(ctx, _fresh(data)).passed


def test_krawtchouk_check_catches_the_wrong_order(ctx, data, monkeypatch):
    assert vk.check_krawtchouk(ctx, _fresh(data)).passed
    real = KnowledgeDescription.truncated_energy
    monkeypatch.setattr(KnowledgeDescription, "truncated_energy", lambda self, order, states=None:
                        real(self, order - 1, states))
    assert not vk.check_krawtchouk(ctx, _fresh(data)).passed


def test_krawtchouk_reference_is_the_walsh_truncation():
    """The reference itself: K_j from the generating function against zeroing |alpha| > 2 in the FWHT."""
    d = describe(random_patterns_dataset(6, 3, seed=2))
    from thermopot.states import index_to_spins, walsh_couplings
    J = walsh_couplings(np.asarray(d.energy_table))
    order = np.array([bin(a).count("1") for a in range(2**6)])
    J = np.where(order <= 2, J, 0.0)
    s = index_to_spins(np.arange(2**6), 6, np)
    chi = np.array([[np.prod(si[[k for k in range(6) if a >> k & 1]]) for a in range(2**6)] for si in s])
    np.testing.assert_allclose(vk.krawtchouk_energy(d.patterns, np.asarray(d.depths), d.e_gap, 2), -chi @ J,
                               atol=1e-10)


def test_garbage_check_catches_the_gap_left_out(ctx, monkeypatch):
    equal = random_patterns_dataset(12, 6, seed=1)
    assert vk.check_garbage(ctx, describe(equal)).passed
    monkeypatch.setattr(KnowledgeDescription, "continuum_free_energy",
                        lambda self, T: self.e_lib - T * np.log(2**self.n - self.m))
    assert not vk.check_garbage(ctx, describe(equal)).passed


def test_phi_check_catches_the_wrong_temperature(ctx, data):
    assert vk.check_phi(ctx, phi_minima(data, 1.0, starts=2, compare_ml=False), data).passed
    wrong = phi_minima(data, 1.5, starts=2, compare_ml=False)
    assert not vk.check_phi(ctx, dataclasses.replace(wrong, T=1.0), data).passed


def test_full_simplex_check_catches_the_wrong_temperature(ctx, data):
    d = describe(data)
    assert vk.check_full(ctx, full_potential_minima(d, 2.0, starts=2), d, 2.0).passed
    assert not vk.check_full(ctx, full_potential_minima(d, 2.5, starts=2), d, 2.0).passed


def test_counts_check_catches_the_full_simplex_in_place_of_the_reduced_family(ctx):
    d = describe(random_patterns_dataset(8, 6, 0.8, seed=5))
    low = full_potential_minima(d, 0.7, starts=3).count  # the mistake: the whole simplex, one minimum
    c_low, c_high = vk.check_counts(ctx, low, 1, 0.7, 6.0, d.t_star, "full simplex")
    assert c_high.passed and not c_low.passed


def test_library_check_catches_a_flipped_sign_in_the_landscape(ctx, data, monkeypatch):
    assert vk.check_library(ctx, bound_states(data, T=1.0, tap=False)).passed
    real = library_module.local_minima

    def flipped(model, **kw):
        return real(PairwiseModel(-np.asarray(model.h), -np.asarray(model.J)), **kw)

    monkeypatch.setattr(library_module, "local_minima", flipped)
    assert not vk.check_library(ctx, bound_states(data, T=1.0, tap=False)).passed


def test_pooled_mass_check_catches_chains_at_the_wrong_temperature(ctx, data, lib):
    right = pattern_frequencies(lib.model, data, 0.5, chains=32, sweeps=300, seed=1)
    assert vk.check_pooled_mass(ctx, right, lib.model, 0.5).passed
    wrong = pattern_frequencies(lib.model, data, 1.0, chains=32, sweeps=300, seed=1)
    assert not vk.check_pooled_mass(ctx, wrong, lib.model, 0.5).passed


def test_ergodic_check_catches_chains_at_the_wrong_temperature(ctx, lib):
    hot = basin_occupancy(lib, 1.0, chains=16, sweeps=600, seed=1)
    assert vk.check_ergodic(ctx, hot.occupancy, lib, 1.0, 600).passed
    cold = basin_occupancy(lib, 0.15, chains=16, sweeps=600, seed=1)
    assert not vk.check_ergodic(ctx, cold.occupancy, lib, 1.0, 600).passed


def test_trapped_check_catches_exact_sampling_in_place_of_chains(ctx, lib):
    cold = basin_occupancy(lib, 0.15, chains=16, sweeps=300, seed=1)
    assert vk.check_trapped(ctx, cold.occupancy, lib, 0.15, 300).passed
    labels = vk._basin_labels(lib)
    occupancy = np.array([np.bincount(labels[spins_to_index(sample_exact(lib.model, 300, T=0.15, seed=c))],
                                      minlength=lib.count + 1) / 300 for c in range(16)])
    assert not vk.check_trapped(ctx, occupancy, lib, 0.15, 300).passed


def test_arrhenius_check_catches_chains_at_the_wrong_temperature(ctx, lib):
    """Its tolerance (0.3 for the prefactor plus 4 standard errors, 0.48 here) lets a factor 2 in T pass
    (ratios 0.54-0.63, seed 3): the check catches a temperature off by a factor 3, not 2."""
    T = np.array([0.5, 0.3, 0.2])
    right = trapping_times(None, lib, T, chains=128, max_updates=400_000, seed=3)
    assert vk.check_arrhenius(ctx, right).passed
    wrong = trapping_times(None, lib, 3 * T, chains=128, max_updates=400_000, seed=3)  # run at 3T, labelled T
    assert not vk.check_arrhenius(ctx, dataclasses.replace(wrong, T=T)).passed


@pytest.fixture(scope="module")
def escape():
    return vk.escape_model()


@pytest.mark.parametrize("scan", ["random", "sequential"])
def test_escape_time_check_catches_the_wrong_temperature_and_unit(ctx, escape, scan):
    """The exact mean first-passage time catches what the Arrhenius slope lets pass: chains run at 2T or
    T/2 but labelled T, and escape times counted in sweeps instead of single-spin updates."""
    model, start = escape
    T, thr = vk.ESCAPE_T, vk.ESCAPE_THRESHOLD
    budget = vk.escape_budget(model, start, scan)
    right = vk.escape_run(model, start, T, scan, 256, 3, budget)
    assert vk.check_escape_time(ctx, right, model, start, thr).passed
    for wrong_T in (2 * T, T / 2):  # T / 2: 5.1e5 sweeps exact, so (nearly) every chain is censored
        wrong = vk.escape_run(model, start, wrong_T, scan, 256, 3, budget)
        assert not vk.check_escape_time(ctx, dataclasses.replace(wrong, T=T), model, start, thr).passed
    in_sweeps = dataclasses.replace(right, times=right.times // model.n)
    assert not vk.check_escape_time(ctx, in_sweeps, model, start, thr).passed
