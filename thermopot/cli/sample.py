"""``thermopot sample MODEL --T T``: batched Gibbs chains summarised with autocorrelation-aware errors
(:func:`thermopot.sampling.sample`)."""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

from .command import BACKEND, JSON, MODEL, TEMPERATURE, Output, arg, command, given, nonnegative_int, positive_int


def burn_in_sweeps(text: str) -> int | str:
    """An argparse type: an integer >= 0 or "mser" (:mod:`thermopot.sampling.burn_in`)."""
    if text == "mser":
        return text
    try:
        return nonnegative_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 or 'mser', got {text!r}") from None


@command("sample", "batched heat-bath/Metropolis chains: magnetisations and energy with "
         "autocorrelation-aware errors", MODEL, TEMPERATURE, BACKEND, JSON,
         arg("--chains", type=positive_int, default=None, metavar="C",
             help="independent chains (default 64, or one per row of --initial)"),
         arg("--sweeps", type=positive_int, default=None, metavar="W",
             help="recorded sweeps per chain (default 1000; N single-spin updates each; at least 2; a WARNING "
                  "when fewer than 50 integrated autocorrelation times)"),
         arg("--initial", metavar="FILE.npz", default=None,
             help="start the chains from the +-1 state(s) stored in FILE.npz (key initial, states, spins or s, "
                  "or its only array): shape (N,) for every chain or (C, N), one per chain"),
         arg("--burn-in", dest="burn_in", type=burn_in_sweeps, default=None, metavar="W0",
             help="unrecorded sweeps first: an integer >= 0, or 'mser' (White's MSER rule on the chains' mean "
                  "energy, traced in blocks; docs/sampling.md); default max(W/5, 100)"),
         arg("--method", choices=("heat-bath", "metropolis"), default=None, help="update rule (default heat-bath)"),
         arg("--scan", choices=("sequential", "random"), default=None, help="site order (default sequential)"),
         arg("--seed", type=nonnegative_int, default=0, help="random seed (same seed, same numbers)"),
         arg("--generator", "--rng", dest="generator", choices=("pcg64", "philox"), default=None,
             help="random numbers: host PCG64 or counter-based Philox (default: philox on a GPU, where "
                  "it runs the sweeps of a pairwise model in one fused kernel; pcg64 on the CPU); "
                  "--rng is its former name"),
         arg("--correlations", action="store_true", help="also <s_k s_l> with errors (N <= 256)"))
def sample_command(args: argparse.Namespace) -> Output:
    """Run the chains of ``thermopot sample`` and summarise them. With --initial the chains start from the
    file's state(s) (:func:`thermopot.sampling.load_initial_states`; --chains defaults to its number of rows).
    A run shorter than 50 integrated autocorrelation times adds a WARNING line (the result's ``warnings``,
    ``short_run`` in the JSON)."""
    from ..models import resolve_model  # noqa: PLC0415 (keep `thermopot --help` fast)
    from ..sampling import ShortRunWarning, load_initial_states, sample  # noqa: PLC0415

    model, initial, options = args.model, None, given(args, "chains", "sweeps", "burn_in", "method", "scan",
                                                      "generator", "backend")
    if args.initial is not None:
        model = resolve_model(model)
        initial = load_initial_states(args.initial, model.n)
        if args.chains is None and initial.ndim == 2:
            options["chains"] = initial.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortRunWarning)  # printed below, as a WARNING line
        res = sample(model, args.T, seed=args.seed, correlations=args.correlations, initial=initial, **options)
    m, err = res.magnetization, res.magnetization_stderr
    lines = [f"{res.method} {res.scan}-scan sampling: N = {res.n}, T = {res.T:g}, {res.chains} chains x "
             f"{res.sweeps} sweeps after {res.burn_in} of burn-in "
             f"({res.backend}{', fused kernel' if res.fused else ''}"
             f"{', compiled kernel' if res.compiled else ''}, "
             f"{res.seconds:.3g} s, {res.generator} seed {res.seed})",
             f"energy U = {res.energy:.8g} +- {res.energy_stderr:.2g}",
             f"mean magnetization = {m.mean():+.6f}, largest stderr of m_k = {np.nanmax(err):.2g}",
             f"tau_int (sweeps): energy {res.tau_int['energy']:.3g}, magnetization "
             f"{res.tau_int['magnetization']:.3g}; flip rate {res.flip_rate:.3f}"]
    if res.n <= 16:
        lines.append("magnetization: " + " ".join(f"{v:+.4f}" for v in m))
    lines += [f"WARNING: {w}" for w in res.warnings]
    data = res.to_dict()
    if initial is not None:
        data["initial"] = os.fspath(args.initial)
    return Output(data, "\n".join(lines))
