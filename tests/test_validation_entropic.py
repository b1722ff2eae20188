"""Checks of validation/entropic.py fail when a plausible mistake is injected into the code under test (and
pass without it): a flipped sign of the charge, Euler steps in place of RK4, different batches for the two
runs of an equivariance test, the wrong batch size, one learning rate in place of layer-wise rates, the inner
layer's rate halved (gradient balance, the preferred point reached by SGD), the bias gradient counted in the
outer group (the preferred point on the orbit), isotropic or no label noise (sharpening and flattening), the
deep nets' init scale dropped (the stability of the starts), the noise covariance left out of K* (Platonic
alignment) and the data source ignored by the runs (Platonic alignment without noise)."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.validation import Context
from thermopot.validation import _entropic_deep as vd
from thermopot.validation import entropic as ve


def _run(tmp_path, part, prefix: str) -> list:
    ctx = Context(module="entropic", out=tmp_path, quick=True)
    part(ctx)
    checks = [c for c in ctx.checks if c.name.startswith(prefix)]
    assert checks
    return checks


def test_noether_identity_catches_a_flipped_sign_of_the_charge(tmp_path, monkeypatch):
    assert all(c.passed for c in _run(tmp_path, ve._noether, "discrete_noether_identity"))
    real = ve.charge
    monkeypatch.setattr(ve, "charge", lambda net, p, **kw: -real(net, p, **kw))
    assert not any(c.passed for c in _run(tmp_path, ve._noether, "discrete_noether_identity"))


def test_flow_check_catches_euler_steps_in_place_of_rk4(tmp_path, monkeypatch):
    name = "gradient_flow_conserves_charge [two-layer"
    assert _run(tmp_path, ve._flow, name)[0].passed
    real = ve.gradient_flow
    monkeypatch.setattr(ve, "gradient_flow", lambda *a, **kw: real(*a, **{**kw, "method": "euler"}))
    assert not _run(tmp_path, ve._flow, name)[0].passed


def test_orthogonal_check_catches_different_batches(tmp_path, monkeypatch):
    assert all(c.passed for c in _run(tmp_path, ve._orthogonal, "orthogonal_symmetry_preserved"))
    real = ve.run_sgd
    monkeypatch.setattr(ve, "run_sgd", lambda *a, **kw: real(*a, **{**kw, "seed": [7, 8]}))
    assert not any(c.passed for c in _run(tmp_path, ve._orthogonal, "orthogonal_symmetry_preserved"))


def test_relaxation_check_catches_the_wrong_batch_size(tmp_path, monkeypatch):
    assert _run(tmp_path, ve._relaxation, "relaxation_rate")[0].passed
    real = ve.run_sgd
    monkeypatch.setattr(ve, "run_sgd", lambda *a, **kw: real(*a, **{**kw, "batch_size": 2 * kw["batch_size"]}))
    assert not _run(tmp_path, ve._relaxation, "relaxation_rate")[0].passed


@pytest.mark.slow
def test_layerwise_check_catches_one_rate_for_both_layers(tmp_path, monkeypatch):
    assert _run(tmp_path, ve._layerwise, "layerwise_equipartition")[0].passed
    real = ve.run_sgd

    def one_rate(*a, **kw):
        lr = kw["lr"]
        return real(*a, **{**kw, "lr": lr["u"] if isinstance(lr, dict) else lr})

    monkeypatch.setattr(ve, "run_sgd", one_rate)
    assert not _run(tmp_path, ve._layerwise, "layerwise_equipartition")[0].passed


@pytest.mark.slow
def test_weight_decay_check_catches_decay_left_out_of_the_run(tmp_path, monkeypatch):
    assert all(c.passed for c in _run(tmp_path, ve._weight_decay, "weight_decay_fixed_point"))
    real = ve.run_sgd
    monkeypatch.setattr(ve, "run_sgd", lambda *a, **kw: real(*a, **{**kw, "weight_decay": 0.0}))
    assert not any(c.passed for c in _run(tmp_path, ve._weight_decay, "weight_decay_fixed_point"))


# ---------------------------------------------------------------- balance, preferred point, deep linear
# Each part runs once unmodified per module (cached) and once per injected mistake.
_CLEAN: dict = {}


def _clean(tmp_path_factory, part, prefix: str) -> list:
    key = (part.__name__, prefix)
    if key not in _CLEAN:
        _CLEAN[key] = _run(tmp_path_factory.mktemp("clean"), part, prefix)
    return _CLEAN[key]


def _inner_rate_halved(real):
    """run_sgd with the inner layer's step (w, b) at half the rate: a missing factor in its learning rate."""
    def run(net, params, data, **kw):
        lr = kw["lr"]
        rates = {k: lr * (0.5 if k in net.inner else 1.0) for k in net.outer + net.inner}
        return real(net, params, data, **{**kw, "lr": rates})
    return run


