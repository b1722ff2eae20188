"""CPU seconds of the users of the sampler's and the ensemble's states, for comparing two trees (the
configuration-plus-state refactoring of issue 18): PCD (256 chains x 200 steps, and 64 x 100 with a
three-temperature ladder), the sampled pipeline's pattern frequencies (128 chains, 300 one-sweep
calls) and chain samples, parallel tempering (16 T x 16 chains x 300 sweeps) and AIS (256 chains x 300
steps), on SK N = 61 and planted data of 61 spins. Best of 3 per row, CPU seconds (``time.process_time``),
one JSON line. Run on both trees alternately, recording the load:

    PYTHONPATH=OLD_TREE python benchmarks/state_cost.py
    python benchmarks/state_cost.py
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np

from thermopot.datasets import as_dataset
from thermopot.knowledge import sampled_pipeline
from thermopot.knowledge.sampled_pipeline import SampledSettings
from thermopot.learning import fit
from thermopot.models import sk
from thermopot.sampling import log_partition, parallel_tempering


def cpu_seconds(job, repeats: int = 3) -> float:
    """The least CPU time of ``repeats`` calls of ``job``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        job()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    patterns = np.where(rng.random((8, 61)) < 0.5, -1, 1).astype(np.int8)
    noise = np.where(rng.random((600, 61)) < 0.1, -1, 1).astype(np.int8)
    data = as_dataset(patterns[rng.integers(0, 8, 600)] * noise)
    model = sk(61, seed=0)
    settings = SampledSettings(T_retrieval=0.5, chains=128, frequency_sweeps=300)
    jobs = {
        "pcd_256x200": lambda: fit(data, "pcd", chains=256, steps=200, l2=1e-3, seed=0, diagnostic_sweeps=10,
                                   init=model),
        "pcd_tempering_64x100": lambda: fit(data, "pcd", chains=64, steps=100, l2=1e-3, seed=0, diagnostic_sweeps=10,
                                            init=model, tempering=[1.0, 1.5, 2.2]),
        "frequencies_128x300": lambda: sampled_pipeline._frequencies(model, data.unique(), settings, 3, None),
        "chain_samples_2000": lambda: sampled_pipeline._chain_samples(model, 1.0, 2000, 128, 3, None),
        "tempering_16x16_300": lambda: parallel_tempering(model, np.geomspace(1, 5, 16), chains=16, sweeps=300, seed=0,
                                                          progress=False),
        "ais_256x300": lambda: log_partition(model, 1.0, chains=256, steps=300, seed=0),
    }
    print(json.dumps({name: cpu_seconds(job) for name, job in jobs.items()}))


if __name__ == "__main__":
    main()
