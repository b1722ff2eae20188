"""The counter-based generator and the fused CUDA sweep kernel: Philox4x32-10 against the published
Random123 known-answer vectors, the philox sampler against exact enumeration, checkpoints, and the
kernel source itself, run on the CPU by a warp emulator (tests/cuda/warp_emulator.cpp: 32 threads per
warp, barriers for __syncwarp) and compiled by nvcc where one is installed; on a GPU, the fused kernel
against the NumPy chains and against exact enumeration."""

import dataclasses
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from thermopot.backend import get_namespace, to_numpy
from thermopot.errors import ThermopotError
from thermopot.exact import thermodynamics
from thermopot.models import MultiSpinModel, random_multispin, random_pairwise, sk
from thermopot.sampling import Sampler, first_passage, load_state, sample, save_state
from thermopot.sampling.fused import site_terms
from thermopot.sampling.philox import philox4x32, philox_key, sweep_numbers

Z_MAX = 4.0
EMULATOR = Path(__file__).parent / "cuda" / "warp_emulator.cpp"
KERNEL = resources.files("thermopot.sampling").joinpath("_fused_sweeps.cu")

# Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2), output (4)
KAT = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
       ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_known_answers(counter, key, expected, backend):
    xp = get_namespace(backend)
    out = philox4x32(counter, key, xp)
    assert [int(v) for v in out] == list(expected)


def test_sweep_numbers_are_uniform():
    xp = get_namespace("numpy")
    n, chains = 97, 211
    u, sites = sweep_numbers(philox_key(9), 2**33 + 5, n, chains, xp, sites=True)
    assert u.shape == sites.shape == (n, chains) and 0 < u.min() and u.max() < 1
    m = u.size
    assert abs(u.mean() - 0.5) < Z_MAX * np.sqrt(1 / 12 / m)
    assert abs((u**2).mean() - 1 / 3) < Z_MAX * np.sqrt((1 / 5 - 1 / 9) / m)
    counts = np.bincount(sites.ravel(), minlength=n)
    chi2 = ((counts - m / n) ** 2 / (m / n)).sum()  # n - 1 = 96 degrees of freedom: sd 13.9
    assert abs(chi2 - (n - 1)) < 6 * np.sqrt(2 * (n - 1))
    # neighbouring sweeps, chains and seeds give unrelated numbers
    other, _ = sweep_numbers(philox_key(9), 2**33 + 6, n, chains, xp)
    assert abs(np.corrcoef(u.ravel(), other.ravel())[0, 1]) < Z_MAX / np.sqrt(m)
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < Z_MAX / np.sqrt(m)


@pytest.mark.parametrize("method,scan", [("heat-bath", "sequential"), ("metropolis", "sequential"),
                                         ("heat-bath", "random")])
def test_philox_sampler_matches_enumeration(method, scan, backend):
    model, T = random_pairwise(11, seed=1), 1.0
    th = thermodynamics(model, T)
    res = sample(model, T, chains=64, sweeps=1500, method=method, scan=scan, seed=7, generator="philox",
                 correlations=True, backend=backend)
    assert res.generator == "philox"
    iu = np.triu_indices(model.n, 1)
    for name, est, exact, err in [("m", res.magnetization, th.magnetization, res.magnetization_stderr),
                                  ("C", res.correlation[iu], th.correlation[iu], res.correlation_stderr[iu]),
                                  ("U", res.energy, th.energy, res.energy_stderr)]:
        z = (np.asarray(est) - np.asarray(exact)) / np.asarray(err)
        assert np.abs(z).max() < Z_MAX, f"{name}: max |z| = {np.abs(z).max():.2f}"


def test_philox_checkpoint_and_default(tmp_path):
    model = random_pairwise(30, seed=3)
    sampler = Sampler(model, 0.8, generator="philox", backend="numpy")
    start = sampler.init(chains=4, seed=5)
    save_state(tmp_path / "run.npz", sampler, sampler.run(start, 50))
    loaded, state = load_state(tmp_path / "run.npz", backend="numpy")
    assert loaded.generator == "philox"
    assert np.array_equal(sampler.run(start, 80).spins, loaded.run(state, 30).spins)
    default = Sampler(model, 0.8, backend="numpy")
    assert default.generator == "pcg64"
    assert not np.array_equal(default.run(default.init(chains=4, seed=5), 20).spins, sampler.run(start, 20).spins)


