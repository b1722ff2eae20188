"""Showcase sweep: a knowledge claim against N. Do bound states trap the dynamics more as N grows?

He and Lubchenko's claims C6-C7 say that the bound states of a learned model prevent escape into the
high-temperature continuum, increasingly with N (ergodicity breaking). The experiment, for each size N and
each random instance: three random centres of N spins with 60 noisy copies each (every spin flipped with
probability 0.1: a data set whose moments lie inside the pairwise family), the exact maximum-likelihood
pairwise model (ridge 1e-3), its deepest bound state by exact enumeration, and ``chains`` heat-bath chains
at the model's own temperature T = 1 started there until their overlap with it falls below 1/2
(:func:`thermopot.knowledge.trapping_times`, censored at ``updates`` single-spin updates). The measured
quantity is the escape time tau in sweeps (N updates each). The reference, computed independently of the
chains from the model's energy table, is the exact escape barrier B (the lowest saddle on any path out of
the overlap-1/2 ball): Arrhenius kinetics gives log tau = B / T + const, so log tau and B / T should rise
with N with the same slope if the claim holds. The verdict is read from the slope of the instance-averaged
log tau against N and its standard error (instance scatter): supported when it exceeds two standard
errors, not supported when it is below minus two, else inconclusive at these sizes.

One command (resumable)::

    python docs/showcase/escape_vs_n.py --out runs/escape [--workers K] [--instances 8] [--sizes 8,10,...,16]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from thermopot.distributed import sweep
from thermopot.report import new_figure, save_figure

FIGURE = Path(__file__).with_name("escape_vs_n.png")
THRESHOLD = 0.5  # escape: the overlap with the start state falls below this
T_MODEL = 1.0    # the fitted model's own temperature


def escape(n: int, seed: int, chains: int = 32, updates: int = 400_000, ridge: float = 1e-3) -> dict:
    """One instance at size N: the escape time (sweeps) out of the fitted model's deepest bound state at T = 1
    and the exact barrier B of that state (see the module docstring)."""
    from thermopot.datasets import noisy_patterns_dataset
    from thermopot.knowledge import bound_states, trapping_times
    from thermopot.learning import fit

    data, _ = noisy_patterns_dataset(n, 3, 60, 0.1, seed=np.random.default_rng([seed, n]))
    model = fit(data, "exact", l2=ridge).model
    library = bound_states(data, model=model, T=T_MODEL, tap=False)
    deepest = int(np.argmin(library.energies))
    trap = trapping_times(None, library, [T_MODEL], rows=[deepest], chains=chains, threshold=THRESHOLD,
                          max_updates=updates, seed=seed)
    return {"tau": float(trap.mean_time[0, 0]) / n, "hits": int(trap.hits[0, 0]), "barrier": float(trap.barrier[0]),
            "minima": int(library.count), "training": bool(library.is_training[deepest])}


def slope(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares slope of y against x (weights 1/err^2) and its standard error."""
    w = 1.0 / err**2
    xm = (w * x).sum() / w.sum()
    s = float((w * (x - xm) * y).sum() / (w * (x - xm) ** 2).sum())
    return s, float(1.0 / math.sqrt((w * (x - xm) ** 2).sum()))


def verdict(value: float, error: float) -> str:
    """supported above two standard errors, not supported below minus two, else inconclusive."""
    if value > 2 * error:
        return "supported"
    return "not supported" if value < -2 * error else "inconclusive at these sizes"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/escape", help="sweep folder (Parquet rows; resumable)")
    parser.add_argument("--workers", type=int, default=None, help="Dask worker processes (default: cores)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--sizes", default="8,10,12,14,16", help="comma-separated N")
    parser.add_argument("--instances", type=int, default=8, help="random instances per N")
    parser.add_argument("--chains", type=int, default=32, help="escape chains per instance")
    parser.add_argument("--updates", type=int, default=400_000, help="single-spin updates before censoring")
    parser.add_argument("--figure", default=str(FIGURE), help="where to write the PNG")
    args = parser.parse_args(argv)
    sizes = [int(v) for v in args.sizes.split(",")]
    rows = sweep(escape, {"n": sizes, "seed": list(range(args.instances)), "chains": args.chains,
                          "updates": args.updates}, out=args.out, workers=args.workers, scheduler=args.scheduler)
    ok = rows[(rows["status"] == "ok") & rows["n"].isin(sizes) & (rows["chains"] == args.chains)
              & (rows["updates"] == args.updates) & (rows["seed"] < args.instances)]
    ok = ok.assign(log_tau=np.log(ok["result.tau"].astype(float)),
                   b_over_t=ok["result.barrier"].astype(float) / T_MODEL)
    by_n = ok.groupby("n")
    ns = np.array(sizes, dtype=float)
    log_tau = by_n["log_tau"].mean().reindex(sizes).to_numpy()
    log_tau_se = (by_n["log_tau"].std(ddof=1) / np.sqrt(by_n.size())).reindex(sizes).to_numpy()
    barrier = by_n["b_over_t"].mean().reindex(sizes).to_numpy()
    barrier_se = (by_n["b_over_t"].std(ddof=1) / np.sqrt(by_n.size())).reindex(sizes).to_numpy()
    floor = 1e-3  # an error bar of zero (identical instances) would give an infinite weight
    tau_slope, tau_slope_se = slope(ns, log_tau, np.maximum(log_tau_se, floor))
    barrier_slope, barrier_slope_se = slope(ns, barrier, np.maximum(barrier_se, floor))
    censored = int((ok["result.hits"] < args.chains).sum())
    fig, ax = new_figure(size=(6.0, 4.2))
    ax.errorbar(ns, log_tau, yerr=log_tau_se, fmt="o-", capsize=3, label="log tau (sweeps), heat-bath chains")
    ax.errorbar(ns, barrier, yerr=barrier_se, fmt="s--", capsize=3, label="B / T, exact barrier (reference)")
    ax.set_xlabel("N")
    ax.set_ylabel("log escape time / barrier over T")
    ax.set_title(f"C6-C7: escape from the deepest bound state at T = {T_MODEL:g}, {args.instances} instances per N\n"
                 f"d log tau / dN = {tau_slope:.3f} +- {tau_slope_se:.3f}, d(B/T)/dN = {barrier_slope:.3f} +- "
                 f"{barrier_slope_se:.3f}", fontsize="small")
    ax.legend(fontsize="small")
    save_figure(fig, args.figure)
    summary = {"sizes": sizes, "instances": args.instances, "log_tau": log_tau.tolist(),
               "log_tau_stderr": log_tau_se.tolist(), "barrier_over_T": barrier.tolist(),
               "barrier_over_T_stderr": barrier_se.tolist(), "slope": tau_slope, "slope_stderr": tau_slope_se,
               "barrier_slope": barrier_slope, "barrier_slope_stderr": barrier_slope_se,
               "verdict": verdict(tau_slope, tau_slope_se), "censored_instances": censored,
               "failed_tasks": int((rows["status"] != "ok").sum()), "figure": args.figure}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
