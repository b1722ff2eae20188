"""``thermopot fit DATA.npz --method {exact,pseudo,nmf,tap,pcd} [--out MODEL.npz [--force]]``: inverse Ising
(:func:`thermopot.learning.fit`)."""

from __future__ import annotations

import argparse

import numpy as np

from .command import BACKEND, JSON, Output, arg, command, given, nonnegative_int, positive_int

#: command-line options passed on to the method when given (a method refuses one it does not take)
OPTIONS = ("l2", "pseudocount", "max_iter", "chains", "steps", "average", "tempering", "precondition", "seed",
           "backend")


def ladder(text: str) -> list[float]:
    """A temperature ladder "1,1.3,1.7" as floats (the library checks that it is increasing from 1)."""
    try:
        return [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated temperatures such as 1,1.3,1.7, got {text!r}")


def _load(name: str, binary01: bool):
    """The data file ``name``, or the bundled data set of that name when no such file exists."""
    from pathlib import Path  # noqa: PLC0415

    from ..datasets.dataset import load_dataset  # noqa: PLC0415
    from ..errors import ThermopotError  # noqa: PLC0415
    from ..knowledge.pipeline import DATASETS, resolve_data  # noqa: PLC0415

    if Path(name).exists():
        return load_dataset(name, binary01=binary01)
    if name in DATASETS:
        return resolve_data(name)[1]
    raise ThermopotError(f"data {name!r}: no such file, and not a bundled data set ({', '.join(DATASETS)})")


@command("fit", "fit a pairwise model to binary data (inverse Ising)",
         arg("data", metavar="DATA", help="a .npz data set: samples (M, N) of +-1 (int8), optional weights (M,); "
                                          "or the name of a bundled set (digits, digits25, digits64, clusters, ...: "
                                          "`thermopot knowledge --help` lists them)"),
         arg("--method", choices=("exact", "pseudo", "nmf", "tap", "pcd"), default="exact",
             help="exact maximum likelihood (N up to about 20-24), pseudo-likelihood, naive mean-field or TAP "
                  "inversion, or maximum likelihood with persistent chains (pcd, any N)"),
         arg("--out", default=None, metavar="MODEL.npz",
             help="write the fitted model (h, J) here (never over DATA; over an existing file only with --force)"),
         arg("--force", action="store_true", help="let --out replace an existing file"),
         arg("--l2", type=float, default=None, metavar="L", help="L2 penalty (L/2)|theta|^2 (exact, pseudo, pcd)"),
         arg("--pseudocount", type=float, default=None, metavar="A",
             help="mix the data moments with the uniform distribution (exact, nmf, tap)"),
         arg("--binary01", action="store_true", help="the samples are 0/1: map 1 -> +1, 0 -> -1"),
         arg("--max-iter", dest="max_iter", type=positive_int, default=None, metavar="K",
             help="L-BFGS iteration limit (exact, pseudo)"),
         arg("--chains", type=positive_int, default=None, metavar="C", help="persistent chains (pcd; default 256)"),
         arg("--steps", type=positive_int, default=None, metavar="K", help="gradient steps (pcd; default 2000)"),
         arg("--average", type=float, default=None, metavar="F",
             help="average the parameters over the last fraction F of the steps (pcd; default 0.5, 0: the last "
                  "step's)"),
         arg("--tempering", type=ladder, default=None, metavar="T1,T2,...",
             help="negative phase from the T = 1 replicas of parallel tempering on this ladder, starting at 1 "
                  "(pcd; e.g. 1,1.3,1.7,2.2: frees chains trapped in one mode)"),
         arg("--precondition", choices=("auto", "fisher", "centred", "none"), default=None,
             help="step along the gradient preconditioned by the data's Fisher matrix (fisher), by centred diagonal "
                  "steps (centred, any N) or the plain gradient (none) (pcd; default auto: fisher up to N = 30, none above)"),
         arg("--seed", type=nonnegative_int, default=None, metavar="S", help="seed of the chains (pcd)"),
         BACKEND, JSON)
def fit_command(args: argparse.Namespace) -> Output:
    """Fit the data file ``args.data`` by ``args.method``; save to ``args.out`` when given (atomically;
    an existing file only with ``args.force``, never the data file itself).
    JSON: the fields of the fit result (docs/architecture.md: h, J, method, log_likelihood, seconds, and
    diagnostics) with data, samples, model_file and warnings (a boundary or convergence warning of the fit, also
    on stderr); exit code 1 when the fit did not converge."""
    from ..datasets.dataset import warn_few_samples  # noqa: PLC0415 (keep `thermopot --help` fast)
    from ..fileio import refuse_overwrite  # noqa: PLC0415
    from ..learning import fit  # noqa: PLC0415
    from ..models.io import model_path, save_model  # noqa: PLC0415

    out = args.out
    if out:  # refuse an unwritable --out, an existing one without --force, and the data file, before the fit
        out = model_path(out)
        refuse_overwrite(out, force=args.force, inputs=(args.data,))
    data = _load(args.data, args.binary01)
    warn_few_samples(data, f"data file {str(args.data)!r}", stacklevel=2)
    result = fit(data, args.method, **given(args, *OPTIONS))
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
    if out:
        lines.append(f"model written to {out}")
    return Output(info, "\n".join(lines), 0 if result.converged else 1)
