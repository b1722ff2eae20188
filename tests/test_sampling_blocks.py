"""Per-sweep recording without a run per sweep: ``Sampler.run(observe=)`` sees the chains of as many one-sweep
runs, ``sweep_blocks`` hands every sweep's states to its consumer once and in order, ``count_rows`` and
``state_rows`` equal the per-sweep dictionary bookkeeping they replace (any N, also N > 62), and the
descent that skips the states that stopped equals a naive one state at a time."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.knowledge.sampled_library import _Library
from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import Sampler
from thermopot.sampling import compiled as compiled_module
from thermopot.sampling.blocks import count_rows, sweep_blocks
from thermopot.sampling.descent import descend
from thermopot.sampling.tempering import ParallelTempering
from thermopot.states import state_keys, state_rows

COMPILED = [False, None] if compiled_module.available() else [False]


@pytest.mark.parametrize("compiled", COMPILED)
@pytest.mark.parametrize("generator", ["pcg64", "philox"])
@pytest.mark.parametrize("model", [random_pairwise(10, seed=3), random_multispin(7, seed=3)],
                         ids=["pairwise", "multispin"])
def test_observed_run_sees_the_chains_of_one_sweep_runs(model, generator, compiled):
    sampler = Sampler(model, 0.8, generator=generator, compiled=compiled, scan="random")
    start = sampler.init(chains=5, seed=4)
    expected, state = [], start
    for _ in range(150):  # past a bookkeeping refresh (REFRESH_SWEEPS)
        state = sampler.run(state, 1, record=False)
        expected.append(state.spins)
    seen = []
    final = sampler.run(start, 150, record=False, observe=lambda s: seen.append(np.array(s, copy=True)))
    np.testing.assert_array_equal(np.array(seen), np.array(expected))
    np.testing.assert_array_equal(final.spins, state.spins)
    assert repr(final.rng_state) == repr(state.rng_state) and final.sweeps_done == state.sweeps_done == 150
    unobserved = sampler.run(start, 150, record=False)  # the observer changes nothing
    np.testing.assert_array_equal(unobserved.spins, final.spins)


@pytest.mark.parametrize("sweeps", [1, 7, 12, 13])
def test_sweep_blocks_hand_every_sweep_once_in_order(sweeps):
    chains, n = 3, 4
    states = np.where(np.random.default_rng(sweeps).random((sweeps, chains, n)) < 0.5, -1.0, 1.0)
    blocks = []
    with sweep_blocks(lambda b: blocks.append(b.copy()), chains=chains, n=n, sweeps=sweeps,
                      block_bytes=6 * chains * n) as observe:
        for s in states:
            observe(s)
    assert all(len(b) == 6 for b in blocks[:-1]) and 1 <= len(blocks[-1]) <= 6
    np.testing.assert_array_equal(np.concatenate(blocks), states.astype(np.int8))


def test_sweep_blocks_hand_nothing_more_after_an_error():
    blocks = []
    with pytest.raises(RuntimeError):
        with sweep_blocks(blocks.append, chains=2, n=3, sweeps=5, block_bytes=100) as observe:
            observe(np.ones((2, 3)))
            raise RuntimeError("the run failed")
    assert blocks == []


def test_observed_tempering_blocks_are_the_cold_states_of_one_sweep_runs():
    model, ladder = random_pairwise(9, seed=2), [0.5, 0.8, 1.3]
    one = ParallelTempering(model, ladder, chains=4, seed=1)
    expected = []
    for _ in range(40):
        one.run(1, progress=False)
        expected.append(one.states()[0])
    block = ParallelTempering(model, ladder, chains=4, seed=1)
    seen = []
    with sweep_blocks(lambda b: seen.append(b.copy()), chains=4, n=9, sweeps=40, block_bytes=4 * 9 * 16) as observe:
        block.run(40, progress=False, observe=lambda energies, cold: observe(cold))
    np.testing.assert_array_equal(np.concatenate(seen), np.array(expected, dtype=np.int8))
    np.testing.assert_array_equal(block.swap_rates(), one.swap_rates())


def test_a_short_run_holds_no_more_than_its_sweeps():
    """A run of 3 sweeps under a 1 MiB cap gets one block of 3 sweeps, not a buffer of 1 MiB / (B N) sweeps."""
    blocks = []
    with sweep_blocks(lambda b: blocks.append(b.base if b.base is not None else b), chains=2, n=3, sweeps=3) as observe:
        for _ in range(3):
            observe(np.ones((2, 3)))
    assert len(blocks) == 1 and blocks[0].shape == (3, 2, 3)


def test_count_rows_equals_add_at():
    rng = np.random.default_rng(0)
    rows = rng.integers(-1, 5, size=(30, 4))
    counts = np.zeros((4, 5), dtype=np.int64)
    count_rows(counts, rows[:11])
    count_rows(counts, rows[11:].reshape(-1))  # flat, sweep-major
    expected = np.zeros((4, 5), dtype=np.int64)
    for w in range(30):
        for b in range(4):
            if rows[w, b] >= 0:
                expected[b, rows[w, b]] += 1
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("n", [5, 16, 63, 64, 200])
def test_state_rows_equal_a_dictionary_of_packed_bytes(n):
    rng = np.random.default_rng(n)
    reference = np.unique(np.where(rng.random((25, n)) < 0.5, -1, 1), axis=0).astype(np.int8)
    reference = reference[rng.permutation(len(reference))]
    samples = np.concatenate([reference[rng.integers(0, len(reference), 40)],
                              np.where(rng.random((40, n)) < 0.5, -1, 1)]).astype(np.float64)
    samples = samples[rng.permutation(80)].reshape(4, 20, n)
    index = {row.tobytes(): i for i, row in enumerate(np.packbits(reference > 0, axis=1))}
    expected = np.array([index.get(row.tobytes(), -1) for row in np.packbits(samples.reshape(-1, n) > 0, axis=1)])
    got = state_rows(samples, reference)
    assert got.shape == (4, 20) and (got >= 0).sum() >= 40
    np.testing.assert_array_equal(got.reshape(-1), expected)
    assert state_keys(samples).shape == (4, 20)
    np.testing.assert_array_equal(state_rows(samples, reference[:0]), -np.ones((4, 20), dtype=np.int64))


def test_library_rows_number_new_states_in_the_order_they_first_appear():
    rng = np.random.default_rng(3)
    pool = np.where(rng.random((6, 70)) < 0.5, -1, 1).astype(np.int8)
    library = _Library(70, 2)
    seen: dict[bytes, int] = {}
    for draw in (rng.integers(0, 3, 8), rng.integers(0, 6, 10), rng.integers(2, 6, 4)):
        rows = library.rows(pool[draw], -np.arange(len(draw), dtype=np.float64))
        expected = [seen.setdefault(pool[i].tobytes(), len(seen)) for i in draw]
        np.testing.assert_array_equal(rows, expected)
    assert library.counts.shape == (2, len(seen))
    np.testing.assert_array_equal(library.states, np.array([np.frombuffer(k, dtype=np.int8) for k in seen]))


def _naive_descent(model, s, max_steps):
    """One state at a time: flip the most negative flip cost (lowest k on ties) while one is negative."""
    s = np.array(s, dtype=np.float64)
    steps = 0
    while steps < max_steps:
        de = model.flip_energy_changes(s)
        k = int(np.argmin(de))
        if de[k] >= 0:
            break
        s[k] = -s[k]
        steps += 1
    return s, steps


@pytest.mark.parametrize("max_steps", [2, 5, None])
@pytest.mark.parametrize("model", [random_pairwise(14, seed=4), random_multispin(10, 3, seed=5)],
                         ids=["pairwise", "multispin"])
def test_descent_of_the_moving_states_equals_a_naive_descent(model, max_steps):
    s = np.where(np.random.default_rng(1).random((200, model.n)) < 0.5, -1.0, 1.0)
    result = descend(model, s, max_steps=max_steps)
    limit = 10 * model.n + 10 if max_steps is None else max_steps
    naive = [_naive_descent(model, x, limit) for x in s]
    np.testing.assert_array_equal(result.states, np.array([x for x, _ in naive], dtype=np.int8))
    np.testing.assert_array_equal(result.steps, [k for _, k in naive])
    stable = [bool((model.flip_energy_changes(x) >= 0).all()) for x, _ in naive]
    np.testing.assert_array_equal(result.stable, stable)
    assert all(stable) == (max_steps is None)
