"""Seeded outputs of the sampler and its users, as one JSON fingerprint: to check that a refactoring of
the sampler (issue 18, the configuration-plus-state sampler) leaves every seeded chain and measurement
bit-identical. It uses only calls that exist before and after that change (the mutable ``Sampler``
use, ``sample``, ``first_passage`` and the retrieval functions), so the same script runs on both trees:

    PYTHONPATH=OLD_TREE python benchmarks/sampler_fingerprint.py > old.json
    python benchmarks/sampler_fingerprint.py --compare old.json

Covered: pairwise and multi-spin models, both scans, both generators, the array path and (with numba)
the compiled kernel, recorded measurements with correlations, energies, first-passage times (leaving
and reaching), retrieval, pattern frequencies, basin occupancy and trapping times.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings

import numpy as np

from thermopot.knowledge.library import bound_states
from thermopot.knowledge.retrieval import basin_occupancy, pattern_frequencies, retrieve, trapping_times
from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import Sampler, first_passage, sample


def digest(a) -> str:
    """The first 16 hex digits of the SHA-256 of an array's float64 bytes."""
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes()).hexdigest()[:16]


def fingerprint() -> dict:
    """{case: seeded outputs} (module docstring)."""
    out = {}
    for kind, model in [("pairwise", random_pairwise(12, seed=2)), ("multispin", random_multispin(9, seed=4))]:
        for scan in ("sequential", "random"):
            for generator in ("pcg64", "philox"):
                for compiled in (False, None):
                    case = f"{kind}-{scan}-{generator}-compiled={compiled}"
                    s = Sampler(model, 0.9, chains=5, seed=3, scan=scan, generator=generator, compiled=compiled,
                                method="metropolis").run(80)
                    res = s.result()
                    out[case] = [digest(s.spins), digest(s.energies()), digest(res.magnetization), res.energy,
                                 res.energy_stderr, res.flip_rate]
                    if compiled is None:
                        r = sample(model, 1.1, chains=6, sweeps=70, scan=scan, seed=5, generator=generator,
                                   correlations=True, record_every=3)
                        out[case + "-sample"] = [digest(r.magnetization), r.energy, r.energy_stderr,
                                                 digest(r.correlation), r.tau_int["energy"]]
                    leave = first_passage(model, 1.3, np.ones(model.n), threshold=0.5, max_updates=3000, chains=7,
                                          seed=9, generator=generator, scan=scan)
                    reach = first_passage(model, 1.3, np.ones(model.n), targets=-np.ones(model.n), max_updates=800,
                                          chains=5, seed=9, generator=generator, scan=scan)
                    out[case + "-passage"] = [leave.times.tolist(), leave.censored.tolist(), reach.times.tolist(),
                                              reach.censored.tolist()]
    library = bound_states(None, T=0.6, model=random_pairwise(8, seed=1), tap=False)
    out["retrieve"] = retrieve(library, 0.6, chains=16, sweeps=20, seed=3).final_rows.tolist()
    freq = pattern_frequencies(library.model, library.states[:3], 0.8, chains=6, sweeps=40, seed=2)
    out["pattern_frequencies"] = freq.visits.tolist()
    out["basin_occupancy"] = digest(basin_occupancy(library, 0.8, chains=6, sweeps=40, seed=2).occupancy)
    trap = trapping_times(None, library, [0.7, 1.0], chains=6, max_updates=4000, seed=4)
    out["trapping_times"] = [trap.mean_time.tolist(), trap.hits.tolist()]
    return out


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore", DeprecationWarning)
    now = fingerprint()
    if argv[:1] == ["--compare"]:
        with open(argv[1]) as fh:
            before = json.load(fh)
        differ = sorted(k for k in set(before) | set(now) if before.get(k) != json.loads(json.dumps(now.get(k))))
        print(f"{len(now) - len(differ)} of {len(now)} cases identical" + (f"; differ: {differ}" if differ else ""))
        return 1 if differ else 0
    print(json.dumps(now, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
