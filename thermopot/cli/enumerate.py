"""``thermopot enumerate MODEL --T T``: exact thermodynamics by enumeration of the 2^N states
(:func:`thermopot.exact.thermodynamics`, or its Dask version with ``--scheduler``/``--workers``)."""

from __future__ import annotations

import argparse

import numpy as np

from ..report import text_table
from .command import BACKEND, JSON, MODEL, TEMPERATURE, Output, arg, command, positive_int


@command("enumerate", "exact thermodynamics by enumeration of all 2^N states",
         MODEL, TEMPERATURE, BACKEND, JSON,
         arg("--block-size", type=positive_int, default=None, metavar="B", help="states per streaming tile"),
         arg("--scheduler", default=None, metavar="ADDRESS", help="enumerate on the Dask cluster at ADDRESS"),
         arg("--workers", type=positive_int, default=None, metavar="K",
             help="enumerate on a local Dask cluster of K worker processes"),
         arg("--threads", type=positive_int, default=None, metavar="T",
             help="threads computing tiles (default: every core; on Dask: 1 per task, one per worker thread)"))
def enumerate_command(args: argparse.Namespace) -> Output:
    from ..models import resolve_model  # noqa: PLC0415 (keep `thermopot --help` fast)

    if args.scheduler or args.workers:
        from ..distributed.enumeration import thermodynamics  # noqa: PLC0415
        options = {"scheduler": args.scheduler, "workers": args.workers}
    else:
        from ..exact import thermodynamics  # noqa: PLC0415
        options = {}
    th = thermodynamics(resolve_model(args.model), args.T, backend=args.backend, block_size=args.block_size,
                        threads=args.threads, **options)
    m, chi = th.magnetization, th.connected
    off = chi[~np.eye(th.n, dtype=bool)] if th.n > 1 else np.zeros(1)
    lines = [f"exact enumeration: N = {th.n} spins, T = {th.T:g} ({2**th.n} states, {th.backend}, "
             f"{th.seconds:.3g} s)",
             text_table(("quantity", "value"), [
                 ("log Z", f"{th.log_z:.10g}"), ("free energy F", f"{th.free_energy:.10g}"),
                 ("energy U", f"{th.energy:.10g}"), ("entropy S", f"{th.entropy:.10g}"),
                 ("heat capacity C", f"{th.heat_capacity:.10g}"),
                 ("mean magnetization", f"{m.mean():.6g}"),
                 ("max |m_k|", f"{np.abs(m).max():.6g}"),
                 ("max |<s_k s_l> - m_k m_l|, k != l", f"{np.abs(off).max():.6g}")])]
    if th.n <= 16:
        lines.append("magnetization: " + " ".join(f"{v:+.4f}" for v in m))
    return Output(th.to_dict(), "\n".join(lines))
