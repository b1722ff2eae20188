"""The checks of validation/sampled.py that the issue's validation sentences name, against enumeration at
N = 16 (digits) and N = 20 (planted): log Z by the library's TI and by AIS within 3 standard errors, every
exact bound state of weight > 1e-3 found, F_a within 3 standard errors (``_library_checks``); and log Z by
AIS and TI against enumeration at N = 16 (SK) and AIS = TI at N = 64 (``_log_z_checks``). Each passes as
shipped and fails when a plausible mistake is injected into the code under test. Also the tempering checks
on Curie-Weiss N = 14 and the swap rate on SK N = 8 (``_tempering_checks``) and the PCD checks on N = 10
(``_pcd_checks``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thermopot.report import new_figure
from thermopot.sampling import tempering
from thermopot.validation import Context
from thermopot.validation import sampled as module

CASES = ("digits N=16", "planted N=20")


def _run(tmp_path, checks, *, axes: bool = False) -> dict[str, bool]:
    """{name: passed} of one group of checks of the module, quick sizes, seed 0 (``axes``: the group draws)."""
    ctx = Context(module="sampled", out=tmp_path, quick=True, seed=0)
    checks(ctx, *([new_figure(1, 2)[1][0]] if axes else []), True, None)
    return {c.name: c.passed for c in ctx.checks}


def _library(tmp_path) -> dict[str, bool]:
    return _run(tmp_path, module._library_checks)


def _verdicts(checks: dict[str, bool], start: str) -> list[bool]:
    """The verdicts of the checks whose name starts with ``start``, one per case, in CASES order."""
    return [next(v for k, v in checks.items() if k.startswith(start) and f"[{case}" in k) for case in CASES]


def _wrap_library(monkeypatch, change) -> None:
    original = module.sampled_bound_states
    monkeypatch.setattr(module, "sampled_bound_states", lambda *a, **kw: change(original(*a, **kw)))


def test_library_checks_pass_as_shipped(tmp_path):
    checks = _library(tmp_path)
    assert len(checks) == 8 and all(checks.values()), checks


def test_library_checks_fail_when_the_library_runs_at_the_wrong_temperature(tmp_path, monkeypatch):
    """The tempering library at 1.01 T (a temperature handed on wrongly): its TI log Z moves in both cases and
    the digits' F_a (largest |z| 7.2 against the family threshold 5.29 of 30 states). The planted basins are
    deep and of low entropy, so dF_a/dT = -S_a is small: their largest |z| is 3.25 at 1.01 T and 3.26 at
    1.02 T (2.0 at T), under the family threshold 4.55 of 8 states; there the TI log Z check catches it."""
    original = module.sampled_bound_states
    monkeypatch.setattr(module, "sampled_bound_states",
                        lambda model, data, T, **kw: original(model, data, 1.01 * T, **kw))
    checks = _library(tmp_path)
    assert _verdicts(checks, "log Z by TI") == [False, False]
    assert _verdicts(checks, "per-basin F_a") == [False, True]
    assert _verdicts(checks, "log Z by AIS") == [True, True]


def test_library_checks_fail_when_ais_runs_at_the_wrong_temperature(tmp_path, monkeypatch):
    original = module.log_partition
    monkeypatch.setattr(module, "log_partition", lambda model, T, **kw: original(model, 1.01 * T, **kw))
    checks = _library(tmp_path)
    assert _verdicts(checks, "log Z by AIS") == [False, False]
    assert _verdicts(checks, "log Z by TI") == [True, True]


def test_found_check_fails_without_the_tempering_descents(tmp_path, monkeypatch):
    """A library of the patterns' descents only (the tempering samples left out) misses false states: on the
    planted N = 20 data 3 of the 7 exact states of weight > 1e-3 (seed 0); on the digits every heavy state is
    the descent of some pattern, so only the planted case can catch this mistake."""
    def patterns_only(lib):
        keep = np.asarray(lib.from_patterns, dtype=bool)
        arrays = {f.name: getattr(lib, f.name)[keep] for f in dataclasses.fields(lib)
                  if isinstance(getattr(lib, f.name), np.ndarray) and getattr(lib, f.name).shape[:1] == keep.shape}
        return dataclasses.replace(lib, **arrays)

    _wrap_library(monkeypatch, patterns_only)
    checks = _library(tmp_path)
    assert _verdicts(checks, "every exact bound state") == [True, False]


def test_free_energy_check_fails_when_log_z_is_left_out(tmp_path, monkeypatch):
    """F_a = -T log P_a (log Z forgotten) instead of -T (log Z + log P_a)."""
    _wrap_library(monkeypatch, lambda lib: dataclasses.replace(lib, free_energy=lib.free_energy + lib.T * lib.log_z))
    checks = _library(tmp_path)
    assert _verdicts(checks, "per-basin F_a") == [False, False]
    assert _verdicts(checks, "every exact bound state") == [True, True]


def _log_z(tmp_path) -> dict[str, bool]:
    return _run(tmp_path, module._log_z_checks, axes=True)


def test_log_z_checks_pass_as_shipped(tmp_path):
    checks = _log_z(tmp_path)
    assert len(checks) == 5 and all(checks.values()), checks


@pytest.mark.parametrize("method", ["ais", "ti"])
def test_log_z_checks_fail_when_one_method_runs_at_the_wrong_temperature(tmp_path, monkeypatch, method):
    """One estimator at 1.01 T: its SK N = 16 check against enumeration and the N = 64 AIS = TI check fail."""
    original = module.log_partition
    monkeypatch.setattr(module, "log_partition", lambda model, T, **kw: original(
        model, 1.01 * T if kw.get("method") == method else T, **kw))
    checks = _log_z(tmp_path)
    assert not checks[f"log Z by {method.upper()} = exact [SK N=16, T=0.5]"]
    assert not checks["log Z: AIS = TI at N = 64 (no enumeration) [SK N=64, T=1]"]
    other = "ti" if method == "ais" else "ais"
    assert checks[f"log Z by {other.upper()} = exact [SK N=16, T=0.5]"]


def _tempering(tmp_path) -> dict[str, bool]:
    return _run(tmp_path, module._tempering_checks, axes=True)


def test_tempering_checks_pass_as_shipped(tmp_path):
    checks = _tempering(tmp_path)
    assert len(checks) == 18 and all(checks.values()), checks


def test_curie_weiss_premise_fails_where_single_chains_mix(tmp_path, monkeypatch):
    """The premise (most single chains started all up trapped at T = 0.4; 15 of 16 at seed 0) fails when the
    chains run at T = 3 instead, where they mix (a temperature handed on wrongly): then it would not show
    that tempering is needed."""
    original = module.single_chain_z
    monkeypatch.setattr(module, "single_chain_z", lambda model, T, starts, exact, **kw: original(
        model, 3.0, starts, module.thermodynamics(model, 3.0, progress=False), **kw))
    checks = _tempering(tmp_path)
    premise = [v for k, v in checks.items() if k.startswith("premise")]
    assert premise == [False]


def test_tempering_checks_fail_when_swaps_use_temperatures_for_inverse_temperatures(tmp_path, monkeypatch):
    """p = min(1, exp[(T_i - T_i+1)(E_i - E_i+1)]) in place of the betas: the stationary distribution is
    wrong (seed 0: 8 of the 8 Curie-Weiss energies off by 2.6-24 tolerances) and so is the swap rate."""
    original = tempering.swap_pairs
    monkeypatch.setattr(tempering, "swap_pairs", lambda energies, betas, *rest: original(energies, 1.0 / betas, *rest))
    checks = _tempering(tmp_path)
    energies = [v for k, v in checks.items() if k.startswith("tempering energy")]
    assert len(energies) == 8 and not any(energies)
    assert not checks["swap rate T = 1.0 <-> 1.4 = exact mean acceptance [SK N=8]"]


def test_swap_rate_check_fails_when_swaps_are_never_accepted(tmp_path, monkeypatch):
    """Swaps attempted and never accepted: the swap rate 0 against the exact 0.75 (47 tolerances). The
    Curie-Weiss moment checks do not see this mistake (16 random-start columns fall into both symmetric
    modes, and their spread is the error bar); the trapped-temperature checks on fitted models do
    (tests/test_validation_sampled_tempering.py)."""
    def no_swaps(energies, betas, perm, level, direction, u, parity, attempts, accepts):
        attempts[parity::2] += perm.shape[1]
        return 0

    monkeypatch.setattr(tempering, "swap_pairs", no_swaps)
    assert not _tempering(tmp_path)["swap rate T = 1.0 <-> 1.4 = exact mean acceptance [SK N=8]"]


def _pcd(tmp_path) -> list[bool]:
    return list(_run(tmp_path, module._pcd_checks).values())


def test_pcd_checks_fail_when_pcd_gets_another_ridge(tmp_path, monkeypatch):
    """As shipped both pass (seed 0: 0.19 and 0.62 of their tolerances); a PCD fit with l2 = 0.01 against the
    unpenalised maximum (a penalty handed on wrongly) fails both (2.3 and 3.8 tolerances)."""
    assert _pcd(tmp_path) == [True, True]
    real = module.fit
    monkeypatch.setattr(module, "fit", lambda data, method, **kw: real(
        data, method, **({**kw, "l2": 0.01} if method == "pcd" else kw)))
    assert _pcd(tmp_path) == [False, False]
