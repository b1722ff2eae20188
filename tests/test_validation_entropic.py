"""Checks of validation/entropic.py fail when a plausible mistake is injected into the code under test (and
pass without it): a flipped sign of the charge, Euler steps in place of RK4, different batches for the two
runs of an equivariance test, the wrong batch size, one learning rate in place of layer-wise rates."""

from __future__ import annotations

import pytest

from thermopot.validation import Context
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
