"""Sampler throughput: single-spin updates per second of B = 256 heat-bath chains on a dense SK model
(J_kl ~ N(0, 1/N), T = 1) for N = 64, 256, 1000, sequential scan (delayed block updates of the local
fields, one BLAS-3 product per block) and random scan (rank-1 update per step), on NumPy and (when a
GPU is usable) CuPy. Baseline in the same run: recomputing all local fields at every update,
h_k(s) = h_k + sum_l J_kl s_l for the visited site only (O(B N) per update, no bookkeeping).
Generators: PCG64 on the host (the NumPy default) and the counter-based Philox (rng="philox"); on CuPy
Philox runs the sweeps in the fused CUDA kernel (one warp per chain, many sweeps per launch),
measured with 256 chains and with GPU_CHAINS chains that fill the device (sequential and random scan)
and, in full mode, for 1, 2, 4 and 8 chains per thread block (capped where the block's shared memory
would pass 48 KiB: 5 at N = 1000) and with the fields in global memory (the kernel's path for
N > 4915); the CuPy array path (one call per spin) is the baseline there. Last, a multi-spin model
(N = 60, 200 random terms of up to 3 spins): the array path, and on CuPy the fused multi-spin kernel.

Every NumPy row is measured with one BLAS thread and with the library's default threads (the row's
value is the rate with the sampler's own choice, ``Sampler.blas_limit``: one thread when a sweep's
largest product is below backend.SMALL_PRODUCT_FLOPS); the note and the fields ``one_thread`` and
``default_threads`` give both.

Run: ``python benchmarks/sampling.py [--quick] [--json]`` or ``thermopot bench --only sampling``.
"""

from __future__ import annotations

import sys
import time

from thermopot.backend import asarray, blas_limit, get_namespace, synchronize
from thermopot.benchmarks import log, on_every_backend, row, standalone
from thermopot.models import Model, random_multispin, sk
from thermopot.sampling import Sampler

CHAINS = 256
#: chains that fill a GPU (one warp each)
GPU_CHAINS = 16384
SIZES = (64, 256, 1000)
#: seconds of sampling per measurement (about)
BUDGET = {True: 0.5, False: 2.0}


def updates_per_second(n: int, scan: str, backend: str, budget: float, *, chains: int = CHAINS,
                       rng: str = "pcg64", warps: int | None = None, shared: bool | None = None,
                       model: Model | None = None, threads: int | None | str = "auto") -> float:
    """Single-spin updates per second of the sampler on ``model`` (default SK with n spins; warm-up
    sweep excluded); ``warps``: chains per thread block of the fused kernel, ``shared``: whether it
    keeps the fields in shared memory; ``threads``: BLAS threads (1, None: the default, "auto": the
    sampler's choice)."""
    model = sk(n, seed=0) if model is None else model
    sampler = Sampler(model, 1.0, scan=scan, generator=rng, backend=backend, blas_threads=threads)
    state = sampler.init(chains=chains, seed=0)
    kernel = sampler._kernel(chains)  # the fused kernel's launch options (a benchmark's private knob)
    if warps is not None:
        kernel.set_warps_per_block(warps)
    if shared is not None:
        kernel.shared_fields = shared
    state = sampler.run(state, 1, record=False)
    sweeps, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        state = sampler.run(state, sweeps, record=False)
        elapsed = time.perf_counter() - t0
        if elapsed > budget / 4 or sweeps > 1 << 20:
            break
        sweeps *= 4
    return sweeps * model.n * chains / elapsed


def naive_updates_per_second(n: int, backend: str, budget: float) -> float:
    """Baseline: heat-bath sequential updates computing the visited site's field from scratch
    (a matrix-vector product per update)."""
    xp = get_namespace(backend)
    model = sk(n, seed=0)
    J, h = asarray(model.J, xp), asarray(model.h, xp)
    s = xp.ones((CHAINS, n), dtype=xp.float64)
    u = xp.asarray(0.5 * xp.ones((n, CHAINS), dtype=xp.float64))
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget / 4:
        for k in range(n):
            field = h[k] + s @ J[:, k]
            up = u[k] < 1.0 / (1.0 + xp.exp(-2.0 * field))
            s[:, k] = xp.where(up, 1.0, -1.0)
        steps += n
    synchronize(xp)
    return steps * CHAINS / (time.perf_counter() - t0)


def thread_rates(label: str, n: int, scan: str, backend: str, budget: float,
                 **options: object) -> tuple[float, str, dict]:
    """(rate with the sampler's BLAS choice, a note on threads, fields) of one configuration: on
    NumPy measured with one BLAS thread and with the default threads, on CuPy once."""
    if backend != "numpy":
        rate = updates_per_second(n, scan, backend, budget, **options)
        return rate, "", {}
    one = updates_per_second(n, scan, backend, budget, threads=1, **options)
    default = updates_per_second(n, scan, backend, budget, threads=None, **options)
    chosen = blas_limit(Sampler(options.get("model") or sk(n, seed=0), 1.0, scan=scan)
                        ._kernel(int(options.get("chains", CHAINS))).product_flops(scan))
    log("sampling", f"{label} {backend}: {one:.4g} updates/s on 1 BLAS thread, {default:.4g} on the "
        f"default threads (the sampler uses {'1' if chosen == 1 else 'the default'})")
    note = f"; 1 BLAS thread {one:.3g}, default threads {default:.3g} updates/s (used: {chosen or 'default'})"
    return (one if chosen == 1 else default), note, {"one_thread": one, "default_threads": default,
                                                     "blas_limit": chosen}


