"""``thermopot logz MODEL --T T [--method ais|ti]``: log Z without enumeration
(:func:`thermopot.sampling.log_partition`)."""

from __future__ import annotations

import argparse

from .command import (BACKEND, JSON, MODEL, TEMPERATURE, Output, arg, command, nonnegative_int,
                      positive_int)


@command("logz", "log Z without enumeration: annealed importance sampling or thermodynamic integration",
         MODEL, TEMPERATURE,
         arg("--method", choices=("ais", "ti"), default="ais",
             help="annealed importance sampling (default) or thermodynamic integration on a tempering ladder"),
         arg("--chains", type=positive_int, default=None, metavar="C",
             help="annealed chains (ais; default 256) or tempering columns (ti; default 16)"),
         arg("--steps", type=positive_int, default=None, metavar="K",
             help="annealing temperatures (ais; default 1000) or ladder temperatures (ti; default 24)"),
         arg("--sweeps", type=positive_int, default=2000, metavar="W", help="recorded tempering sweeps (ti)"),
         arg("--seed", type=nonnegative_int, default=0, help="random seed"), BACKEND, JSON)
def logz_command(args: argparse.Namespace) -> Output:
    """JSON: log_z, log_z_stderr, free_energy, free_energy_stderr, method, T, n, chains, steps, seed, backend,
    seconds, log_z_quadrature (ti: the ladder's quadrature error, included in log_z_stderr; 0 for ais),
    warnings (e.g. a ladder pair whose swap rate is low; also on stderr) (thermopot.sampling.log_partition)."""
    from ..sampling import log_partition  # noqa: PLC0415

    res = log_partition(args.model, args.T, method=args.method, chains=args.chains, steps=args.steps,
                        sweeps=args.sweeps, seed=args.seed, backend=args.backend)
    text = (f"log Z = {res.log_z:.6f} +- {res.log_z_stderr:.2g} ({res.method.upper()}, N = {res.n}, T = {res.T:g}, "
            f"{res.chains} chains, {res.steps} steps, {res.seconds:.3g} s on {res.backend})\n"
            f"F = -T log Z = {res.free_energy:.6f} +- {res.free_energy_stderr:.2g}")
    return Output(res.to_dict(), text)
