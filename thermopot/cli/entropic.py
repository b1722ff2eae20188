"""``thermopot entropic [--quick]``: the entropic-forces validation of SGD (validation/entropic.py) into a
report folder."""

from __future__ import annotations

import argparse
import time

from ..report import checks_table
from .command import JSON, QUICK, Output, arg, command, nonnegative_int


@command("entropic", "entropic forces in SGD: charge identities, gradient balance, symmetries (the entropic "
         "validation)", QUICK,
         arg("--out", default="entropic-report", metavar="DIR", help="report folder (default: ./entropic-report)"),
         arg("--seed", type=nonnegative_int, default=0, help="seed of the runs"), JSON)
def entropic_command(args: argparse.Namespace) -> Output:
    """The entropic validation (validation/entropic.py: the exact charge identities, gradient balance,
    relaxation, weight decay, symmetries and, where present, the deep-linear sharpness and platonic checks)
    into ``args.out``. JSON: {"checks": [{name, theory, simulated, tolerance, passed, note}], passed, count,
    failed, quick, seconds, report}."""
    from ..validate import run_validations  # noqa: PLC0415 (the validations import plotting)

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
    return Output(data, text, 0 if not failed else 1)
