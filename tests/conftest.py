"""Shared test fixtures: the backends to run on, and brute-force enumeration as the reference."""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from thermopot.backend import gpu_available
from thermopot.exact import accumulate
from thermopot.states import all_states

BACKENDS = [pytest.param("numpy", id="numpy"), pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)]


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `gpu` on a machine where CuPy cannot use a GPU."""
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a usable GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Every backend usable here: numpy always, cupy where a GPU exists."""
    return request.param


@pytest.fixture(params=[pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)])
def gpu_backend(request):
    """The GPU backend, for tests that compare a run on it with the same run on NumPy (skipped without a
    GPU: with NumPy on both sides such a test compares NumPy with itself and cannot fail)."""
    return request.param


def brute_force(model, T):
    """Reference thermodynamics by the direct sum over a (2^N, N) table of states."""
    s = all_states(model.n)
    e = np.asarray(model.energy(s))
    beta = 1.0 / T
    w = np.exp(-beta * (e - e.min()))
    p = w / w.sum()
    u = p @ e
    return {"log_z": -beta * e.min() + np.log(w.sum()), "energy": u, "p": p, "states": s, "energies": e,
            "heat_capacity": beta**2 * (p @ (e - u) ** 2), "magnetization": s.T @ p,
            "correlation": (s * p[:, None]).T @ s}


def record_tile_threads(monkeypatch) -> tuple[list, set]:
    """Make the engine's thread pools record their sizes and its tiles the threads computing them:
    (pool sizes, thread idents), filled by every later enumeration in this test."""
    pools, idents = [], set()

    class Recording(ThreadPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    compute = accumulate.tile_stats

    def recorded(*args, **kwargs):
        idents.add(threading.get_ident())
        return compute(*args, **kwargs)

    # the engine keeps one pool per size per process (accumulate.tile_pool, cached): record fresh ones
    monkeypatch.setattr(accumulate, "tile_pool", functools.cache(lambda threads: Recording(threads)))
    monkeypatch.setattr(accumulate, "tile_stats", recorded)
    return pools, idents
