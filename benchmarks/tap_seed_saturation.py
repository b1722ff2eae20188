"""Does the number of TAP2 minima found on SK at T = 0.3 saturate with the number of thermal seeds? (issue 14)

Per instance sk(n, seed=5000 + i) the non-paramagnetic TAP2 minima (solvers.counting.tap_minima: +-m pairs twice)
found by find_minima(seeds="thermal", starts=S, seed=i) for each S of SEEDS, and of the union of all of them
(re-polished and de-duplicated by find_minima(init=...)), against Bray and Moore's exp(N Sigma(T))
(solvers.bray_moore.tap_complexity).

Saddles (instances 0 .. SADDLE_INSTANCES - 1): Levenberg-Marquardt on the TAP2 equations (tap_search.tap_roots) from
SADDLE_SEEDS thermal seeds per instance, their Bolthausen end points and the images -m of both; the roots are polished
and classified by find_minima(init=...), and the index of every non-paramagnetic saddle is the number of negative
eigenvalues of the scaled Hessian D^1/2 H D^1/2 (solvers.newton.scaled_hessian).

Run: ``python benchmarks/tap_seed_saturation.py [--quick] [--json]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.benchmarks.tap_search import tap_roots
from thermopot.models import sk
from thermopot.solvers import find_minima
from thermopot.solvers.bray_moore import tap_complexity
from thermopot.solvers.counting import PARAMAGNET_Q, tap_minima
from thermopot.solvers.newton import scaled_hessian
from thermopot.solvers.objective import free_energy_interaction
from thermopot.solvers.seeds import amp_starts, seed_magnetisations

T_LOW = 0.3
SEEDS = (128, 512, 2048, 4096, 8192)
SADDLE_SEEDS, SADDLE_INSTANCES = 64, 2


def _instance(n: int, T: float, i: int, seeds: tuple[int, ...]) -> tuple[list[int], list[float], int]:
    """(count per number of seeds, seconds per number of seeds, count of the union) on sk(n, seed=5000 + i)."""
    model = sk(n, seed=5000 + i)
    counts, seconds, found = [], [], []
    for starts in seeds:
        begin = time.perf_counter()
        res = find_minima(model, T, seeds="thermal", starts=starts, seed=i, max_seconds=1e6)
        seconds.append(time.perf_counter() - begin)
        counts.append(tap_minima(res, symmetric=True))
        found.append(res.points[res.is_minimum & (np.mean(res.points**2, axis=1) > PARAMAGNET_Q)])
        log("tap_seed_saturation", f"N={n} T={T} instance {i}: {starts} seeds -> {counts[-1]} ({seconds[-1]:.1f} s)")
    union = np.concatenate(found)
    total = tap_minima(find_minima(model, T, init=np.concatenate([union, -union]), max_seconds=1e6), symmetric=True) \
        if union.shape[0] else 0
    return counts, seconds, total


def saddles(n: int, T: float, i: int, starts: int) -> tuple[int, list[int], float]:
    """(TAP2 minima, the Hessian index of every non-paramagnetic saddle, seconds) that Levenberg-Marquardt reaches on
    sk(n, seed=5000 + i) from ``starts`` thermal seeds (module docstring)."""
    begin = time.perf_counter()
    model = sk(n, seed=5000 + i)
    raw = seed_magnetisations(model, T, seeds="thermal", starts=starts, seed=np.random.default_rng(i))
    pool = np.concatenate([raw, amp_starts(model, T, m0=raw)])
    roots = tap_roots(model, T, np.concatenate([pool, -pool]))
    if not roots.shape[0]:
        return 0, [], time.perf_counter() - begin
    every = find_minima(model, T, init=roots, max_seconds=1e6)
    R = free_energy_interaction(model, T, 2, np)
    rows = np.flatnonzero(~every.is_minimum & (np.mean(every.points**2, axis=1) > PARAMAGNET_Q))
    index = [int((np.linalg.eigvalsh(scaled_hessian(R, np.arctanh(every.points[a])[None], T, np)[0]) < 0).sum())
             for a in rows]
    return tap_minima(every, symmetric=True), index, time.perf_counter() - begin


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy): one per number of seeds and one for the union."""
    n, instances, seeds = (200, 1, SEEDS[:2]) if quick else (200, 5, SEEDS)
    expected = tap_complexity(T_LOW).expected(n)
    table = [_instance(n, T_LOW, i, seeds) for i in range(instances)]
    rows = []
    for k, starts in enumerate(seeds):
        c = np.array([t[0][k] for t in table], dtype=float)
        spread = f" +- {c.std(ddof=1) / np.sqrt(c.size):.2f}" if c.size > 1 else ""
        note = (f"{c.tolist()} per instance, mean {c.mean():.2f}{spread} against "
                f"exp(N Sigma({T_LOW})) = {expected:.1f}")
        log("tap_seed_saturation", f"N={n} {starts} seeds: {note}")
        rows.append(row(f"TAP2 minima SK N={n} T={T_LOW}, {starts} thermal seeds, {instances} instances",
                        sum(t[1][k] for t in table), "s", "numpy", note, n=n, starts=starts, counts=c.tolist(),
                        bray_moore=expected))
    union = [t[2] for t in table]
    log("tap_seed_saturation", f"N={n} union over {seeds}: {union}")
    rows.append(row(f"TAP2 minima SK N={n} T={T_LOW}, union of {'/'.join(map(str, seeds))} seeds", 0.0, "s", "numpy",
                    f"{union} per instance against exp(N Sigma) = {expected:.1f}", n=n, counts=union,
                    bray_moore=expected))
    for i in range(SADDLE_INSTANCES if not quick else 1):
        minima, index, seconds = saddles(n, T_LOW, i, SADDLE_SEEDS if not quick else 8)
        note = f"instance {i}: {minima} minima, {len(index)} non-paramagnetic saddles of index {index}"
        log("tap_seed_saturation", f"N={n} Levenberg-Marquardt {note}")
        rows.append(row(f"TAP2 saddles SK N={n} T={T_LOW}, Levenberg-Marquardt, instance {i}", seconds, "s", "numpy",
                        note, n=n, minima=minima, saddle_index=index))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "instance 0 only, 128 and 512 seeds, saddles from 8 seeds"))
