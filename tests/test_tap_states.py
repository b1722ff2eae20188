"""TAP states of SK (issue 14): seeded starts and the Bolthausen iteration, Plefka's global condition,
counting single-flip-stable states against exact enumeration, and the CLI options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.meanfield import gibbs_gradient, plefka_global, plefka_margin, plefka_ratio, plefka_valid
from thermopot.models import PairwiseModel, sk
from thermopot.solvers import find_minima
from thermopot.solvers.amp import bolthausen
from thermopot.solvers.bray_moore import tap_complexity
from thermopot.solvers.counting import TANAKA_EDWARDS, complexity, count_states, state_complexity
from thermopot.solvers.seeds import quench_states, state_overlap


def _uniform_sk(n: int, seed: int) -> PairwiseModel:
    """J_kl = +-1/sqrt(N): sum_{k != l} J_kl^2 / (N - 1) = 1 exactly."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1) / np.sqrt(n)
    return PairwiseModel(np.zeros(n), upper + upper.T)


def test_global_condition_holds_where_the_per_site_one_fails():
    """A state built with 10% unmagnetised spins (1 - m^2 = 1) and the rest at 1 - m^2 = 0.3, T = 0.5:
    x = beta^2 (0.1 + 0.9 x 0.09) = 0.724 < 1 (global: valid), while at an unmagnetised spin
    beta^2 (1/N) sum_{l != k} (1 - m_l^2) = 4 (0.1 + 0.27 - 1/N) > 1 (per site: invalid)."""
    n, T = 100, 0.5
    model = _uniform_sk(n, 0)
    d = np.full(n, 0.3)
    d[:10] = 1.0
    m = np.sqrt(1 - d) * np.where(np.arange(n) % 2, 1, -1)
    assert plefka_ratio(model, m, T) == pytest.approx(4 * (0.1 + 0.9 * 0.09), abs=1e-12)
    assert plefka_global(model, m, T) and not plefka_valid(model, m, T)
    assert plefka_margin(model, m, T) == pytest.approx(1 - 4 * (d.sum() - 1.0) / n, abs=1e-12)


def test_per_site_valid_implies_global_valid_for_uniform_couplings():
    """(1/N) sum d^2 <= max_k d_k (1/N) sum d with J_kl^2 = 1/N: no point passes per site and fails globally."""
    model = _uniform_sk(40, 1)
    rng = np.random.default_rng(2)
    scale = np.logspace(-3, 0, 4000)[:, None]  # 1 - |m| up to scale: from nearly frozen to unmagnetised
    m = rng.choice([-1.0, 1.0], size=(4000, 40)) * (1 - scale * rng.uniform(0, 1, size=(4000, 40)))
    only_global = 0
    for T in (0.4, 0.7, 0.9):
        site, glob = plefka_valid(model, m, T), plefka_global(model, m, T)
        assert site.any() and not (site & ~glob).any()
        only_global += int((glob & ~site).sum())
    assert only_global > 0


def test_bolthausen_fixed_points_are_tap2_stationary_points():
    """The AMP iteration with a field (replica-symmetric phase, T = 1.5) converges, and its end point zeroes
    the gradient of the TAP2 free energy computed independently by thermopot.meanfield."""
    base = sk(60, seed=3)
    model = PairwiseModel(np.full(60, 0.3), base.J)
    res = bolthausen(model, 1.5, m0=np.random.default_rng(0).uniform(-0.5, 0.5, (4, 60)))
    assert res.converged.all() and (res.residual < 1e-8).all()
    assert np.abs(gibbs_gradient(model, res.m, 1.5, 2)).max() < 1e-7
    assert np.abs(res.m - res.m[0]).max() < 1e-7  # one solution at high T with a field
    with pytest.raises(ThermopotError, match="damping"):
        bolthausen(model, 1.5, m0=res.m, damping=1.5)


