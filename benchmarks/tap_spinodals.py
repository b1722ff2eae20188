"""How long does a TAP state of SK live in temperature? (issue 14: annealing as a way to TAP states)

Per instance sk(n, seed=i) the non-paramagnetic TAP2 minima are found at T0 by find_minima(seeds="thermal",
``starts`` seeds, seed 1), and one member of every +-m pair is followed up (to T = 0.7) and down (to
T = 0.05) by solvers.spinodal.track_minimum (adaptive step 0.01 ... 1e-4). A row per minimum: the interval
of temperatures in which it exists (its two spinodals), the smallest and second smallest eigenvalue of
D^1/2 H D^1/2 at each end (an isolated eigenvalue going to zero: a saddle-node with a nearby index-one
saddle), and Plefka's global ratio x = beta^2 J^2 (1/N) sum_k (1 - m_k^2)^2 at T0 and at each end.
Annealing (following states from low T upward) reaches T only with the states whose interval contains it.

Run: ``python benchmarks/tap_spinodals.py [--quick] [--json]`` or ``thermopot bench --only tap_spinodals``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.solvers import find_minima
from thermopot.solvers.newton import scaled_hessian
from thermopot.solvers.objective import free_energy_interaction
from thermopot.solvers.spinodal import track_minimum

#: the ends of the temperature range the states are followed over
T_LOW, T_HIGH = 0.05, 0.7


def _lowest_two(model, m: np.ndarray, T: float) -> np.ndarray:
    R = free_energy_interaction(model, T, 2, np)
    return np.linalg.eigvalsh(scaled_hessian(R, np.arctanh(m[None]), T, np)[0])[:2]


def _instance_rows(n: int, instance: int, T0: float, starts: int) -> list[dict]:
    model = sk(n, seed=instance)
    begin = time.perf_counter()
    res = find_minima(model, T0, seeds="thermal", starts=starts, seed=1, max_seconds=1e6)
    q = np.mean(res.points**2, axis=1)
    pairs = [a for a in np.flatnonzero(res.is_minimum & (q > 1e-6)) if res.partner[a] < 0 or a < res.partner[a]]
    log("tap_spinodals", f"sk({n}, seed={instance}) T0={T0}: {len(pairs)} pairs from {starts} thermal seeds "
                         f"({time.perf_counter() - begin:.1f} s)")
    rows = []
    for a in pairs:
        begin = time.perf_counter()
        up, down = (track_minimum(model, res.points[a], T0, end) for end in (T_HIGH, T_LOW))
        seconds = time.perf_counter() - begin
        ends = {name: (t, _lowest_two(model, t.m[-1], t.T[-1])) for name, t in (("down", down), ("up", up))}
        note = (f"q = {q[a]:.3f}, lambda_min = {res.hessian_min_eig[a]:.4f}, x = {res.plefka_ratio[a]:.3f} at T0; " +
                "; ".join(f"{name}: {t.end} at T = {t.spinodal if t.end == 'spinodal' else t.T[-1]:.4f} "
                          f"(lowest two eigenvalues {lam[0]:.4f}, {lam[1]:.4f}; x = {t.plefka_ratio[-1]:.3f})"
                          for name, (t, lam) in ends.items()))
        log("tap_spinodals", f"  {note}")
        rows.append(row(f"TAP2 minimum of sk({n}, seed={instance}) found at T0={T0}, followed in T", seconds, "s",
                        "numpy", note, n=n, instance=instance, T0=T0, q=float(q[a]),
                        T_down=float(down.spinodal), T_up=float(up.spinodal),
                        lowest_two_down=ends["down"][1].tolist(), lowest_two_up=ends["up"][1].tolist(),
                        ratio=[float(down.plefka_ratio[-1]), float(res.plefka_ratio[a]), float(up.plefka_ratio[-1])]))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy)."""
    jobs = ([(200, 0, 0.3, 128), (200, 0, 0.5, 128)] if quick else
            [(200, 0, 0.3, 256), (200, 1, 0.3, 256), (400, 0, 0.3, 256), (400, 1, 0.3, 256), (700, 0, 0.3, 256),
             (100, 3, 0.5, 128), (100, 4, 0.5, 128), (200, 0, 0.5, 128), (300, 0, 0.5, 128), (700, 1, 0.5, 128),
             (1000, 2, 0.5, 128)])
    return [r for job in jobs for r in _instance_rows(*job)]


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "sk(200, seed=0) at T0 = 0.3 and 0.5 only"))
