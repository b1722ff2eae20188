"""The sampled path beyond enumeration, against the goals of issue 12 (2-core CPU):

- parallel tempering: what the swaps (and the per-sweep energies they need) add to the cost of the
  sweeps, SK N = 64, 16 temperatures x 16 columns (goal: < 10 %);
- log Z for SK N = 64 at T = 1 by AIS (256 chains, 1000 steps) and by thermodynamic integration (24
  temperatures x 16 columns x 1000 sweeps): seconds and standard error (goal: stderr < 0.05 in < 60 s);
- PCD fit of N = 64 from 1797 samples of noisy patterns (8 patterns, 10 % of the spins flipped): seconds
  and the fraction of the N(N+1)/2 moments matched within 2 standard errors (goal: < 2 minutes).

- PCD on the digits at 8x8 (N = 61, 1797 samples): seconds, and the moments within 2 standard errors by
  the fit's own chains and by an independent tempering run (the model's equilibrium, trapping included);
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
from thermopot.learning import fit
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


def pcd_row(quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    xi = np.asarray(random_patterns(64, 8, seed=0), dtype=np.int8)
    data = xi[rng.integers(0, 8, 1797)] * np.where(rng.random((1797, 64)) < 0.1, -1, 1).astype(np.int8)
    steps = 300 if quick else 1500
    t0 = time.perf_counter()
    res = fit(data, "pcd", chains=256, steps=steps, l2=1e-3, seed=0)
    seconds = time.perf_counter() - t0
    within = res.diagnostics["fraction_within_2_stderr"]
    log("sampled", f"PCD N=64: {seconds:.3g} s, {100 * within:.1f} % of the moments within 2 stderr")
    return [row("PCD fit (N=64, 1797 samples)", seconds, "s", "numpy",
                f"{steps} steps x 256 chains, l2 = 1e-3; {100 * within:.1f} % of the moments within 2 stderr, "
                f"largest |mismatch| m {res.diagnostics['sampled_magnetization_mismatch']:.3g}, C "
                f"{res.diagnostics['sampled_correlation_mismatch']:.3g} (goal: < 2 min); {_kernel_note()}",
                fraction_within_2_stderr=within)]


def _tempering_moments(model, n: int, sweeps: int) -> tuple[np.ndarray, np.ndarray]:
    """<s_k> and <s_k s_l> (k < l) of ``model`` at T = 1 from the T = 1 replicas of a tempering run (12
    temperatures in 1..4, 32 columns): the mean over the columns and its standard error (independent
    columns, so no autocorrelation model is needed)."""
    iu = np.triu_indices(n, 1)
    pt = ParallelTempering(model, np.geomspace(1.0, 4.0, 12), chains=32, seed=12)
    pt.run(sweeps // 5, record=False, progress=False)
    total = np.zeros((32, n + iu[0].size))
    for _ in range(sweeps):
        s = pt.run(1, record=False, progress=False).states()[0].astype(np.float64)  # (B, N)
        total += np.concatenate([s, (s[:, :, None] * s[:, None, :])[:, iu[0], iu[1]]], axis=1)
    per_column = total / sweeps
    return per_column.mean(axis=0), per_column.std(axis=0, ddof=1) / np.sqrt(32)


def pcd_digits_row(quick: bool) -> list[dict]:
    """PCD on the digits at 8x8 (N = 61 after the constant pixels, 1797 samples): seconds, and the moments
    within 2 standard errors by the fit's own diagnostic and by an independent tempering run."""
    from thermopot.datasets import load_digits

    digits = load_digits(64)
    keep = np.setdiff1d(np.arange(64), digits.dataset.constant_columns())
    samples = digits.samples[:, keep]
    n = samples.shape[1]
    steps = 500 if quick else 2000
    t0 = time.perf_counter()
    res = fit(samples, "pcd", chains=256, steps=steps, l2=1e-3, seed=0)
    seconds = time.perf_counter() - t0
    m = samples.mean(axis=0)
    c = (samples.T.astype(np.float64) @ samples) / len(samples)
    est, se = _tempering_moments(res.model, n, 300 if quick else 1500)
    mismatch = est - np.concatenate([m, c[np.triu_indices(n, 1)]])
    judged = float(np.mean(np.abs(mismatch) <= 2 * se))
    own = res.diagnostics["fraction_within_2_stderr"]
    log("sampled", f"PCD digits64: {seconds:.3g} s, {100 * own:.1f} % (own) / {100 * judged:.1f} % (tempering)")
    return [row("PCD fit, digits64 (N=61, 1797 samples)", seconds, "s", "numpy",
                f"{steps} steps x 256 chains, l2 = 1e-3; moments within 2 stderr: {100 * own:.1f} % by the fit's "
                f"own chains, {100 * judged:.1f} % by an independent tempering run (largest |mismatch| "
                f"{np.abs(mismatch).max():.3g}) (goal: < 2 min, all within 2 stderr); {_kernel_note()}",
                fraction_within_2_stderr=own, fraction_within_2_stderr_tempering=judged)]


def pipeline_row(quick: bool) -> list[dict]:
    """The sampled knowledge pipeline on digits64 at the quick sizes (the same in both modes)."""
    import warnings

    from thermopot.knowledge import run_knowledge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ = run_knowledge("digits64", method="sampled", progress=False)
    total = run_.seconds["total"]
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in run_.seconds.items() if k != "total")
    log("sampled", f"sampled knowledge pipeline digits64: {total:.1f} s ({steps})")
    return [row("sampled knowledge pipeline, digits64 (N=61), quick sizes", total, "s", "numpy",
                f"{steps} (goal: < 10 min); {_kernel_note()}", seconds_per_step=run_.seconds)]


def run(quick: bool = False) -> list[dict]:
    """All rows (see the module docstring)."""
    return swap_overhead(quick) + log_z_rows(quick) + pcd_row(quick) + pcd_digits_row(quick) + pipeline_row(quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.splitlines()[0], "shorter runs"))