def test_seeds_reach_the_sk_state_the_random_starts_miss():
    """SK N = 200 at T = 0.5 (issue 14): uniform random starts give the paramagnet only; quench seeds reach
    a TAP state (q ~ 0.67) that is stationary to 1e-8, positive definite, valid by Plefka's global
    condition though not per site, and stable under chains started at sign(m) and sampled from m (the
    mean overlap with m over 100 sweeps matches q within 3 standard errors)."""
    model, T = sk(200, seed=0), 0.5
    plain = find_minima(model, T, starts=16, seed=1)
    assert plain.count == 1 and np.abs(plain.points).max() < 1e-6
    res = find_minima(model, T, seeds="quench", starts=16, seed=1)
    q = np.mean(res.points**2, axis=1)
    states = np.flatnonzero(res.is_minimum & (q > 1e-3))
    assert states.size >= 1
    a = int(states[0])
    assert res.residual[res.start_point == a].max() < 1e-8
    assert res.hessian_min_eig[a] > 0 and res.plefka_global[a] and not res.plefka_valid[a]
    assert res.plefka_ratio[a] == pytest.approx(plefka_ratio(model, res.points[a], T))
    for start in ("sign", "sample"):
        check = state_overlap(model, T, m=res.points[a], chains=32, sweeps=100, start=start, seed=6)
        assert check.q == pytest.approx(q[a]) and check.stable, check.message
        assert abs(check.mean - q[a]) < 3 * check.stderr


@pytest.mark.xfail(strict=True, reason="issue 14 asks for >= 10 distinct non-paramagnetic TAP minima on SK N = 200, "
                                       "T = 0.5; every seeding strategy finds one +-m pair on this instance, and "
                                       "Bray-Moore's annealed complexity Sigma(0.5) = 0.0028 predicts "
                                       "exp(200 Sigma) ~ 1.7 minima per instance (docs/spin-glass.md)")
def test_ten_distinct_tap_minima_sk_200():
    res = find_minima(sk(200, seed=0), 0.5, seeds="quench", starts=32, seed=1)
    assert (res.is_minimum & (np.mean(res.points**2, axis=1) > 1e-3)).sum() >= 10


def _zero_temperature_limit() -> float:
    """Sigma(T -> 0) by Richardson extrapolation from T = 0.02, 0.01, 0.005 with the fitted order p
    (Sigma(T) ~ Sigma_0 - c T^p; the differences shrink by 2^p per halving)."""
    s = [tap_complexity(T).sigma for T in (0.02, 0.01, 0.005)]
    ratio = (s[1] - s[0]) / (s[2] - s[1])
    assert ratio > 1  # converging
    return s[2] + (s[2] - s[1]) / (ratio - 1)


def test_bray_moore_complexity_limits():
    """Sigma(T) of the TAP minima: zero at and above T_c = 1, decreasing in T, at T -> 0 the annealed
    complexity of single-flip-stable states, Tanaka-Edwards' 0.1992 (Bray and Moore's T = 0 limit), and
    ~(1 - T)^6 near T_c (Bray and Moore's law, as quoted by H. Rieger 1992, arXiv:cond-mat/9208015)."""
    assert tap_complexity(1.0).sigma == 0.0 and tap_complexity(2.0).sigma == 0.0
    values = [tap_complexity(T) for T in (0.1, 0.3, 0.5, 0.7)]
    assert all(v.converged and v.plefka_ratio <= 1 for v in values)
    sigma = [v.sigma for v in values]
    assert all(a > b > 0 for a, b in zip(sigma, sigma[1:]))
    assert values[2].sigma == pytest.approx(0.002776, abs=2e-5)  # this module's value, docs/spin-glass.md
    assert values[2].expected(200) == pytest.approx(np.exp(200 * values[2].sigma))
    assert abs(_zero_temperature_limit() - TANAKA_EDWARDS) < 2e-3
    # near T_c Bray and Moore's complexity vanishes like (1 - T)^6: the local exponent at 1 - T = 0.15-0.2
    near = [tap_complexity(T).sigma for T in (0.8, 0.85)]
    assert 5.5 < np.log(near[0] / near[1]) / np.log(0.2 / 0.15) < 7


def test_bray_moore_check_fails_without_the_rank_one_covariance(monkeypatch):
    """A plausible mistake: the covariance of J m taken as q I, without its m m^T / N part (Delta = 0).
    The T -> 0 limit then misses Tanaka-Edwards by far (the counts come out negative)."""
    import thermopot.solvers.bray_moore as bm

    original = bm._bracket
    monkeypatch.setattr(bm, "_bracket", lambda integral, q, delta: original(integral, q, 0.0))
    assert tap_complexity(0.5).sigma < 0
    assert abs(_zero_temperature_limit() - TANAKA_EDWARDS) > 0.05


def test_seeds_option_errors():
    with pytest.raises(ThermopotError, match="seeds strategy"):
        find_minima(sk(10, seed=0), 0.5, seeds="magic", starts=4)
    with pytest.raises(ThermopotError, match="not both"):
        find_minima(sk(10, seed=0), 0.5, seeds="quench", init=np.zeros((2, 10)))


