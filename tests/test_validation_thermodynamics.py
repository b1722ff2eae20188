"""Checks of validation/thermodynamics.py fail when a plausible mistake is injected into the code under test (and
pass without it): the exact Gibbs potential's Hessian with chi^-1 / T in place of T chi^-1 (T for beta), and a
wrong mean excess energy <x> shared by U = E0 + T <x> and S = log Z' + <x> (F = U - TS)."""

from __future__ import annotations

import dataclasses

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


def test_f_equals_u_minus_ts_catches_a_wrong_excess_energy_in_u_and_s(tmp_path, monkeypatch):
    def identity_check():
        ctx = Context(module="thermodynamics", out=tmp_path, quick=True)
        vt._identity_checks(ctx, "random pairwise N=8", vt.random_pairwise(8, seed=1), (0.5, 1.0, 2.0))
        return next(c for c in ctx.checks if c.name.startswith("F = U - TS"))

    assert identity_check().passed
    real = vt.thermodynamics

    def shifted(model, T, **kw):  # <x> off by 0.5 in both U and S: the engine's U - TS is still F
        t = real(model, T, **kw)
        return dataclasses.replace(t, energy=t.energy + 0.5 * T, entropy=t.entropy + 0.5)

    monkeypatch.setattr(vt, "thermodynamics", shifted)
    assert not identity_check().passed
