"""CPU seconds of check_moments with tempering (the T = 1 replicas of a parallel-tempering run), the
path that used to call ParallelTempering.run(1) once per averaged sweep: random pairwise models with
N = 32 and 128 spins, a ladder of 6 temperatures 1-2, 32 columns, 2000 sweeps after 400 of burn-in;
the best of 3 runs, each in this process after one warm-up (numba compiled). Run:
``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/moment_check_speed.py``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from thermopot.learning import check_moments
from thermopot.models import random_pairwise


def main() -> None:
    for n in (32, 128):
        timed(n)


def timed(n: int) -> None:
    model = random_pairwise(n, seed=3, h_std=0.2, j_std=0.3)
    rng = np.random.default_rng(0)
    data = np.where(rng.random((500, n)) < 0.5, 1.0, -1.0)
    ladder = np.geomspace(1.0, 2.0, 6)
    check_moments(model, data, chains=4, sweeps=20, burn_in=5, tempering=ladder, seed=0)  # warm-up
    cpu, wall = [], []
    for repeat in range(3):
        t0, w0 = time.process_time(), time.perf_counter()
        out = check_moments(model, data, chains=32, sweeps=2000, burn_in=400, tempering=ladder, seed=repeat)
        cpu.append(time.process_time() - t0)
        wall.append(time.perf_counter() - w0)
    print(f"check_moments(tempering, N={n}, 6 T, 32 columns, 2000+400 sweeps): CPU {min(cpu):.3f} s, "
          f"wall {min(wall):.3f} s (best of 3), max |z_model| {out.max_abs_z_model:.2f}, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
