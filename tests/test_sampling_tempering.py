"""Parallel tempering and log Z without enumeration, against exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.exact import thermodynamics
from thermopot.errors import ThermopotError
from thermopot.models import curie_weiss, random_multispin, random_pairwise, sk
from thermopot.sampling import compiled, sample
from thermopot.sampling.free_energy import energy_integral, infinite_temperature_moments, log_partition
from thermopot.sampling.tempering import LowSwapRateWarning, exact_swap_rate, parallel_tempering, temperature_ladder
from thermopot.states import all_states

LADDER = np.geomspace(0.4, 3.0, 8)


@pytest.fixture(scope="module")
def cw_run():
    return parallel_tempering(curie_weiss(12), LADDER, chains=16, sweeps=1500, seed=1, progress=False)


def test_tempering_agrees_with_exact_where_single_chains_are_trapped(cw_run):
    """Curie-Weiss N = 12 at T = 0.4: a single chain started all up stays magnetised (exact m = 0 by
    symmetry), while parallel tempering gives every energy and magnetisation within its error bar."""
    model = curie_weiss(12)
    # burn_in=150: the run this was written for (the former default sweeps // 10); with the default 300 the
    # 16 chains' mean m_k is 0.473-0.479, so the chains do leave the up state, slowly (tau_int ~ 460 sweeps)
    single = sample(model, 0.4, chains=16, sweeps=1500, burn_in=150, seed=1, initial=np.ones(12))
    assert np.all(single.magnetization > 0.5)  # trapped in the up state
    for r, T in enumerate(LADDER):
        exact = thermodynamics(model, T)
        z_energy = (cw_run.energy[r] - exact.energy) / cw_run.energy_stderr[r]
        z_m = (cw_run.magnetization[r] - exact.magnetization) / cw_run.magnetization_stderr[r]
        assert abs(z_energy) < 4.5, (T, z_energy)
        assert np.max(np.abs(z_m)) < 4.5, (T, z_m)
    assert cw_run.round_trips > 50
    assert np.all(cw_run.swap_rate > 0.3)


def test_tempering_correlations_agree_with_exact():
    """correlations=True: the raw <s_k s_l> at every temperature (unit diagonal, symmetric) within 4.5 of their
    batch-means standard errors of enumeration (SK N = 8); without it the fields are None."""
    model, ladder = sk(8, seed=3), [0.6, 1.0, 1.6]
    run = parallel_tempering(model, ladder, chains=16, sweeps=2000, seed=2, progress=False, correlations=True)
    iu = np.triu_indices(8, 1)
    for r, T in enumerate(ladder):
        exact = thermodynamics(model, T)
        np.testing.assert_array_equal(np.diag(run.correlation[r]), 1.0)
        np.testing.assert_allclose(run.correlation[r], run.correlation[r].T, atol=1e-12)
        z = (run.correlation[r][iu] - exact.correlation[iu]) / run.correlation_stderr[r][iu]
        assert np.max(np.abs(z)) < 4.5, (T, z)
    assert len(run.to_dict()["correlation"]) == 3
    plain = parallel_tempering(model, ladder, chains=4, sweeps=50, seed=2, progress=False)
    assert plain.correlation is None and plain.correlation_stderr is None


def test_swap_rate_equals_exact_acceptance():
    """The measured swap rate of two temperatures equals the exact mean acceptance over the two
    Boltzmann distributions (computed from all 2^N states)."""
    model = sk(8, seed=2)
    result = parallel_tempering(model, [1.0, 1.4], chains=64, sweeps=1500, seed=3, progress=False)
    exact = exact_swap_rate(model, 1.0, 1.4)
    assert 0.2 < exact < 0.9
    assert abs(result.swap_rate[0] - exact) < 0.02, (result.swap_rate[0], exact)


@pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
def test_compiled_and_array_paths_give_the_same_run():
    model = random_multispin(9, 3, seed=4)
    runs = [parallel_tempering(model, [0.6, 1.0, 1.7], chains=4, sweeps=60, seed=5, compiled_kernel=c,
                               progress=False) for c in (True, False)]
    np.testing.assert_allclose(runs[0].energy, runs[1].energy, rtol=1e-13)  # the same chains and swaps;
    np.testing.assert_array_equal(runs[0].swap_rate, runs[1].swap_rate)   # energies summed in another order


def test_automatic_ladder_has_about_constant_swap_rate():
    """temperature_ladder places the temperatures for a target swap rate: the measured rates of every
    pair are close to each other and not below the target by more than 0.1."""
    model = curie_weiss(16)
    ladder = temperature_ladder(model, 0.4, 3.0, swap_rate=0.4, seed=0)
    assert ladder[0] == pytest.approx(0.4) and ladder[-1] == pytest.approx(3.0)
    rate = parallel_tempering(model, ladder, chains=16, sweeps=800, seed=6, progress=False).swap_rate
    assert rate.min() > 0.3 and rate.max() - rate.min() < 0.2, rate


def test_low_swap_rate_is_reported_with_the_pair():
    with pytest.warns(LowSwapRateWarning, match=r"T = 0\.3 and T = 3"):
        parallel_tempering(curie_weiss(24), [0.3, 3.0], chains=8, sweeps=200, seed=0, progress=False)


@pytest.mark.parametrize("ladder", [[1.0], [1.0, 1.0], [2.0, 1.0], [0.0, 1.0], [1.0, np.nan]])
def test_bad_ladders_are_refused(ladder):
    with pytest.raises(ThermopotError):
        parallel_tempering(sk(6, seed=0), ladder, sweeps=10)


def test_infinite_temperature_moments_are_exact():
    """U(0) and V(0) equal the mean and variance of E over all states."""
    for model in (random_pairwise(7, seed=1), random_multispin(7, 3, seed=2)):
        energy = model.energy(all_states(model.n))
        u0, v0 = infinite_temperature_moments(model)
        assert u0 == pytest.approx(energy.mean(), abs=1e-12)
        assert v0 == pytest.approx(energy.var(), rel=1e-12)


def test_energy_integral_is_exact_to_fourth_order():
    """Independent spins in fields h: U(b) = -sum h tanh(b h), dU/db = -sum h^2 / cosh^2(b h) and
    log Z(b) = sum log(2 cosh b h) in closed form; the corrected trapezoid on 12 betas recovers log Z to
    1.6e-4 and its error falls as h^4 (the plain trapezoid is off by 2.9e-2 on this grid)."""
    h = np.array([0.3, -0.8, 1.1, 0.5])
    betas = np.geomspace(0.02, 2.0, 12)
    u = -np.sum(h * np.tanh(np.outer(betas, h)), axis=1)
    du = -np.sum(h**2 / np.cosh(np.outer(betas, h)) ** 2, axis=1)
    exact = np.sum(np.log(2 * np.cosh(2.0 * h)))
    estimate = h.size * np.log(2.0) - energy_integral(betas, u, du, 0.0, float(np.sum(h**2)))
    assert abs(estimate - exact) < 1e-3, estimate - exact


@pytest.mark.parametrize("method,options", [("ais", {"chains": 128, "steps": 400}),
                                            ("ti", {"chains": 8, "steps": 14, "sweeps": 600})])
@pytest.mark.parametrize("model,T", [(random_pairwise(12, seed=3), 0.6), (random_multispin(10, 3, seed=1), 0.8)])
def test_log_partition_agrees_with_exact(method, options, model, T):
    exact = thermodynamics(model, T).log_z
    result = log_partition(model, T, method=method, seed=7, **options)
    assert result.log_z_stderr < 0.1
    assert abs(result.log_z - exact) < 4 * result.log_z_stderr + 1e-3, (result.log_z, exact, result.log_z_stderr)
    assert result.free_energy == pytest.approx(-T * result.log_z)


def test_log_partition_bad_input():
    with pytest.raises(ThermopotError, match="method"):
        log_partition(sk(6, seed=0), 1.0, method="magic")
    with pytest.raises(ThermopotError, match="T_max"):
        log_partition(sk(6, seed=0), 1.0, method="ti", T_max=0.5)
