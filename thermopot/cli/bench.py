"""``thermopot bench [--quick] [--only NAMES]``: the benchmark scripts (thermopot.benchmarks) as a table, with
each row's ratio to the floor it is measured against."""

from __future__ import annotations

import argparse

from ..report import text_table
from .command import JSON, QUICK, Output, arg, command


@command("bench", "benchmarks: throughput against baselines", QUICK, JSON,
         arg("--only", default=None, metavar="NAMES", help="comma-separated benchmark modules"))
def bench_command(args: argparse.Namespace) -> Output:
    from ..benchmarks import machine_info, run_benchmarks  # noqa: PLC0415

    rows = run_benchmarks(quick=args.quick, only=args.only)
    table = text_table(("benchmark", "value", "unit", "backend", "vs floor", "note"),
                       [(r["name"], f"{r['value']:.4g}", r["unit"], r["backend"], floor_ratio(r), r.get("note", ""))
                        for r in rows])
    return Output({"quick": args.quick, "machine": machine_info(), "rows": rows}, table)


def floor_ratio(row: dict) -> str:
    """A row's value over the floor it is measured against on the same machine ("0.62 x exp floor"), from
    its fields ``floor`` (same unit) and ``floor_name``; empty for a row without one."""
    floor = row.get("floor")
    if not floor:
        return ""
    return f"{row['value'] / floor:.2f} x {row.get('floor_name', 'floor')}"
