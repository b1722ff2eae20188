"""Exact enumeration throughput (states/s) against N: thermopot.exact.thermodynamics against a naive
chunked sum, in the same run, on NumPy and (when a GPU is usable) CuPy.

Job: a dense SK model (h = 0, J_kl ~ N(0, 1/N)) at T = 1; log Z, U, C, all magnetisations and all
correlations. The naive baseline streams blocks of full states s (B, N): E = -s.h - sum((s J) * s)/2,
w = exp(-beta E - shift) with a running (global) shift, Z = sum w, m = s^T w, <ss> = s^T diag(w) s:
O(N^2) flops and one exponential per state. The floor of any method is the 2^N exponentials; the row
"exp floor" measures exp alone on the same backend.

Run: ``python benchmarks/enumeration.py [--quick] [--json]`` or ``thermopot bench``.
"""

from __future__ import annotations

import math
import sys
from types import ModuleType

from thermopot.benchmarks import best_seconds, log, on_every_backend, row, standalone
from thermopot.backend import asarray, backend_name, get_namespace, to_float
from thermopot.errors import SizeError
from thermopot.exact import thermodynamics
from thermopot.models import PairwiseModel, sk
from thermopot.states import state_blocks

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
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "small N only (N <= 18 on the CPU)"))
