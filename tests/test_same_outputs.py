"""benchmarks/same_outputs.py compares two recordings value by value: wall-clock times (fields and times in a
note) and the recordings' own folder paths are not differences; a changed number, a changed word next to a
time, or a missing key is one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("same_outputs", ROOT / "benchmarks" / "same_outputs.py")
same = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(same)


def test_wall_clock_is_not_a_difference_but_a_value_is():
    old = {"module_seconds": {"knowledge": 644.2}, "checks": [{"note": "4 stderr = 0.0663; 0.3 s; {'chains': 256}",
                                                               "value": 0.1}]}
    assert same.differences(old, {"module_seconds": {"knowledge": 757.9},
                                  "checks": [{"note": "4 stderr = 0.0663; 1.1 s; {'chains': 256}", "value": 0.1}]}) \
        == ([], [])
    diffs, _ = same.differences(old, {"module_seconds": {}, "checks": [{"note": "4 stderr = 0.0664; 0.3 s; "
                                                                               "{'chains': 256}", "value": 0.1}]})
    assert diffs == ["/checks[0]/note: 4 stderr = 0.0663; 0.3 s; {'chains': 256} -> 4 stderr = 0.0664; 0.3 s; "
                     "{'chains': 256}"]
    diffs, _ = same.differences(old, {"checks": [{"note": old["checks"][0]["note"], "value": 0.1 + 1e-16}]})
    assert diffs == [f"/checks[0]/value: 0.1 -> {0.1 + 1e-16}"]
    assert same.differences({"a": 1}, {})[0] == ["/a: missing"]


def _record(folder: Path, results: str) -> Path:
    folder.mkdir()
    (folder / "validate.json").write_text(json.dumps({"results": results, "count": 161}))
    (folder / "validate-results.json").write_text(json.dumps({"checks": [{"value": 0.5}]}))
    return folder


def test_the_recordings_own_paths_are_not_a_difference(tmp_path):
    old = _record(tmp_path / "old", str(tmp_path / "old" / "validation-report" / "results.json"))
    new = _record(tmp_path / "new", str(tmp_path / "new" / "validation-report" / "results.json"))
    assert same.compare(old, new, ["validate"]) == 0
    elsewhere = _record(tmp_path / "elsewhere", "/somewhere/else/results.json")
    assert same.compare(old, elsewhere, ["validate"]) == 1
