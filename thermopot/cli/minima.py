"""``thermopot minima MODEL --T T``: every minimum of a mean-field or TAP free energy from many starts
(:func:`thermopot.solvers.find_minima`)."""

from __future__ import annotations

import argparse

import numpy as np

from ..report import text_table
from .command import BACKEND, JSON, MODEL, TEMPERATURE, Output, arg, command, given, nonnegative_int, positive_int


@command("minima", "every minimum of a mean-field or TAP free energy from many starts",
         MODEL, TEMPERATURE,
         arg("--method", choices=("nmf", "tap2", "tap3", "tap4"), default=None,
             help="naive mean field or TAP (Plefka) of order 2, 3, 4 (default tap2)"),
         arg("--starts", type=positive_int, default=None, metavar="K", help="random starts (default 256)"),
         arg("--seed", type=nonnegative_int, default=None, metavar="S", help="seed of the starts"),
         arg("--limit", type=nonnegative_int, default=20, metavar="K", help="rows shown in the text output"),
         arg("--seeds", choices=("quench", "nmf", "thermal", "random"), default=None,
             help="starts for the spin-glass phase: zero-temperature quenches, nMF minima or chain averages, "
                  "each run through the Bolthausen (AMP) iteration first (default: uniform random starts)"),
         arg("--valid-only", nargs="?", const="global", default=None, choices=("global", "site"),
             help="keep only the minima that satisfy Plefka's global condition beta^2 J^2 (1/N) sum (1 - m^2)^2 < 1 "
                  "(the default of the flag; Plefka 1982) or his per-site one"),
         BACKEND, JSON)
def minima_command(args: argparse.Namespace) -> Output:
    """JSON: the fields of ``thermopot.solvers.minima.MeanFieldMinima`` (``--valid-only`` keeps the valid rows)."""
    from ..models import resolve_model  # noqa: PLC0415
    from ..solvers import find_minima  # noqa: PLC0415

    res = find_minima(resolve_model(args.model), args.T, **given(args, "method", "starts", "seed", "seeds", "backend"))
    data = res.to_dict()
    if args.valid_only is not None:
        key = "plefka_global" if args.valid_only == "global" else "plefka_valid"
        data["minima"] = [row for row in data["minima"] if row[key]]
        data["valid_only"] = args.valid_only
    rows = [(str(a), f"{row['free_energy']:.8g}", f"{np.mean(row['m']):+.4f}", f"{np.mean(np.abs(row['m'])):.4f}",
             f"{row['hessian_min_eig']:.3g}", "yes" if row["plefka_valid"] else "NO",
             f"{row['plefka_ratio']:.3f}", f"{row['basin_fraction']:.3f}")
            for a, row in enumerate(data["minima"][:args.limit])]
    kept = "" if args.valid_only is None else (f"; {len(data['minima'])} satisfy Plefka's {args.valid_only} "
                                               "condition and are listed")
    text = [f"{res.count} minima and {res.saddles} other stationary points of {res.method} at T = {args.T:g} "
            f"from {res.starts} starts ({res.message}) in {res.seconds:.3g} s{kept}",
            text_table(("#", "free energy", "mean m", "mean |m|", "min eig", "Plefka site", "Plefka x (<1)",
                        "fraction"), rows)]
    if len(data["minima"]) > len(rows):
        text.append(f"... {len(data['minima']) - len(rows)} more (see --json or --limit)")
    return Output(data, "\n".join(text))