def test_states_are_row_major():
    """The fused kernel reads the spins row by row: column-major initial states are copied to rows."""
    x = np.where(np.random.default_rng(0).random((40, 6)) < 0.5, -1.0, 1.0)  # (N, B): x.T is (B, N), F order
    state = Sampler(sk(40, seed=0), 0.7, generator="philox", backend="numpy").init(initial=x.T, chains=6)
    assert state.s.flags.c_contiguous and np.array_equal(state.spins, x.T)


def test_bad_generator():
    with pytest.raises(ThermopotError, match="generator 'mt19937'"):
        Sampler(random_pairwise(5, seed=0), 1.0, generator="mt19937")


# -- the CUDA source on the CPU --------------------------------------------------------------------

def _build_emulator(folder, flags):
    """The warp emulator compiled with the kernel source and ``flags``; None when this machine's
    compiler cannot build (or, for a sanitizer, run) the probe program with those flags."""
    cxx = shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        return None
    base = [cxx, "-std=c++20", "-pthread", *flags]
    probe = folder / "probe.cpp"
    probe.write_text("#include <barrier>\nint main() { std::barrier<> b(1); b.arrive_and_wait(); }\n")
    if subprocess.run([*base, str(probe), "-o", str(folder / "probe")], capture_output=True).returncode:
        return None
    if subprocess.run([str(folder / "probe")], capture_output=True).returncode:
        return None
    exe = folder / "warp_emulator"
    with resources.as_file(KERNEL) as source:
        build = subprocess.run([*base, f'-DKERNEL_SOURCE="{source}"', str(EMULATOR), "-o", str(exe)],
                               capture_output=True, text=True)
    assert build.returncode == 0, build.stderr  # the kernel source itself does not compile
    return exe


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """The warp emulator (skipped without a C++20 compiler with std::barrier)."""
    exe = _build_emulator(tmp_path_factory.mktemp("emulator"), ["-O2"])
    if exe is None:
        pytest.skip("no C++20 compiler with std::barrier for the warp emulator")
    return exe


