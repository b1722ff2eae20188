"""Retrieval by Gibbs chains, escape barriers and trapping times, pattern frequencies (ergodicity breaking)."""

import heapq
import json

import numpy as np
import pytest

from thermopot.backend import to_numpy
from thermopot.datasets import random_patterns_dataset
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.knowledge._retrieval_barrier import escape_barrier, state_energies
from thermopot.knowledge.library import bound_states
from thermopot.knowledge.retrieval import (pattern_frequencies, retrieve, trapping_times,
                                           trapping_vs_size)
from thermopot.models import MultiSpinModel
from thermopot.models.families import curie_weiss, hopfield, random_pairwise, random_patterns
from thermopot.states import all_states


@pytest.fixture(scope="module")
def hopfield_library():
    xi = random_patterns(15, 3, seed=3)
    return bound_states(xi, model=hopfield(xi), T=0.3, tap=False)


def test_histogram_counts_add_up(hopfield_library, backend):
    lib = hopfield_library
    r = retrieve(lib, 0.3, chains=64, sweeps=30, seed=1, backend=backend)
    assert r.counts.sum() + r.plateau_count == r.chains == 64
    assert r.training_fraction + r.spurious_fraction + r.plateau_fraction == pytest.approx(1.0)
    np.testing.assert_array_equal(r.final_rows, lib.rows_of(r.final_states))
    np.testing.assert_array_equal(r.counts, np.bincount(r.final_rows[r.final_rows >= 0], minlength=lib.count))
    assert r.pattern_counts.sum() == r.counts[lib.is_training].sum() == round(r.training_fraction * 64)
    np.testing.assert_array_equal(r.pattern_counts[lib.nearest_pattern[lib.pattern_row]],
                                  r.counts[lib.pattern_row])


def test_identical_seeds_give_identical_results(hopfield_library):
    a = retrieve(hopfield_library, 0.5, chains=16, sweeps=20, seed=7)
    b = retrieve(hopfield_library, 0.5, chains=16, sweeps=20, seed=7)
    c = retrieve(hopfield_library, 0.5, chains=16, sweeps=20, seed=8)
    np.testing.assert_array_equal(a.final_states, b.final_states)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert not np.array_equal(a.final_states, c.final_states)
    model = curie_weiss(8, j=1.5)
    data = np.stack([np.ones(8), -np.ones(8)])
    f1 = pattern_frequencies(model, data, 1.0, chains=4, sweeps=50, seed=3)
    f2 = pattern_frequencies(model, data, 1.0, chains=4, sweeps=50, seed=3)
    np.testing.assert_array_equal(f1.visits, f2.visits)


@pytest.mark.parametrize("assign", ["descent", "overlap"])
def test_cold_chains_stay_in_their_start_minimum(hopfield_library, assign):
    lib = hopfield_library
    r = retrieve(lib, 0.02, chains=2 * lib.count, sweeps=5, seed=0, starts="minima", assign=assign)
    np.testing.assert_array_equal(r.final_rows, np.arange(2 * lib.count) % lib.count)
    np.testing.assert_array_equal(r.final_states, r.initial_states)
    assert r.training_fraction == pytest.approx(lib.training_count / lib.count)


def test_overlap_assignment_is_the_largest_overlap(hopfield_library):
    lib = hopfield_library
    r = retrieve(lib, 1.0, chains=32, sweeps=10, seed=2, assign="overlap")
    q = r.final_states.astype(float) @ lib.states.T.astype(float)
    np.testing.assert_array_equal(q[np.arange(32), r.final_rows], q.max(axis=1))
    assert r.plateau_count == 0


