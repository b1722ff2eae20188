"""thermopot.distributed: resumable Dask sweeps (rows against direct calls and brute-force enumeration,
killed clients and workers, failing tasks, bad specs) on a LocalCluster of 2 workers."""

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pyarrow.dataset as pads
import pytest
from distributed import Client, LocalCluster

from conftest import brute_force, record_tile_threads
from thermopot.cli import main
from thermopot.distributed import MAX_TASKS, grid_points, sweep
from thermopot.distributed.enumeration import thermodynamics as dthermodynamics
from thermopot.distributed.spec import read_spec
from thermopot.errors import SizeError, ThermopotError
from thermopot.exact import thermodynamics
from thermopot.models import resolve_model

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # worker processes get this module's tasks by value


@pytest.fixture(scope="module")
def processes():
    """A LocalCluster of 2 single-threaded worker processes (what `--workers 2` starts)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def threads():
    """2 worker threads in this process: for tests where process start-up would dominate."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def test_sweep_rows_equal_direct_calls_and_brute_force(processes, tmp_path):
    grid = {"model": [f"sk:n=6,seed={s}" for s in range(5)], "T": [0.5, 1.0, 2.0, 4.0], "backend": "numpy"}
    frame = sweep("enumerate", grid, tmp_path / "out", client=processes)
    assert len(frame) == 20 and set(frame["status"]) == {"ok"} and frame["key"].is_unique
    assert list(zip(frame["model"], frame["T"])) == [(p["model"], p["T"]) for p in grid_points(grid)]
    for _, row in frame.iterrows():
        direct = thermodynamics(row["model"], row["T"], backend="numpy").to_dict()
        exact = brute_force(resolve_model(row["model"]), row["T"])
        for name in ("log_z", "free_energy", "energy", "entropy", "heat_capacity"):
            assert row[f"result.{name}"] == pytest.approx(direct[name], rel=1e-13, abs=1e-13)
        assert row["result.log_z"] == pytest.approx(exact["log_z"], rel=1e-12)
        np.testing.assert_allclose(row["result"]["magnetization"], exact["magnetization"], atol=1e-12)
    table = pads.dataset(tmp_path / "out" / "rows", format="parquet").to_table()  # readable without thermopot
    assert table.num_rows == 20 and sorted(table["key"].to_pylist()) == sorted(frame["key"])


def _die_once(i: int, marks: str) -> dict:
    """Kill the worker process the first time i == 3 runs; return i^2."""
    mark = Path(marks) / "died"
    if i == 3 and not mark.exists():
        mark.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return {"square": i * i}


def test_killed_worker_task_is_retried(processes, tmp_path):
    frame = sweep(_die_once, {"i": range(6), "marks": str(tmp_path)}, tmp_path / "out", client=processes)
    assert (tmp_path / "died").exists()  # a worker really died mid-task
    assert list(frame["status"]) == ["ok"] * 6
    assert list(frame["result.square"]) == [i * i for i in range(6)]


CALLS: list[int] = []


def _odd_fails(i: int) -> dict:
    CALLS.append(i)
    if i % 2:
        raise ValueError(f"odd input {i}")
    return {"half": i / 2}


def test_failing_task_is_recorded_and_the_rest_finish(threads, tmp_path):
    CALLS.clear()
    frame = sweep(_odd_fails, {"i": list(range(8))}, tmp_path / "out", client=threads)
    assert sorted(CALLS) == list(range(8))
    assert list(frame["status"]) == ["ok", "error"] * 4
    assert list(frame["result.half"][::2]) == [0.0, 1.0, 2.0, 3.0]
    assert frame["error"][1].startswith("ValueError: odd input 1")
    CALLS.clear()
    again = sweep(_odd_fails, {"i": list(range(8))}, tmp_path / "out", client=threads)
    assert sorted(CALLS) == [1, 3, 5, 7]  # a re-run retries the failures only
    assert len(again) == 8 and again["key"].is_unique
    assert len(list((tmp_path / "out" / "rows").glob("*.parquet"))) == 8


JOB = """
import logging, os, time, uuid
from pathlib import Path

def slow(i, marks):
    Path(marks, f"{i}.{os.environ.get('RUN', 'second')}.{uuid.uuid4().hex}").touch()
    time.sleep(0.3)
    return {"cube": i ** 3}

def main(out, marks):
    from distributed import Client, LocalCluster
    from thermopot.distributed import sweep
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        sweep(slow, {"i": list(range(20)), "marks": marks}, out, client=client, progress=False)
"""


