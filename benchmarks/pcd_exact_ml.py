"""PCD against exact maximum likelihood at N small enough to enumerate, in units of PCD's own sampling
error: two fits with independent chains (seeds s and s + 1) give sigma = rms_kl |J1 - J2| / 2 (the error
of their mean, pooled over the couplings), and the statistic is max_kl |(J1 + J2)/2 - J_ML| / sigma (the
validation's digits check passes at 4). Exact ML: ``fit(data.unique(), "exact", l2=...)``.

Data: ``planted20`` (4 random centres of N = 20, 150 copies each with 6 % of the spins flipped; the data of
``validation/sampled.py``'s ``planted_n20(seed)``) or ``digits16`` (``load_digits(16)``, the same for every
seed).

Run: ``PYTHONPATH=. python benchmarks/pcd_exact_ml.py [--data planted20|digits16] [--steps S]
[--precondition auto|fisher|centred|none] [--seeds 0,1,2,3,4] [--tempering 1,1.3,1.7,2.2]``. Prints one line per
seed: the CPU seconds of the two fits, sigma, the statistic, the rms of |dJ| / sigma, the largest |dJ|
and the coupling where it is.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from thermopot.datasets import load_digits, noisy_patterns_dataset
from thermopot.learning import fit


def planted20(seed: int):
    """validation/sampled.py's planted_n20(seed)."""
    return noisy_patterns_dataset(20, 4, 150, 0.06, seed=seed + 5)[0]


def digits16(seed: int):
    return load_digits(16).dataset


DATA = {"planted20": planted20, "digits16": digits16}


def compare(data, *, steps: int, seed: int, l2: float = 1e-3, **options) -> dict:
    """The statistic of the module docstring for one data set and one pair of seeds."""
    iu = np.triu_indices(data.n, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = fit(data.unique(), "exact", l2=l2).model.J[iu]
    cpu = time.process_time()
    j1, j2 = (fit(data, "pcd", l2=l2, chains=256, steps=steps, seed=seed + k, **options).model.J[iu] for k in (0, 1))
    cpu = time.process_time() - cpu
    sigma = float(np.sqrt(np.mean((j1 - j2) ** 2)) / 2)
    d = np.abs((j1 + j2) / 2 - ml)
    worst = int(np.argmax(d))
    return {"cpu_s": cpu, "sigma": sigma, "max_z": float(d.max() / sigma), "rms_z": float(np.sqrt(np.mean(d ** 2)) / sigma),
            "max_dJ": float(d.max()), "pair": (int(iu[0][worst]), int(iu[1][worst]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=list(DATA), default="planted20")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--precondition", default="auto")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--tempering", default=None, help="comma-separated ladder starting at 1")
    args = parser.parse_args()
    options = {"precondition": args.precondition}
    if args.tempering:
        options["tempering"] = [float(v) for v in args.tempering.split(",")]
    for seed in (int(v) for v in args.seeds.split(",")):
        r = compare(DATA[args.data](seed), steps=args.steps, seed=seed, **options)
        print(f"{args.data} seed {seed} precondition {args.precondition} steps {args.steps}: cpu {r['cpu_s']:.1f} s, "
              f"sigma {r['sigma']:.4f}, max|dJ|/sigma {r['max_z']:.2f}, rms {r['rms_z']:.2f}, max|dJ| {r['max_dJ']:.4f} "
              f"at {r['pair']}, load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
