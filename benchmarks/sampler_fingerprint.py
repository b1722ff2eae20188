"""Seeded outputs of the sampler and its users, as one JSON fingerprint: to check that a refactoring of
the sampler (issue 18, the configuration-plus-state sampler) leaves every seeded chain and measurement
bit-identical. It uses only calls that exist before and after that change (the state API of ``Sampler``,
``sample``, ``first_passage``, the retrieval functions and the users of the tempering ensemble), so the
same script runs on both trees:

    PYTHONPATH=OLD_TREE python benchmarks/sampler_fingerprint.py > old.json
    python benchmarks/sampler_fingerprint.py --compare old.json

Covered: pairwise and multi-spin models, both scans, both generators, the array path and (with numba)
the compiled kernel, recorded measurements with correlations, energies, first-passage times (leaving
and reaching), retrieval, pattern frequencies, basin occupancy and trapping times; the chains at
temperatures of their own (:mod:`thermopot.sampling.ensemble`) through parallel tempering, the
temperature ladder, log Z by AIS and TI, the sampled bound states, and PCD with and without tempering
(array path and, with numba, compiled kernel); the chain samples, retrieval, frequencies and occupancy
of the sampled knowledge pipeline.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings

import numpy as np

from thermopot.datasets import as_dataset
from thermopot.knowledge import sampled_pipeline
from thermopot.knowledge.library import bound_states
from thermopot.knowledge.sampled_library import sampled_bound_states
from thermopot.knowledge.sampled_pipeline import SampledSettings
from thermopot.learning import fit, sample_exact
from thermopot.knowledge.retrieval import basin_occupancy, pattern_frequencies, retrieve, trapping_times
from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import Sampler, first_passage, log_partition, parallel_tempering, sample, temperature_ladder


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
                    s = Sampler(model, 0.9, scan=scan, generator=generator, compiled=compiled, method="metropolis")
                    state = s.run(s.init(chains=5, seed=3), 80)
                    res = s.result(state)
                    out[case] = [digest(state.spins), digest(s.energies(state)), digest(res.magnetization),
                                 res.energy, res.energy_stderr, res.flip_rate]
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
    out.update(ensembles())
    return out


def ensembles() -> dict:
    """{case: seeded outputs} of the users of :mod:`thermopot.sampling.ensemble` and of the sampled
    knowledge pipeline's chains."""
    out = {}
    pairwise, multispin = random_pairwise(10, seed=6), random_multispin(8, seed=5)
    data = as_dataset(sample_exact(pairwise, 200, seed=1))
    settings = SampledSettings(T_retrieval=0.7, chains=6, sweeps=15, frequency_sweeps=20, occupancy_chains=4,
                               occupancy_sweeps=15)
    for compiled in (False, None):
        for kind, model in (("pairwise", pairwise), ("multispin", multispin)):
            for scan in ("sequential", "random"):
                case = f"{kind}-{scan}-compiled={compiled}"
                pt = parallel_tempering(model, [0.6, 0.9, 1.4], chains=3, sweeps=40, scan=scan, seed=5,
                                        compiled_kernel=compiled, progress=False)
                out[case + "-tempering"] = [digest(pt.energy), digest(pt.magnetization), digest(pt.swap_rate),
                                            pt.round_trips, digest(pt.tau_int)]
                for method in ("ais", "ti"):
                    z = log_partition(model, 0.8, method=method, chains=6, steps=12, sweeps=30, scan=scan, seed=7,
                                      compiled_kernel=compiled)
                    out[f"{case}-{method}"] = [z.log_z, z.log_z_stderr]
        out[f"ladder-compiled={compiled}"] = temperature_ladder(pairwise, 0.6, 2.0, pilot_temperatures=5,
                                                               pilot_sweeps=40, chains=3, seed=2).tolist()
        bound = sampled_bound_states(pairwise, data, 0.8, temperatures=4, chains=3, sweeps=30, seed=3,
                                     compiled_kernel=compiled)
        out[f"sampled_bound_states-compiled={compiled}"] = [digest(bound.states), digest(bound.weight), bound.log_z]
        for ladder in (None, [1.0, 1.4, 2.0]):
            pcd = fit(data, "pcd", chains=8, steps=30, tempering=ladder, seed=4, diagnostic_sweeps=10,
                      compiled_kernel=compiled)
            out[f"pcd-tempering={ladder is not None}-compiled={compiled}"] = [
                digest(pcd.model.h), digest(pcd.model.J), pcd.diagnostics["fraction_within_2_stderr"]]
    model = fit(data, "pseudo").model
    out["pipeline_chain_samples"] = digest(sampled_pipeline._chain_samples(model, 0.9, 50, 8, 3, None, burn_in=10))
    out["pipeline_retrieval"] = sampled_pipeline._retrieval(model, data.unique().samples, settings, 3, None)
    out["pipeline_frequencies"] = sampled_pipeline._frequencies(model, data.unique(), settings, 3, None)
    library = sampled_bound_states(model, data, 1.0, temperatures=4, chains=3, sweeps=20, seed=3)
    out["pipeline_occupancy"] = sampled_pipeline._occupancy(model, library, settings, 3, None)
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
