"""The compiled CPU sweep kernel (numba) against the array path: the same chains for the same seed and
generator, exact decisions at the acceptance boundary, and first passages equal to the array path's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermopot.models import random_multispin, sk
from thermopot.sampling import compiled
from thermopot.sampling.chains import Sampler
from thermopot.sampling.philox import philox_key

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed (the `fast` extra)")

MODELS = {"pairwise": lambda: sk(37, seed=1), "multispin": lambda: random_multispin(11, 3, seed=2)}


def _kernel_for(sampler: Sampler, state) -> tuple[compiled._CompiledSweeps, np.ndarray]:
    """A compiled kernel with the numbers of ``state`` (its Philox key, or its PCG64 stream), and a copy
    of its spins for the kernel to advance."""
    rng = np.random.Generator(np.random.PCG64(state.seed))
    rng.bit_generator.state = state.rng_state
    s = state.spins
    return compiled.compiled_kernel(sampler.model, s, sampler.xp, T=sampler.T, method=sampler.method,
                                    scan=sampler.scan, key=philox_key(state.seed),
                                    rng=rng if sampler.generator == "pcg64" else None), s


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("generator", ["pcg64", "philox"])
@pytest.mark.parametrize("scan", ["sequential", "random"])
@pytest.mark.parametrize("method", ["heat-bath", "metropolis"])
def test_same_chains_as_array_path(model, generator, scan, method):
    """Spins, flip counts and the kernel's bookkeeping equal the array path's after several sweeps."""
    array = Sampler(MODELS[model](), 0.9, generator=generator, scan=scan, method=method, compiled=False)
    start = array.init(chains=6, seed=5)
    kernel, s = _kernel_for(array, start)
    done = array.run(start, 9, record=False)
    kernel.advance(s, 4, 0)   # two calls: the second continues the numbers of sweeps 4..8
    kernel.advance(s, 5, 4)
    np.testing.assert_array_equal(s, done.spins)
    np.testing.assert_array_equal(kernel.flips, done.flips)
    assert int(kernel.flips.sum()) > 20  # the chains moved
    np.testing.assert_allclose(kernel.cache(), done.cache, atol=1e-12)


def test_pcg64_buffers_split_into_chunks(monkeypatch):
    """Drawn numbers buffered a sweep at a time give the same chains as one buffer for all sweeps."""
    monkeypatch.setattr(compiled, "NUMBER_BUFFER_BYTES", 1)
    array = Sampler(sk(20, seed=3), 1.0, generator="pcg64", scan="random", compiled=False)
    start = array.init(chains=4, seed=7)
    kernel, s = _kernel_for(array, start)
    kernel.advance(s, 6, 0)
    np.testing.assert_array_equal(s, array.run(start, 6, record=False).spins)


@pytest.mark.parametrize("metropolis", [False, True])
def test_accept_is_the_threshold_rule_at_the_boundary(metropolis):
    """The probability-space decision with its exact fallback equals dE < r(u), also for u placed within a few
    units of the last place of the acceptance probability. The compiled fallback evaluates r with the C
    library's log (``math``), the array path with NumPy's (SIMD on some CPUs): the two agree to within a few units
    of the last place of the logs, so the decisions can differ only where dE is that close to r."""
    rng = np.random.default_rng(0)
    T = 0.7
    de = np.concatenate([rng.normal(0, 5, 400), [0.0, 1e-300, -1e-300, 800.0, -800.0]])
    for d in de:
        with np.errstate(over="ignore"):
            p = float(np.exp(-d / T) if metropolis else 1.0 / (1.0 + np.exp(d / T)))
        p = min(max(p, 2.0**-60), 1.0 - 2.0**-53)
        for u in (p, np.nextafter(p, 0), np.nextafter(p, 1), p * (1 - 1e-12), p * (1 + 1e-12), rng.random()):
            if not 0.0 < u < 1.0:
                continue
            u, d = float(u), float(d)
            r = -T * math.log(u) if metropolis else T * (math.log1p(-u) - math.log(u))
            r_array = -T * np.log(u) if metropolis else T * (np.log1p(-u) - np.log(u))
            scale = T * max(abs(math.log(u)), abs(math.log1p(-u)))  # r is a difference of two logs of this size
            assert abs(r_array - r) <= 4 * np.spacing(scale), (u, r, r_array)
            assert compiled._accept(d, u, T, metropolis) == (d < r), (d, u)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_first_passage_tracking_equals_array_hook(model):
    """Passage times tracked in the compiled loop equal those of a per-update hook on the array path."""
    m = MODELS[model]()
    n, chains, threshold = m.n, 8, 0.2
    start = np.ones(m.n)
    array = Sampler(m, 1.5, generator="philox", scan="random", compiled=False)
    state = array.init(chains=chains, seed=11, initial=start)
    kernel, s = _kernel_for(array, state)
    s0 = state.spins
    dot = (s0 * s0).sum(axis=1)
    times = np.full(chains, -1)

    def hook(t, k, flip, new):
        nonlocal dot
        dot = dot + 2.0 * (flip * new) * s0[np.arange(chains), k]
        hit = (dot < threshold * n) & (times < 0)
        times[hit] = sweep * n + t + 1

    for sweep in range(30):
        state = array.run(state, 1, record=False, hook=hook)
    passage = np.full(chains, -1, dtype=np.int64)
    kernel.track_passage(s0, threshold * n, passage, 0)
    kernel.advance(s, 10, 0)
    kernel.advance(s, 20, 10)
    kernel.stop_tracking()
    assert (times > 0).sum() >= chains // 2  # most chains left the start basin
    np.testing.assert_array_equal(passage, times)


def test_without_numba_no_kernel(monkeypatch):
    """Without numba there is no compiled kernel (the sampler takes the array path)."""
    monkeypatch.setattr(compiled, "numba", None)
    sampler = Sampler(sk(8, seed=0), 1.0)
    assert not compiled.available() and not sampler.compiled
    assert compiled.compiled_kernel(sampler.model, sampler.init(chains=2, seed=0).s, sampler.xp, T=1.0,
                                    method="heat-bath", scan="sequential", key=philox_key(0)) is None
