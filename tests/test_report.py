"""The check record, the report writer and the validation framework, on fake checks and modules."""

import json
import math
import sys
import types

import numpy as np
import pytest

from thermopot import validation
from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.report import (Check, checks_table, format_value, new_figure, save_figure, text_table, to_json,
                              write_report)


def test_scalar_check_difference_and_verdict():
    ok = Check.compare("a", 1.0, 1.0 + 1e-10, 1e-9)
    bad = Check.compare("b", 1.0, 1.1, 1e-3)
    assert ok.passed and ok.verdict == "pass" and ok.difference == pytest.approx(1e-10, rel=1e-5)
    assert not bad.passed and bad.verdict == "FAIL" and bad.difference == pytest.approx(0.1)


def test_array_check_uses_max_abs_difference():
    c = Check.compare("m", np.array([0.0, 1.0, -2.0]), [0.0, 1.5, -2.25], 0.6)
    assert c.difference == pytest.approx(0.5)
    assert c.passed
    assert isinstance(c.theory, np.ndarray) and c.theory.shape == (3,)


@pytest.mark.parametrize("theory, exact", [(math.nan, 1.0), (1.0, math.inf), ([1.0, 2.0], [1.0, 2.0, 3.0])])
def test_non_finite_or_mismatched_values_fail(theory, exact):
    c = Check.compare("x", theory, exact, 1e9)
    assert not c.passed and c.difference == math.inf


def test_negative_tolerance_is_refused():
    with pytest.raises(ThermopotError, match="tolerance"):
        Check.compare("x", 0.0, 0.0, -1.0)


def test_to_dict_is_strict_json():
    c = Check.compare("x", [1.0, math.nan], [1.0, 2.0], 0.1, note="n")
    d = json.loads(to_json(c.to_dict()))
    assert d["theory"] == [1.0, "nan"] and d["difference"] == "inf" and d["verdict"] == "FAIL"
    assert d["passed"] is False and d["note"] == "n"


def test_text_table_and_format_value():
    table = text_table(("name", "value"), [("a", 1.234567891), ("long name", np.arange(10.0))])
    lines = table.splitlines()
    assert len(lines) == 4 and set(lines[1]) <= {"-", " "}
    assert "1.23457" in table and "10 array, max|.| 9" in table
    assert format_value(np.array([1.0, 2.0])) == "[1, 2]"
    assert format_value(3) == "3"


def test_write_report_files(tmp_path):
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    fig_path = save_figure(fig, tmp_path / "out" / "figures" / "line.png")
    checks = [Check.compare("identity | pipes", 2.0, 2.0, 1e-12, figure=fig_path, note="a note"),
              Check.compare("broken", [1.0, 2.0], [1.0, 3.0], 1e-6, detail="Traceback: boom")]
    files = write_report(checks, tmp_path / "out", meta={"backend": "numpy", "seconds": 0.5})
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| check | predicted | exact | abs. difference | tolerance | verdict |" in md
    assert "identity \\| pipes" in md and "**FAIL**" in md and "1 of 2 checks pass" in md
    assert "![identity \\| pipes](figures/line.png)" in md
    assert "Traceback: boom" in md and "a note" in md
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["passed"] is False and results["count"] == 2 and results["failed"] == 1
    assert results["backend"] == "numpy" and results["seconds"] == 0.5
    assert [c["verdict"] for c in results["checks"]] == ["pass", "FAIL"]
    assert results["checks"][1]["difference"] == 1.0
    assert files.figures == [fig_path]
    assert "FAIL" in checks_table(checks)


def _fake_module(monkeypatch, name, run):
    """Register a fake validation module thermopot.validation.<name> with the given run(ctx)."""
    module = types.ModuleType(f"thermopot.validation.{name}")
    module.run = run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(validation, "MODULES", validation.MODULES + (name,))


