"""Size guard of find_minima against what the job really costs: estimated memory and time
(thermopot.solvers.guard.estimate_minima) against the traced peak (tracemalloc) and the wall time, for
relaxation-dominated jobs (many starts) and a Newton-heavy one (few starts, large N, where every start
ends at its own point). The guard is true when peak <= 1.5 x estimate and time <= 3 x estimate.

Run: ``python benchmarks/guards_solvers.py [--quick] [--json]`` (rows(quick) is also read by
benchmarks/guards.py).
"""

from __future__ import annotations

import json
import sys

from thermopot.backend import get_namespace
from thermopot.benchmarks._peak import measure, ratio_row
from thermopot.models import hopfield, random_patterns, sk
from thermopot.solvers import find_minima
from thermopot.solvers.guard import estimate_minima
from thermopot.solvers.objective import method_order

#: (label, model factory, T, method, starts) per job; the quick set is the first QUICK rows
JOBS = [
    ("find_minima SK N=32 nmf, 2000 starts", lambda: sk(32, seed=0), 0.5, "nmf", 2000),
    ("find_minima SK N=64 tap2, 1000 starts", lambda: sk(64, seed=0), 0.5, "tap2", 1000),
    ("find_minima SK N=20 tap3, 100 starts", lambda: sk(20, seed=0), 0.5, "tap3", 100),
    ("find_minima SK N=64 nmf, 20000 starts", lambda: sk(64, seed=0), 0.5, "nmf", 20000),
    ("find_minima Hopfield N=300 p=3 tap2, 64 starts (Newton-heavy)",
     lambda: hopfield(random_patterns(300, 3, seed=1).astype(float)), 0.3, "tap2", 64),
]
QUICK = 3


def rows(quick: bool = False) -> list[dict]:
    """One ratio_row per job (estimate against traced peak and wall time)."""
    xp = get_namespace("numpy")
    out = []
    for label, model, T, method, starts in JOBS[:QUICK] if quick else JOBS:
        est_bytes, est_seconds = estimate_minima(model().n, starts, method_order(method), xp)
        m = model()
        _, peak, seconds = measure(lambda: find_minima(m, T, method=method, starts=starts, seed=0,
                                                       backend="numpy"))
        out.append(ratio_row(label, est_bytes, peak, est_seconds, seconds))
    return out


def main() -> None:
    table = rows("--quick" in sys.argv)
    if "--json" in sys.argv:
        print(json.dumps(table, indent=1))
        return
    for r in table:
        print(f"{r['entry_point']:<66} peak/est {r['peak_over_estimate']:6.2f}  time/est {r['time_over_estimate']:6.2f}"
              f"  ({r['peak_bytes'] / 2**20:.1f} MiB, {r['seconds']:.2f} s)")


if __name__ == "__main__":
    main()
