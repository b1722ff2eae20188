"""CPU sweep kernels against a compiled baseline (issue 17): updates per second of the heat-bath sampler,
sequential scan, SK at T = 1, 256 chains, through :class:`thermopot.sampling.Sampler` on the array path
and on the compiled CPU kernel (numba, both generators), next to the chain kernel a careful user would
write in numba (the baseline: one chain per prange iteration, incremental local fields, numba's own
random numbers and one exp per update), all in one interleaved run so that a busy machine slows them
alike. The ratio compiled / baseline is the figure of merit (goal >= 0.7 at N = 64 and 256).

Run: ``python benchmarks/cpu_kernels.py [--quick] [--json]`` or ``thermopot bench --only cpu_kernels``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.sampling import Sampler, compiled

try:
    import numba
except ImportError:  # the baseline needs numba
    numba = None

CHAINS = 256

if numba is not None:
    @numba.njit(parallel=True, cache=True)
    def baseline_sweeps(s, fields, J, beta, sweeps, seed):  # pragma: no cover - compiled
        """The baseline: heat-bath sequential sweeps, flip with probability 1 / (1 + exp(beta dE))."""
        chains, n = s.shape
        for b in numba.prange(chains):
            np.random.seed(seed + b)
            sb, hb = s[b], fields[b]
            for _ in range(sweeps):
                for k in range(n):
                    de = 2.0 * sb[k] * hb[k]
                    if np.random.random() * (1.0 + np.exp(beta * de)) < 1.0:
                        ds = -2.0 * sb[k]
                        row_k = J[k]
                        for j in range(n):
                            hb[j] += ds * row_k[j]
                        sb[k] = -sb[k]


def _best_rate(job, updates: int, repeats: int = 3) -> float:
    """Best updates/s of ``repeats`` timed calls of job() (after one warm-up call)."""
    job()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - t0)
    return updates / best


def run(quick: bool = False) -> list[dict]:
    """Rows of updates/s per path and size, and the compiled / baseline ratios."""
    if not compiled.available():
        log("cpu_kernels", "numba is not installed: no compiled kernel to measure")
        return []
    rows = []
    for n, sweeps in ((64, 200), (256, 50), (1000, 10)):
        sweeps = max(2, sweeps // 10) if quick else sweeps
        model, updates = sk(n, seed=0), CHAINS * n * sweeps
        paths = {"array pcg64": ("pcg64", False), "compiled pcg64": ("pcg64", True),
                 "compiled philox": ("philox", True)}
        rates = {}
        for name, (generator, use) in paths.items():
            smp = Sampler(model, 1.0, generator=generator, compiled=use)
            state = [smp.init(chains=CHAINS, seed=1)]
            array_sweeps = max(1, sweeps // 10) if not use else sweeps  # the array path is slow: fewer sweeps

            def advance(smp=smp, state=state, w=array_sweeps):
                state[0] = smp.run(state[0], w, record=False, progress=False)

            rates[name] = _best_rate(advance, CHAINS * n * array_sweeps)
        s = 1.0 - 2.0 * np.random.default_rng(1).integers(0, 2, size=(CHAINS, n))
        J = np.ascontiguousarray(model.J)
        fields = s @ J
        rates["numba baseline"] = _best_rate(lambda: baseline_sweeps(s, fields, J, 1.0, sweeps, 1), updates)
        for name, value in rates.items():
            rows.append(row(f"heat-bath sequential N={n}, {CHAINS} chains: {name}", value, "updates/s", "numpy",
                            f"{numba.get_num_threads()} threads"))
        for name in ("compiled pcg64", "compiled philox"):
            ratio = rates[name] / rates["numba baseline"]
            rows.append(row(f"{name} / numba baseline, N={n}", ratio, "x", "numpy", "goal >= 0.7 at N = 64, 256"))
        log("cpu_kernels", "N=%d: " % n + ", ".join(f"{k} {v:.3g}" for k, v in rates.items()))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.splitlines()[0], "fewer sweeps"))