def test_failing_check_gives_exit_code_1(monkeypatch, tmp_path, capsys):
    def run(ctx):
        fig, ax = new_figure()
        ax.plot([1, 2])
        ctx.check("passes", 1.0, 1.0, 0.0, figure=save_figure(fig, ctx.figure("plot")))
        ctx.check("fails", 1.0, 2.0, 0.5, note="on purpose")
    _fake_module(monkeypatch, "fake_failing", run)
    code = main(["validate", "--only", "fake_failing", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 of 2 checks pass" in out and "FAIL" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["passed"] is False and results["failed"] == 1
    assert (tmp_path / "figures" / "fake_failing-plot.png").stat().st_size > 0
    assert "](figures/fake_failing-plot.png)" in (tmp_path / "report.md").read_text()


def test_crashing_module_is_a_failed_check(monkeypatch, tmp_path):
    def run(ctx):
        ctx.check("before the crash", 0.0, 0.0, 0.0)
        raise RuntimeError("boom")
    _fake_module(monkeypatch, "fake_crash", run)
    checks = validation.run_validations(quick=True, out=tmp_path, only="fake_crash", progress=False)
    assert [c.passed for c in checks] == [True, False]
    assert "RuntimeError: boom" in checks[1].note and "Traceback" in checks[1].detail
    assert "Details of failed checks" in (tmp_path / "report.md").read_text()


def test_context_seed_and_passing_run(monkeypatch, tmp_path):
    seen = []

    def run(ctx):
        seen.append((ctx.quick, ctx.seed, ctx.rng(1).normal()))
        ctx.check("ok", [1.0, 2.0], [1.0, 2.0], 0.0)
    _fake_module(monkeypatch, "fake_ok", run)
    checks = validation.run_validations(quick=True, out=tmp_path, only=["fake_ok"], seed=3, progress=False)
    again = validation.run_validations(quick=True, out=tmp_path, only=["fake_ok"], seed=3, progress=False)
    assert all(c.passed for c in checks + again)
    assert seen[0] == seen[1] and seen[0][:2] == (True, 3)
    assert json.loads((tmp_path / "results.json").read_text())["passed"] is True


def test_unknown_validation_is_refused():
    with pytest.raises(ThermopotError, match="unknown validation"):
        validation.select_modules("no_such_module")


def test_a_check_on_nothing_fails():
    assert not Check.compare("empty", np.array([]), 1.0, 1.0).passed
    assert not Check.bound("empty", np.array([]), lower=0.0).passed
    assert not Check.bound("nan", np.array([1.0, np.nan]), upper=2.0).passed


def test_bounds():
    assert Check.bound("at least", 3, lower=2).passed and not Check.bound("at least", 1, lower=2).passed
    above = Check.bound("at most", [0.5, 0.95], upper=0.9)
    assert not above.passed and above.difference == pytest.approx(0.05) and above.theory == 0.9
    assert Check.bound("inside", [1, 2], lower=0, upper=2.5).difference == 0.0


def test_runner_runs_a_users_own_validation_package(monkeypatch, tmp_path):
    """thermopot.validate runs any package with a MODULES list, not only the shipped validations."""
    from thermopot.validate import run_validations

    package = types.ModuleType("mylab_checks")
    package.MODULES = ("energy",)
    energy = types.ModuleType("mylab_checks.energy")
    energy.run = lambda ctx: ctx.check("U of one free spin at h = 1, T = 1", -np.tanh(1.0), -0.7615941559557649, 1e-15)
    monkeypatch.setitem(sys.modules, "mylab_checks", package)
    monkeypatch.setitem(sys.modules, "mylab_checks.energy", energy)
    checks = run_validations(out=tmp_path / "report", package="mylab_checks", progress=False)
    assert [(c.module, c.passed) for c in checks] == [("energy", True)]
    assert json.loads((tmp_path / "report" / "results.json").read_text())["passed"] is True
    monkeypatch.setitem(sys.modules, "not_checks", types.ModuleType("not_checks"))
    with pytest.raises(ThermopotError, match="not_checks is not a validation package"):
        run_validations(out=tmp_path / "other", package="not_checks", progress=False)
