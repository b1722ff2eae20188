"""The results of a sweep on disk: a Parquet dataset, one small file per finished task.

Why Parquet: a row holds the task's parameters and its JSON result, whose shape the store does not know
in advance (nested lists, strings, per-task sizes), and it must be written the moment the task finishes,
by one writer, with nothing to coordinate. One Parquet file per task, named by the task's key and written
atomically (thermopot.fileio.atomic_write), gives exactly that: a crash leaves either the whole row or no
row, a re-run overwrites a row of the same key instead of duplicating it, and the folder is at once a
typed columnar dataset that pandas, pyarrow, polars, DuckDB and Spark read without thermopot. (zarr via
xarray wants a fixed grid of numeric arrays allocated up front and chunk-level write coordination.)

Layout of DIR: ``sweep.json`` (the task and grid the folder belongs to) and ``rows/KEY.parquet``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .. import __version__
from ..errors import ThermopotError
from ..fileio import atomic_write
from .tasks import to_json

#: one row per finished task; params and result are JSON text so that every file has this one schema
SCHEMA = pa.schema([("key", pa.string()), ("task", pa.string()), ("version", pa.string()),
                    ("params", pa.string()), ("status", pa.string()), ("error", pa.string()),
                    ("seconds", pa.float64()), ("result", pa.string())])
SPEC_FILE = "sweep.json"
ROWS = "rows"


def task_key(name: str, params: dict, version: str = __version__) -> str:
    """The task's identity: sha256 of (task name, parameters, thermopot version), 24 hex digits."""
    text = to_json({"task": name, "params": params, "version": version})
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _grid_summary(grid: object, shown: int = 4) -> str:
    """A grid for a message: short value lists in full, long ones as their first values and their count."""
    if not isinstance(grid, dict):
        return repr(grid)
    parts = []
    for name, values in grid.items():
        if isinstance(values, list) and len(values) > shown:
            values = f"[{', '.join(map(repr, values[:shown]))}, ... ({len(values)} values)]"
        parts.append(f"{name}: {values}")
    return "{" + ", ".join(parts) + "}"


def prepare(out: str | os.PathLike, spec: dict, *, force: bool = False) -> Path:
    """Create (or reopen) the sweep folder ``out`` for ``spec`` (task name and grid).

    A folder of another spec, or a non-empty folder that is not a sweep, is refused unless ``force``
    (then this spec's rows are added beside the others and ``sweep.json`` names this spec)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ThermopotError(f"--out {out} is a file, not a folder")
    spec_file = out / SPEC_FILE
    if not force and spec_file.exists():
        try:
            old = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ThermopotError(f"{spec_file} is unreadable ({exc}); pass --force to reuse {out}") from None
        if to_json(old) != to_json(spec):
            raise ThermopotError(f"--out {out} holds the results of another sweep (task {old.get('task')!r}, "
                                 f"grid {_grid_summary(old.get('grid'))}); choose another folder or pass --force "
                                 "to add to it")
    elif not force and out.is_dir() and any(out.iterdir()):
        raise ThermopotError(f"--out {out} is a folder with other files, not a thermopot sweep; "
                             "choose a new folder or pass --force")
    (out / ROWS).mkdir(parents=True, exist_ok=True)
    if force or not spec_file.exists():
        with atomic_write(spec_file, "w") as fh:
            fh.write(to_json(spec) + "\n")
    return out


def finished_keys(out: Path) -> set[str]:
    """Keys of the rows already written with status ok (a failed task is run again)."""
    rows = read_table(out, columns=["key", "status"])
    return {k for k, s in zip(rows["key"].to_pylist(), rows["status"].to_pylist()) if s == "ok"}


def write_row(out: Path, row: dict) -> None:
    """Write one finished task (a dict with the SCHEMA's fields) as ``rows/KEY.parquet``, atomically."""
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    with atomic_write(out / ROWS / f"{row['key']}.parquet", "wb") as fh:
        pq.write_table(table, fh)


def read_table(out: Path, columns: list[str] | None = None) -> pa.Table:
    """Every row in ``out`` as one Arrow table (pyarrow.dataset; temporary files are skipped)."""
    folder = Path(out) / ROWS
    if not folder.is_dir():
        return SCHEMA.empty_table().select(columns or SCHEMA.names)
    return ds.dataset(folder, format="parquet", schema=SCHEMA).to_table(columns=columns)
