"""The Cramer-Rao check of validation/learning.py passes (its rms pooled over CRAMER_RAO_SETS data sets, its
tolerance Z_MAX of the rms's own spread from the Fisher information) and fails when a plausible mistake is
injected: every fit sees half its samples (rms sqrt(2) too large; the former tolerance, half the prediction,
let it pass at seeds 0-2)."""

from __future__ import annotations

from thermopot.validation import Context
from thermopot.validation import learning as vl


def _cramer_rao_check(tmp_path):
    ctx = Context(module="learning", out=tmp_path, quick=True)
    vl.run(ctx)
    return next(c for c in ctx.checks if "Cramer-Rao" in c.name)


def test_cramer_rao_check_catches_fits_on_half_the_samples(tmp_path, monkeypatch):
    assert _cramer_rao_check(tmp_path).passed
    real = vl.fit_exact
    monkeypatch.setattr(vl, "fit_exact", lambda samples, **kw: real(samples[: len(samples) // 2], **kw))
    assert not _cramer_rao_check(tmp_path).passed
