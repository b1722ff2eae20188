"""`thermopot entropic`: the quick entropic validation passes, --json prints the design's contract
{"checks": [{name, theory, simulated, tolerance, passed}, ...]}, and a failed check exits 1."""

import json

import pytest

import thermopot.validate as validate
from thermopot.cli import main
from thermopot.report import Check

#: the ten checks named by the issue: each appears (with details after its name)
NAMES = ("discrete_noether_identity", "gradient_flow_conserves_charge", "sgd_gradient_balance", "relaxation_rate",
         "layerwise_equipartition", "weight_decay_fixed_point", "orthogonal_symmetry_preserved",
         "platonic_alignment", "platonic_fails_without_noise", "sharpening_and_flattening")


def test_entropic_quick_json_passes(tmp_path, capsys):
    code = main(["entropic", "--quick", "--json", "--out", str(tmp_path / "report")])
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1, "--json prints exactly one line on stdout"
    data = json.loads(out)
    failed = [c["name"] for c in data["checks"] if not c["passed"]]
    assert code == 0 and data["passed"] and not failed, failed
    assert all({"name", "theory", "simulated", "tolerance", "passed"} <= set(c) for c in data["checks"])
    names = [c["name"] for c in data["checks"]]
    for prefix in NAMES:
        assert any(n.startswith(prefix) for n in names), prefix
    identity = [c for c in data["checks"] if c["name"].startswith("discrete_noether_identity")]
    assert len(identity) >= 5 and all(c["simulated"] <= 1e-12 for c in identity)
    assert (tmp_path / "report" / "report.md").exists()
    assert len(list((tmp_path / "report" / "figures").glob("entropic-*.png"))) >= 6


def test_entropic_failed_check_exits_1(tmp_path, capsys, monkeypatch):
    def fake(**kwargs):
        return [Check.compare("relaxation_rate [fake]", 1.0, 2.0, 0.5, module="entropic")]

    monkeypatch.setattr(validate, "run_validations", lambda *a, **k: fake(**k))
    code = main(["entropic", "--quick", "--json", "--out", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["passed"] is False and data["failed"] == ["relaxation_rate [fake]"]
    assert data["checks"][0]["simulated"] == pytest.approx(2.0)
