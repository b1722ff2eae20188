"""The tile engine of exact enumeration (issue 17 item 1): preallocated workspaces, weights formed by
doubling over the a-spins, tiles on a thread pool. Every model family, at N and block sizes that cross
tile boundaries, against a float64 brute force over all states; the thread pool bit-identical to one
thread and no larger than the ``threads`` option; the doubling against the exponential path. No timing here (speed: benchmarks/enumeration.py)."""

import importlib
import threading

import numpy as np
import pytest

from thermopot import backend
from conftest import record_tile_threads
from thermopot.backend import get_namespace
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.exact.accumulate import TILES_PER_JOB, Workspace, stream_stats, tiles_per_job
from thermopot.exact.thermodynamics import enumerate_stats, thermo_from_stats
from thermopot.exact.tiles import HalfSplitEnergy
from thermopot.models import (MultiSpinModel, curie_weiss, hopfield, random_multispin, random_pairwise,
                              random_patterns, sk)
from thermopot.states import all_states

XP = get_namespace("numpy")


def _three_spin_linear_in_a(n, seed):
    """Three-spin terms with ONE spin in the low half (E linear in each a-spin: the doubling applies)
    and two in the high half, plus fields."""
    rng = np.random.default_rng(seed)
    na = n - n // 2
    subsets = np.zeros((10 + n, n), dtype=bool)
    for t in range(10):
        subsets[t, rng.integers(0, na)] = True
        subsets[t, rng.choice(np.arange(na, n), 2, replace=False)] = True
    subsets[10:, :] = np.eye(n, dtype=bool)
    return MultiSpinModel.from_terms(subsets, rng.normal(0.0, 0.4, len(subsets)))


FAMILIES = {
    "sk": lambda n: sk(n, seed=3, h=0.1),
    "curie-weiss": lambda n: curie_weiss(n, j=1.2, h=0.05),
    "hopfield": lambda n: hopfield(random_patterns(n, 3, seed=4)),
    "pairwise": lambda n: random_pairwise(n, seed=5),
    "multispin": lambda n: random_multispin(n, order=3, terms=40, seed=6),
    "three-spin linear in a": lambda n: _three_spin_linear_in_a(n, seed=7),
    "dense multispin": lambda n: random_multispin(n, order=6, terms=400, seed=9),  # the energy-table path
}


def brute_force(model, T):
    """log Z, U, C, m, <s s^T> and the connected correlations over all states, summed in extended
    precision (np.longdouble: a float64 brute force is itself off by ~1e-13 at N = 15)."""
    s = all_states(model.n).astype(np.longdouble)
    e = np.asarray(model.energy(all_states(model.n).astype(float)), dtype=float).astype(np.longdouble)
    log_w = -e / T
    top = log_w.max()
    w = np.exp(log_w - top)
    z = w.sum()
    p = w / z
    u = p @ e
    m = s.T @ p
    centred = s - m
    out = {"log_z": top + np.log(z), "energy": u, "heat_capacity": p @ (e - u) ** 2 / T**2, "magnetization": m,
           "correlation": (s * p[:, None]).T @ s, "connected": (centred * p[:, None]).T @ centred}
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _assert_matches(th, ref, where):
    assert th.log_z == pytest.approx(ref["log_z"], rel=1e-13), where
    assert th.energy == pytest.approx(ref["energy"], rel=1e-13, abs=1e-13), where
    assert th.heat_capacity == pytest.approx(ref["heat_capacity"], rel=1e-11, abs=1e-13), where
    np.testing.assert_allclose(th.magnetization, ref["magnetization"], rtol=0, atol=1e-13, err_msg=where)
    np.testing.assert_allclose(th.correlation, ref["correlation"], rtol=0, atol=1e-13, err_msg=where)
    np.testing.assert_allclose(th.connected, ref["connected"], rtol=0, atol=1e-13, err_msg=where)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n, block_size", [(13, None), (14, 512), (15, 4096), (15, 1000)])
def test_every_family_against_brute_force(family, n, block_size):
    """One tile (N = 13), and 32 to 64 tiles of every shape (block 512, 4096 and 1000 -> 512) on the
    thread pool: the same numbers as a brute-force sum over all states, to 1e-13."""
    model = FAMILIES[family](n)
    assert model.n == n
    assert HalfSplitEnergy(model, XP).dense == (family == "dense multispin")
    for T in (0.7, 2.0):
        th = thermodynamics(model, T, block_size=block_size, progress=False)
        _assert_matches(th, brute_force(model, T), f"{family} N={n} block={block_size} T={T}")


def _stats(model, T, **options):
    stats, _ = enumerate_stats(model, T, progress=False, **options)
    return thermo_from_stats(stats, model.n, T, "numpy")


