"""``thermopot entropic [--quick] [--json] [--out DIR] [--seed S]``: the command's work, given the parsed
arguments (registered in thermopot/cli.py). It runs the entropic validation (validation/entropic.py: the
exact charge identities, gradient balance, relaxation, weight decay, symmetries and, where present, the
deep-linear sharpness and platonic checks) and reports every check."""

from __future__ import annotations

import argparse
import time

from ..report import checks_table


def entropic_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Run the entropic validation into ``args.out``. Returns the JSON object {"checks": [{name, theory,
    simulated, tolerance, passed, note}], passed, count, failed, seconds, report} and a readable table."""
    from ..validation import run_validations  # noqa: PLC0415 (the validations import plotting)

    start = time.perf_counter()
    checks = run_validations(quick=args.quick, out=args.out, only="entropic", seed=args.seed)  # progress: stderr
    seconds = time.perf_counter() - start
    rows = [{"name": c.name, "theory": c.theory, "simulated": c.exact, "tolerance": c.tolerance,
             "passed": c.passed, "note": c.note} for c in checks]
    failed = [c.name for c in checks if not c.passed]
    data = {"checks": rows, "passed": not failed, "count": len(checks), "failed": failed,
            "quick": bool(args.quick), "seconds": round(seconds, 3), "report": f"{args.out}/report.md"}
    text = (checks_table(checks) + f"\n{len(checks) - len(failed)} of {len(checks)} entropic checks pass in "
            f"{seconds:.1f} s; report: {args.out}/report.md")
    return data, text