def test_killed_client_loses_only_running_tasks(threads, tmp_path, monkeypatch):
    out, marks = tmp_path / "out", tmp_path / "marks"
    (tmp_path / "sweepjob.py").write_text(JOB)
    marks.mkdir()
    job = subprocess.Popen([sys.executable, "-c", f"import sweepjob; sweepjob.main({str(out)!r}, {str(marks)!r})"],
                           cwd=tmp_path, start_new_session=True, env={**os.environ, "RUN": "first"})
    try:
        while len(list((out / "rows").glob("*.parquet"))) < 6 and job.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(job.pid, signal.SIGKILL)  # the client and its embedded cluster, as a crash would
        job.wait()
    table = pads.dataset(out / "rows", format="parquet").to_table()
    finished = {json.loads(p)["i"] for p in table["params"].to_pylist()}
    assert 6 <= len(finished) < 20
    monkeypatch.syspath_prepend(str(tmp_path))
    import sweepjob  # noqa: PLC0415 (the same task, by the same name, in this process)

    sweep(sweepjob.slow, {"i": list(range(20)), "marks": str(marks)}, out, client=threads)
    runs = [p.name.split(".") for p in marks.iterdir()]
    second = sorted(int(i) for i, label, _ in runs if label == "second")
    assert second == sorted(set(range(20)) - finished)  # finished tasks are not recomputed, the rest are
    table = pads.dataset(out / "rows", format="parquet").to_table()
    params = sorted(json.loads(p)["i"] for p in table["params"].to_pylist())
    assert params == list(range(20))  # every task exactly once: none lost, none duplicated
    assert set(table["status"].to_pylist()) == {"ok"}


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_cli_sweep_and_rerun(tmp_path, capsys):
    spec = _spec(tmp_path, """\
        task = "enumerate"
        [grid]
        model = ["ring:n=5", "curie-weiss:n=4,j=1"]
        T = [1.0, 3.0]
        """)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["tasks"], data["ok"], data["failed"]) == (4, 4, 0)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "rows").iterdir()}
    assert main(["sweep", str(spec), "--out", str(out), "--json"]) == 0  # all done: nothing is rewritten
    assert json.loads(capsys.readouterr().out)["ok"] == 4
    assert {p: p.stat().st_mtime_ns for p in (out / "rows").iterdir()} == stamps
    ring = brute_force(resolve_model("ring:n=5"), 3.0)
    rows = pads.dataset(out / "rows", format="parquet").to_table().to_pylist()
    got = [json.loads(r["result"])["log_z"] for r in rows if json.loads(r["params"]) == {"model": "ring:n=5", "T": 3.0}]
    assert got == [pytest.approx(ring["log_z"], rel=1e-12)]


