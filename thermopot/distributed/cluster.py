"""Where a distributed job runs: a given dask.distributed Client, a running scheduler by address, or an
embedded LocalCluster of worker processes on this machine (the default, one per core)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..checks import check_count, check_positive
from ..errors import ThermopotError

#: seconds to wait for a scheduler given by address before giving up with a clear error
CONNECT_TIMEOUT = 10.0
#: Dask settings of an embedded LocalCluster. The scheduler hands each worker thread one task at a time:
#: Dask's default saturation of 1.1 gives a single-threaded worker ceil(1.1) = 2 tasks, and a job of a few
#: long, equal tasks (the chunks of an enumeration) then ends with one worker running its queued extra task
#: while the other idles (measured: 5 of 8 chunks on one of 2 workers). The workers' statistical profiler
#: (a thread sampling every task's stack every 10 ms, shown only on the dashboard's profile page) is off: it
#: made an enumeration in a worker 6 % slower (docs/distributed.md)
LOCAL_CLUSTER_CONFIG = {"distributed.scheduler.worker-saturation": 1.0, "distributed.worker.profile.enabled": False}


def task_threads(threads: int | None = None) -> int | None:
    """Threads the tile engine of one task may use: ``threads`` when given; else 1 inside a Dask worker,
    None elsewhere (the engine's default: every core of the process).

    A Dask worker with k threads runs up to k tasks at once, one per thread, so a job of at least k tasks
    already keeps its k cores busy; a task that started its own pool over every core as well would put up
    to k x cores threads on them: more threads, not more cores (docs/distributed.md)."""
    if threads is not None:
        return check_count(threads, "threads")
    from distributed import get_worker  # noqa: PLC0415 (the optional extra, loaded on use)

    try:
        get_worker()
    except ValueError:  # not running in a Dask worker
        return None
    return 1


def thread_slots(client: Any) -> int:
    """The threads of all workers of ``client``'s cluster (how many tasks it runs at once), at least 1."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard's address when the scheduler serves one, else None (an embedded LocalCluster
    serves it when bokeh is installed: ``pip install "bokeh>=3.1"``)."""
    try:
        services = client.scheduler_info().get("services", {})
    except Exception:  # noqa: BLE001 (no dashboard is not an error)
        return None
    return client.dashboard_link if "dashboard" in services else None


@contextlib.contextmanager
def connect(client: Any = None, *, scheduler: str | None = None, workers: int | None = None,
            timeout: float = CONNECT_TIMEOUT, processes: bool = True) -> Iterator[Any]:
    """A dask.distributed Client: ``client`` itself when given; else one connected to ``scheduler``
    (``tcp://host:8786``), refused with a ThermopotError after ``timeout`` seconds if unreachable; else a
    LocalCluster of ``workers`` single-threaded processes (default: the core count; LOCAL_CLUSTER_CONFIG),
    closed on leaving. The dashboard's address, when there is one, goes to stderr."""
    if client is not None:
        yield client
        return
    if scheduler is not None and workers is not None:
        raise ThermopotError("give a scheduler address or a worker count, not both")
    import dask  # noqa: PLC0415 (the optional extra, loaded on use)
    from distributed import Client, LocalCluster  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            timeout = check_positive(timeout, "timeout")
            try:
                c = stack.enter_context(Client(scheduler, timeout=timeout))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ThermopotError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s "
                                     f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
        else:
            n = check_count(os.cpu_count() or 1 if workers is None else workers, "workers")
            with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read by the scheduler as it starts
                cluster = stack.enter_context(LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=processes, silence_logs=logging.ERROR,
                    dashboard_address=":0"))
            c = stack.enter_context(Client(cluster))
        link = dashboard_link(c) if scheduler is not None or importlib.util.find_spec("bokeh") else None
        if link:
            print(f"Dask dashboard: {link}", file=sys.stderr)
        yield c
