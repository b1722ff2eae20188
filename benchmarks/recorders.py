"""CPU seconds of the recorders that look at the chains after every sweep, for comparing two trees (the
one-sweep loops of issue 12 against ``Sampler.run(observe=)`` with :func:`thermopot.sampling.blocks.sweep_blocks`):

- the sampled pipeline's ``_frequencies`` (128 chains x 500 sweeps), ``_occupancy`` (32 x 300, a descent per
  state), ``_chain_samples`` (2000 samples from 128 chains) and ``sampled_bound_states`` (16 T x 16 columns x
  300 sweeps, a descent of every T-level sample), at the quick sizes, on the digits at 8x8 (N = 61, the
  pipeline's PCD fit) and on planted data of N = 256 (4 random patterns, 5 % of the spins flipped, 1000
  samples; pseudo-likelihood fit, l2 = 1e-3);
- the exact pipeline's ``pattern_frequencies`` and ``basin_occupancy`` (ergodic at T = 1 and trapped at
  T = 0.15) on the digits at 4x4 (N = 16), at the quick (128 x 2000, 32 x 1000) and full (512 x 10000,
  128 x 4000) sizes.

Best of 3 per row (1 for the full sizes), CPU seconds (``time.process_time``), one JSON line. Run with one
thread on both trees alternately, recording the load:

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONPATH=OLD_TREE python benchmarks/recorders.py
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONPATH=. python benchmarks/recorders.py
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np

from thermopot.benchmarks.state_cost import cpu_seconds
from thermopot.datasets import Dataset
from thermopot.knowledge import sampled_pipeline as sp
from thermopot.knowledge.library import bound_states
from thermopot.knowledge.pipeline import FULL, QUICK, drop_constant_columns, resolve_data
from thermopot.knowledge.retrieval import basin_occupancy, pattern_frequencies
from thermopot.knowledge.sampled_library import sampled_bound_states


def warm_cpu_seconds(job, repeats: int) -> float:
    """The least CPU time of ``repeats`` calls of ``job`` after one call that compiles and warms."""
    job()
    return cpu_seconds(job, repeats)


def planted256() -> np.ndarray:
    """1000 noisy copies (5 % of the spins flipped) of 4 random patterns of N = 256."""
    rng = np.random.default_rng(0)
    patterns = np.where(rng.random((4, 256)) < 0.5, -1, 1).astype(np.int8)
    noise = np.where(rng.random((1000, 256)) < 0.05, -1, 1).astype(np.int8)
    return patterns[rng.integers(0, 4, 1000)] * noise


def sampled_jobs(name: str, data, method: str) -> dict:
    """The sampled recorders on the training part of ``data`` with the model fitted by ``method``."""
    s = sp.SAMPLED_QUICK
    label, dataset, _ = resolve_data(data)
    dataset, _ = drop_constant_columns(label, dataset, "drop")
    rows, _ = sp._split(dataset, s.holdout, 0)
    train = Dataset(dataset.samples[rows], dataset.weights[rows])
    unique = train.unique()
    model = sp._fit(train, s, 0, None, method=method).model

    def library():
        return sampled_bound_states(model, train, s.T_fit, temperatures=s.ladder, chains=s.ladder_chains,
                                    sweeps=s.ladder_sweeps, seed=0)

    lib = library()
    return {f"{name}_frequencies_128x500": lambda: sp._frequencies(model, unique, s, 0, None),
            f"{name}_occupancy_32x300": lambda: sp._occupancy(model, lib, s, 0, None),
            f"{name}_chain_samples_2000": lambda: sp._chain_samples(model, 1.0, s.samples, s.chains, 0, None),
            f"{name}_library_16x16x300": library}


def exact_jobs() -> dict:
    """The exact pipeline's recorders on the digits at 4x4 at the quick and full sizes."""
    _, dataset, labels = resolve_data("digits")
    lib = bound_states(dataset, T=1.0, labels=labels, seed=0)
    jobs = {}
    for size, s in (("quick", QUICK), ("full", FULL)):
        jobs[f"digits16_{size}_pattern_frequencies_{s.chains}x{s.frequency_sweeps}"] = (
            lambda s=s: pattern_frequencies(lib.model, dataset, s.T_retrieval, chains=s.chains,
                                            sweeps=s.frequency_sweeps, seed=0))
        for kind, T in (("ergodic", s.T_fit), ("trapped", min(s.trap_temperatures))):
            jobs[f"digits16_{size}_occupancy_{kind}_{s.occupancy_chains}x{s.occupancy_sweeps}"] = (
                lambda s=s, T=T: basin_occupancy(lib, T, chains=s.occupancy_chains, sweeps=s.occupancy_sweeps, seed=0))
    return jobs


def main(argv: list[str]) -> None:
    warnings.simplefilter("ignore")
    jobs = {**sampled_jobs("digits64", "digits64", "pcd"), **sampled_jobs("planted256", planted256(), "pseudo"),
            **exact_jobs()}
    only = argv[0] if argv else ""
    print(json.dumps({name: round(warm_cpu_seconds(job, 1 if "_full_" in name else 3), 4)
                      for name, job in jobs.items() if only in name}))


if __name__ == "__main__":
    main(sys.argv[1:])
