"""Showcase sweep: the retrieval phase of the Hopfield model in the (alpha, T) plane, from `find_minima`.

For each load alpha = p / N, temperature T and random instance (p random patterns, Hebbian couplings),
the TAP free energy (Plefka order 2) is relaxed from a start near every stored pattern (m = 0.9 xi^mu);
the map shows the mean overlap m . xi^mu / N of the minimum each start ends in with its own pattern (0
when it ends nowhere), and a pattern counts as retrieved when that overlap is at least 0.3, far above the
1/sqrt(N) overlaps of the paramagnet and of spin-glass states (the retrieval overlap falls continuously to
0 near T_M, so a fixed threshold marks the boundary a little below it). Amit, Gutfreund and Sompolinsky (1987, Ann. Phys. 173,
30) find, for N -> infinity in the replica-symmetric theory, retrieval states for T below T_M(alpha),
with T_M -> 1 as alpha -> 0 and alpha_c = 0.138 at T = 0; the points are drawn as references (TAP at
finite N is not their theory: read the map as a measurement, not as a fit).

One command (resumable)::

    python docs/showcase/hopfield_retrieval.py --out runs/hopfield [--workers K] [--n 200] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from thermopot.distributed import sweep
from thermopot.report import new_figure, save_figure

FIGURE = Path(__file__).with_name("hopfield_retrieval.png")
ALPHA_C = 0.138  # AGS (1987): the storage capacity at T = 0
OVERLAP = 0.3    # a start is a retrieval when it ends in a minimum with at least this overlap with its pattern


def retrieval(n: int, p: int, T: float, seed: int, method: str = "tap2") -> dict:
    """Fraction of the p patterns retrieved by the minima of the ``method`` free energy at T (one instance)."""
    from thermopot.models import hopfield
    from thermopot.solvers import find_minima

    xi = np.random.default_rng([seed, n, p]).choice([-1.0, 1.0], size=(p, n))
    found = find_minima(hopfield(xi), T, method=method, init=0.9 * xi, seed=seed)
    reached = found.start_point
    ok = reached >= 0
    m = found.points[np.where(ok, reached, 0)]
    overlap = np.where(ok, np.einsum("pk,pk->p", m, xi) / n, 0.0)
    retrieved = ok & found.is_minimum[np.where(ok, reached, 0)] & (overlap >= OVERLAP)
    return {"alpha": p / n, "retrieved": float(retrieved.mean()), "overlap": float(overlap.mean()),
            "minima": int(found.count)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/hopfield", help="sweep folder (Parquet rows; resumable)")
    parser.add_argument("--workers", type=int, default=None, help="Dask worker processes (default: cores)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--n", type=int, default=200, help="spins N")
    parser.add_argument("--seeds", type=int, default=3, help="instances per (alpha, T)")
    parser.add_argument("--loads", type=int, default=16, help="number of loads alpha in (0, 0.2]")
    parser.add_argument("--temperatures", type=int, default=12, help="number of temperatures in (0, 1.2]")
    parser.add_argument("--figure", default=str(FIGURE), help="where to write the PNG")
    args = parser.parse_args(argv)
    ps = sorted({max(1, round(a * args.n)) for a in np.linspace(0.2 / args.loads, 0.2, args.loads)})
    Ts = [round(float(t), 4) for t in np.linspace(1.2 / args.temperatures, 1.2, args.temperatures)]
    rows = sweep(retrieval, {"n": args.n, "p": ps, "T": Ts, "seed": list(range(args.seeds))}, out=args.out,
                 workers=args.workers, scheduler=args.scheduler)
    ok = rows[rows["status"] == "ok"]
    grid = ok.groupby(["p", "T"])["result.retrieved"].mean().unstack("T").reindex(index=ps, columns=Ts)
    overlap = ok.groupby(["p", "T"])["result.overlap"].mean().unstack("T").reindex(index=ps, columns=Ts)
    fig, ax = new_figure(size=(6.0, 4.2))
    alphas = np.array(ps) / args.n
    image = ax.pcolormesh(alphas, Ts, overlap.to_numpy().T, shading="nearest", vmin=0.0, vmax=1.0, cmap="viridis")
    fig.colorbar(image, ax=ax, label="mean overlap of the minimum reached with its pattern")
    ax.contour(alphas, Ts, grid.to_numpy().T, levels=[0.5], colors="white", linewidths=1.0)
    ax.plot([ALPHA_C], [0.0], "r^", clip_on=False, label=f"AGS alpha_c = {ALPHA_C} (T = 0)")
    ax.plot([0.0], [1.0], "rs", clip_on=False, label="AGS T_M -> 1 (alpha -> 0)")
    ax.set_xlabel("alpha = p / N")
    ax.set_ylabel("T")
    ax.set_title(f"Hopfield N = {args.n}, TAP minima, {args.seeds} instance(s) per point\nwhite line: half of "
                 f"the patterns retrieved (overlap >= {OVERLAP})", fontsize="small")
    ax.legend(loc="upper right", fontsize="small")
    save_figure(fig, args.figure)
    summary = {"n": args.n, "p": ps, "T": Ts, "retrieved": grid.to_numpy().tolist(),
               "overlap": overlap.to_numpy().tolist(),
               "failed_tasks": int((rows["status"] != "ok").sum()), "figure": args.figure}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
