"""The `thermopot sample` command: run chains and summarise them (registered in thermopot.cli)."""

from __future__ import annotations

import argparse

import numpy as np

from .chains import sample


def sample_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Run ``thermopot sample MODEL --T T --chains C --sweeps W`` (plus the optional --burn-in,
    --method, --scan, --seed, --generator (alias --rng), --correlations, --backend) and return
    (JSON fields, text summary)."""
    res = sample(args.model, args.T, chains=args.chains, sweeps=args.sweeps,
                 burn_in=getattr(args, "burn_in", None), method=getattr(args, "method", "heat-bath"),
                 scan=getattr(args, "scan", "sequential"), seed=getattr(args, "seed", 0),
                 correlations=getattr(args, "correlations", False),
                 generator=getattr(args, "generator", getattr(args, "rng", None)),
                 backend=getattr(args, "backend", None))
    m, err = res.magnetization, res.magnetization_stderr
    lines = [f"{res.method} {res.scan}-scan sampling: N = {res.n}, T = {res.T:g}, {res.chains} chains x "
             f"{res.sweeps} sweeps ({res.backend}{', fused kernel' if res.fused else ''}"
             f"{', compiled kernel' if res.compiled else ''}, "
             f"{res.seconds:.3g} s, {res.generator} seed {res.seed})",
             f"energy U = {res.energy:.8g} +- {res.energy_stderr:.2g}",
             f"mean magnetization = {m.mean():+.6f}, largest stderr of m_k = {np.nanmax(err):.2g}",
             f"tau_int (sweeps): energy {res.tau_int['energy']:.3g}, magnetization "
             f"{res.tau_int['magnetization']:.3g}; flip rate {res.flip_rate:.3f}"]
    if res.n <= 16:
        lines.append("magnetization: " + " ".join(f"{v:+.4f}" for v in m))
    return res.to_dict(), "\n".join(lines)