def test_balance_check_catches_a_missing_factor_in_the_inner_rate(tmp_path, tmp_path_factory, monkeypatch):
    """With eta_w = eta_u / 2 the stationary state balances eta_u E|g_u|^2 = eta_w E|g_w|^2, ratio 1/2."""
    assert all(c.passed for c in _clean(tmp_path_factory, ve._balance, "sgd_gradient_balance"))
    monkeypatch.setattr(ve, "run_sgd", _inner_rate_halved(ve.run_sgd))
    checks = _run(tmp_path, ve._balance, "sgd_gradient_balance")
    assert len(checks) == 3 and not any(c.passed for c in checks)


class _BiasCountedOuter:
    """The network with its bias b grouped with the outer layer: the mistake of measuring E|g_u|^2 with g_b in
    it (the bias scales with w under the rescaling, so it belongs to the inner group)."""

    def __init__(self, net):
        self._net = net
        self.outer = tuple(net.outer) + ("b",)
        self.inner = tuple(k for k in net.inner if k != "b")

    def __getattr__(self, name):
        return getattr(self._net, name)


def test_preferred_point_checks_catch_the_bias_in_the_wrong_group(tmp_path, tmp_path_factory, monkeypatch):
    """lam* from gradient norms with g_b counted outer is not the minimiser of F (whose total norm is the same):
    check (1) fails; the linear 4-1-1 net has no bias, so check (2) is untouched."""
    clean = _clean(tmp_path_factory, ve._preferred_point, "preferred_point_on_orbit")
    assert len(clean) == 2 and all(c.passed for c in clean)
    real = ve.expected_batch_gradient_norms
    monkeypatch.setattr(ve, "expected_batch_gradient_norms",
                        lambda net, *a, **kw: real(_BiasCountedOuter(net) if "b" in net.inner else net, *a, **kw))
    orbit, sgd = _run(tmp_path, ve._preferred_point, "preferred_point_on_orbit")
    assert not orbit.passed and sgd.passed


def test_preferred_point_checks_catch_a_missing_factor_in_the_inner_rate(tmp_path, tmp_path_factory, monkeypatch):
    """eta_w = eta_u / 2 moves the point SGD settles at by (1/4) log 2 = 0.17 along the orbit: check (2) fails."""
    assert all(c.passed for c in _clean(tmp_path_factory, ve._preferred_point, "preferred_point_on_orbit"))
    monkeypatch.setattr(ve, "run_sgd", _inner_rate_halved(ve.run_sgd))
    orbit, sgd = _run(tmp_path, ve._preferred_point, "preferred_point_on_orbit")
    assert orbit.passed and not sgd.passed


def _isotropic_teacher(real):
    """LinearTeacher that keeps only the mean label-noise variance Tr Sigma_e / d (isotropic noise)."""
    def teacher(V, noise=0.0, input_cov=None):
        if np.ndim(noise) == 2:
            noise = float(np.sqrt(np.trace(noise) / len(noise)))
        return real(V, noise, input_cov)
    return teacher