def test_model_without_data_and_bad_input():
    model = curie_weiss(8, j=1.5)
    r = retrieve(model, 0.5, chains=8, sweeps=10, seed=0)
    assert r.library.count == 2 and r.training_fraction == 0.0
    assert r.spurious_fraction + r.plateau_fraction == pytest.approx(1.0)
    with pytest.raises(ThermopotError, match="assign"):
        retrieve(model, 0.5, chains=8, sweeps=10, assign="nearest")
    with pytest.raises(ThermopotError, match="starts"):
        retrieve(model, 0.5, chains=8, sweeps=10, starts="uniform")
    with pytest.raises(ThermopotError, match="pattern"):
        retrieve(model, 0.5, chains=8, sweeps=10, starts="patterns")
    with pytest.raises(ThermopotError, match="temperature"):
        retrieve(model, -1.0, chains=8, sweeps=10)
    with pytest.raises(ThermopotError, match="threshold"):
        trapping_times(None, r.library, [1.0], threshold=1.5)
    with pytest.raises(ThermopotError, match="rows"):
        trapping_times(None, r.library, [1.0], rows=[5])


def minimax_barrier(energies, n, start, threshold):
    """Reference: Dijkstra on the bottleneck (max energy along the path) out of the overlap ball."""
    def inside(i):
        return n - 2 * bin(i ^ start).count("1") >= threshold * n

    best = {start: energies[start]}
    heap = [(energies[start], start)]
    while heap:
        b, i = heapq.heappop(heap)
        if not inside(i):
            return b - energies[start]
        if b > best[i]:
            continue
        for k in range(n):
            j = i ^ (1 << k)
            c = max(b, energies[j])
            if c < best.get(j, np.inf):
                best[j] = c
                heapq.heappush(heap, (c, j))
    return np.inf


@pytest.mark.parametrize("threshold", [1.0, 0.5, 0.0])
def test_escape_barrier_against_dijkstra(threshold, backend):
    n = 8
    model = random_pairwise(n, seed=5)
    energies = np.asarray(model.energy(all_states(n)))
    table = state_energies(model, backend)
    np.testing.assert_allclose(to_numpy(table), energies, rtol=0, atol=1e-12)
    for start in [0, 3, 77, 200, 255]:
        assert escape_barrier(table, n, start, threshold) == pytest.approx(
            minimax_barrier(energies, n, start, threshold), abs=1e-12)


def test_golf_course_arrhenius():
    n, depth = 8, 2.0
    table = np.zeros(2**n)
    table[0] = -depth
    model = MultiSpinModel.from_energy_table(table)
    lib = bound_states(None, model=model, T=1.0, tap=False)
    temps = depth / np.array([1.5, 2.5, 3.5])
    chains = 400
    trap = trapping_times(None, lib, temps, chains=chains, threshold=1.0, max_updates=20_000, seed=4)
    assert trap.barrier[0] == pytest.approx(depth, abs=1e-12)
    assert (trap.hits == chains).all()
    # heat bath, random scan: geometric escape with mean 1 + exp(depth / T) updates
    expected = 1 + np.exp(depth / temps)
    np.testing.assert_array_less(np.abs(trap.mean_time[:, 0] - expected), 4 * expected / np.sqrt(chains))
    exact_slope = np.polyfit(1 / temps, np.log(expected), 1)[0]
    assert trap.slope[0] == pytest.approx(exact_slope, abs=4 * 0.05 * np.sqrt(2) / np.ptp(1 / temps))


def test_two_wells_trap_single_chains_while_exact_weights_split():
    n, T, chains, sweeps = 10, 0.25, 48, 300
    model = curie_weiss(n)
    wells = np.stack([np.ones(n), -np.ones(n)]).astype(np.int8)
    freq = pattern_frequencies(model, wells, T, chains=chains, sweeps=sweeps, seed=11)
    np.testing.assert_allclose(freq.exact[0], freq.exact[1], rtol=1e-12)  # E(s) = E(-s)
    assert freq.exact_mass > 0.99
    # every chain spends its whole run in one well: its frequencies are (1, 0) or (0, 1), TV 1/2
    assert ((freq.visits > 0).sum(axis=1) == 1).all()
    np.testing.assert_allclose(freq.tv_chain_exact, 0.5)
    # the pool of random starts still splits evenly within binomial error
    assert freq.tv_pooled_exact < 4 * 0.5 / np.sqrt(chains)
    # no chain escapes within the run: barrier (Curie-Weiss, to M = 0) = 1/2 + (N - 1)/2 = N/2
    lib = bound_states(wells, model=model, T=T, tap=False)
    trap = trapping_times(None, lib, [T], chains=16, threshold=0.0, max_updates=sweeps * n, seed=1)
    np.testing.assert_allclose(trap.barrier, n / 2, atol=1e-12)
    assert (trap.hits == 0).all() and np.isinf(trap.mean_time).all()
    # to_dict: strict JSON (infinite times as "inf"), arrays as lists, the patterns as a count
    out = trap.to_dict()
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert out["mean_time"] == [["inf", "inf"]] and out["barrier"] == trap.barrier.tolist()
    assert out["hits"] == [[0, 0]] and out["T"] == [T]
    freq_out = freq.to_dict()
    assert json.loads(json.dumps(freq_out, allow_nan=False)) == freq_out
    assert freq_out["patterns"] == 2 and freq_out["tv_chain_exact"] == freq.tv_chain_exact.tolist()
    assert freq_out["visits"] == freq.visits.tolist() and "pooled" not in freq_out


