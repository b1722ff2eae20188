"""The size and time guard of the knowledge pipeline (thermopot.knowledge.guard): the memory estimate
against the peak traced by tracemalloc on small runs of both methods (a ratio, never a wall-clock time),
a run that cannot fit refused before any step runs with the memory and the time in the message, and the
checks shown to fail on a plausible mistake. The time constants are measured by
benchmarks/guards_knowledge.py (README, performance table)."""

from __future__ import annotations

import dataclasses
import re
import tracemalloc
import warnings

import pytest

from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import SizeError
from thermopot.knowledge import QUICK, SAMPLED_QUICK, guard, pipeline, run_knowledge, sampled_pipeline
from thermopot.knowledge.guard import check_knowledge, estimate_knowledge

from test_knowledge_pipeline import TINY
from test_knowledge_sampled_pipeline import SMALL

#: the bar of issue 16 for memory: peak <= 1.5 x estimate; and an estimate that is not absurdly above it
PEAK_BAR, LOOSE_BAR = 1.5, 8.0


def _peak(job) -> int:
    """Peak bytes traced by tracemalloc during ``job()`` (after a warm-up run: lazy imports, numba)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        try:
            job()
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()


def _estimate(data, labels, method, settings):
    return estimate_knowledge(data.n, data.size, distinct=data.unique().size, classes=len(set(labels)),
                              method=method, settings=settings)


@pytest.mark.parametrize("method, settings, n", [("exact", TINY, 12), ("sampled", SMALL, 16)])
def test_estimate_bounds_the_traced_peak(method, settings, n):
    data, labels = noisy_patterns_dataset(n, 4, 60, 0.08, seed=3)
    peak = _peak(lambda: run_knowledge((data, labels), method=method, settings=settings, progress=False))
    est = _estimate(data, labels, method, settings).memory
    assert peak <= PEAK_BAR * est, (peak, est)
    assert est <= LOOSE_BAR * peak, (peak, est)


def test_a_guard_without_the_feature_matrix_misses_the_exact_peak(monkeypatch):
    """Injected mistake: the exact memory model without the reduced step's 2^N x P feature matrix (only
    the tables the run keeps). At N = 14 the traced peak is then far above 1.5 x the estimate, so the
    peak check above would fail."""
    data, labels = noisy_patterns_dataset(14, 4, 60, 0.08, seed=3)
    settings = dataclasses.replace(TINY, m_values=(2,), temperatures=(6.0,), trap_sizes=(6,))
    peak = _peak(lambda: run_knowledge((data, labels), settings=settings, progress=False))
    true = _estimate(data, labels, "exact", settings).memory
    monkeypatch.setattr(guard, "reduced_numbers", lambda p: 0.0)
    wrong = _estimate(data, labels, "exact", settings).memory
    assert peak <= PEAK_BAR * true
    assert peak > PEAK_BAR * wrong


def _no_step_may_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a step ran although the guard should have refused the run")
    for module in (pipeline, sampled_pipeline):
        monkeypatch.setattr(module, "run_steps", refuse)


def _numbers(message: str) -> tuple[str, str]:
    memory = re.search(r"about ([\d.e+]+ [KMGTP]?i?B) of memory", message)
    seconds = re.search(r"about ([\d.e+]+ (?:s|min|h|days|years)) on", message)
    assert memory and seconds, message
    return memory.group(1), seconds.group(1)


@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_a_run_over_the_time_limit_is_refused_before_any_step(monkeypatch, method):
    _no_step_may_run(monkeypatch)
    data, labels = noisy_patterns_dataset(12, 4, 60, 0.08, seed=3)
    with pytest.raises(SizeError) as err:
        run_knowledge((data, labels), method=method, max_seconds=1.0, progress=False)
    message = str(err.value)
    _numbers(message)
    assert "more than the limit of 1 s" in message and "slowest steps:" in message
    est = _estimate(data, labels, method, QUICK if method == "exact" else SAMPLED_QUICK)
    assert est.seconds > 1.0


def test_a_run_over_the_free_memory_is_refused_with_both_amounts(monkeypatch):
    _no_step_may_run(monkeypatch)
    monkeypatch.setattr("thermopot.exact.guard.free_memory_bytes", lambda xp: 2**30)
    data, labels = noisy_patterns_dataset(20, 4, 30, 0.08, seed=3)
    est = _estimate(data, labels, "exact", QUICK)
    assert est.memory > 0.8 * 2**30  # the 2^20 x 210 feature matrix of the reduced G alone is 1.7 GB
    with pytest.raises(SizeError, match=r"but only 1 GiB is free") as err:
        run_knowledge((data, labels), progress=False)
    memory, _ = _numbers(str(err.value))
    assert memory.endswith("GiB") and float(memory.split()[0]) * 2**30 == pytest.approx(est.memory, rel=0.01)


def test_the_env_limit_and_the_keyword_agree(monkeypatch):
    data, labels = noisy_patterns_dataset(12, 4, 60, 0.08, seed=3)
    est = check_knowledge(data.n, data.size, distinct=data.unique().size, classes=4, settings=QUICK)
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", str(est.seconds / 2))
    with pytest.raises(SizeError):
        check_knowledge(data.n, data.size, distinct=data.unique().size, classes=4, settings=QUICK)
    assert check_knowledge(data.n, data.size, distinct=data.unique().size, classes=4, settings=QUICK,
                           max_seconds=2 * est.seconds).seconds == est.seconds