@pytest.mark.parametrize("family", ["sk", "multispin"])
def test_thread_pool_is_bit_identical_to_one_thread(family):
    """The tiles' statistics are merged in tile order on the calling thread: any number of threads
    gives the same bits (64 tiles of 2^8 states)."""
    model = FAMILIES[family](14)
    assert tiles_per_job(len(HalfSplitEnergy(model, XP).plan(256)[1])) == TILES_PER_JOB > 1  # grouped jobs
    one = _stats(model, 0.9, block_size=256, threads=1)
    for threads in (2, 3, 8):
        many = _stats(model, 0.9, block_size=256, threads=threads)
        for name in ("log_z", "energy", "heat_capacity", "magnetization", "correlation", "connected"):
            np.testing.assert_array_equal(getattr(many, name), getattr(one, name), err_msg=f"{threads} {name}")


def test_threads_option_limits_the_threads_computing_tiles(monkeypatch):
    """thermodynamics(threads=k) computes the tiles on at most k threads (k = 1: the calling thread alone,
    no pool), whatever the default, made 4 here: an engine that ignored the option would start a pool of
    4 threads and fail every case. 64 tiles of 2^8 states."""
    pools, idents = record_tile_threads(monkeypatch)
    engine = importlib.import_module("thermopot.exact.thermodynamics")  # the module (the package exports the function)
    monkeypatch.setattr(engine, "default_threads", lambda xp: 4)
    model = sk(14, seed=2)
    seen = {}
    for threads in (1, 3, None):
        pools.clear()
        idents.clear()
        th = thermodynamics(model, 0.9, block_size=256, progress=False, threads=threads)
        seen[threads] = (list(pools), set(idents))
        assert th.log_z == thermodynamics(model, 0.9, block_size=256, progress=False, threads=1).log_z
    assert seen[1] == ([], {threading.get_ident()})
    assert seen[3][0] == [3] and 1 <= len(seen[3][1]) <= 3 and threading.get_ident() not in seen[3][1]
    assert seen[None][0] == [4] and len(seen[None][1]) <= 4


@pytest.mark.parametrize("threads", [0, -2, 1.5, True, "2"])
def test_bad_thread_count_is_refused(threads):
    with pytest.raises(ThermopotError, match="threads must be an integer >= 1"):
        thermodynamics(sk(6, seed=0), 1.0, threads=threads)


def _prefer_doubling(monkeypatch, prefer):
    """Make HalfSplitEnergy prefer the doubling (``prefer``) or the exponentials whatever the CPU."""
    monkeypatch.setattr("thermopot.exact.tiles.vector_exp", lambda xp: not prefer)


@pytest.mark.parametrize("threads", [1, 2])
def test_progress_sees_every_tile_of_grouped_jobs(threads):
    """Jobs of TILES_PER_JOB tiles still advance a progress bar once per tile (64 tiles in 16 jobs of 4),
    and the result does not depend on the bar."""
    model, beta, seen = sk(14, seed=2), 1.3, []

    def progress(items):
        for item in items:
            seen.append(item)
            yield item

    split = HalfSplitEnergy(model, XP)
    plain = stream_stats(split, beta, 256, threads=threads)
    tiles = len(split.plan(256)[1])
    watched = stream_stats(split, beta, 256, progress=progress, threads=threads)
    assert len(seen) == tiles == 64 and sum(item is not None for item in seen) == 64 // TILES_PER_JOB
    assert float(watched.log_z) == float(plain.log_z)


def test_doubling_is_used_and_matches_the_exponentials(monkeypatch):
    """The weights by doubling over the a-spins equal exp(y) of every state (to 1e-13 in every
    statistic); a doubling with a wrong rate (exp(beta F) instead of exp(2 beta F)) is caught."""
    _prefer_doubling(monkeypatch, True)
    model, T = sk(16, seed=1, h=0.2), 0.8
    split = HalfSplitEnergy(model, XP)
    assert split.linear_in_a and split.doubles(1.0 / T, 256)
    assert not HalfSplitEnergy(random_multispin(16, order=3, terms=60, seed=2), XP).linear_in_a
    assert not split.doubles(1e3, 256) and not split.doubles(1.0, 32)  # low T, and small tiles: exp
    block = 1 << 14  # 4 tiles of 128 x 128 states: their weights by doubling
    assert split.doubles(1.0 / T, split.plan(block)[0][0])
    doubled = _stats(model, T, block_size=block)
    monkeypatch.setattr(HalfSplitEnergy, "DOUBLING_MAX_REDUCED_ENERGY", 0.0)
    exponentials = _stats(model, T, block_size=block)
    _assert_matches(doubled, vars(exponentials), "doubling against exp")
    monkeypatch.setattr(HalfSplitEnergy, "DOUBLING_MAX_REDUCED_ENERGY", 100.0)

    wrong = HalfSplitEnergy(model, XP)
    wrong._flip = 0.5 * wrong._flip
    bad = stream_stats(wrong, 1.0 / T, block)
    assert abs(float(bad.log_z) - float(stream_stats(split, 1.0 / T, block).log_z)) > 1e-3