def test_high_temperature_pooled_frequencies_match_boltzmann():
    n, T, chains, sweeps = 8, 2.0, 64, 400
    model = random_pairwise(n, seed=2)
    data = random_patterns_dataset(n, 6, seed=1)
    freq = pattern_frequencies(model, data, T, chains=chains, sweeps=sweeps, seed=5)
    states = all_states(n)
    e = np.asarray(model.energy(states))
    log_z = thermodynamics(model, T).log_z
    p = np.exp(-np.asarray(model.energy(freq.patterns.astype(float))) / T - log_z)
    np.testing.assert_allclose(freq.exact, p, rtol=1e-12)
    assert freq.exact_mass == pytest.approx(p.sum(), rel=1e-12)
    assert np.exp(-e / T - log_z).sum() == pytest.approx(1.0)
    samples = chains * sweeps
    sigma = np.sqrt(3 * p * (1 - p) / samples)  # allowing an integrated autocorrelation time up to 3
    np.testing.assert_array_less(np.abs(freq.pooled - p), 5 * sigma)
    assert freq.tv_pooled_exact < 0.5 * (5 * sigma).sum() / p.sum()


def test_trapping_vs_size_matches_trapping_times():
    kw = dict(chains=8, threshold=0.5, max_updates=2000, seed=3)
    by_size = trapping_vs_size([8, 10], 2, 0.5, **kw)
    lib = bound_states(random_patterns_dataset(10, 2, seed=3), T=0.5, tap=False)
    first = np.flatnonzero(lib.is_training)[:1]
    direct = trapping_times(None, lib, [0.5], rows=first, **kw)
    assert by_size.mean_time[1] == direct.mean_time[0, 0] and by_size.barrier[1] == direct.barrier[0]
    assert by_size.minima[1] == lib.count and by_size.training[1] == lib.training_count == 2


def test_basin_occupancy_is_ergodic_when_hot_and_trapped_when_cold():
    """Curie-Weiss N = 10: two basins of exact weight 1/2 each. At T = 3 every chain visits both in
    proportion; at T = 0.25 (barrier N/2 = 5, escape ~ e^20 updates) each chain stays in its basin:
    occupancy (1, 0) or (0, 1), TV to the exact weights exactly 1/2."""
    from thermopot.knowledge.retrieval import basin_occupancy
    from thermopot.models import curie_weiss

    lib = bound_states(None, T=1.0, model=curie_weiss(10, j=1.0), tap=False)
    assert lib.count == 2
    hot = basin_occupancy(lib, 3.0, chains=16, sweeps=400, seed=1)
    assert np.allclose(hot.exact[:2], 0.5) and hot.exact[2] == 0.0 and hot.exact.sum() == pytest.approx(1.0)
    assert hot.tv_chain.max() < 0.2 and hot.tv_pooled < 0.1
    cold = basin_occupancy(lib, 0.25, chains=16, sweeps=400, seed=1)
    assert np.allclose(cold.tv_chain, 0.5)
    assert set(np.round(cold.occupancy[:, 0], 12)) <= {0.0, 1.0}
    assert np.allclose(cold.occupancy.sum(axis=1), 1.0)