@pytest.mark.parametrize("text, line, words", [
    ('task = "enumerat"\n[grid]\nT = [1.0]\n', 1, "task must be one of"),
    ('task = "enumerate"\nworkers = 2\n[grid]\nT = [1.0]\n', 2, "unknown key 'workers'"),
    ('task = "enumerate"\n[grid]\nmodel = "sk:n=4"\nT = [1.0]\ntemp = [2.0]\n', 5, "no parameter 'temp'"),
    ('task = "enumerate"\n[grid]\nmodel = "sk:n=4"\nT = [{x = 1}]\n', 4, "must be a string, number or boolean"),
    ('task = "enumerate"\n[grid]\nmodel = "sk:n=4"\nT = 1979-05-27\n', 4, "must be a string, number or boolean"),
])
def test_bad_spec_names_the_line(tmp_path, capsys, text, line, words):
    spec = _spec(tmp_path, text)
    with pytest.raises(ThermopotError, match=f"spec.toml:{line}: .*{words}"):
        read_spec(spec)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert f"spec.toml:{line}:" in capsys.readouterr().err


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with pytest.raises(ThermopotError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        sweep("enumerate", {"model": ["ring:n=3"], "T": [1.0]}, tmp_path / "out", scheduler="tcp://127.0.0.1:9",
              timeout=2)


def test_folder_of_another_sweep_or_other_files_is_refused(threads, tmp_path):
    out = tmp_path / "out"
    sweep(_odd_fails, {"i": [0]}, out, client=threads)
    with pytest.raises(ThermopotError, match="holds the results of another sweep"):
        sweep(_odd_fails, {"i": [0, 2]}, out, client=threads)
    big = tmp_path / "big"
    sweep(_odd_fails, {"i": list(range(0, 40, 2))}, big, client=threads)
    with pytest.raises(ThermopotError, match=r"grid \{i: \[0, 2, 4, 6, \.\.\. \(20 values\)\]\}") as refused:
        sweep(_odd_fails, {"i": [0]}, big, client=threads)
    assert len(str(refused.value)) < 300  # a thousand-value grid is summarised, not printed
    frame = sweep(_odd_fails, {"i": [0, 2]}, out, client=threads, force=True)
    assert list(frame["result.half"]) == [0.0, 1.0]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(ThermopotError, match="not a thermopot sweep"):
        sweep(_odd_fails, {"i": [0]}, tmp_path / "mine", client=threads)


def test_huge_grid_needs_confirmation(tmp_path):
    grid = {"model": ["ring:n=3"] * 1001, "T": list(np.linspace(1, 2, 1000))}
    assert 1001 * 1000 > MAX_TASKS
    with pytest.raises(SizeError, match="1001000 tasks"):
        sweep("enumerate", grid, tmp_path / "out")
    assert not (tmp_path / "out").exists()


QUANTITIES = ("log_z", "free_energy", "energy", "entropy", "heat_capacity")


@pytest.mark.parametrize("n, chunks", [(16, 1), (16, 4), (19, 16), (22, 8)])
@pytest.mark.parametrize("T", [0.05, 1.0, 40.0])
def test_distributed_enumeration_equals_local(threads, n, chunks, T):
    model = resolve_model(f"sk:n={n},seed={n}")
    local = thermodynamics(model, T, backend="numpy")
    spread = dthermodynamics(model, T, client=threads, chunks=chunks, backend="numpy", block_size=1 << 12)
    for name in QUANTITIES:
        assert getattr(spread, name) == pytest.approx(getattr(local, name), rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(spread.correlation, local.correlation, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(spread.connected, local.connected, rtol=1e-12, atol=1e-13)
    assert spread.backend == "dask:numpy"


@pytest.mark.parametrize("n, T", [(16, 0.05), (16, 40.0), (22, 0.05), (22, 40.0)])
@pytest.mark.parametrize("threads", [None, 2])
def test_distributed_enumeration_with_tile_threads_equals_local_on_processes(processes, n, T, threads):
    """2 worker processes, each chunk's tiles on one thread (the default) or on a pool of 2, against the
    local path on every core."""
    model = resolve_model(f"sk:n={n},seed={n + 1}")
    local = thermodynamics(model, T, backend="numpy")
    spread = dthermodynamics(model, T, client=processes, backend="numpy", block_size=1 << 12, threads=threads)
    for name in QUANTITIES:
        assert getattr(spread, name) == pytest.approx(getattr(local, name), rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(spread.connected, local.connected, rtol=1e-12, atol=1e-13)


def test_each_task_uses_the_tile_threads_of_its_worker(threads, monkeypatch, tmp_path):
    """On single-threaded Dask workers every chunk task, and every enumerate task of a sweep, computes
    its tiles on its worker's thread alone (no pool), whatever the engine's default (made 4 here: a task
    that ignored its worker would start a pool of 4); ``threads=3`` gives the chunks a pool of 3 (one per process, shared)."""
    pools, idents = record_tile_threads(monkeypatch)
    engine = importlib.import_module("thermopot.exact.thermodynamics")  # the module (the package exports the function)
    monkeypatch.setattr(engine, "default_threads", lambda xp: 4)
    model = resolve_model("sk:n=14,seed=3")
    dthermodynamics(model, 1.0, client=threads, chunks=4, backend="numpy", block_size=256)
    sweep("enumerate", {"model": ["sk:n=14,seed=3"], "T": [0.5, 2.0], "block_size": 256}, tmp_path / "out",
          client=threads, progress=False)
    assert pools == [] and 1 <= len(idents) <= 2 and threading.get_ident() not in idents  # the 2 worker threads
    dthermodynamics(model, 1.0, client=threads, chunks=4, backend="numpy", block_size=256, threads=3)
    assert pools == [3]  # one pool of 3 per process (accumulate.tile_pool), shared by the 4 chunks
    with pytest.raises(ThermopotError, match="threads must be an integer >= 1, got 0"):
        dthermodynamics(model, 1.0, client=threads, threads=0)


@pytest.mark.parametrize("processes", [False, True])
def test_embedded_cluster_hands_each_worker_thread_one_task_at_a_time(processes):
    """The LocalCluster of ``--workers K`` runs its scheduler with worker-saturation 1.0 (Dask's 1.1 gives a
    single-threaded worker 2 tasks: 5 of 8 equal chunks ended on one of 2 workers) and its workers, in
    threads or in processes, without the statistical profiler (6 % of an enumeration's time)."""
    from thermopot.distributed.cluster import connect

    with connect(workers=2, processes=processes) as client:
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0
        assert [w["nthreads"] for w in client.scheduler_info()["workers"].values()] == [1, 1]
        profiling = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
        assert list(profiling.values()) == [False, False]


@pytest.mark.parametrize("n, slots, rate, chunks", [
    (28, 2, 2.5e8, 2),   # 0.54 s per thread: one chunk each
    (28, 1, 2.5e8, 2),   # 1.07 s: two chunks of 0.54 s
    (30, 2, 2.5e8, 8),   # 2.1 s per thread: four chunks of 0.54 s
    (36, 2, 2.5e8, 8),   # minutes per thread: CHUNKS_PER_WORKER = 4 each
    (36, 3, 2.5e8, 16),  # 12 rounded up to a power of two
    (16, 4, 2.5e8, 4),   # a tiny job: one chunk per thread
    (28, 2, 0.0, 8),     # rate unknown: 4 per thread
    (8, 64, 2.5e8, 16),  # at most 2^(N // 2)
])
def test_default_chunks_are_at_least_min_chunk_seconds_long(n, slots, rate, chunks):
    """k = clip(floor(2^N / (rate slots) / 0.5 s), 1, 4) chunks per worker thread, a power of two in all."""
    from thermopot.distributed.enumeration import MIN_CHUNK_SECONDS, default_chunks

    assert MIN_CHUNK_SECONDS == 0.5
    assert default_chunks(n, slots, rate) == chunks


def test_distributed_enumeration_sizes_its_chunks_by_the_measured_rate(threads, monkeypatch):
    """The default chunk count comes from the rate measured in this process: a fast engine gets one chunk
    per worker thread, a slow one four (the partial statistics still merge to the local result)."""
    import thermopot.distributed.enumeration as spread

    seen = []
    bounds = spread.chunk_bounds
    monkeypatch.setattr(spread, "chunk_bounds", lambda n, chunks: seen.append(chunks) or bounds(n, chunks))
    model = resolve_model("sk:n=18,seed=1")
    local = thermodynamics(model, 1.0, backend="numpy")
    for rate in (1e12, 1e3):
        monkeypatch.setattr(spread, "measured_rate", lambda: rate)
        result = dthermodynamics(model, 1.0, client=threads, backend="numpy")
        assert result.log_z == pytest.approx(local.log_z, rel=1e-12)
    assert seen == [2, 8]


def test_distributed_enumeration_on_processes_matches_brute_force(processes):
    model = resolve_model("hopfield:n=7,p=2,seed=3")
    exact = brute_force(model, 0.7)
    spread = dthermodynamics(model, 0.7, client=processes, chunks=8, backend="numpy")  # one b-state per chunk
    assert spread.log_z == pytest.approx(exact["log_z"], rel=1e-13)
    assert spread.energy == pytest.approx(exact["energy"], rel=1e-12)
    assert spread.heat_capacity == pytest.approx(exact["heat_capacity"], rel=1e-11)
    np.testing.assert_allclose(spread.correlation, exact["correlation"], atol=1e-13)


def test_chunks_must_be_a_power_of_two_within_the_high_bits(threads):
    with pytest.raises(ThermopotError, match="power of two <= 2\\^\\(N // 2\\) = 32 for N = 11, got 3"):
        dthermodynamics("ring:n=11", 1.0, client=threads, chunks=3)
    with pytest.raises(ThermopotError, match="got 64"):
        dthermodynamics("ring:n=11", 1.0, client=threads, chunks=64)


def test_cli_enumerate_on_a_scheduler(processes, capsys):
    argv = ["enumerate", "sk:n=12,seed=4", "--T", "0.8", "--backend", "numpy", "--json"]
    assert main(argv + ["--scheduler", processes.scheduler.address]) == 0
    data = json.loads(capsys.readouterr().out)
    exact = brute_force(resolve_model("sk:n=12,seed=4"), 0.8)
    assert data["log_z"] == pytest.approx(exact["log_z"], rel=1e-13)
    np.testing.assert_allclose(data["magnetization"], exact["magnetization"], atol=1e-13)
    assert data["backend"] == "dask:numpy"


def test_cli_threads_reach_the_tile_engine(threads, monkeypatch, capsys):
    """``enumerate --threads K``: the local path's pool and each Dask chunk task's pool have K threads."""
    pools, _ = record_tile_threads(monkeypatch)
    argv = ["enumerate", "sk:n=14,seed=4", "--T", "0.8", "--backend", "numpy", "--block-size", "256", "--json"]
    assert main(argv + ["--threads", "3"]) == 0
    assert pools == [3]
    local = json.loads(capsys.readouterr().out)
    pools.clear()
    assert main(argv + ["--threads", "2", "--scheduler", threads.scheduler.address]) == 0
    assert pools and set(pools) == {2}
    assert json.loads(capsys.readouterr().out)["log_z"] == pytest.approx(local["log_z"], rel=1e-12)


def test_every_command_task_runs_and_equals_its_library_call(monkeypatch, tmp_path):
    """Each command a sweep can name runs (a positional call into a keyword-only API, or an import of a
    module that moved, broke two of them once) and returns what the library returns."""
    from thermopot.distributed.tasks import COMMANDS
    from thermopot.solvers import find_minima

    sk6 = "sk:n=6,seed=0"
    got = COMMANDS["minima"](sk6, 0.5, method="nmf", starts=16, seed=3)
    assert got["count"] == find_minima(sk6, 0.5, method="nmf", starts=16, seed=3).count
    assert COMMANDS["enumerate"](sk6, 0.7)["log_z"] == pytest.approx(brute_force(resolve_model(sk6), 0.7)["log_z"],
                                                                    rel=1e-12)
    model = resolve_model(sk6)
    states = np.array([[1 - 2 * ((i >> k) & 1) for k in range(6)] for i in range(64)], dtype=float)
    e = np.asarray(model.energy(states))
    flipped = np.stack([np.asarray(model.energy(states * np.where(np.arange(6) == k, -1.0, 1.0)))
                        for k in range(6)], axis=1)
    assert COMMANDS["landscape"](sk6)["count"] == int(np.all(flipped > e[:, None], axis=1).sum())
    assert COMMANDS["sample"](sk6, 1.0, chains=4, sweeps=20, seed=1)["chains"] == 4

    class FakeRun:  # the knowledge pipeline takes minutes: check the wiring, not the science (tested elsewhere)
        seconds = {"total": 1.5}

        def summary(self):
            return {"dataset": "digits", "n": 16}

    import thermopot.knowledge as knowledge
    calls = []
    monkeypatch.setattr(knowledge, "run_knowledge", lambda *a, **k: calls.append((a, k)) or FakeRun())
    assert COMMANDS["knowledge"]("digits", seed=2) == {"dataset": "digits", "n": 16, "quick": True,
                                                       "seconds": {"total": 1.5}}
    assert calls == [(("digits",), {"quick": True, "seed": 2, "backend": None})]


def test_cancelled_tasks_are_not_recorded_as_failures(tmp_path, monkeypatch):
    """A client that loses its scheduler sees every pending future cancelled: those are not the tasks'
    errors. Finished rows are kept, no row is written for a cancelled task, the sweep says to re-run, and
    the re-run runs exactly the cancelled ones."""
    import distributed

    from thermopot.distributed.tasks import run_task

    sweep_module = importlib.import_module("thermopot.distributed.sweep")  # the module (the package exports the function)

    class Cancelled(Exception):
        pass

    Cancelled.__name__ = "FutureCancelledError"

    class FakeFuture:
        def __init__(self, outcome):
            self.outcome = outcome

        def result(self):
            if self.outcome is None:
                raise Cancelled("cancelled for reason: scheduler-connection-lost")
            return self.outcome

        def cancelled(self):
            return self.outcome is None

        def release(self):
            pass

    class HalfLostClient:  # the first two tasks finish, then the scheduler is gone
        def __init__(self):
            self.submitted = 0

        def submit(self, func, task, params, key):
            self.submitted += 1
            return FakeFuture(func(task, params) if self.submitted <= 2 else None)

    monkeypatch.setattr(distributed, "as_completed", lambda futures: list(futures))
    grid = {"n": [1, 2, 3, 4, 5]}
    with pytest.raises(ThermopotError, match="3 of 5 tasks were cancelled.*run the same sweep again"):
        sweep_module.sweep(_square, grid, out=tmp_path, client=HalfLostClient(), progress=False)
    rows = sweep_module.load(tmp_path)
    assert sorted(rows["n"]) == [1, 2] and set(rows["status"]) == {"ok"}
    calls = []
    monkeypatch.setattr(sweep_module, "run_task", lambda task, params: calls.append(params) or run_task(task, params))

    class Client:
        def submit(self, func, task, params, key):
            return FakeFuture(func(task, params))

    rows = sweep_module.sweep(_square, grid, out=tmp_path, client=Client(), progress=False)
    assert sorted(p["n"] for p in calls) == [3, 4, 5]
    assert rows["result.square"].tolist() == [1, 4, 9, 16, 25]


def _square(n: int) -> dict:
    return {"square": n * n}