@pytest.mark.slow
def test_sharpness_checks_catch_isotropic_label_noise(tmp_path, tmp_path_factory, monkeypatch):
    """With Sigma_e replaced by (Tr Sigma_e / d) I the noise balance is the minimal-trace point (the flat start,
    56% below the anisotropic prediction): both starts go there, so the end value misses the prediction."""
    clean = _clean(tmp_path_factory, vd.sharpness_checks, "sharpening_and_flattening")
    assert len(clean) == 2 and all(c.passed for c in clean)
    monkeypatch.setattr(vd, "LinearTeacher", _isotropic_teacher(vd.LinearTeacher))
    same, predicted = _run(tmp_path, vd.sharpness_checks, "sharpening_and_flattening")
    assert not predicted.passed


@pytest.mark.slow
def test_sharpness_checks_catch_the_label_noise_left_out(tmp_path, tmp_path_factory, monkeypatch):
    """Without label noise nothing drives the runs along the valley: flat and sharp starts stay apart."""
    assert all(c.passed for c in _clean(tmp_path_factory, vd.sharpness_checks, "sharpening_and_flattening"))
    real = vd.LinearTeacher
    monkeypatch.setattr(vd, "LinearTeacher", lambda V, noise=0.0, input_cov=None: real(V, 0.0, input_cov))
    same, predicted = _run(tmp_path, vd.sharpness_checks, "sharpening_and_flattening")
    assert not same.passed and not predicted.passed


class _StopAfterStartCheck(Exception):
    """Raised by the training runs of the test below: the stability check of the starts is recorded first."""


def test_platonic_start_check_catches_the_init_scale_dropped(tmp_path, monkeypatch):
    """The deep nets' starts at init scale 1 instead of 0.5 / 0.8: net 2's rate-weighted top Hessian
    eigenvalue reaches ~4.6 > 2 (linearly unstable); the check of the starts fails."""
    def stop(*a, **kw):
        raise _StopAfterStartCheck

    monkeypatch.setattr(vd, "_kernels", stop)
    for mistake in (False, True):
        if mistake:
            real = vd.DeepLinear.init
            monkeypatch.setattr(vd.DeepLinear, "init", lambda self, rng, runs, scale=1.0, **kw:
                                real(self, rng, runs, scale=1.0, **kw))
        ctx = Context(module="entropic", out=tmp_path, quick=True)
        with pytest.raises(_StopAfterStartCheck):
            vd.platonic_checks(ctx)
        (start,) = ctx.checks
        assert "linear stability" in start.name and start.passed is not mistake


@pytest.mark.slow
def test_platonic_alignment_catches_the_noise_covariance_left_out(tmp_path, tmp_path_factory, monkeypatch):
    """K* computed as if the label noise were isotropic (Sigma_e -> I in the balance matrix): cos(K*_iso, K*) =
    0.84 here, so the trained kernels miss it."""
    assert all(c.passed for c in _clean(tmp_path_factory, vd.platonic_checks, "platonic"))
    real = vd.platonic_kernel
    monkeypatch.setattr(vd, "platonic_kernel", lambda V, sx, se: real(V, sx, np.eye(len(se))))
    checks = _run(tmp_path, vd.platonic_checks, "platonic_alignment [3 deep")
    assert not checks[0].passed


@pytest.mark.slow
def test_platonic_without_noise_checks_catch_the_data_source_ignored(tmp_path, tmp_path_factory, monkeypatch):
    """Every run drawing from the noisy design teacher whatever source it is given (the quiet teacher and the
    transformed labels ignored): the "no noise" runs align and the T y run lands on K*, so both checks fail."""
    assert all(c.passed for c in _clean(tmp_path_factory, vd.platonic_checks, "platonic"))
    design, real = vd.platonic_design()[0], vd.run_sgd
    monkeypatch.setattr(vd, "run_sgd", lambda net, params, data, **kw: real(net, params, design, **kw))
    checks = _run(tmp_path, vd.platonic_checks, "platonic")
    assert [c.passed for c in checks if c.name.startswith("platonic_alignment")] == [True, True]
    failing = [c for c in checks if c.name.startswith("platonic_fails_without_noise")]
    assert len(failing) == 2 and not any(c.passed for c in failing)
