"""``thermopot fit DATA.npz --method {exact,pseudo,nmf,tap} [--out MODEL.npz [--force]] [--json]``: the command's
work, given the parsed arguments (registered in thermopot/cli.py)."""

from __future__ import annotations

import argparse

import numpy as np

from ..fileio import refuse_overwrite
from ..models.io import model_path, save_model
from ..datasets.dataset import load_dataset, warn_few_samples
from .fit import fit

#: command-line options passed on to the method when given (a method refuses one it does not take)
OPTIONS = ("l2", "pseudocount", "max_iter", "chains", "steps", "seed", "backend")


def fit_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Fit the data file ``args.data`` by ``args.method``; save to ``args.out`` when given (atomically;
    an existing file only with ``args.force``, never the data file itself).
    Returns the JSON object (docs/architecture.md fields h, J, method, log_likelihood, seconds, and diagnostics)
    and a readable summary."""
    out = getattr(args, "out", None)
    if out:  # refuse an unwritable --out, an existing one without --force, and the data file, before the fit
        out = model_path(out)
        refuse_overwrite(out, force=getattr(args, "force", False), inputs=(args.data,))
    data = load_dataset(args.data, binary01=getattr(args, "binary01", False))
    warn_few_samples(data, f"data file {str(args.data)!r}", stacklevel=2)
    options = {k: getattr(args, k) for k in OPTIONS if getattr(args, k, None) is not None}
    result = fit(data, args.method, **options)
    if out:
        save_model(out, result.model)
    info = result.to_dict()
    info.update(data=str(args.data), samples=data.size, model_file=out)
    J = result.model.J[np.triu_indices(result.model.n, 1)]
    fmt = (lambda v: "n/a (N too large for enumeration)" if v is None else f"{v:.6g}")
    lines = [f"{result.method} fit of N = {result.model.n} spins to {data.size} samples "
             f"(total weight {data.total_weight:.6g}) in {result.seconds:.3g} s, {result.iterations} iterations, "
             + ("converged" if result.converged else f"NOT CONVERGED: {result.message}"),
             f"mean log-likelihood per sample: {fmt(result.log_likelihood)}",
             f"max |<s_k> model - data|: {fmt(result.magnetization_error)}",
             f"max |<s_k s_l> model - data|: {fmt(result.correlation_error)}",
             f"fields h: mean {result.model.h.mean():+.4g}, max |h| {np.abs(result.model.h).max():.4g}",
             f"couplings J: rms {np.sqrt(np.mean(J**2)) if J.size else 0.0:.4g}, "
             f"max |J| {np.abs(J).max() if J.size else 0.0:.4g}"]
    if result.boundary_pairs:
        lines.append(f"WARNING: {result.message}")
    if out:
        lines.append(f"model written to {out}")
    return info, "\n".join(lines)