def emulate(exe, folder, sampler, state, sweeps, warps=1, threshold_dot=None, shared_fields=True, start=None,
            passage=None, first_update=0):
    """Run ``sweeps`` sweeps of the chains of ``state`` in the emulated kernel of the sampler's model type with
    ``warps`` chains per block, tracking the first passage below ``threshold_dot`` from ``start``
    (default: the current states; ``passage`` the times so far, ``first_update`` the updates done since
    the start) when given, the fields or Walsh products in shared (or global) memory:
    (spins, fields or products, flips, passage, stderr)."""
    n, b = sampler.n, state.chains
    track, multispin = threshold_dot is not None, isinstance(sampler.model, MultiSpinModel)
    if multispin:
        offsets, terms = site_terms(sampler.model.subsets)
        couplings = np.asarray(sampler.model.couplings, dtype=np.float64)
        model = [state.cache, offsets, terms, couplings]
        width = len(couplings)
    else:
        model, width, terms = [state.cache, np.asarray(sampler.model.J, dtype=np.float64)], n, []
    with open(folder / "in.bin", "wb") as fh:
        np.array([int(multispin), n, b, sweeps, int(sampler.method == "metropolis"),
                  int(sampler.scan == "random"), warps, int(track), int(shared_fields), width if multispin
                  else 0, len(terms)], np.int32).tofile(fh)
        np.array([state.sweeps_done], np.uint64).tofile(fh)
        np.array(philox_key(state.seed), np.uint32).tofile(fh)
        np.array([sampler.T, threshold_dot if track else 0.0], np.float64).tofile(fh)
        np.array([first_update], np.int64).tofile(fh)
        for a in [state.s, *model]:
            np.ascontiguousarray(a).tofile(fh)  # float64, or the int32 term lists
        np.zeros(b, np.int64).tofile(fh)
        np.ascontiguousarray(state.s if start is None else start, dtype=np.float64).tofile(fh)
        np.asarray(np.full(b, -1) if passage is None else passage, np.int64).tofile(fh)
    run = subprocess.run([str(exe), str(folder / "in.bin"), str(folder / "out.bin")], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    out = np.fromfile(folder / "out.bin", dtype=np.uint8)
    spins = out[:8 * n * b].view(np.float64).reshape(b, n)
    state = out[8 * n * b:8 * (n + width) * b].view(np.float64).reshape(b, width)
    flips, passage = out[8 * (n + width) * b:].view(np.int64).reshape(2, b)
    return spins, state, flips, passage, run.stderr


@pytest.mark.parametrize("n,method,scan,warps,shared", [(40, "heat-bath", "sequential", 1, True),
                                                        (70, "metropolis", "sequential", 2, True),
                                                        (100, "heat-bath", "sequential", 3, True),
                                                        (45, "heat-bath", "random", 2, True),
                                                        (70, "metropolis", "random", 1, True),
                                                        (70, "heat-bath", "sequential", 2, False),
                                                        (45, "metropolis", "random", 3, False)])
def test_kernel_source_matches_array_path(emulator, tmp_path, n, method, scan, warps, shared):
    """The kernel, run by the emulator, makes the same flips as the NumPy sampler with the same
    Philox numbers: n = 40, 45, 70, 100 cover partial lane groups and the 64-spin blocks of the array
    path, 2 and 3 chains per block a partial last block (5 chains), ``shared`` False the fields kept
    in global memory (the kernel's path for large N); the sweep counter starts at 3."""
    sampler = Sampler(sk(n, seed=1), 0.7, generator="philox", method=method, scan=scan, backend="numpy")
    state = sampler.run(sampler.init(chains=5, seed=4), 3, record=False)
    spins, fields, flips, passage, _ = emulate(emulator, tmp_path, sampler, state, 20, warps, shared_fields=shared)
    assert np.all(passage == -1)  # not tracked
    done = sampler.run(state, 20, record=False)
    assert np.array_equal(spins, done.spins)
    assert np.array_equal(flips, done.flips - state.flips) and flips.sum() > 100
    np.testing.assert_allclose(fields, done.cache, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n,order,method,scan,warps,shared", [(20, 3, "heat-bath", "sequential", 2, True),
                                                              (37, 2, "metropolis", "random", 3, True),
                                                              (12, 12, "heat-bath", "random", 1, False),
                                                              (33, 3, "metropolis", "sequential", 2, False)])
def test_multispin_kernel_source_matches_array_path(emulator, tmp_path, n, order, method, scan, warps,
                                                    shared):
    """multispin_sweeps, run by the emulator, makes the same flips as the NumPy multi-spin sampler with
    the same Philox numbers and ends with the same Walsh products: sites in up to 200 random terms of
    order <= 3, or all 4095 subsets of 12 spins (long per-site term lists), products in shared or
    global memory, partial lane groups and blocks; the sweep counter starts at 2."""
    model = random_multispin(n, order=order, seed=3, scale=0.4 if order < n else 0.02)  # 4095 terms: small
    sampler = Sampler(model, 1.0, generator="philox", method=method, scan=scan, backend="numpy")
    state = sampler.run(sampler.init(chains=5, seed=4), 2, record=False)
    spins, chi, flips, _, _ = emulate(emulator, tmp_path, sampler, state, 15, warps, shared_fields=shared)
    done = sampler.run(state, 15, record=False)
    assert np.array_equal(spins, done.spins)
    assert np.array_equal(chi, done.cache)
    assert np.array_equal(flips, done.flips - state.flips) and flips.sum() > 50


def test_kernel_source_has_no_data_race(tmp_path):
    """ThreadSanitizer on the emulated kernels (2 chains per block, both scans, both models, fields and
    products in shared and in global memory): no race between the
    lanes' shared-memory accesses. The emulator's shuffles order no memory, as on a GPU, so a missing
    __syncwarp shows here (a kernel with the second one moved out of the update loop is reported)."""
    exe = _build_emulator(tmp_path, ["-O1", "-g", "-fsanitize=thread"])
    if exe is None:
        pytest.skip("no ThreadSanitizer build that runs on this machine")
    for model, scan, shared in ((sk(40, seed=2), "sequential", True), (sk(40, seed=2), "random", True),
                                (sk(40, seed=2), "sequential", False),
                                (random_multispin(20, seed=1), "random", True),
                                (random_multispin(20, seed=1), "sequential", False)):
        sampler = Sampler(model, 0.7, generator="philox", scan=scan, backend="numpy")
        state = sampler.init(chains=3, seed=1)
        spins, _, _, _, stderr = emulate(exe, tmp_path, sampler, state, 2, warps=2, threshold_dot=30.0,
                                         shared_fields=shared)
        assert "ThreadSanitizer" not in stderr, stderr[:3000]
        assert np.array_equal(spins, sampler.run(state, 2, record=False).spins)


