"""What purity costs: ``state = sampler.run(state, 1)`` (a new state per call: copies of the spins, the
kernel bookkeeping and the flip counts) against the deprecated in-place loop ``sampler.run(1)`` on a
bound state, SK at T = 1, random scan, the sampler's default kernel, best of 3 runs of 200 calls.

Run: ``python benchmarks/sampler_state.py``.
"""

from __future__ import annotations

import time
import warnings

from thermopot.models import sk
from thermopot.sampling import Sampler

CALLS = 200


def best_seconds(step, repeats: int = 3) -> float:
    """The least wall time of ``repeats`` runs of CALLS calls of ``step``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(CALLS):
            step()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    for n, chains in ((16, 64), (64, 256)):
        model = sk(n, seed=0)
        sampler = Sampler(model, 1.0, scan="random")
        state = [sampler.run(sampler.init(chains=chains, seed=1), 5, record=False)]
        bound = Sampler(model, 1.0, chains=chains, seed=1, scan="random").run(5, record=False)

        def pure() -> None:
            state[0] = sampler.run(state[0], 1, record=False, progress=False)

        new = best_seconds(pure)
        old = best_seconds(lambda: bound.run(1, record=False, progress=False))
        print(f"N={n} B={chains} ({'compiled' if sampler.compiled else 'array path'}): run(state, 1) "
              f"{new / CALLS * 1e3:.3f} ms/sweep, in-place run(1) {old / CALLS * 1e3:.3f} ms/sweep, "
              f"ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
