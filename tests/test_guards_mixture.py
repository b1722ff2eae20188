"""The size guard of fit_mixture against its real peak memory (tracemalloc, after a warm-up run so that
lazy imports are not counted): peak <= 1.5 x estimate, and the estimate not absurdly above the peak. The
ratio only; times are in benchmarks/guards.py."""

import tracemalloc
import warnings

import pytest

from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import SizeError
from thermopot.learning.mixture import estimate_mixture, fit_mixture


def _peak(job) -> int:
    job()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        job()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak - base


@pytest.mark.parametrize("n, k, copies, method", [(8, 2, 40, "exact"), (9, 3, 400, "pseudo")])
def test_mixture_estimate_bounds_the_measured_peak(n, k, copies, method):
    data, _ = noisy_patterns_dataset(n, 3, copies, 0.1, seed=1)
    rows = data.compact().size

    def job():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_mixture(data, k, method=method, seed=0, max_iter=2)

    peak = _peak(job)
    est, _ = estimate_mixture(n, rows, k, method=method, max_iter=2)
    assert peak <= 1.5 * est
    assert est <= 12 * peak  # a true bound, not an absurd one


def test_mixture_estimate_grows_with_rows_and_components():
    """The (samples, K) and (samples, N) arrays are counted: 10^6 rows need more than 10^4."""
    small, _ = estimate_mixture(10, 10_000, 4)
    large, _ = estimate_mixture(10, 1_000_000, 4)
    assert large - small >= 8.0 * 990_000 * (4 + 10)


def test_mixture_guard_refuses_a_job_over_the_time_limit(monkeypatch):
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "1")
    data, _ = noisy_patterns_dataset(8, 3, 10, 0.1, seed=1)
    with pytest.raises(SizeError, match="EM for a mixture of N=8 spins"):
        fit_mixture(data, 2, seed=0, max_iter=200)
