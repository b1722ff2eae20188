"""``thermopot landscape MODEL [--T T]``: single-flip stable states, their basins and per-basin free
energies (:func:`thermopot.landscape.local_minima`)."""

from __future__ import annotations

import argparse

import numpy as np

from ..report import text_table
from .command import BACKEND, JSON, MODEL, OPTIONAL_TEMPERATURE, Output, arg, command, nonnegative_int, signs


@command("landscape", "zero-temperature minima (single-flip stable states), basins, per-basin F",
         MODEL, OPTIONAL_TEMPERATURE, BACKEND, JSON,
         arg("--limit", type=nonnegative_int, default=20, metavar="K", help="rows shown in the text output"))
def landscape_command(args: argparse.Namespace) -> Output:
    from ..landscape import local_minima  # noqa: PLC0415
    from ..models import resolve_model  # noqa: PLC0415

    land = local_minima(resolve_model(args.model), T=args.T, backend=args.backend)
    data = land.to_dict()
    headers = ["#", "state", "energy", "basin size", "strict"]
    if args.T is not None:
        headers += ["F_a", "mean m_a"]
    stable = sorted(data["minima"] + data["plateaus"], key=lambda r: r["row"])
    rows = []
    for row in stable[:args.limit]:
        cells = [str(row["row"]), signs(row["state"]), f"{row['energy']:.8g}", str(row["basin_size"]),
                 "yes" if bool(land.strict[row["row"]]) else "no"]
        if args.T is not None:
            cells += [f"{row['free_energy']:.8g}", f"{np.mean(row['magnetization']):+.4f}"]
        rows.append(cells)
    text = [f"{land.count} strict single-flip minima ({len(stable)} stable states) in "
            f"{land.seconds:.3g} s" + (f", per-basin quantities at T = {args.T:g}" if args.T is not None else ""),
            text_table(headers, rows)]
    if len(stable) > len(rows):
        text.append(f"... {len(stable) - len(rows)} more (see --json or --limit)")
    return Output(data, "\n".join(text))
