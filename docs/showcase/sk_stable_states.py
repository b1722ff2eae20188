"""Showcase sweep: how many single-flip-stable states does an SK spin glass have?

Exact enumeration counts the single-flip-stable states (no flip lowers the energy) of every instance;
a Dask sweep runs thousands of instances. Tanaka and Edwards (1980, J. Phys. F 10, 2769) computed the
annealed average <N_s> ~ exp(0.1992 N) (the complexity of the T = 0 metastable states), so
log <N_s> should grow linearly in N with slope 0.1992. The figure shows log <N_s> against N with its
error bars, the weighted least-squares slope and the Tanaka-Edwards slope.

One command (resumable: a re-run skips finished instances)::

    python docs/showcase/sk_stable_states.py --out runs/sk-stable [--workers K] [--instances 1000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from thermopot.distributed import sweep
from thermopot.report import new_figure, save_figure

TANAKA_EDWARDS = 0.1992  # annealed complexity of single-flip-stable SK states at T = 0 (Tanaka-Edwards 1980)
FIGURE = Path(__file__).with_name("sk_stable_states.png")


def log_mean_counts(n: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per size: N, log of the mean count and its standard error (delta method: se(mean) / mean)."""
    sizes = np.unique(n)
    means = np.array([counts[n == k].mean() for k in sizes])
    se = np.array([counts[n == k].std(ddof=1) / np.sqrt((n == k).sum()) for k in sizes])
    return sizes, np.log(means), se / means


def fitted_slope(sizes: np.ndarray, log_mean: np.ndarray, se: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares log <N_s> = a + b N: (b, its standard error, a)."""
    w = 1.0 / se ** 2
    A = np.stack([np.ones_like(sizes, dtype=float), sizes.astype(float)], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * log_mean))
    return float(b), float(np.sqrt(cov[1, 1])), float(a)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/sk-stable", help="sweep folder (Parquet rows; resumable)")
    parser.add_argument("--workers", type=int, default=None, help="Dask worker processes (default: cores)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--instances", type=int, default=1000, help="SK instances per size")
    parser.add_argument("--sizes", default="8,10,12,14,16,18,20", help="comma-separated N")
    parser.add_argument("--figure", default=str(FIGURE), help="where to write the PNG")
    args = parser.parse_args(argv)
    sizes = [int(k) for k in args.sizes.split(",")]
    models = [f"sk:n={n},seed={s}" for n in sizes for s in range(args.instances)]
    rows = sweep("landscape", {"model": models}, out=args.out, workers=args.workers, scheduler=args.scheduler)
    ok = rows[rows["status"] == "ok"]
    n = np.array([int(m.split("n=")[1].split(",")[0]) for m in ok["model"]])
    counts = ok["result.count"].to_numpy(dtype=float)
    k, log_mean, se = log_mean_counts(n, counts)
    slope, slope_se, intercept = fitted_slope(k, log_mean, se)
    fig, ax = new_figure(size=(6.0, 4.2))
    ax.errorbar(k, log_mean, yerr=se, fmt="o", label=f"exact counts, {args.instances} SK instances per N")
    ax.plot(k, intercept + slope * k, "-", label=f"fit: slope {slope:.4f} ± {slope_se:.4f}")
    ax.plot(k, log_mean[-1] + TANAKA_EDWARDS * (k - k[-1]), "--",
            label=f"Tanaka-Edwards slope {TANAKA_EDWARDS} (through the largest N)")
    ax.set_xlabel("N")
    ax.set_ylabel("log <number of single-flip-stable states>")
    ax.legend(loc="upper left", fontsize="small")
    save_figure(fig, args.figure)
    summary = {"sizes": k.tolist(), "log_mean_count": log_mean.tolist(), "stderr": se.tolist(),
               "slope": slope, "slope_stderr": slope_se, "tanaka_edwards": TANAKA_EDWARDS,
               "failed_tasks": int((rows["status"] != "ok").sum()), "figure": args.figure}
    print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