def run_backend(backend: str, quick: bool) -> list[dict]:
    rows, budget = [], BUDGET[quick]
    for n in SIZES:
        rates = {scan: thread_rates(f"N={n} {scan}", n, scan, backend, budget)
                 for scan in ("sequential", "random")}
        naive = naive_updates_per_second(n, backend, budget)
        for scan, (rate, threads, fields) in rates.items():
            log("sampling", f"N={n} {scan} {backend}: {rate:.4g} updates/s")
            note = (f"{CHAINS} chains, SK T=1, pcg64; {rate / naive:.2g}x the naive per-update field"
                    if scan == "sequential" else f"{CHAINS} chains, SK T=1, pcg64; rank-1 update with "
                    "a per-chain site, for the chains that flipped")
            rows.append(row(f"heat-bath {scan} scan N={n}", rate, "updates/s", backend, note + threads,
                             n=n, chains=CHAINS, scan=scan, rng="pcg64", **fields))
        log("sampling", f"N={n} naive {backend}: {naive:.4g} updates/s")
        rows.append(row(f"naive field recompute N={n}", naive, "updates/s", backend,
                         f"{CHAINS} chains, h_k = h + s J_k at every update (baseline)",
                         n=n, chains=CHAINS))
        rows += philox_rows(n, backend, quick, rates["sequential"][0])
    return rows + multispin_rows(backend, quick)


def multispin_rows(backend: str, quick: bool) -> list[dict]:
    """A multi-spin model (N = 60, 200 random terms of 1 to 3 spins, T = 1, heat bath, sequential):
    the array path (pcg64) and, on CuPy, the fused kernel with GPU_CHAINS chains."""
    model, budget = random_multispin(60, order=3, seed=0), BUDGET[quick]
    configs = [("pcg64", CHAINS)] + ([("philox", GPU_CHAINS)] if backend == "cupy" else [])
    rows = []
    for rng, chains in configs:
        label = f"multi-spin {'fused kernel' if rng == 'philox' else 'array path'} N=60, {chains} chains"
        rate, threads, fields = thread_rates(label, model.n, "sequential", backend, budget, chains=chains,
                                             rng=rng, model=model)
        log("sampling", f"{label} {backend}: {rate:.4g} updates/s")
        rows.append(row(label, rate, "updates/s", backend,
                        "200 terms of order <= 3, heat bath, sequential" + threads, n=60, chains=chains,
                        rng=rng, **fields))
    return rows


def philox_rows(n: int, backend: str, quick: bool, pcg64_rate: float) -> list[dict]:
    """Sequential heat bath with the Philox generator: the array path on NumPy, the fused kernel on
    CuPy (256 chains, GPU_CHAINS chains, and in full mode 1-8 chains per block)."""
    budget = BUDGET[quick]
    if backend == "numpy":
        rate, threads, fields = thread_rates(f"N={n} philox", n, "sequential", backend, budget, rng="philox")
        log("sampling", f"N={n} philox numpy: {rate:.4g} updates/s")
        return [row(f"heat-bath sequential scan, philox N={n}", rate, "updates/s", backend,
                    f"{CHAINS} chains; numbers drawn by the vectorised Philox4x32-10 "
                    f"({rate / pcg64_rate:.2g}x the pcg64 rate)" + threads, n=n, chains=CHAINS, rng="philox",
                    **fields)]
    rows = []
    configs = [("sequential", CHAINS, None, None), ("sequential", GPU_CHAINS, None, None),
               ("random", GPU_CHAINS, None, None)]
    if not quick:
        configs += [("sequential", GPU_CHAINS, w, None) for w in (1, 2, 4, 8)]
        configs += [("sequential", GPU_CHAINS, None, False)]
    for scan, chains, warps, shared in configs:
        label = (f"fused kernel {scan} N={n}, {chains} chains" + ("" if warps is None else f", {warps}/block")
                 + ("" if shared is None else ", fields in global memory"))
        try:
            rate = updates_per_second(n, scan, backend, budget, chains=chains, rng="philox", warps=warps,
                                      shared=shared)
        except Exception as exc:  # one failed configuration must not lose the others' rows
            log("sampling", f"{label}: FAILED ({exc})")
            rows.append(row(label, float("nan"), "updates/ns", backend, f"failed: {exc}", n=n,
                            chains=chains, scan=scan, rng="philox", warps_per_block=warps,
                            shared_fields=shared))
            continue
        per_ns = rate * 1e-9
        log("sampling", f"{label}: {per_ns:.4g} updates/ns")
        rows.append(row(label, per_ns, "updates/ns", backend,
                        f"SK T=1, heat bath, philox; {rate / pcg64_rate:.3g}x the CuPy array path "
                        "(pcg64 sequential, one call per spin)", n=n, chains=chains, scan=scan,
                        rng="philox", warps_per_block=warps, shared_fields=shared))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "shorter measurements"))
