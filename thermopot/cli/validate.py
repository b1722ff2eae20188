"""``thermopot validate [--quick]``: every theory checked against exact enumeration, into a report folder
(:func:`thermopot.validate.run_validations`)."""

from __future__ import annotations

import argparse

from ..report import checks_table
from .command import JSON, QUICK, Output, arg, command, nonnegative_int


@command("validate", "run the theory-versus-exact validations and write a report",
         QUICK, arg("--out", default="validation-report", metavar="DIR",
                    help="report folder (default: ./validation-report)"),
         arg("--only", default=None, metavar="NAMES", help="comma-separated validation modules"),
         arg("--seed", type=nonnegative_int, default=0, help="seed of the random models"), JSON)
def validate_command(args: argparse.Namespace) -> Output:
    from ..validate import run_validations  # noqa: PLC0415

    checks = run_validations(quick=args.quick, out=args.out, only=args.only, seed=args.seed)
    failed = [c.name for c in checks if not c.passed]
    summary = (f"{len(checks) - len(failed)} of {len(checks)} checks pass; "
               f"report: {args.out}/report.md, {args.out}/results.json")
    data = {"passed": not failed, "count": len(checks), "failed": failed,
            "report": f"{args.out}/report.md", "results": f"{args.out}/results.json"}
    return Output(data, checks_table(checks) + "\n" + summary, 0 if not failed else 1)
