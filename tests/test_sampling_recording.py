"""Recording without waste: the streamed batch means equal the batch means computed from the whole
series, the recorded series cost their 8 bytes a number, result() needs no batch-sized temporaries,
and the chains are the ones of the code before the change (digests recorded then)."""

import hashlib
import tracemalloc

import numpy as np
import pytest

from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import Sampler
from thermopot.sampling import statistics
from thermopot.sampling.statistics import BatchMeans, mean_stderr


def peak_and_retained(fn):
    """(peak, retained) bytes traced by tracemalloc while fn() runs, above the start."""
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    try:
        out = fn()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - base, current - base


def direct_batch_statistics(x, size):
    """Batch means of length ``size`` over the complete batches of x (n, G, ...), pooled over the
    groups, and their ddof-1 variance: the definition the accumulator must reproduce."""
    k = x.shape[0] // size
    bm = x[:k * size].reshape((k, size) + x.shape[1:]).mean(axis=1)
    bm = bm.reshape((k * x.shape[1],) + x.shape[2:])
    return bm.var(axis=0, ddof=1), k


@pytest.mark.parametrize("max_batches", [2, 3, 32])
def test_streamed_batches_equal_the_batches_of_the_series(max_batches):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 3, 2)) + np.linspace(0, 2, 1000)[:, None, None]  # a drift: batches differ
    acc = BatchMeans((3, 2), np, max_batches)
    for count, row in enumerate(x, 1):
        acc.add(row)
        if count in (1, 2, 3, 7, 8, 64, 65, 127, 128, 129, 500, 999, 1000):
            # the batch length: the largest power of two with at least max_batches complete batches
            size = max([1] + [1 << l for l in range(12) if count >> l >= max_batches])
            assert acc.size == size and acc.nbatches == count // size
            np.testing.assert_allclose(acc.mean(), x[:count].mean(axis=(0, 1)), rtol=1e-13)
            if count // size * 3 >= 2:
                var, k = direct_batch_statistics(x[:count], size)
                np.testing.assert_allclose(acc.stderr(), np.sqrt(var / (3 * k)), rtol=1e-10)


def test_checkpointed_accumulator_continues_the_same():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4, 1))
    whole, part = BatchMeans((4, 1), np, 4), BatchMeans((4, 1), np, 4)
    for row in x[:137]:
        whole.add(row)
        part.add(row)
    resumed = BatchMeans.from_arrays(part.arrays("p_"), "p_", np)
    for row in x[137:]:
        whole.add(row)
        resumed.add(row)
    np.testing.assert_array_equal(whole.stderr(), resumed.stderr())
    var, k = direct_batch_statistics(x, resumed.size)
    np.testing.assert_allclose(resumed.stderr(), np.sqrt(var / (4 * k)), rtol=1e-10)


def test_accumulator_holds_a_few_arrays_only():
    """The former accumulator filled 2 x 32 stored batches (64 arrays of the observable's shape within
    its first 64 samples); the streamed one holds O(log 64) of them."""
    shape = (64, 256)
    one = 8 * 64 * 256

    def run():
        acc = BatchMeans(shape, np)
        for _ in range(300):
            acc.add(np.ones(shape))
        return acc

    acc, peak, _ = peak_and_retained(run)
    assert acc.nbatches >= acc.max_batches
    assert peak <= (BatchMeans.arrays_held() + 2) * one  # + the sample being added and its square
    assert BatchMeans.arrays_held() <= 20


def test_recorded_series_cost_eight_bytes_a_number():
    """One chain, 5000 recorded sweeps: the energy and magnetisation series are 2 x 5000 float64
    (80 kB); a list of small arrays cost about 35 times that."""
    sampler = Sampler(random_pairwise(2, seed=0), 1.0)
    state = sampler.run(sampler.init(chains=1, seed=0), 2, progress=False)
    sweeps = 5000
    _, _, retained = peak_and_retained(lambda: sampler.run(state, sweeps, progress=False))
    assert retained <= 1.5 * 2 * 8 * sweeps


def test_result_needs_no_batch_sized_temporaries():
    """result() works in O(B N) beyond what is stored (the former one divided all stored batches at
    once: 64 arrays of B x N)."""
    b, n = 64, 200
    sampler = Sampler(random_pairwise(n, seed=0), 1.0)
    state = sampler.run(sampler.init(chains=b, seed=0), 100, progress=False)
    res, peak, _ = peak_and_retained(lambda: sampler.result(state))
    assert res.sweeps == 100
    assert peak <= 8 * (8 * b * n)


def test_error_bars_of_long_series_use_bounded_temporaries(monkeypatch):
    """mean_stderr transforms the chains in groups of about CHUNK_ELEMENTS numbers: the same tau and
    error bar as all chains at once (to rounding), with temporaries of one group (the former code
    held about a dozen arrays the size of the whole series)."""
    x = np.random.default_rng(3).normal(size=(4096, 64)).cumsum(axis=0) * 0.01
    whole = mean_stderr(x)
    monkeypatch.setattr(statistics, "CHUNK_ELEMENTS", 4096 * 2)
    grouped, peak, _ = peak_and_retained(lambda: mean_stderr(x))
    assert grouped[0] == whole[0]
    np.testing.assert_allclose(grouped[1], whole[1], rtol=1e-12)
    np.testing.assert_allclose(grouped[2], whole[2], rtol=1e-12)
    np.testing.assert_allclose(grouped[3], whole[3], rtol=1e-12)
    assert peak <= 0.25 * x.nbytes


@pytest.mark.parametrize("kind,scan,digest", [
    ("pairwise", "sequential", "535f864019df71aac9fd64e502c06398"),
    ("pairwise", "random", "133e3abe41bc01995a6ad6b8606e3dc0"),
    ("multispin", "sequential", "64035311539f68c339d29dc963ed3099"),
    ("multispin", "random", "c30c574ceb763d8d74e3a968e4f02be3")])
def test_chains_are_those_of_the_former_code(kind, scan, digest):
    model = random_pairwise(12, seed=2) if kind == "pairwise" else random_multispin(9, seed=3)
    sampler = Sampler(model, 1.1, scan=scan)
    spins = sampler.run(sampler.init(chains=8, seed=5), 70).spins
    assert hashlib.sha256(np.ascontiguousarray(spins).tobytes()).hexdigest()[:32] == digest
