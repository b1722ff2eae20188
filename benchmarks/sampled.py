"""The sampled path beyond enumeration, against the goals of issue 12 (2-core CPU):

- parallel tempering: what the swaps (and the per-sweep energies they need) add to the cost of the
  sweeps, SK N = 64, 16 temperatures x 16 columns (goal: < 10 %);
- log Z for SK N = 64 at T = 1 by AIS (256 chains, 1000 steps) and by thermodynamic integration (24
  temperatures x 16 columns x 1000 sweeps): seconds and standard error (goal: stderr < 0.05 in < 60 s);
- PCD fit of N = 64 from 1797 samples of noisy patterns (8 patterns, 10 % of the spins flipped) and on the
  digits at 8x8 (N = 61, 1797 samples): seconds, and the fraction of the N(N+1)/2 moments within 2 standard
  errors by the fit's own chains and by ``check_moments`` on independent tempering columns (the model's
  equilibrium, trapping included), with the data's standard error combined and without (goal: < 2
  minutes, moments within 2 standard errors; ``benchmarks/pcd_goal.py`` explores the settings);
- the whole sampled knowledge pipeline on the digits at 8x8 (``run_knowledge("digits64", method="sampled")``,
  quick sizes; goal: < 10 minutes), seconds per step.

Quick mode: shorter runs (the pipeline row runs the quick sizes in both modes). Run: ``python benchmarks/sampled.py [--quick] [--json]`` or
``thermopot bench --only sampled``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.learning import check_moments, fit
from thermopot.models import random_patterns, sk
from thermopot.sampling import compiled
from thermopot.sampling.free_energy import log_partition
from thermopot.sampling.tempering import ParallelTempering


def _kernel_note() -> str:
    return "compiled CPU kernel (numba)" if compiled.available() else "array path (numba not installed)"


def swap_overhead(quick: bool) -> list[dict]:
    """Seconds of W tempering sweeps with swaps against the same sweeps of the same chains without them."""
    sweeps = 100 if quick else 400
    pt = ParallelTempering(sk(64, seed=0), np.geomspace(1.0, 5.0, 16), chains=16, seed=0)
    pt.run(20, record=False, progress=False)
    chains = pt.ensemble.work(pt.state)  # the same chains, one sweep at a time, without the swaps
    t0 = time.perf_counter()
    for _ in range(sweeps):
        chains.sweep()
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    pt.run(sweeps, record=False, progress=False)
    with_swaps = time.perf_counter() - t0
    added = with_swaps / bare - 1.0
    log("sampled", f"tempering: {bare:.3g} s of sweeps, {with_swaps:.3g} s with swaps (+{100 * added:.1f} %)")
    return [row("tempering swaps: added to the sweeps (SK N=64, 16 x 16 chains)", 100 * added, "%", "numpy",
                f"{sweeps} sweeps: {bare:.3g} s bare, {with_swaps:.3g} s with swaps; goal < 10 %; {_kernel_note()}")]


def log_z_rows(quick: bool) -> list[dict]:
    model = sk(64, seed=0)
    options = {"ais": {"chains": 256, "steps": 300 if quick else 1000},
               "ti": {"chains": 16, "steps": 24, "sweeps": 300 if quick else 1000}}
    rows = []
    for method, kw in options.items():
        res = log_partition(model, 1.0, method=method, seed=0, **kw)
        log("sampled", f"log Z {method}: {res.log_z:.4f} +- {res.log_z_stderr:.3g} in {res.seconds:.3g} s")
        rows.append(row(f"log Z by {method.upper()} (SK N=64, T=1)", res.seconds, "s", "numpy",
                        f"log Z = {res.log_z:.4f} +- {res.log_z_stderr:.3g} (goal: stderr < 0.05 in < 60 s); {kw}; "
                        f"{_kernel_note()}", stderr=res.log_z_stderr))
    return rows


def _pcd_row(name: str, samples: np.ndarray, steps: int, quick: bool) -> list[dict]:
    """One PCD fit (256 chains, l2 = 1e-3): seconds, and the moments within 2 standard errors by the fit's
    own diagnostic and by the honest test of the returned model (``check_moments``: 32 independent
    tempering columns, 12 T in 1..4, the chain-to-chain standard error, with the data's or alone)."""
    t0 = time.perf_counter()
    res = fit(samples, "pcd", chains=256, steps=steps, l2=1e-3, seed=0)
    seconds = time.perf_counter() - t0
    sweeps = 300 if quick else 1500
    check = check_moments(res.model, samples, l2=1e-3, chains=32, sweeps=sweeps, burn_in=sweeps // 5,
                          tempering=np.geomspace(1.0, 4.0, 12), seed=12)
    own = res.diagnostics["fraction_within_2_stderr"]
    combined, alone = check.fraction_within_2_stderr, check.fraction_within_2_model_stderr
    log("sampled", f"PCD {name}: {seconds:.3g} s, {100 * own:.1f} % (own) / {100 * combined:.1f} % combined / "
                   f"{100 * alone:.1f} % model-only (tempering check)")
    return [row(f"PCD fit ({name}, 1797 samples)", seconds, "s", "numpy",
                f"{steps} steps x 256 chains, l2 = 1e-3; moments within 2 stderr: {100 * own:.1f} % by the fit's "
                f"own chains; by an independent tempering check {100 * combined:.1f} % (model and data stderr "
                f"combined, largest |z| {check.max_abs_z:.3g}) and {100 * alone:.1f} % (model stderr alone, "
                f"largest |z| {check.max_abs_z_model:.3g}); largest |mismatch| {check.largest_mismatch:.3g} "
                f"(goal: < 2 min, moments within 2 stderr); {_kernel_note()}",
                fraction_within_2_stderr=own, fraction_within_2_stderr_tempering=combined,
                fraction_within_2_model_stderr_tempering=alone)]


def pcd_row(quick: bool) -> list[dict]:
    """PCD on 1797 noisy copies (10 % flipped) of 8 random patterns of N = 64."""
    rng = np.random.default_rng(0)
    xi = np.asarray(random_patterns(64, 8, seed=0), dtype=np.int8)
    data = xi[rng.integers(0, 8, 1797)] * np.where(rng.random((1797, 64)) < 0.1, -1, 1).astype(np.int8)
    return _pcd_row("planted N=64", data, 300 if quick else 1500, quick)


def pcd_digits_row(quick: bool) -> list[dict]:
    """PCD on the digits at 8x8 (N = 61 after the 3 constant pixels)."""
    from thermopot.datasets import load_digits

    digits = load_digits(64)
    keep = np.setdiff1d(np.arange(64), digits.dataset.constant_columns())
    return _pcd_row("digits64 N=61", digits.samples[:, keep], 500 if quick else 2000, quick)


def _pipeline_row(data, name: str, backend: str) -> list[dict]:
    """``run_knowledge(data, method="sampled")`` at the quick sizes on ``backend``: seconds per step."""
    import warnings

    from thermopot.knowledge import run_knowledge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ = run_knowledge(data, method="sampled", progress=False, backend=backend)
    total = run_.seconds["total"]
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in run_.seconds.items() if k != "total")
    log("sampled", f"sampled knowledge pipeline {name} {backend}: {total:.1f} s ({steps})")
    return [row(f"sampled knowledge pipeline, {name}, quick sizes", total, "s", backend,
                f"{steps} (goal: < 10 min); {_kernel_note() if backend == 'numpy' else 'CuPy'}",
                seconds_per_step=run_.seconds)]


def pipeline_row(quick: bool) -> list[dict]:
    """The sampled knowledge pipeline on digits64 at the quick sizes (the same in both modes)."""
    return _pipeline_row("digits64", "digits64 (N=61)", "numpy")


def planted256_row(backend: str = "cupy") -> list[dict]:
    """The sampled knowledge pipeline on planted N = 256 (4 random patterns, 250 noisy copies each with 5 %
    of the spins flipped, seed 0: the data of the README's CPU rows), quick sizes; issue 12's GPU goal
    (< 10 minutes on a GPU)."""
    from thermopot.datasets import noisy_patterns_dataset

    data, _ = noisy_patterns_dataset(256, 4, 250, 0.05, seed=0)
    return _pipeline_row(data, "planted N=256", backend)


def run(quick: bool = False) -> list[dict]:
    """All rows (see the module docstring)."""
    return swap_overhead(quick) + log_z_rows(quick) + pcd_row(quick) + pcd_digits_row(quick) + pipeline_row(quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.splitlines()[0], "shorter runs"))
