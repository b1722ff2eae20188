"""Checks of validation/thermodynamics.py fail when a plausible mistake is injected into the code under test (and
pass without it): the exact Gibbs potential's Hessian with chi^-1 / T in place of T chi^-1 (T for beta)."""

from __future__ import annotations

from thermopot.exact import gibbs
from thermopot.validation import Context
from thermopot.validation import thermodynamics as vt


def _hessian_check(tmp_path):
    ctx = Context(module="thermodynamics", out=tmp_path, quick=True)
    vt._gibbs_checks(ctx, 6)
    return next(c for c in ctx.checks if c.name.startswith("d2G/dm2"))


def test_gibbs_hessian_check_catches_beta_in_place_of_t(tmp_path, monkeypatch):
    assert _hessian_check(tmp_path).passed
    real = gibbs.hessian_from_susceptibility
    monkeypatch.setattr(gibbs, "hessian_from_susceptibility", lambda chi, T: real(chi, 1.0) / T)
    assert not _hessian_check(tmp_path).passed
