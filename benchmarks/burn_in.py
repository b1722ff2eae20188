"""Which burn-in rule, on evidence: chains whose exact mean energy is known by enumeration (N <= 20),
started far from equilibrium, recorded from the first sweep for W + max(W, 200) sweeps. For each rule the window
[d, d + W) is averaged (per chain, then over chains; the error from the chain-to-chain spread) and its
z = (mean - exact) / stderr reported, with d from:

- ``0``: no burn-in (the injected mistake: the start-up transient averaged in);
- ``W//10``, ``W//5``: the fixed fractions used before (sample, tempering);
- ``mser-after``: MSER on the first W sweeps' chain-averaged energy (what state_overlap does);
- ``mser``: the sequential rule of thermopot.sampling.burn_in.run_burn_in fed the same series.

Cases: Curie-Weiss N = 20 (J = 1, h = 0.05) at T = 0.8 from random and at T = 1.5 from all up; SK N = 20
at T = 0.5 and 0.3 from random; Hopfield N = 20 (3 random patterns) at T = 0.4 from the patterns; parallel
tempering on SK N = 16 over a ladder of 8 temperatures 0.4-2 from random (MSER on every temperature's
series, z at the coldest).
Run: ``PYTHONPATH=. python benchmarks/burn_in.py [--quick] [--json]``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np

from thermopot.exact import thermodynamics
from thermopot.models import curie_weiss, hopfield, random_patterns, sk
from thermopot.sampling import Sampler
from thermopot.sampling.burn_in import BurnInWarning, mser_burn_in, run_burn_in
from thermopot.sampling.tempering import ParallelTempering

CHAINS = 256
RULES = ("0", "W//10", "W//5", "max(W//10,100)", "max(W//5,100)", "mser-after", "mser")


def _windows(series: np.ndarray, sweeps: int) -> dict:
    """The burn-in of each rule for the chain-averaged series (W + max(W, 200), S)."""
    mean = series.mean(axis=1) if series.ndim == 2 else series
    mean = mean.reshape(mean.shape[0], -1)
    offset = [0]

    def trace(k: int) -> np.ndarray:
        part = mean[offset[0]: offset[0] + k]
        offset[0] += k
        return part

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BurnInWarning)
        seq = run_burn_in("mser", sweeps, run=lambda k: None, trace=trace)
    after = max(mser_burn_in(c) for c in mean[:sweeps].T)
    return {"0": 0, "W//10": sweeps // 10, "W//5": sweeps // 5, "max(W//10,100)": max(sweeps // 10, 100),
            "max(W//5,100)": max(sweeps // 5, 100), "mser-after": after, "mser": seq}


def _z(per_sweep: np.ndarray, d: int, sweeps: int, exact: float) -> float:
    """per_sweep (sweeps, B): z of the window [d, d + W) against exact."""
    chain_means = per_sweep[d: d + sweeps].mean(axis=0)
    return float((chain_means.mean() - exact) / (chain_means.std(ddof=1) / np.sqrt(chain_means.size)))


def single(model, T: float, initial, sweeps: int, seed: int) -> dict:
    exact = thermodynamics(model, T, progress=False).energy
    sampler = Sampler(model, T)
    start = sampler.init(chains=CHAINS, initial=initial, seed=seed)
    state = sampler.run(start, sweeps + max(sweeps, 200), progress=False)
    energy = state.measurements.series()[0]  # (W + max(W, 200), B)
    d = _windows(energy, sweeps)
    return {rule: (d[rule], _z(energy, d[rule], sweeps, exact)) for rule in RULES}


def tempering(model, ladder, sweeps: int, seed: int) -> dict:
    exact = np.array([thermodynamics(model, T, progress=False).energy for T in ladder])
    pt = ParallelTempering(model, ladder, chains=CHAINS // 4, seed=seed)
    rows = []
    pt.run(sweeps + max(sweeps, 200), record=False, progress=False, observe=lambda e, cold: rows.append(e))
    energy = np.array(rows)  # (sweeps, R, B)
    d = _windows(energy.mean(axis=2), sweeps)
    return {rule: (d[rule], _z(energy[:, 0], d[rule], sweeps, exact[0])) for rule in RULES}  # the coldest


def cases(quick: bool):
    patterns = random_patterns(20, 3, seed=2)
    hop = hopfield(patterns)
    cw = curie_weiss(20, 1.0, 0.05)
    yield "Curie-Weiss N=20 T=0.8 random", lambda w, s: single(cw, 0.8, None, w, s)
    yield "Curie-Weiss N=20 T=1.5 all up", lambda w, s: single(cw, 1.5, np.ones(20), w, s)
    yield "SK N=20 T=0.5 random", lambda w, s: single(sk(20, seed=0), 0.5, None, w, s)
    yield "SK N=20 T=0.3 random", lambda w, s: single(sk(20, seed=0), 0.3, None, w, s)
    starts = np.repeat(np.asarray(patterns, dtype=np.float64), CHAINS // 3 + 1, axis=0)[:CHAINS]
    yield "Hopfield N=20 P=3 T=0.4 patterns", lambda w, s: single(hop, 0.4, starts, w, s)
    ladder = np.geomspace(0.4, 2.0, 8)
    yield "PT SK N=16 T=0.4-2 (8) random", lambda w, s: tempering(sk(16, seed=1), ladder, w, s)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    seeds = range(3 if quick else 8)
    table = {}
    for name, run in cases(quick):
        for sweeps in (20, 100, 1000):
            t0 = time.process_time()
            runs = [run(sweeps, seed) for seed in seeds]
            row = {}
            for rule in RULES:
                d = [r[rule][0] for r in runs]
                z = np.array([r[rule][1] for r in runs])
                row[rule] = {"burn_in": [int(min(d)), int(np.median(d)), int(max(d))],
                             "mean_z": float(z.mean()), "max_abs_z": float(np.abs(z).max())}
            table[f"{name}, W={sweeps}"] = row
            cells = "  ".join(f"{rule}: d={row[rule]['burn_in'][1]:>4} z={row[rule]['mean_z']:+6.2f}"
                              f"(max {row[rule]['max_abs_z']:4.1f})" for rule in RULES)
            print(f"{name}, W={sweeps} [{time.process_time() - t0:.1f} CPU s]\n  {cells}", flush=True)
    if "--json" in argv:
        print(json.dumps(table))


if __name__ == "__main__":
    main(sys.argv[1:])
