"""The tasks a sweep runs: the thermopot commands by name, or any Python callable ``task(**params) -> dict``.

A command task calls the same library function as the command line and returns the JSON object that
``thermopot COMMAND --json`` prints (the result's ``to_dict()``), with the command line's defaults."""

from __future__ import annotations

import inspect
import json
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ThermopotError
from ..progress import inner_bars_hidden
from .cluster import task_threads

Task = str | Callable[..., dict]
#: the value types a grid holds (and a JSON result field that becomes a column)
SCALARS = (str, int, float, bool)


def enumerate_task(model: str, T: float, *, backend: str | None = None, block_size: int | None = None,
                   threads: int | None = None) -> dict:
    """``thermopot enumerate MODEL --T T``: exact thermodynamics by enumeration of the 2^N states, its
    tiles on ``threads`` threads (default on a Dask worker: 1, see cluster.task_threads)."""
    from ..exact import thermodynamics  # noqa: PLC0415 (commands import their layer on first use)

    return thermodynamics(model, T, backend=backend, block_size=block_size, progress=False,
                          threads=task_threads(threads)).to_dict()


def landscape_task(model: str, T: float | None = None, *, backend: str | None = None) -> dict:
    """``thermopot landscape MODEL [--T T]``: single-flip stable states, basins, per-basin F."""
    from ..landscape import local_minima  # noqa: PLC0415

    return local_minima(model, T=T, backend=backend).to_dict()


def minima_task(model: str, T: float, *, method: str = "tap2", starts: int = 256, seed: int | None = None,
                backend: str | None = None) -> dict:
    """``thermopot minima MODEL --T T --method M --starts K --seed S``: minima of a mean-field free energy."""
    from ..solvers import find_minima  # noqa: PLC0415

    return find_minima(model, T, method=method, starts=starts, seed=seed, backend=backend).to_dict()


def sample_task(model: str, T: float, *, chains: int = 64, sweeps: int = 1000, burn_in: int | str | None = None,
                method: str = "heat-bath", scan: str = "sequential", seed: int = 0, generator: str | None = None,
                correlations: bool = False, backend: str | None = None, rng: str | None = None) -> dict:
    """``thermopot sample MODEL --T T --chains C --sweeps W ...``: Gibbs chains summary (``rng``: the
    deprecated former name of ``generator``; a short run's warning is in the result's ``warnings``)."""
    from ..sampling import ShortRunWarning, sample  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortRunWarning)  # recorded in the result
        return sample(model, T, chains=chains, sweeps=sweeps, burn_in=burn_in, method=method, scan=scan, seed=seed,
                      generator=generator, correlations=correlations, backend=backend, rng=rng).to_dict()


def fit_task(data: str, *, method: str = "exact", l2: float | None = None, pseudocount: float | None = None,
             binary01: bool = False, max_iter: int | None = None, backend: str | None = None) -> dict:
    """``thermopot fit DATA.npz --method M ...``: inverse Ising (the fitted h, J in the result)."""
    from ..learning import fit, load_dataset  # noqa: PLC0415

    options = {k: v for k, v in {"l2": l2, "pseudocount": pseudocount, "max_iter": max_iter,
                                 "backend": backend}.items() if v is not None}
    samples = load_dataset(data, binary01=binary01)
    return {**fit(samples, method, **options).to_dict(), "data": str(data), "samples": samples.size}


def knowledge_task(dataset: str = "digits", *, full: bool = False, seed: int = 0, backend: str | None = None) -> dict:
    """``thermopot knowledge --dataset NAME [--full] --seed S``: the He-Lubchenko pipeline's summary."""
    from ..knowledge import run_knowledge  # noqa: PLC0415

    run = run_knowledge(dataset, quick=not full, seed=seed, backend=backend)
    return {**run.summary(), "quick": not full, "seconds": run.seconds}


#: command name -> the function a sweep calls with the grid's parameters
COMMANDS: dict[str, Callable[..., dict]] = {
    "enumerate": enumerate_task, "landscape": landscape_task, "minima": minima_task,
    "sample": sample_task, "fit": fit_task, "knowledge": knowledge_task}


def task_name(task: Task) -> str:
    """The name stored with every row: the command name, or ``module.qualname`` of a callable."""
    if isinstance(task, str):
        return task
    return f"{getattr(task, '__module__', '?')}.{getattr(task, '__qualname__', repr(task))}"


def resolve_task(task: Task) -> Callable[..., dict]:
    """The function behind ``task``: a command by name, or the callable itself."""
    if isinstance(task, str):
        if task not in COMMANDS:
            raise ThermopotError(f"unknown sweep task {task!r}; choose one of {', '.join(COMMANDS)} "
                                 "or pass a Python callable")
        return COMMANDS[task]
    if not callable(task):
        raise ThermopotError(f"a sweep task is a command name or a callable, got {task!r}")
    return task


def check_parameters(task: Task, names: list[str]) -> None:
    """Refuse parameter names the task does not take (and missing required ones), naming them."""
    func = resolve_task(task)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return  # a builtin without a signature: its own call will say
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    known = [p.name for p in signature.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ThermopotError(f"task {task_name(task)!r} takes no parameter {unknown[0]!r}; "
                             f"its parameters are {', '.join(known)}")
    missing = [p.name for p in signature.parameters.values()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in names]
    if missing:
        raise ThermopotError(f"task {task_name(task)!r} needs the parameter {missing[0]!r} in the grid")


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as Python numbers and lists, for json.dumps."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def to_json(value: Any) -> str:
    """Canonical JSON text (sorted keys; NaN and infinity as JSON's NaN/Infinity, as json does)."""
    return json.dumps(value, sort_keys=True, default=_plain, allow_nan=True)


def run_task(task: Task, params: dict) -> dict:
    """Run one task on a worker: ``{"status": "ok"|"error", "error", "seconds", "result"}`` with the result
    as JSON text. An exception is caught and recorded (type, message, last traceback line), never raised."""
    start = time.perf_counter()
    try:
        with inner_bars_hidden():
            result = resolve_task(task)(**params)
        if not isinstance(result, dict):
            raise ThermopotError(f"task {task_name(task)!r} returned {type(result).__name__}, not a dict")
        text, status, error = to_json(result), "ok", None
    except Exception as exc:  # noqa: BLE001 (a failing task is a recorded row, the sweep goes on)
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        text, status = None, "error"
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}" + (
            f" ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else "")
    seconds = time.perf_counter() - start
    return {"status": status, "error": error, "seconds": seconds, "result": text}
