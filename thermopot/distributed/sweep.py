"""Resumable parameter sweeps on Dask: every point of a grid is one task, every finished task one row
written at once to a Parquet dataset (see store.py), so that a re-run computes only what is missing."""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..errors import SizeError, ThermopotError
from ..progress import Progress
from .cluster import CONNECT_TIMEOUT, connect
from .store import finished_keys, prepare, read_table, task_key, write_row
from .tasks import SCALARS, Task, check_parameters, resolve_task, run_task, task_name, to_json

if TYPE_CHECKING:
    import pandas

#: a grid of more tasks than this needs large=True (--large): a typo in a grid should not queue a day of work
MAX_TASKS = 1_000_000


def _values(values: Any) -> list:
    """A grid entry as its list of values: a list, tuple, range or 1-d array, or one value."""
    if isinstance(values, (list, tuple, range)):
        return list(values)
    return values.tolist() if isinstance(values, np.ndarray) and values.ndim == 1 else [values]


def grid_points(grid: dict[str, Any], *, large: bool = False) -> list[dict[str, Any]]:
    """The product of the grid's value lists, in order (the last parameter varies fastest); a single
    value is a one-element list. More than MAX_TASKS points need ``large``."""
    if not isinstance(grid, dict) or not grid:
        raise ThermopotError("a sweep grid is a non-empty dict of parameter name -> list of values")
    axes = {}
    for name, values in grid.items():
        values = _values(values)
        if not isinstance(name, str) or not values:
            raise ThermopotError(f"grid parameter {name!r} needs a string name and at least one value")
        axes[name] = values
    count = math.prod(len(v) for v in axes.values())
    if count > MAX_TASKS and not large:
        raise SizeError(f"the grid has {count} tasks, more than {MAX_TASKS}; pass large=True (--large) "
                        "if that is meant")
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def sweep(task: Task, grid: dict[str, Any], out: str | os.PathLike, *, client: Any = None,
          workers: int | None = None, scheduler: str | None = None, force: bool = False, large: bool = False,
          progress: bool | None = None, timeout: float = CONNECT_TIMEOUT) -> "pandas.DataFrame":
    """Run ``task`` (a command name: enumerate, landscape, minima, sample, fit, knowledge; or a callable
    ``task(**params) -> dict``) at every point of ``grid`` on Dask and return the rows as a DataFrame.

    Each finished task is written at once to ``out/rows/KEY.parquet`` (key = hash of the task name, its
    parameters and the thermopot version), so a re-run skips every task finished without error; a task that
    raises is recorded (status "error", its message) and run again by the next re-run. Runs on ``client``,
    else the scheduler at ``scheduler``, else a LocalCluster of ``workers`` processes (default: the cores).
    Columns: the grid's parameters, status, error, seconds, key, result (the task's dict) and every scalar
    field of the result as ``result.NAME``."""
    resolve_task(task)
    name = task_name(task)
    points = grid_points(grid, large=large)
    check_parameters(task, list(points[0]))
    keys = [task_key(name, p) for p in points]
    spec = {"task": name, "grid": {k: _values(v) for k, v in grid.items()}}
    folder = prepare(out, json.loads(to_json(spec)), force=force)
    done = finished_keys(folder)
    todo = {k: p for k, p in zip(keys, points) if k not in done}
    if todo:
        with connect(client, scheduler=scheduler, workers=workers, timeout=timeout) as c:
            _run(c, task, name, todo, folder, progress)
    return load(folder, keys)


def _run(client: Any, task: Task, name: str, todo: dict[str, dict], out: Path, progress: bool | None) -> None:
    """Submit every task, write each row the moment its task finishes (Dask retries a lost worker's task).

    A task cancelled under the sweep (the client lost its scheduler, e.g. on an overloaded machine) is not
    the task's failure: no row is written for it, and the sweep ends with a ThermopotError that says how
    many tasks are left for a re-run."""
    from distributed import as_completed  # noqa: PLC0415

    futures = {client.submit(run_task, task, params, key=f"thermopot-sweep-{key}"): key
               for key, params in todo.items()}
    cancelled = 0
    with Progress(progress, len(futures), unit="task", desc="sweep") as bar:
        for future in as_completed(futures):
            key = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 (a task that killed its workers, a lost scheduler)
                if future.cancelled() or "Cancelled" in type(exc).__name__:
                    cancelled += 1
                    bar.update()
                    continue
                outcome = {"status": "error", "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}",
                           "seconds": math.nan, "result": None}
            write_row(out, {"key": key, "task": name, "version": __version__, "params": to_json(todo[key]),
                            **outcome})
            future.release()
            bar.update()
    if cancelled:
        raise ThermopotError(f"{cancelled} of {len(futures)} tasks were cancelled (the Dask client lost its "
                             f"scheduler); the {len(futures) - cancelled} finished rows are in {out}: run the "
                             "same sweep again to resume")


def load(out: str | os.PathLike, keys: list[str] | None = None) -> "pandas.DataFrame":
    """The rows of the sweep folder ``out`` as a pandas DataFrame (only ``keys``, in their order, when
    given); see :func:`sweep` for the columns."""
    import pandas as pd  # noqa: PLC0415

    table = read_table(Path(out)).to_pylist()
    by_key = {row["key"]: row for row in table}
    rows = [by_key[k] for k in (keys if keys is not None else sorted(by_key)) if k in by_key]
    records = []
    for row in rows:
        result = json.loads(row["result"]) if row["result"] is not None else None
        scalars = {f"result.{k}": v for k, v in (result or {}).items() if isinstance(v, SCALARS) or v is None}
        records.append({**json.loads(row["params"]), "status": row["status"], "error": row["error"],
                        "seconds": row["seconds"], "key": row["key"], "result": result, **scalars})
    return pd.DataFrame.from_records(records)
