"""Issue 16 item 7: each long command with one BLAS thread and with the library's default threads.

Every row runs the same command twice in a fresh process, once with ``OPENBLAS_NUM_THREADS=1`` (and the
OpenMP / MKL equivalents) and once with the environment as it is, interleaved so that a changing load
hits both alike, and reports the wall time, the CPU seconds of the child and the load average. The
library chooses the BLAS threads per operation from its size (``backend.blas_limit``), so the two
columns should agree; a default/one-thread ratio well above 1 on a busy machine means some products
still wake every BLAS thread for little work.

Run: ``python benchmarks/blas_threads.py [--quick] [--json]`` (quick: the short rows only; the full run
adds ``thermopot validate --quick``, several minutes per repeat). Not registered in ``thermopot bench``:
each row starts fresh processes and takes minutes.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

from thermopot.benchmarks import log, row, standalone

#: the commands of the issue's rows (label, argv); the validation run only in the full benchmark
COMMANDS: tuple[tuple[str, list[str]], ...] = (
    ("thermopot knowledge --dataset clusters", ["knowledge", "--dataset", "clusters", "--json"]),
    ("thermopot fit digits, exact ML (N = 16)", ["fit", "{tmp}/digits.npz", "--method", "exact", "--json"]),
    ("thermopot fit digits, pseudo-likelihood", ["fit", "{tmp}/digits.npz", "--method", "pseudo", "--json"]),
    ("thermopot minima hopfield:n=300,p=3 --T 0.3 --starts 256",
     ["minima", "hopfield:n=300,p=3,seed=0", "--T", "0.3", "--starts", "256", "--json"]),
)
VALIDATE = ("thermopot validate --quick", ["validate", "--quick", "--out", "{tmp}/report"])
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def _timed(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of ``python -m thermopot.cli argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "thermopot.cli", *argv], env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: a validation with a failed check still measures the run
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(quick: bool = False, repeats: int = 2) -> list[dict]:
    """One row per command and thread setting: the median wall time of ``repeats`` interleaved runs."""
    import tempfile  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from thermopot.datasets import load_digits  # noqa: PLC0415

    commands = list(COMMANDS) + ([] if quick else [VALIDATE])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        digits = load_digits(16).dataset
        np.savez(f"{tmp}/digits.npz", samples=np.asarray(digits.samples), weights=np.asarray(digits.weights))
        for label, argv in commands:
            argv = [a.replace("{tmp}", tmp) for a in argv]
            times: dict[str, list[tuple[float, float, float]]] = {"one": [], "default": []}
            for _ in range(repeats):
                for setting, extra in (("one", ONE_THREAD), ("default", {})):
                    env = {k: v for k, v in os.environ.items() if setting == "one" or k not in ONE_THREAD}
                    env.update(extra)
                    load = os.getloadavg()[0]
                    wall, cpu = _timed(argv, env)
                    times[setting].append((wall, cpu, load))
                    log("blas_threads", f"{label}, {setting} thread(s): {wall:.1f} s wall, {cpu:.1f} CPU s, "
                                        f"load {load:.1f}")
            for setting in ("one", "default"):
                walls = sorted(t[0] for t in times[setting])
                rows.append(row(f"{label}, {'one BLAS thread' if setting == 'one' else 'default BLAS threads'}",
                                walls[len(walls) // 2], "s", "numpy",
                                cpu_seconds=[round(t[1], 1) for t in times[setting]],
                                load=[round(t[2], 1) for t in times[setting]]))
            ratio = rows[-1]["value"] / rows[-2]["value"]
            rows.append(row(f"{label}, default / one thread", ratio, "x", "numpy"))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "the short rows only (no validation run)"))
