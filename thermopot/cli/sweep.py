"""``thermopot sweep SPEC.toml --out DIR [--scheduler ADDRESS | --workers K] [--force] [--large]``: a resumable
parameter sweep of a command on Dask (:func:`thermopot.distributed.sweep`)."""

from __future__ import annotations

import argparse

from .command import JSON, Output, arg, command, positive_int


@command("sweep", "a resumable parameter sweep of a command on Dask; rows in a Parquet dataset",
         arg("spec", metavar="SPEC.toml", help='task = "COMMAND" and a [grid] table of parameter = [values]'),
         arg("--out", required=True, metavar="DIR", help="results folder (a re-run skips finished tasks)"),
         arg("--scheduler", default=None, metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786"),
         arg("--workers", type=positive_int, default=None, metavar="K",
             help="worker processes of the embedded LocalCluster (default: the core count)"),
         arg("--force", action="store_true", help="add to a folder that holds another sweep"),
         arg("--large", action="store_true", help="allow a grid of more than a million tasks"), JSON)
def sweep_command(args: argparse.Namespace) -> Output:
    """Run the sweep of ``args.spec`` into ``args.out``. JSON: out, task, tasks, ok, failed, seconds summed over
    the tasks, errors: [{key, params, error}]; exit code 1 when a task failed."""
    from ..distributed.spec import read_spec  # noqa: PLC0415 (keep `thermopot --help` fast)
    from ..distributed.sweep import sweep  # noqa: PLC0415

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
    return Output(data, "\n".join(lines), 0 if not data["failed"] else 1)