@pytest.mark.parametrize("n", [10, 12, 14])
def test_quench_counts_match_exact_enumeration(n):
    """The T = 0 seeds of find_minima (single-flip descent from random spins) reach exactly the stable
    states that exact enumeration counts (s_k h_k >= 0 for all k), instance by instance."""
    for seed in range(3):
        model = sk(n, seed=seed)
        found = np.unique(quench_states(model, starts=3000, seed=np.random.default_rng(seed)), axis=0)
        fields = found.astype(float) @ model.J
        assert (found * fields >= 0).all()
        assert found.shape[0] == count_states(model, method="exact")


def test_complexity_of_exact_and_quench_counts_agree():
    exact = state_complexity(12, 6, method="exact", seed=7)
    quench = state_complexity(12, 6, method="quench", starts=3000, seed=7)
    np.testing.assert_array_equal(exact.counts, quench.counts)
    assert exact.quenched == pytest.approx(np.mean(np.log(exact.counts)) / 12)
    assert exact.annealed == pytest.approx(np.log(np.mean(exact.counts)) / 12)
    # at N = 12 the complexity lies within ~0.1 of Tanaka-Edwards' N -> infinity value (finite-size prefactor)
    assert abs(exact.annealed - TANAKA_EDWARDS) < 0.1
    with pytest.raises(ThermopotError, match="count"):
        complexity([0, 3], 12)


