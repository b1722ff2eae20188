"""benchmarks/validation_seeds.py: the chance-failure rates against closed forms, its summary against NumPy on
synthetic records, the per-seed log read back, and one real check group whose z equals the z the check prints."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("validation_seeds", ROOT / "benchmarks" / "validation_seeds.py")
seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seeds)


def test_rates_against_closed_forms():
    gauss4 = math.erfc(4 / math.sqrt(2))  # P(|N(0,1)| > 4)
    assert seeds.single_rate(4.0, math.inf) == pytest.approx(gauss4, rel=1e-12)
    assert seeds.family_rate(137, 4.0, math.inf, 1.0) == pytest.approx(1 - (1 - gauss4) ** 137, rel=1e-10)
    # error bars too small by 1.25: each |z| > 4 as often as a Gaussian beyond 3.2
    assert seeds.family_rate(8, 4.0, math.inf, 1.25) == pytest.approx(1 - (1 - math.erfc(3.2 / math.sqrt(2))) ** 8,
                                                                       rel=1e-10)
    # t with 1 dof (Cauchy): P(|t| > 4) = 1 - 2 atan(4) / pi
    assert seeds.single_rate(4.0, 1) == pytest.approx(1 - 2 * math.atan(4) / math.pi, rel=1e-10)


def test_summary_against_numpy():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 11))
    z[3, 2] = 4.5
    records = [{"seed": s, "failed": bool(np.abs(z[s]).max() > 4), "z": z[s], "seconds": 1.0, "wall": 2.0}
               for s in range(5)]
    out = seeds.summary("sampling_stationary", records)
    assert (out["K"], out["failures"], out["failed_seeds"], out["z_count"]) == (11, 1, [3], 55)
    assert out["z_sd"] == pytest.approx(z.std(ddof=1))
    assert out["frac_abs_z_gt_2"] == pytest.approx(np.mean(np.abs(z) > 2))
    assert out["largest_abs_z_per_seed"][3] == 4.5
    assert out["family_threshold"] == pytest.approx(seeds.family_z(11, 4.0))


def test_from_logs_keeps_the_last_record_of_a_seed(tmp_path):
    line = {"group": "log_z", "seed": 0, "failed": False, "cpu_s": 1.0, "wall_s": 1.5, "z": [0.5, -1.0]}
    log = tmp_path / "run.err"
    log.write_text("thermopot: progress\n" + "[seed] " + json.dumps(line) + "\n"
                   + "[seed] " + json.dumps({**line, "z": [2.0, 0.0]}) + "\n"
                   + "[seed] " + json.dumps({**line, "seed": 1}) + "\n")
    records = seeds.from_logs([str(log)])["log_z"]
    assert [r["seed"] for r in records] == [0, 1] and records[0]["z"] == [2.0, 0.0]
    assert records[0]["seconds"] == 1.0 and records[0]["wall"] == 1.5


def test_knowledge_escape_z_is_the_checks_own(tmp_path):
    """The group's z, (value - exact) / (tolerance / 4), equals the z the check writes in its note."""
    ctx = seeds.Context(module="knowledge", out=tmp_path, quick=True, seed=0)
    record = seeds.knowledge_escape(ctx)
    printed = [float(re.search(r"z = ([-+0-9.]+)", c.note).group(1)) for c in ctx.checks]
    np.testing.assert_allclose(record["z"], printed, atol=0.006)
    assert record["failed"] is False
