"""Finding every minimum: thermopot's batched solver (the whole `thermopot minima` command, process start
included) against a plain SciPy loop, in the same run.

Job: SK model N = 32 (seed 0), T = 0.5, 300 random starts m ~ U(-1, 1)^N, naive mean field and TAP2.
The baseline runs one bounded L-BFGS-B per start with the analytic gradient T atanh(m) + dR/dm, then
de-duplicates the endpoints (max-norm 1e-3); an endpoint counts as a converged minimum when it solves
the stationarity equations max |m - tanh(beta h(m))| < 1e-6 (SciPy's default tolerances stop earlier,
so fewer of its endpoints count). thermopot's minima satisfy them to 1e-10.

Scale and threads (NumPy): SK N = 64, T = 0.5, 1e5 starts, nmf and tap2 (the issue's goal: < 60 s on the
2-core CPU; full mode only; wall and CPU seconds), and the BLAS-thread rows: find_minima of Hopfield N = 300, p = 3, 256 starts (tap2)
and the knowledge reduced-G minima of the separated 8-spin patterns, each with thermopot's choice (one
BLAS thread for products below solvers.guard.SINGLE_THREAD_FLOPS) and with the library's default threads.

On CuPy (full mode) also the GPU goal of the issue: SK N = 256 at T = 0.5, 1e5 random starts, tap2 and
nmf (``find_minima`` in this process, after a warm-up run of 1000 starts that compiles the kernels).

Run: ``python benchmarks/minima.py [--quick] [--json]`` or ``thermopot bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
from scipy.optimize import minimize

from thermopot.backend import get_namespace
from thermopot.benchmarks import best_seconds, log, on_every_backend, row, standalone
from thermopot.meanfield import mean_field
from thermopot.models import sk
from thermopot.solvers import find_minima
from thermopot.solvers.dedup import unique_points

N, T, SEED = 32, 0.5, 0
#: the GPU job: SK size and number of starts
GPU_N, GPU_STARTS = 256, 100_000


def scipy_loop(method: str, starts: int) -> tuple[float, int]:
    """(seconds, distinct converged minima) of one L-BFGS-B per start."""
    order = {"nmf": 1, "tap2": 2}[method]
    pot = mean_field(sk(N, seed=SEED), T, order=order, backend="numpy")
    rng = np.random.default_rng(1)
    begin = time.perf_counter()
    ends = []
    for _ in range(starts):
        res = minimize(lambda m: pot.value_and_gradient(m), rng.uniform(-1, 1, N) * (1 - 1e-9), jac=True,
                       method="L-BFGS-B", bounds=[(-1 + 1e-12, 1 - 1e-12)] * N)
        ends.append(res.x)
    ends = np.array(ends)
    reps, _ = unique_points(ends, 1e-3, np)
    m = ends[reps]
    ok = np.abs(m - np.tanh((np.arctanh(m) * T - pot.gradient(m)) / T)).max(axis=1) < 1e-6
    hess_ok = np.linalg.eigvalsh(pot.hessian(m[ok]))[:, 0] > 0 if ok.any() else np.zeros(0, dtype=bool)
    return time.perf_counter() - begin, int(hess_ok.sum())


def command(method: str, starts: int, backend: str) -> tuple[float, int]:
    """(seconds, minima) of the whole `thermopot minima ... --json` command in a fresh process."""
    begin = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "thermopot.cli", "minima", f"sk:n={N},seed={SEED}", "--T", str(T),
                          "--method", method, "--starts", str(starts), "--seed", "1", "--backend", backend, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - begin, json.loads(out)["count"]


def run_backend(backend: str, quick: bool) -> list[dict]:
    starts = 60 if quick else 300
    rows = []
    for method in ("nmf", "tap2"):
        t_cmd, n_cmd = command(method, starts, backend)
        log("minima", f"{method} thermopot minima ({backend}): {t_cmd:.3g} s, {n_cmd} minima")
        rows.append(row(f"thermopot minima SK N={N} T={T} {method}, {starts} starts", t_cmd, "s", backend,
                        f"{n_cmd} minima, whole command"))
        if backend == "numpy":
            t_loop, n_loop = scipy_loop(method, starts)
            log("minima", f"{method} SciPy loop: {t_loop:.3g} s, {n_loop} converged minima")
            rows.append(row(f"SciPy L-BFGS-B loop SK N={N} T={T} {method}, {starts} starts", t_loop, "s", "numpy",
                            f"{n_loop} converged minima"))
            rows.append(row(f"speed-up {method}", t_loop / t_cmd, "x", backend,
                            f"same run; minima found {n_cmd} (thermopot) vs {n_loop} (SciPy)"))
    if backend == "numpy":
        rows += thread_rows(quick)
    if backend == "numpy" and not quick:
        rows += scale_rows()
    if backend == "cupy" and not quick:
        rows += gpu_rows()
    return rows


def scale_rows() -> list[dict]:
    """find_minima of SK N = 64 with 1e5 starts (nmf and tap2) on NumPy: the issue's < 60 s goal. Wall time
    and the process's CPU time (on a shared machine the wall time measures the other jobs too).

    Measured 2026-12-02 on the 2-core CPU shared by ~8 sessions (load average 22-40): nmf 69 s of CPU,
    623 s wall, 140 minima (the same 140 as the method before the chord iteration, 1135 s wall then); tap2
    66 s of CPU, 388 s wall at load average 15-21, 1 minimum (m = 0)."""
    rows = []
    for method in ("nmf", "tap2"):
        found = {}
        cpu = time.process_time()
        dt = best_seconds(lambda: found.update(res=find_minima(sk(64, seed=SEED), T, method=method,
                                                               starts=100_000, seed=1, backend="numpy")),
                          get_namespace("numpy"), repeats=1)
        cpu = time.process_time() - cpu
        log("minima", f"{method} SK N=64 1e5 starts numpy: {dt:.3g} s wall, {cpu:.3g} s CPU, "
                      f"{found['res'].count} minima")
        rows.append(row(f"find_minima SK N=64 T=0.5 {method}, 100000 starts", dt, "s", "numpy",
                        f"{found['res'].count} minima; {cpu:.3g} s CPU; goal < 60 s on 2 cores", n=64,
                        starts=100_000, cpu_seconds=cpu))
    return rows


def _default_threads(job):
    """Run ``job`` with thermopot's one-thread rule switched off (every product on the default threads)."""
    import thermopot.solvers.guard as guard  # noqa: PLC0415

    saved, guard.SINGLE_THREAD_FLOPS = guard.SINGLE_THREAD_FLOPS, 0.0
    try:
        return job()
    finally:
        guard.SINGLE_THREAD_FLOPS = saved


