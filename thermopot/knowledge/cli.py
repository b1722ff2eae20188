"""``thermopot knowledge [--dataset NAME] [--full] [--seed S] [--backend B] [--json]``: the pipeline's
work, given the parsed arguments (registered in thermopot/cli.py). The quick sizes are the default (about
a minute on the digits); ``--full`` takes the larger ones (many more starts, chains and samples)."""

from __future__ import annotations

import argparse

from ..errors import ThermopotError
from ..report import text_table
from .pipeline import run_knowledge


def _fmt(value: object) -> str:
    """A number with 4 significant digits, a fraction of what was not computed as 'n/a'."""
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def knowledge_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Run the pipeline on ``args.dataset``; returns the JSON object (the fixed fields of the issue:
    n, patterns, gap, T_star, phi_minima, full_potential_minima, reduced_potential_minima,
    training_minima, spurious_minima, kl_single, kl_mixture, coverage_single, coverage_mixture,
    rare_weight_threshold, and more) and a readable summary."""
    if args.quick and args.full:
        raise ThermopotError("--quick and --full exclude each other")
    run = run_knowledge(args.dataset, quick=not args.full, seed=args.seed, backend=args.backend)
    data = {**run.summary(), "quick": not args.full, "seconds": run.seconds}
    s = data
    rows = [
        ("data", f"{s['dataset']}: N = {s['n']} spins, {s['samples']} samples, M = {s['patterns']} distinct patterns"),
        ("full description", f"gap Delta = {_fmt(s['gap'])}, T* = {_fmt(s['T_star'])} "
                             f"(exact coexistence {_fmt(s['T_coexistence'])})"),
        ("minima of Phi (pairwise couplings)", _fmt(s["phi_minima"])),
        ("minima of G over the full simplex", _fmt(s["full_potential_minima"])),
        (f"minima of G over the pairwise family (T = {s['reduced_potential_T']:g})",
         _fmt(s["reduced_potential_minima"])),
        ("bound states of the fitted model", f"{s['training_minima']} training patterns, "
                                             f"{s['spurious_minima']} false states"),
        ("chains retrieving a training pattern", _fmt(s["retrieval_training_fraction"])),
        ("pattern frequencies: TV to exact, one chain / pooled", f"{_fmt(s['single_chain_tv'])} / "
                                                                 f"{_fmt(s['pooled_tv'])}"),
        ("KL(data || model): single / mixture", f"{_fmt(s['kl_single'])} / {_fmt(s['kl_mixture'])} "
                                                f"(K = {s['mixture_components']})"),
        ("pattern coverage: single / mixture", f"{_fmt(s['coverage_single'])} / {_fmt(s['coverage_mixture'])}"),
        ("class coverage: single / mixture", f"{_fmt(s['class_coverage_single'])} / "
                                             f"{_fmt(s['class_coverage_mixture'])}"),
        ("rare target: weight below which its minimum is lost", _fmt(s["rare_weight_threshold"])),
    ]
    text = text_table(("step", "result"), rows) + f"\n{run.seconds['total']:.3g} s in all"
    return data, text