@pytest.mark.parametrize("kind,scan,threshold", [("pairwise", "random", 0.5), ("pairwise", "sequential", 0.5),
                                                 ("pairwise", "random", 1.0), ("multispin", "sequential", 0.5),
                                                 ("multispin", "random", 0.7)])
def test_kernel_first_passage_matches_array_path(emulator, tmp_path, kind, scan, threshold):
    """The kernel's first-passage times (overlap with the start below ``threshold``) equal the hook-
    based times of :func:`first_passage` on NumPy with the same Philox numbers."""
    n, chains, budget = 24, 6, 24 * 40
    model = sk(n, seed=5) if kind == "pairwise" else random_multispin(n, order=3, seed=5, scale=0.3)
    start = np.where(np.random.default_rng(1).random(n) < 0.5, -1.0, 1.0)
    ref = first_passage(model, 0.9, start, threshold=threshold, max_updates=budget, chains=chains, seed=3,
                        scan=scan, generator="philox", backend="numpy")
    assert ref.hits >= 4
    sampler = Sampler(model, 0.9, scan=scan, generator="philox", backend="numpy")
    state = sampler.init(chains=chains, seed=3, initial=start)
    _, _, _, passage, _ = emulate(emulator, tmp_path, sampler, state, budget // n, threshold_dot=threshold * n)
    expected = np.where(ref.censored, budget, ref.times)
    assert np.array_equal(np.where(passage < 0, budget, passage), expected)
    # the same in two launches (the second continues the clock and keeps the times already found),
    # the fields in global memory
    splits = [w for w in range(1, budget // n) if 0 < (expected <= w * n).sum() < chains]
    start, half = state.spins, (splits or [1])[0]  # a split with chains on both sides if any
    spins, fields, _, first, _ = emulate(emulator, tmp_path, sampler, state, half, threshold_dot=threshold * n,
                                         shared_fields=False)
    assert (first >= 0).sum() == (expected <= half * n).sum()
    state = dataclasses.replace(state, s=spins.copy(), cache=fields.copy(), sweeps_done=half)
    _, _, _, second, _ = emulate(emulator, tmp_path, sampler, state, budget // n - half, threshold_dot=threshold * n,
                                 shared_fields=False, start=start, passage=first, first_update=half * n)
    assert np.array_equal(second[first >= 0], first[first >= 0])
    assert np.array_equal(np.where(second < 0, budget, second), expected)


def test_kernel_source_compiles_with_nvcc(tmp_path):
    """nvcc (where installed) compiles the source; CuPy compiles it with NVRTC, which has no host
    headers: the source includes none and uses only device built-ins (log, log1p, __umulhi)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no nvcc")
    with resources.as_file(KERNEL) as source:
        target = tmp_path / "kernel.cu"
        target.write_text(Path(source).read_text())
    build = subprocess.run([nvcc, "-cubin", str(target), "-o", str(tmp_path / "kernel.cubin")],
                           capture_output=True, text=True)  # the toolkit's default architecture
    assert build.returncode == 0, build.stderr


# -- the fused kernel on a GPU ---------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("n,method,scan", [(40, "heat-bath", "sequential"), (100, "metropolis", "sequential"),
                                           (300, "heat-bath", "sequential"), (70, "heat-bath", "random")])
@pytest.mark.parametrize("shared", [True, False])
def test_fused_kernel_matches_numpy(n, method, scan, shared):
    opts = dict(generator="philox", method=method, scan=scan)
    gpu = Sampler(sk(n, seed=1), 0.7, backend="cupy", **opts)
    kernel = gpu._kernel(37)  # the fused kernel the runs of 37 chains use
    assert gpu.fused and kernel.shared_fields
    kernel.shared_fields = shared
    cpu = Sampler(sk(n, seed=1), 0.7, backend="numpy", **opts)
    a, b = (s.run(s.run(s.init(chains=37, seed=4), 3, record=False), 90, record=False)  # crosses the refresh at 64
            for s in (gpu, cpu))
    assert np.array_equal(a.spins, b.spins)
    assert int(to_numpy(a.flips).sum()) == int(b.flips.sum())
    np.testing.assert_allclose(gpu.energies(a), cpu.energies(b), rtol=0, atol=1e-10)


@pytest.mark.gpu
@pytest.mark.parametrize("scan", ["sequential", "random"])
@pytest.mark.parametrize("shared", [True, False])
def test_fused_multispin_kernel_matches_numpy(scan, shared):
    model = random_multispin(30, order=3, seed=2, scale=0.4)
    opts = dict(generator="philox", scan=scan)
    gpu = Sampler(model, 0.9, backend="cupy", **opts)
    kernel = gpu._kernel(21)  # the fused kernel the runs of 21 chains use
    assert gpu.fused and kernel.shared_products
    kernel.shared_products = shared
    cpu = Sampler(model, 0.9, backend="numpy", **opts)
    a, b = (s.run(s.init(chains=21, seed=4), 70, record=False) for s in (gpu, cpu))
    assert np.array_equal(a.spins, b.spins)
    np.testing.assert_allclose(gpu.energies(a), cpu.energies(b), rtol=0, atol=1e-10)


@pytest.mark.gpu
def test_fused_multispin_sampler_matches_enumeration():
    model, T = random_multispin(10, order=3, seed=2, scale=0.15), 1.0
    th = thermodynamics(model, T)
    res = sample(model, T, chains=256, sweeps=2000, seed=7, record_every=5, backend="cupy")
    assert res.fused
    assert np.abs((res.magnetization - th.magnetization) / res.magnetization_stderr).max() < Z_MAX
    assert abs(res.energy - th.energy) < Z_MAX * res.energy_stderr


@pytest.mark.gpu
def test_fused_sampler_matches_enumeration_and_resumes(tmp_path):
    model, T = random_pairwise(11, seed=1), 1.0
    th = thermodynamics(model, T)
    res = sample(model, T, chains=256, sweeps=2000, seed=7, record_every=5, backend="cupy")
    assert res.fused and res.generator == "philox"
    z = (res.magnetization - th.magnetization) / res.magnetization_stderr
    assert np.abs(z).max() < Z_MAX
    assert abs(res.energy - th.energy) < Z_MAX * res.energy_stderr
    sampler = Sampler(model, T, backend="cupy")
    start = sampler.init(chains=8, seed=2)
    save_state(tmp_path / "run.npz", sampler, sampler.run(start, 33))
    loaded, state = load_state(tmp_path / "run.npz", backend="cupy")
    assert np.array_equal(sampler.run(start, 70).spins, loaded.run(state, 37).spins)


@pytest.mark.gpu
@pytest.mark.parametrize("scan", ["random", "sequential"])
def test_fused_first_passage_matches_numpy(scan):
    model, n = sk(30, seed=5), 30
    start = np.where(np.random.default_rng(1).random(n) < 0.5, -1.0, 1.0)
    opts = dict(threshold=0.4, max_updates=n * 150, chains=40, seed=3, scan=scan, generator="philox")
    gpu = first_passage(model, 0.8, start, backend="cupy", **opts)
    cpu = first_passage(model, 0.8, start, backend="numpy", **opts)
    assert gpu.hits >= 20
    assert np.array_equal(gpu.times, cpu.times) and np.array_equal(gpu.censored, cpu.censored)


@pytest.mark.gpu
def test_fused_kernel_is_used_where_it_applies():
    assert not Sampler(random_multispin(8, seed=1), 1.0, generator="pcg64", backend="cupy").fused
    assert not Sampler(sk(20, seed=1), 1.0, generator="pcg64", backend="cupy").fused
    assert Sampler(sk(20, seed=1), 1.0, scan="random", backend="cupy").fused
    assert Sampler(random_multispin(8, seed=1), 1.0, backend="cupy").fused