def test_exponentials_where_exp_is_vectorised(monkeypatch):
    """Where NumPy's float64 exp is a SIMD loop (AVX-512F) or on a GPU, every weight is an exponential
    (one pass, cheaper than the doubling's two); without AVX-512 the doubling is kept."""
    features = {"AVX512F": True}
    monkeypatch.setattr("thermopot.backend._numpy_cpu_features", lambda: features)
    model = sk(16, seed=1, h=0.2)
    assert backend.vector_exp(XP) and not HalfSplitEnergy(model, XP).doubles(1.0, 256)
    features["AVX512F"] = False
    assert not backend.vector_exp(XP) and HalfSplitEnergy(model, XP).doubles(1.0, 256)


@pytest.mark.parametrize("family", ["sk", "curie-weiss", "multispin", "three-spin linear in a", "dense multispin"])
@pytest.mark.parametrize("prefer_doubling", [False, True])
def test_tiles_with_constant_high_spins_on_both_halves(monkeypatch, family, prefer_doubling):
    """Tiles of T_a x T_b = 2^la x 2^lb states in which only the low la a-spins and lb b-spins vary: the
    others are the tile's constants, whose correlations come from the merges between tiles alone. At
    N = 16 and 17 with blocks of 2^9 and 2^14 (128 tiles of 4 x 128 states: 6 constant a-spins; 8 tiles
    of 128 x 128: 2; one constant b-spin in both), with the exponentials and, where the model is linear
    in each a-spin and a tile has enough rows, with the doubling: every statistic equals the brute force
    to 1e-13."""
    _prefer_doubling(monkeypatch, prefer_doubling)
    for n, block in ((16, 1 << 9), (17, 1 << 14)):
        model = FAMILIES[family](n)
        split = HalfSplitEnergy(model, XP)
        (ta, tb), origins = split.plan(block)
        assert tb == min(HalfSplitEnergy.MOMENT_TB, block) and ta * tb == block
        assert ta < 2**split.na and tb < 2**split.nb and len(origins) == 2**n // block
        assert split.doubles(1.0 / 0.6, ta) == (prefer_doubling and split.linear_in_a and n == 17)
        for T in (0.6, 3.0):
            _assert_matches(_stats(model, T, block_size=block), brute_force(model, T), f"{family} N={n} T={T}")


def test_a_constant_spin_taken_as_varying_is_caught(monkeypatch):
    """The check above fails for a plausible mistake: a tile whose highest varying a-spin is taken for one
    of its constants (la one too small) gets a wrong magnetisation and misses correlations."""
    model, T = sk(14, seed=3, h=0.1), 0.9
    good = _stats(model, T, block_size=1 << 9)
    _assert_matches(good, brute_force(model, T), "reference")
    original = Workspace.__init__

    def wrong_init(self, xp, ta, tb):
        original(self, xp, ta, tb)
        self.la -= 1
        self.ca, self.rca = self.ca[:self.la], self.rca[:self.la]

    monkeypatch.setattr(Workspace, "__init__", wrong_init)
    bad = _stats(model, T, block_size=1 << 9)
    assert float(np.abs(bad.magnetization - good.magnetization).max()) > 1e-3
    assert float(np.abs(bad.connected - good.connected).max()) > 1e-3


def test_chunks_by_the_high_bits_merge_to_the_whole():
    """The chunks [lo, hi) of the high half (the distributed enumeration's unit) still merge to the
    whole state space with the doubling and the workspaces."""
    model, T = hopfield(random_patterns(14, 2, seed=8)), 1.1
    beta = 1.0 / T
    split = HalfSplitEnergy(model, XP)
    parts = [stream_stats(split, beta, 1 << 10, high=(lo, lo + 32)) for lo in (0, 32, 64, 96)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part, beta, XP)
    _assert_matches(thermo_from_stats(merged, model.n, T, "numpy"), brute_force(model, T), "chunks")


def _log_z_in_child(n):
    """log Z of SK N = n on two workers (run in a forked child)."""
    return float(stream_stats(HalfSplitEnergy(sk(n, seed=4), XP), 1.0, 256, threads=2).log_z)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_the_tile_pool_is_shared_and_restarted_in_a_forked_child():
    """One pool per process serves every enumeration; a child forked after the parent used it (the
    parent's threads do not exist there) gets a pool of its own instead of waiting forever on it."""
    import multiprocessing

    from thermopot.exact.accumulate import tile_pool

    parent = _log_z_in_child(12)
    assert tile_pool(2) is tile_pool(2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_log_z_in_child, (12,)).get(timeout=60)
    assert child == parent


def test_one_tile_thread_where_exp_is_vectorised(monkeypatch):
    """The default tile threads: one where exp is vectorised (the pool made the enumeration slower
    there), one per usable core where it is a scalar loop."""
    import sys

    from thermopot.exact.thermodynamics import MAX_THREADS, default_threads

    module = sys.modules["thermopot.exact.thermodynamics"]  # the package exports a function of that name
    monkeypatch.setattr(module, "vector_exp", lambda xp: True)
    assert default_threads(XP) == 1
    monkeypatch.setattr(module, "vector_exp", lambda xp: False)
    cores = len(__import__("os").sched_getaffinity(0))
    assert default_threads(XP) == max(1, min(cores, MAX_THREADS))
