"""Seeded outputs before and after a refactoring: ``thermopot knowledge --json`` (quick sizes, the bundled
digits), ``thermopot validate --quick --json`` (with its report's results.json) and ``steps``, the whole
``KnowledgeRun.to_dict()`` of the quick pipeline on the clusters data set (every knowledge result's own
fields, which the command's summary leaves out), compared key by key. ``results`` is the cheap subset (a
minute): the to_dict of small seeded results of exact, landscape, solvers, sampling and learning (N = 6).

Run ``python benchmarks/same_outputs.py record DIR`` with the old code installed (e.g. a ``git archive`` of
the old commit with its own editable install), the same with the new code into another folder, then
``python benchmarks/same_outputs.py compare OLD NEW``. Every value in OLD must be in NEW and equal (floats
bit for bit); wall-clock fields (``seconds``, ``seconds_*``, ``module_seconds``, the machine, a time such as
"0.4 s" in a check's note), the report's figure paths and the recording folders' own paths are skipped,
and keys only in NEW (new fields, the new name of a renamed field) are listed, not failures.
``--only knowledge`` or ``--only validate`` records or compares one command. Exit status 1 on a difference.

Not part of ``thermopot bench`` (no timing): a check of a refactoring that must not change results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: command name -> arguments of `thermopot` (seeded by their default seeds)
COMMANDS = {"knowledge": ["knowledge", "--quick", "--json"],
            "validate": ["validate", "--quick", "--json"]}
#: the `steps` recording: every step's to_dict of a quick pipeline run (seed 0)
STEPS = ("import json, sys; from thermopot.knowledge import run_knowledge; from thermopot.results import jsonable; "
         "sys.stdout.write(json.dumps(jsonable(run_knowledge('clusters', progress=False).to_dict())))")
#: keys whose values are wall-clock times or paths of the run, not results
SKIPPED = ("seconds", "module_seconds", "machine", "figure", "figures", "report", "markdown", "json", "out")
#: a wall-clock time inside a text (a check's note: "...; 0.4 s; ..."), compared as "<t> s"
WALL_CLOCK = re.compile(r"(?<![\w.])\d+(?:\.\d+)? s(?=[;,)]|$)")


def _thermopot() -> list[str]:
    """The `thermopot` command of the running interpreter's environment."""
    script = Path(sys.executable).with_name("thermopot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "thermopot.cli"]


def record(folder: Path, names: list[str]) -> None:
    """Run each command and write its JSON (and the validation's results.json) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        args = COMMANDS.get(name, [])
        if name == "validate":
            report = folder / "validation-report"
            shutil.rmtree(report, ignore_errors=True)
            args = [*args, "--out", str(report)]
        command = ([sys.executable, "-c", STEPS] if name == "steps" else
                   [sys.executable, __file__, "print-results"] if name == "results" else [*_thermopot(), *args])
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
        (folder / f"{name}.json").write_text(done.stdout)
        (folder / f"{name}.stderr").write_text(done.stderr)
        print(f"{name}: exit {done.returncode}, {len(done.stdout)} characters", file=sys.stderr)
        if name == "validate" and (folder / "validation-report" / "results.json").exists():
            shutil.copy(folder / "validation-report" / "results.json", folder / "validate-results.json")


def print_results() -> None:
    """The ``results`` recording: to_dict of small seeded results (N = 6), as one JSON object on stdout."""
    import warnings  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from thermopot.exact import gibbs_potential, restricted_free_energies, thermodynamics  # noqa: PLC0415
    from thermopot.landscape import local_minima  # noqa: PLC0415
    from thermopot.learning import fit, fit_mixture, sample_exact  # noqa: PLC0415
    from thermopot.models import curie_weiss, sk  # noqa: PLC0415
    from thermopot.results import jsonable  # noqa: PLC0415
    from thermopot.sampling import first_passage, log_partition, parallel_tempering, sample  # noqa: PLC0415
    from thermopot.solvers import compare_with_exact, follow_minima, find_minima  # noqa: PLC0415

    warnings.simplefilter("ignore")
    m = sk(6, seed=0)
    data = sample_exact(m, 300, seed=7)
    jobs = {"thermo": lambda: thermodynamics(m, 0.7, progress=False),
            "restricted": lambda: restricted_free_energies(m, 0.7, np.arange(64) % 3),
            "gibbs": lambda: gibbs_potential(m, np.full((2, 6), 0.1), 0.7),
            "landscape": lambda: local_minima(m, T=0.5), "landscape_no_T": lambda: local_minima(m),
            "minima": lambda: find_minima(m, 0.3, starts=32, seed=1),
            "compare": lambda: compare_with_exact(m, 0.3, starts=32, seed=1),
            "follow": lambda: follow_minima(curie_weiss(8), np.linspace(0.5, 1.2, 5), starts=8, seed=2),
            "sample": lambda: sample(m, 0.8, chains=4, sweeps=30, seed=3, correlations=True, progress=False),
            "passage": lambda: first_passage(m, 0.8, np.ones(6), threshold=0.5, max_updates=50, chains=4, seed=4),
            "tempering": lambda: parallel_tempering(m, [0.5, 0.8, 1.2], chains=2, sweeps=20, seed=5,
                                                    progress=False),
            "logz": lambda: log_partition(m, 0.8, chains=4, steps=20, sweeps=20, seed=6),
            "fit": lambda: fit(data, "pseudo"), "mixture": lambda: fit_mixture(data, 2, seed=8, max_iter=5)}
    sys.stdout.write(json.dumps(jsonable({name: job().to_dict() for name, job in jobs.items()})))


def _skipped(key: str) -> bool:
    return key in SKIPPED or key.startswith("seconds_")


def differences(old: Any, new: Any, where: str = "") -> tuple[list[str], list[str]]:
    """(differences, keys only in ``new``) between two JSON values."""
    diffs: list[str] = []
    added: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if _skipped(key):
                continue
            if key not in new:
                diffs.append(f"{where}/{key}: missing")
                continue
            d, a = differences(value, new[key], f"{where}/{key}")
            diffs += d
            added += a
        added += [f"{where}/{key}" for key in new if key not in old]
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a_, b_) in enumerate(zip(old, new)):
            d, a = differences(a_, b_, f"{where}[{i}]")
            diffs += d
            added += a
    elif isinstance(old, str) and isinstance(new, str) and WALL_CLOCK.sub("<t> s", old) == WALL_CLOCK.sub("<t> s", new):
        pass
    elif type(old) is not type(new) or old != new:
        diffs.append(f"{where}: {str(old)[:80]} -> {str(new)[:80]}")
    return diffs, added


def compare(old: Path, new: Path, names: list[str]) -> int:
    """Print the differences of each recorded file; 1 if any."""
    failed = 0
    files = [f"{n}.json" for n in names] + (["validate-results.json"] if "validate" in names else [])
    for file in files:
        # the paths of the two recordings (validate.json names its report) compared as one
        a, b = (json.loads((folder / file).read_text().replace(json.dumps(str(folder))[1:-1], "<folder>"))
                for folder in (old, new))
        diffs, added = differences(a, b)
        print(f"{file}: {len(diffs)} differences, {len(added)} new keys")
        for line in diffs[:50]:
            print("  DIFF", line)
        for line in sorted(set(k.split("[")[0] + (k.split("]")[-1] if "]" in k else "") for k in added))[:50]:
            print("  NEW ", line)
        failed |= bool(diffs)
    return int(failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("folder", type=Path)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("old", type=Path)
    cmp_.add_argument("new", type=Path)
    sub.add_parser("print-results")
    for p in (rec, cmp_):
        p.add_argument("--only", choices=[*COMMANDS, "steps", "results"], action="append")
    args = parser.parse_args()
    if args.action == "print-results":
        print_results()
        return 0
    names = args.only or [*COMMANDS, "steps", "results"]
    if args.action == "record":
        record(args.folder, names)
        return 0
    return compare(args.old, args.new, names)


if __name__ == "__main__":
    sys.exit(main())
