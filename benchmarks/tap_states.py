"""TAP states of SK in the spin-glass phase and counts of states (issue 14).

Jobs (NumPy): find_minima(tap2, seeds="quench") on SK N = 1000 (seed 0) at T = 0.5 from 1000 seeds (the
issue's goal: < 2 minutes on the 2-core CPU); counting over 200 SK instances of N = 60: single-flip-stable
states at T = 0 from 2000 quench starts each, and TAP minima at T = 0.5 from 32 quench seeds each (goal:
< 10 minutes). Quick mode: N = 200 from 64 seeds, and 20 instances of N = 60.

Run: ``python benchmarks/tap_states.py [--quick] [--json]`` or ``thermopot bench --only tap_states``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.solvers import find_minima
from thermopot.solvers.counting import TANAKA_EDWARDS, state_complexity

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


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy)."""
    rows = [_states_row(200, 64) if quick else _states_row(1000, 1000)]
    return rows + _count_rows(60, 20 if quick else 200)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 200 from 64 seeds; 20 counting instances"))
