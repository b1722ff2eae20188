"""TAP states of SK in the spin-glass phase and counts of states (issue 14).

Jobs (NumPy): find_minima(tap2, seeds="quench") on SK N = 1000 (seed 0) at T = 0.5 from 1000 seeds (the
issue's goal: < 2 minutes on the 2-core CPU); counting over 200 SK instances of N = 60: single-flip-stable
states at T = 0 from 2000 quench starts each, and TAP minima at T = 0.5 from 32 thermal seeds each (goal:
< 10 minutes). The count of TAP minima against N (N = 50, 100, 200 at T = 0.5, 64 thermal seeds per
instance: count_states' default) next to Bray-Moore's annealed prediction exp(N Sigma(T)) (solvers.bray_moore);
benchmarks/tap_search.py compares the seeding strategies at T = 0.3. Quick mode:
N = 200 from 64 seeds, 20 instances of N = 60, and 20 / 10 / 5 instances for the count against N.

Run: ``python benchmarks/tap_states.py [--quick] [--json]`` or ``thermopot bench --only tap_states``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.solvers import find_minima
from thermopot.solvers.bray_moore import tap_complexity
from thermopot.solvers.counting import TANAKA_EDWARDS, count_states, state_complexity

T = 0.5


def _states_row(n: int, seeds: int) -> dict:
    begin = time.perf_counter()
    res = find_minima(sk(n, seed=0), T, seeds="quench", starts=seeds, seed=1, max_seconds=1e6)
    seconds = time.perf_counter() - begin
    states = res.is_minimum & (np.mean(res.points**2, axis=1) > 1e-6)
    note = (f"{int(states.sum())} non-paramagnetic minima ({int((states & res.plefka_global).sum())} Plefka-valid "
            f"globally), {res.message}")
    log("tap_states", f"SK N={n} T={T}, {seeds} quench seeds: {seconds:.3g} s, {note}")
    return row(f"find_minima tap2 seeds=quench SK N={n} T={T}, {seeds} seeds", seconds, "s", "numpy", note,
               n=n, starts=seeds, minima=int(states.sum()))


def _count_rows(n: int, instances: int) -> list[dict]:
    rows = []
    for T_count, method, starts in ((0.0, "quench", 2000), (T, "tap2", 32)):
        begin = time.perf_counter()
        res = state_complexity(n, instances, T=T_count, method=method, starts=starts, seed=14)
        seconds = time.perf_counter() - begin
        note = (f"complexity quenched {res.quenched:.4f} +- {res.quenched_stderr:.4f}, annealed "
                f"{res.annealed:.4f} +- {res.annealed_stderr:.4f}; {res.message}"
                + (f"; Tanaka-Edwards {TANAKA_EDWARDS}" if T_count == 0 else ""))
        log("tap_states", f"count N={n} T={T_count} {method}: {seconds:.3g} s, {note}")
        rows.append(row(f"count states SK N={n} T={T_count:g} ({method}, {starts} starts), {instances} instances",
                        seconds, "s", "numpy", note, n=n, instances=instances, counts=res.counts.tolist()))
    return rows


def _bray_moore_rows(instances: dict[int, int]) -> list[dict]:
    """Mean number of non-paramagnetic TAP minima per SK instance (``instances[n]`` instances of n spins,
    64 thermal seeds each) against exp(n Sigma(T)), Bray-Moore's annealed number to exponential order."""
    begin = time.perf_counter()
    bm = tap_complexity(T)
    rows = [row(f"Bray-Moore annealed complexity Sigma(T={T})", time.perf_counter() - begin, "s", "numpy",
                f"Sigma = {bm.sigma:.5f} at q = {bm.q:.4f} (Plefka ratio {bm.plefka_ratio:.3f})", sigma=bm.sigma)]
    for n, k in instances.items():
        begin = time.perf_counter()
        counts = np.array([count_states(sk(n, seed=5000 + s), T=T, method="tap2", starts=64, seed=s)
                           for s in range(k)])
        seconds = time.perf_counter() - begin
        note = (f"mean {counts.mean():.3f} +- {counts.std(ddof=1) / np.sqrt(k):.3f} minima per instance "
                f"(max {counts.max()}, {int((counts > 0).sum())} of {k} with any) against exp(N Sigma) = "
                f"{bm.expected(n):.2f}")
        log("tap_states", f"TAP minima N={n} T={T}, {k} instances: {seconds:.3g} s, {note}")
        rows.append(row(f"TAP minima per SK instance N={n} T={T} (64 thermal seeds), {k} instances", seconds, "s",
                        "numpy", note, n=n, instances=k, counts=counts.tolist(), bray_moore=bm.expected(n)))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy)."""
    rows = [_states_row(200, 64) if quick else _states_row(1000, 1000)]
    rows += _bray_moore_rows({50: 20, 100: 10, 200: 5} if quick else {50: 200, 100: 100, 200: 40})
    return rows + _count_rows(60, 20 if quick else 200)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 200 from 64 seeds; 20 counting instances"))
