"""CPU seconds of check_moments, plain chains and tempering (the T = 1 replicas of a parallel-tempering run),
against another version of the module: random pairwise models with N = 32 and 128 spins, 32 chains (columns),
2000 sweeps after 400 of burn-in, a ladder of 6 temperatures 1-2; the best of 3 runs each, in this process
after one warm-up (numba compiled). The moments of the two versions are compared for equality. Run:

    git show main:thermopot/learning/moment_check.py > /tmp/old_moment_check.py
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/moment_check_speed.py [--against /tmp/old_moment_check.py]

(without --against, only this tree's times).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from types import ModuleType

import numpy as np

from thermopot.learning import moment_check
from thermopot.models import random_pairwise


def _load(path: str) -> ModuleType:
    """The module at ``path`` as thermopot.learning._moment_check_other (its relative imports resolve)."""
    spec = importlib.util.spec_from_file_location("thermopot.learning._moment_check_other", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _best(module: ModuleType, model, data, ladder) -> tuple[float, np.ndarray]:
    module.check_moments(model, data, chains=4, sweeps=20, burn_in=5, tempering=ladder, seed=0)  # warm-up
    best, moments = np.inf, None
    for repeat in range(3):
        t0 = time.process_time()
        out = module.check_moments(model, data, chains=32, sweeps=2000, burn_in=400, tempering=ladder, seed=repeat)
        best = min(best, time.process_time() - t0)
        moments = out.model_moments if moments is None else moments
    return best, moments


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="FILE", help="another moment_check.py to time beside this tree's")
    args = parser.parse_args(argv)
    other = _load(args.against) if args.against else None
    for n in (32, 128):
        model = random_pairwise(n, seed=3, h_std=0.2, j_std=0.3)
        data = np.where(np.random.default_rng(0).random((500, n)) < 0.5, 1.0, -1.0)
        for name, ladder in (("plain", None), ("tempering", np.geomspace(1.0, 2.0, 6))):
            new, moments = _best(moment_check, model, data, ladder)
            line = f"N = {n}, {name}: {new:.3f} CPU s"
            if other is not None:
                old, old_moments = _best(other, model, data, ladder)
                line += (f" against {old:.3f} s: {old / new:.2f}x, moments identical: "
                         f"{np.array_equal(moments, old_moments)}")
            print(f"{line} (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