def test_cli_minima_seeds_and_valid_only(capsys):
    args = ["minima", "sk:n=200,seed=0", "--T", "0.5", "--seeds", "quench", "--starts", "16", "--seed", "1", "--json"]
    assert main(args + ["--valid-only"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid_only"] == "global" and len(data["minima"]) >= 1
    assert all(row["plefka_global"] and row["plefka_ratio"] < 1 for row in data["minima"])
    assert main(args + ["--valid-only", "site"]) == 0
    assert json.loads(capsys.readouterr().out)["minima"] == []
    assert main(args[:-1]) == 0
    text = capsys.readouterr().out
    assert "Plefka x (<1)" in text and "paramagnet" not in text


def _counting_context(tmp_path):
    from thermopot.validation import Context

    return Context(module="minima", out=tmp_path, quick=True, seed=0)


def test_counting_validation_passes_and_fails_on_an_injected_mistake(tmp_path, monkeypatch):
    """validation.minima's counting checks pass; with the descent cut after one flip (a plausible mistake:
    too small a step budget) the seeds are not all stable and the counts differ, and the checks fail."""
    from thermopot.sampling import descend
    from thermopot.validation import minima as vm

    ctx = _counting_context(tmp_path)
    vm._counting_checks(ctx, (10,), 3, 2000)
    assert ctx.checks and all(c.passed for c in ctx.checks)

    def cut(model, *, starts, seed, xp=np):
        return descend(model, 1 - 2 * seed.integers(0, 2, size=(starts, model.n)), max_steps=1).states

    monkeypatch.setattr(vm, "quench_states", cut)
    bad = _counting_context(tmp_path)
    vm._counting_checks(bad, (10,), 3, 2000)
    assert not any(c.passed for c in bad.checks)


def test_annealed_complexity_counts_instances_without_states(monkeypatch):
    """Instances with no state are left out of the quenched mean of log(count) but count in the annealed mean."""
    from thermopot.solvers import counting

    counts = iter([0, 4, 16, 0])
    monkeypatch.setattr(counting, "count_states", lambda *a, **k: next(counts))
    res = counting.state_complexity(10, 4, method="exact", seed=0)
    assert res.quenched == pytest.approx((np.log(4) + np.log(16)) / 20)
    assert res.annealed == pytest.approx(np.log(5.0) / 10)
    assert "2 with no state" in res.message


def test_tap_count_includes_the_partner_of_a_lone_minimum():
    """On sk(50, seed=5000) at T = 0.3 the 64 quench seeds of seed 0 reach three non-paramagnetic minima, one
    of them without its spin-flip image; -m is a minimum too (G_2 is even in m: Newton from -m stays there,
    with the same smallest Hessian eigenvalue), so the count is 4, the even number of distinct minima."""
    model = sk(50, seed=5000)
    res = find_minima(model, 0.3, seeds="quench", starts=64, seed=0)
    state = res.is_minimum & (np.mean(res.points**2, axis=1) > 1e-6)
    lone = np.flatnonzero(state & (res.partner < 0))
    assert state.sum() == 3 and lone.size == 1
    image = find_minima(model, 0.3, init=-res.points[lone])
    assert image.kind.tolist() == ["minimum"] and np.abs(image.points[0] + res.points[lone[0]]).max() < 1e-10
    assert image.hessian_min_eig[0] == pytest.approx(res.hessian_min_eig[lone[0]], rel=1e-8)
    assert count_states(model, T=0.3, method="tap2", starts=64, seed=0, seeds="quench") == 4


def test_tap_count_without_flip_symmetry_counts_what_was_found():
    """With a field h_k = 0.05 (no s -> -s symmetry) -m is not a minimum in general: the count is the plain
    number found (five, where pair completion would report ten)."""
    from thermopot.solvers.counting import tap_minima

    base = sk(50, seed=5000)
    model = PairwiseModel(np.full(50, 0.05), base.J)
    res = find_minima(model, 0.3, seeds="quench", starts=64, seed=0)
    found = int((res.is_minimum & (np.mean(res.points**2, axis=1) > 1e-6)).sum())
    assert (res.partner == -1).all() and found == 5  # odd: no pairs to complete
    assert tap_minima(res, symmetric=False) == found == count_states(model, T=0.3, method="tap2", starts=64, seed=0,
                                                                        seeds="quench")


def _verified_states(model: PairwiseModel, T: float, res, seed: int) -> list[int]:
    """Rows of the non-paramagnetic minima of ``res`` that solve the TAP equations to 1e-8 (amp.tap_residual, an
    implementation of its own), have a positive definite Hessian, satisfy Plefka's global condition and keep chains
    started at sign(m) at overlap q within 3 standard errors (32 chains, 100 sweeps)."""
    from thermopot.solvers.amp import tap_residual

    J = model.J
    rows = np.flatnonzero(res.is_minimum & (np.mean(res.points**2, axis=1) > 1e-6))
    residual = tap_residual(model.h[None, :], J, J * J, res.points[rows], 1.0 / T, np)
    return [int(a) for a, r in zip(rows, residual) if r < 1e-8 and res.hessian_min_eig[a] > 0 and res.plefka_global[a]
            and state_overlap(model, T, m=res.points[a], chains=32, sweeps=100, seed=seed + int(a)).stable]


def test_thermal_seeds_find_verified_states_that_quench_seeds_miss():
    """sk(200, seed=5002) at T = 0.3 (benchmarks/tap_search.py, instance 2): 128 quench seeds reach no TAP minimum,
    128 thermal seeds (heat-bath chains at T) reach two +-m pairs, each stationary, positive definite,
    Plefka-valid and stable under chains; count_states counts them by default."""
    model, T = sk(200, seed=5002), 0.3
    quench = find_minima(model, T, seeds="quench", starts=128, seed=2)
    thermal = find_minima(model, T, seeds="thermal", starts=128, seed=2)
    assert _verified_states(model, T, quench, seed=2) == []
    verified = _verified_states(model, T, thermal, seed=2)
    assert len(verified) == 4 and sorted(thermal.partner[verified].tolist()) == sorted(verified)
    assert count_states(model, T=T, method="tap2", starts=128, seed=2) == 4


def test_thermal_seed_counts_at_n_200_are_search_limited():
    """sk(200, seed=5004) at T = 0.3 (benchmarks/tap_seed_saturation.py, instance 4): 128 thermal seeds find no TAP2
    minimum, 2048 find four +-m pairs: on this instance the count is limited by the search, not by the states
    (docs/spin-glass.md: 3.6 -> 8.0 minima per instance from 128 to 8192 seeds, against exp(N Sigma) = 103)."""
    model = sk(200, seed=5004)
    assert [count_states(model, T=0.3, method="tap2", starts=s, seed=4) for s in (128, 2048)] == [0, 8]


def test_state_verification_rejects_naive_mean_field_minima():
    """The verification above fails on the minima of the naive mean-field free energy (a plausible mistake: the
    Onsager term left out), which do not solve the TAP equations."""
    model, T = sk(200, seed=5002), 0.3
    nmf = find_minima(model, T, method="nmf", seeds="quench", starts=32, seed=2)
    assert (nmf.is_minimum & (np.mean(nmf.points**2, axis=1) > 1e-6)).sum() > 0
    assert _verified_states(model, T, nmf, seed=2) == []
