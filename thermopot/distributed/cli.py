"""``thermopot sweep SPEC.toml --out DIR [--scheduler ADDRESS | --workers K] [--force] [--large] [--json]``:
the command's work, given the parsed arguments (registered in thermopot/cli.py)."""

from __future__ import annotations

import argparse

from .spec import read_spec
from .sweep import sweep


def sweep_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Run the sweep of ``args.spec`` into ``args.out``; returns the JSON object (out, task, tasks, ok,
    failed, seconds summed over the tasks, errors: [{key, params, error}]) and a readable summary."""
    task, grid = read_spec(args.spec)
    frame = sweep(task, grid, args.out, scheduler=args.scheduler, workers=args.workers,
                  force=args.force, large=args.large)
    failed = frame[frame["status"] != "ok"] if len(frame) else frame
    params = [c for c in grid if c in frame.columns]
    errors = [{"key": row["key"], "params": {p: row[p] for p in params}, "error": row["error"]}
              for _, row in failed.iterrows()]
    data = {"out": str(args.out), "task": task, "tasks": len(frame), "ok": len(frame) - len(failed),
            "failed": len(failed), "seconds": float(frame["seconds"].sum()) if len(frame) else 0.0,
            "errors": errors}
    lines = [f"sweep of {task} over {len(frame)} tasks: {data['ok']} ok, {data['failed']} failed; "
             f"{data['seconds']:.3g} task-seconds; rows in {args.out}/rows (Parquet)"]
    lines += [f"  failed {e['params']}: {e['error']}" for e in errors[:10]]
    if len(errors) > 10:
        lines.append(f"  ... {len(errors) - 10} more failures (see --json)")
    return data, "\n".join(lines)