def thread_rows(quick: bool) -> list[dict]:
    """The BLAS-thread rows: each job with one thread (thermopot's choice) and with the default threads."""
    from thermopot.knowledge.description import describe  # noqa: PLC0415
    from thermopot.knowledge.reduced_potentials import reduced_potential_minima  # noqa: PLC0415
    from thermopot.models import hopfield, random_patterns  # noqa: PLC0415

    xi = random_patterns(300, 3, seed=1).astype(float)
    patterns = np.array([[1] * 8, [1, 1, 1, 1, -1, -1, -1, -1], [-1, -1, 1, 1, -1, -1, 1, 1]])
    jobs = [(f"find_minima Hopfield N=300 p=3 tap2, {64 if quick else 256} starts",
             lambda: find_minima(hopfield(xi), 0.3, method="tap2", starts=64 if quick else 256, seed=0,
                                 backend="numpy")),
            ("reduced_potential_minima 8 spins, T=1, 3+3 starts",
             lambda: reduced_potential_minima(describe(patterns, eps=1.0), 1.0, starts=3, pattern_starts=3,
                                              seed=1, backend="numpy"))]
    rows = []
    for name, job in jobs:
        t_one = best_seconds(job, get_namespace("numpy"), repeats=1)
        t_default = best_seconds(lambda: _default_threads(job), get_namespace("numpy"), repeats=1)
        log("minima", f"{name}: {t_one:.3g} s one BLAS thread, {t_default:.3g} s default threads")
        rows.append(row(f"{name}, one BLAS thread", t_one, "s", "numpy", "thermopot's choice"))
        rows.append(row(f"{name}, default BLAS threads", t_default, "s", "numpy", "same job, default threads"))
    return rows


def gpu_rows() -> list[dict]:
    """find_minima on SK N = GPU_N with GPU_STARTS starts on CuPy, per method (warm kernels)."""
    xp, model, rows = get_namespace("cupy"), sk(GPU_N, seed=SEED), []
    for method in ("tap2", "nmf"):
        find_minima(model, T, method=method, starts=1000, seed=1, backend=xp)
        found = {}
        dt = best_seconds(lambda: found.update(res=find_minima(model, T, method=method, starts=GPU_STARTS, seed=1,
                                                               backend=xp)), xp, repeats=1)
        res = found["res"]
        log("minima", f"{method} N={GPU_N} {GPU_STARTS} starts cupy: {dt:.3g} s, {res.count} minima")
        rows.append(row(f"find_minima SK N={GPU_N} T={T} {method}, {GPU_STARTS} starts", dt, "s", "cupy",
                        f"{res.count} minima", n=GPU_N, starts=GPU_STARTS))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows on NumPy, and on CuPy when a GPU is usable."""
    return on_every_backend(run_backend, quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "60 starts instead of 300"))
