"""Exact enumeration throughput (states/s) against N: thermopot.exact.thermodynamics against a naive
chunked sum, in the same run, on NumPy and (when a GPU is usable) CuPy.

Job: a dense SK model (h = 0, J_kl ~ N(0, 1/N)) at T = 1; log Z, U, C, all magnetisations and all
correlations. The naive baseline streams blocks of full states s (B, N): E = -s.h - sum((s J) * s)/2,
w = exp(-beta E - shift) with a running (global) shift, Z = sum w, m = s^T w, <ss> = s^T diag(w) s:
O(N^2) flops and one exponential per state. The floor of any method is the 2^N exponentials; the row
"exp floor" measures exp alone on the same backend.

On the CPU (issue 17) the engine is also measured against two floors in one interleaved run: the 2^N
exponentials ``np.exp(x, out=buf)`` on every core, and the Gray-code numba kernel (on every core)
a careful user would write (``gray_code_enumeration``: prange over the high half, the low half in Gray
order with incremental energy and local fields, w = exp(-beta (E - E_low)) with a fixed lower bound
E_low = -sum|J|, O(N) work per state: row sums, column sums and w s_a per high state, from which m and
every correlation follow), plus the memory bandwidth (a 64 MiB copy). Each rate is the best of the
rounds; the machine is shared, so the rows carry the load average and the engine's CPU seconds.

Run: ``python benchmarks/enumeration.py [--quick] [--json]`` or ``thermopot bench``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import numpy as np

from thermopot.benchmarks import best_seconds, log, on_every_backend, row, standalone
from thermopot.backend import asarray, backend_name, get_namespace, to_float
from thermopot.errors import SizeError
from thermopot.exact import thermodynamics
from thermopot.exact.thermodynamics import CPU_TILE, default_threads
from thermopot.models import PairwiseModel, sk
from thermopot.states import state_blocks

try:
    import numba
except ImportError:  # the compiled baseline needs numba
    numba = None

T = 1.0
#: states per block of the naive baseline
NAIVE_BLOCK = 1 << 16
#: (engine sizes, naive sizes, speed-up sizes) per (backend, quick)
SIZES = {
    ("numpy", True): ((12, 14, 16, 18), (12, 14, 16, 18), (18,)),
    ("numpy", False): ((12, 14, 16, 18, 20, 22, 24), (12, 14, 16, 18, 20, 22, 24), (22, 24)),
    ("cupy", True): ((16, 18, 20), (16, 18, 20), (20,)),
    ("cupy", False): ((20, 24, 28, 32, 36, 40), (20, 24, 28), (24, 28)),
}
#: skip a measurement predicted (from the previous size) to take longer than this, seconds
MAX_SECONDS = 120.0


def naive_thermodynamics(model: PairwiseModel, T: float, xp: ModuleType, block: int = NAIVE_BLOCK) -> dict:
    """The naive chunked sum over blocks of full states (the baseline): log Z, U, C, m, <s s>."""
    beta = 1.0 / T
    h, J = asarray(model.h, xp), asarray(model.J, xp)
    shift, z, e1, e2 = -math.inf, 0.0, 0.0, 0.0
    m = xp.zeros(model.n, dtype=xp.float64)
    c = xp.zeros((model.n, model.n), dtype=xp.float64)
    for _, s in state_blocks(model.n, block, backend=xp):
        E = -(s @ h) - 0.5 * xp.sum((s @ J) * s, axis=1)
        top = to_float(xp.max(-beta * E))
        if top > shift:  # rescale what was accumulated to the new shift
            scale = math.exp(shift - top)
            z, e1, e2, m, c, shift = z * scale, e1 * scale, e2 * scale, m * scale, c * scale, top
        w = xp.exp(-beta * E - shift)
        z = z + xp.sum(w)
        e1 = e1 + w @ E
        e2 = e2 + w @ (E * E)
        m = m + s.T @ w
        c = c + (s * w[:, None]).T @ s
    U = e1 / z
    return {"log_z": shift + to_float(xp.log(z)), "energy": to_float(U),
            "heat_capacity": to_float(e2 / z - U * U) * beta * beta, "magnetization": m / z,
            "correlation": c / z}


def _exp_floor(xp: ModuleType) -> float:
    """Exponentials per second of the backend on float64 (the floor of any exact enumeration)."""
    size = 1 << (22 if backend_name(xp) == "numpy" else 27)
    x = -xp.abs(xp.linspace(-10.0, 10.0, size, dtype=xp.float64))
    return size / best_seconds(lambda: xp.exp(x), xp)


if numba is not None:
    @numba.njit(parallel=True, cache=True)
    def gray_code_enumeration(h, J, beta, e_low, na, chunks):  # pragma: no cover - compiled
        """Sums over all 2^N states of w = exp(-beta (E - e_low)): Z, sum w x, sum w x^2 (x = beta (E - e_low)),
        and per chunk of high states the row sums r (2^na), sum_a w s_a s_b^T, q s_b, q s_b s_b^T."""
        n = h.shape[0]
        nb = n - na
        highs = 1 << nb
        per = (highs + chunks - 1) // chunks
        scal = np.zeros((chunks, 3))
        rows = np.zeros((chunks, 1 << na))
        ab = np.zeros((chunks, na, nb))
        mb = np.zeros((chunks, nb))
        bb = np.zeros((chunks, nb, nb))
        for c in numba.prange(chunks):
            sa = np.empty(na)
            sb = np.empty(nb)
            loc = np.empty(na)
            wa = np.empty(na)
            for ib in range(c * per, min(highs, (c + 1) * per)):
                for k in range(nb):
                    sb[k] = 1.0 - 2.0 * ((ib >> k) & 1)
                e = 0.0
                for k in range(nb):  # the high half's own energy
                    e -= h[na + k] * sb[k]
                    for j in range(k + 1, nb):
                        e -= J[na + k, na + j] * sb[k] * sb[j]
                for k in range(na):  # low half all +1: the high half's field on it, then the full local field
                    sa[k] = 1.0
                    f = h[k]
                    for j in range(nb):
                        f += J[k, na + j] * sb[j]
                    e -= f
                    loc[k] = f
                    wa[k] = 0.0
                for k in range(na):
                    for j in range(na):
                        if j != k:
                            loc[k] += J[k, j]
                            if j > k:
                                e -= J[k, j]
                q = 0.0
                for t in range(1 << na):
                    if t > 0:
                        k = 0
                        while not (t >> k) & 1:
                            k += 1
                        e += 2.0 * sa[k] * loc[k]
                        d = 2.0 * sa[k]
                        for j in range(na):
                            loc[j] -= d * J[j, k]
                        loc[k] += d * J[k, k]
                        sa[k] = -sa[k]
                    x = beta * (e - e_low)
                    w = np.exp(-x)
                    ia = t ^ (t >> 1)
                    scal[c, 0] += w
                    scal[c, 1] += w * x
                    scal[c, 2] += w * x * x
                    rows[c, ia] += w
                    q += w
                    for k in range(na):
                        wa[k] += w * sa[k]
                for k in range(na):
                    for j in range(nb):
                        ab[c, k, j] += wa[k] * sb[j]
                for k in range(nb):
                    mb[c, k] += q * sb[k]
                    for j in range(nb):
                        bb[c, k, j] += q * sb[k] * sb[j]
        return scal, rows, ab, mb, bb


def gray_code_thermodynamics(model: PairwiseModel, T: float, threads: int) -> dict:
    """log Z, U, C, m and <s s^T> of the numba Gray-code kernel (the compiled baseline)."""
    h, J = np.ascontiguousarray(model.h, dtype=float), np.ascontiguousarray(model.J, dtype=float)
    beta, na = 1.0 / T, model.n - model.n // 2
    e_low = -(np.abs(h).sum() + 0.5 * np.abs(J).sum())  # E >= e_low, so w <= 1
    scal, rows, ab, mb, bb = gray_code_enumeration(h, J, beta, e_low, na, 4 * threads)
    z, s1, s2 = scal.sum(axis=0)
    r = rows.sum(axis=0) / z
    spins_a = 1.0 - 2.0 * ((np.arange(1 << na)[:, None] >> np.arange(na)) & 1)
    corr = np.empty((model.n, model.n))
    corr[:na, :na] = spins_a.T @ (r[:, None] * spins_a)
    corr[:na, na:] = ab.sum(axis=0) / z
    corr[na:, :na] = corr[:na, na:].T
    corr[na:, na:] = bb.sum(axis=0) / z
    x = s1 / z
    return {"log_z": math.log(z) - beta * e_low, "energy": e_low + T * x, "heat_capacity": s2 / z - x * x,
            "magnetization": np.concatenate((spins_a.T @ r, mb.sum(axis=0) / z)), "correlation": corr}


def _exp_floor_threads(n: int, workers: int) -> tuple[float, float]:
    """(seconds, CPU seconds) of 2^n exponentials np.exp(x, out=buf) in tiles of CPU_TILE on ``workers``
    threads: the floor of the enumeration on the same threads."""
    tile = min(CPU_TILE, 2**n)
    x = -40.0 * np.random.default_rng(0).random(tile)
    tiles = 2**n // tile

    def job(count: int) -> None:
        buf = np.empty_like(x)
        for _ in range(count):
            np.exp(x, out=buf)

    shares = [tiles // workers + (k < tiles % workers) for k in range(workers)]
    t0, c0 = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(job, shares))
    return time.perf_counter() - t0, time.process_time() - c0


def _bandwidth() -> float:
    """Bytes per second of a 64 MiB copy (read + write), best of three."""
    src = np.ones(1 << 23)
    dst = np.empty_like(src)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * src.nbytes / best


def run_floors(quick: bool) -> list[dict]:
    """The engine against its floors on the CPU, interleaved (see the module docstring): rows with
    ``floor`` (the floor's value in the row's unit) and ``floor_name``, read by ``thermopot bench``."""
    # the floors and numba use every core; the engine its own default (one thread where exp is vectorised)
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    sizes, rounds = ((18, 20), 2) if quick else ((22, 24, 26), 3)
    note = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)"
    rows = [row("memory bandwidth (64 MiB copy)", _bandwidth() / 1e9, "GB/s", "numpy", note)]
    if numba is not None:
        numba.set_num_threads(workers)
        gray_code_thermodynamics(sk(8, seed=0), T, workers)  # compile (or load the cache)
    for n in sizes:
        model, results = sk(n, seed=0), {}
        best = {"engine": (math.inf, 0.0), "exp": (math.inf, 0.0), "numba": (math.inf, 0.0)}
        for _ in range(rounds):
            for name in best if numba is not None else ("engine", "exp"):
                t0, c0 = time.perf_counter(), time.process_time()
                if name == "engine":
                    results[name] = thermodynamics(model, T, progress=False)
                elif name == "exp":
                    _exp_floor_threads(n, workers)
                else:
                    results[name] = gray_code_thermodynamics(model, T, workers)
                best[name] = min(best[name], (time.perf_counter() - t0, time.process_time() - c0))
        rate = {k: 2**n / v[0] / 1e6 for k, v in best.items() if k in results or k == "exp"}
        per_cpu = {k: 2**n / v[1] / 1e6 for k, v in best.items() if k in rate}
        load = os.getloadavg()[0]
        busy = {k: best[k][1] / best[k][0] for k in rate}
        rows.append(row(f"exp floor N={n} (2^N np.exp(x, out=buf), {workers} threads)", rate["exp"],
                        "M states/s", "numpy", f"{per_cpu['exp']:.3g} M/CPU-s, {busy['exp']:.2f} cores busy, "
                        f"load {load:.1f}", n=n, per_cpu_second=per_cpu["exp"]))
        rows.append(row(f"exact.thermodynamics N={n} (log Z, U, C, m, all correlations; {default_threads(np)} "
                        "tile thread(s))", rate["engine"],
                        "M states/s", "numpy", f"{per_cpu['engine']:.3g} M/CPU-s ({per_cpu['engine'] / per_cpu['exp']:.2f}"
                        f" x exp), {busy['engine']:.2f} cores busy, load {load:.1f}", n=n,
                        per_cpu_second=per_cpu["engine"], floor=rate["exp"], floor_name="exp floor"))
        if "numba" in results:
            e, g = results["engine"], results["numba"]
            diff = max(abs(e.log_z - g["log_z"]), float(np.abs(e.magnetization - g["magnetization"]).max()),
                       float(np.abs(e.correlation - g["correlation"]).max()))
            rows.append(row(f"numba Gray-code enumeration N={n}", rate["numba"], "M states/s", "numpy",
                            f"{per_cpu['numba']:.3g} M/CPU-s, {busy['numba']:.2f} cores busy; max |engine - numba| "
                            f"= {diff:.1g}", n=n, per_cpu_second=per_cpu["numba"], floor=rate["exp"],
                            floor_name="exp floor"))
            rows.append(row(f"engine / numba Gray code N={n}", rate["engine"] / rate["numba"], "x", "numpy",
                            f"per CPU-second {per_cpu['engine'] / per_cpu['numba']:.2f} x; goal >= 1.0 (issue 17)",
                            n=n, floor=1.0, floor_name="numba baseline"))
        log("enumeration", f"N={n}: " + ", ".join(f"{k} {v:.1f} M/s ({per_cpu[k]:.1f} M/CPU-s)"
                                                   for k, v in rate.items()) + f", load {load:.1f}")
    return rows


def run_backend(backend: str, quick: bool) -> list[dict]:
    """Rows for one backend: engine and naive states/s against N, the speed-up, the largest time."""
    xp = get_namespace(backend)
    engine_sizes, naive_sizes, speedup_sizes = SIZES[(backend, quick)]
    rows, times, log_z = [], {}, {}
    for method, sizes in (("engine", engine_sizes), ("naive", naive_sizes)):
        previous = None
        for n in sizes:
            if previous is not None and previous[1] * 2.0 ** (n - previous[0]) > MAX_SECONDS:
                log("enumeration", f"{method} N={n} {backend}: skipped (predicted > {MAX_SECONDS:g} s)")
                continue
            model = sk(n, seed=0)
            if method == "engine":
                def job(model=model):
                    log_z[(method, n)] = thermodynamics(model, T, backend=xp, progress=False).log_z
            else:
                def job(model=model):
                    log_z[(method, n)] = naive_thermodynamics(model, T, xp)["log_z"]
            try:
                dt = best_seconds(job, xp, budget=0.3 if n <= 20 else 0.0)
            except SizeError as exc:
                log("enumeration", f"{method} N={n} {backend}: skipped ({exc})")
                continue
            times[(method, n)], previous = dt, (n, dt)
            log("enumeration", f"{method} N={n} {backend}: {dt:.4g} s, {2**n / dt:.4g} states/s")
            name = "exact.thermodynamics" if method == "engine" else "naive chunked sum"
            rows.append(row(f"{name} N={n}", 2**n / dt, "states/s", backend, f"{dt:.4g} s",
                             method=method, n=n, seconds=dt))
    agree = [abs(log_z[("engine", n)] - log_z[("naive", n)]) for n in naive_sizes
             if ("engine", n) in log_z and ("naive", n) in log_z]
    note = f"same run; max |log Z engine - naive| = {max(agree):.2g}" if agree else "same run"
    for n in speedup_sizes:
        if ("engine", n) in times and ("naive", n) in times:
            rows.append(row(f"speed-up engine/naive N={n}", times[("naive", n)] / times[("engine", n)],
                             "x", backend, note, n=n))
    largest = max(n for (method, n) in times if method == "engine")
    floor = _exp_floor(xp)
    rate = 2**largest / times[("engine", largest)]
    rows.append(row(f"time exact.thermodynamics N={largest}", times[("engine", largest)], "s", backend,
                     f"log Z + m + all correlations, SK T={T:g}", n=largest))
    rows.append(row("exp floor (float64 exponentials/s)", floor, "states/s", backend,
                     f"engine at N={largest} reaches {rate / floor:.0%} of it"))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable; then the CPU engine against its floors."""
    return on_every_backend(run_backend, quick) + run_floors(quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "small N only (N <= 18 on the CPU)"))
