"""``thermopot knowledge [DATA] [--method exact|sampled|auto] [--claims]``: the He-Lubchenko pipeline
(:func:`thermopot.knowledge.run_knowledge`) or its claim table (:func:`thermopot.knowledge.claims`)."""

from __future__ import annotations

import argparse

from ..errors import ThermopotError
from ..report import text_table
from .command import BACKEND, JSON, Output, arg, command, fmt, nonnegative_int


def _claims_output(args: argparse.Namespace) -> Output:
    """``thermopot knowledge --claims``: the claim table (one row per claim) and its figures."""
    from ..claim_figures import draw_claims  # noqa: PLC0415
    from ..knowledge import claims  # noqa: PLC0415

    source = args.data if args.data is not None else args.dataset
    table = draw_claims(claims(source, seed=args.seed, method=args.method, progress=True), args.claims_out)
    rows = [(r.id, r.verdict, f"{fmt(r.measured.get('value'))} +- {fmt(r.measured.get('error'))}", r.figure or "")
            for r in table.rows]
    text = text_table(("claim", "verdict", "measured", "figure"), rows) + f"\n{table.seconds:.3g} s in all"
    return Output(table.to_dict(), text)


def _count(value: object, starts: object) -> str:
    """A count of minima with the number of starts it came from (a lower bound of the true number)."""
    return "n/a" if value is None else f"count {fmt(value)} (from {starts} starts)"


def _target(t: dict) -> str:
    return f"class {t['target']}" if t["by"] == "class" else f"pattern of row {t['target']}"


def _mean_field_row(s: dict) -> list[tuple[str, str]]:
    """The sampled path's nMF/TAP minima started from the patterns, as one table row (none on the exact path)."""
    if "tap_count" not in s:
        return []
    return [("nMF / TAP minima from the patterns", f"{s['nmf_count']} / {s['tap_count']} minima from "
             f"{s['tap_starts']} starts, {s['nmf_matched']} / {s['tap_matched']} on a bound state")]


def _pm(s: dict, key: str) -> str:
    """The row ``key`` of a summary, with "+- its standard error" when the summary has ``key_stderr``."""
    se = s.get(f"{key}_stderr")
    return fmt(s[key]) + (f" +- {fmt(se)}" if se is not None else "")


@command("knowledge", "the He-Lubchenko pipeline: full description, potentials, bound states, retrieval, "
         "under-representation, mixture remedy",
         arg("--quick", action="store_true", help="the quick sizes (the default; about a minute on the digits)"),
         arg("--full", action="store_true", help="the full sizes (more starts, chains and samples; many minutes)"),
         arg("--dataset", default="digits", metavar="NAME",
             help="digits (N = 16), digits25, digits64 (8x8, N = 61 after its constant pixels), clusters (N = 12), "
                  "or a .npz data set (default: digits)"),
         arg("--seed", type=nonnegative_int, default=0, help="seed of every random start and chain"),
         arg("--claims", action="store_true", help="the claim table instead of the pipeline: each He-Lubchenko claim "
             "as an experiment with an independent reference and a verdict (thermopot.knowledge.claims)"),
         arg("--claims-out", default="knowledge-claims", metavar="DIR", help="folder of the claim figures"),
         arg("--labels", default=None, metavar="FILE|KEY",
             help="class labels, one per data row: a .npy/.npz/.txt/.csv file, the name of an array in the data "
                  ".npz, or 'none' (default: the data's own, e.g. a 'labels' array stored in the .npz)"),
         arg("--rare-target", dest="rare_target", default=None, metavar="CLASS|PATTERN",
             help="what the under-representation scan lowers: class:C, pattern:ROW, pattern:+-+... (N signs), "
                  "or a bare value (a class when there are labels, else a row); default: the smallest class, "
                  "else the heaviest pattern (exact method)"),
         BACKEND, JSON,
         arg("data", nargs="?", default=None, metavar="DATA",
             help="a .npz data set (samples (M, N) of +-1, optional weights and labels) or a bundled name; "
                  "the same as --dataset"),
         arg("--method", choices=("exact", "sampled", "auto"), default="exact",
             help="exact enumeration (N <= 20), sampled chains with error bars (any N), or auto (exact up to "
                  "N = 20, sampled beyond); with --claims, sampled runs C5 and C10 without the 2^N states and "
                  "reports the other claims inconclusive with the reason"),
         arg("--T", dest="T", type=float, default=None, metavar="T",
             help="temperature of the fitted model's bound states, log Z and remedy (default 1)"),
         arg("--holdout", type=float, default=None, metavar="F",
             help="share of the samples kept out of the fit for the held-out log-likelihood (sampled; default 0.2)"),
         arg("--max-seconds", dest="max_seconds", type=float, default=None, metavar="S",
             help="refuse, before any step, a run the size and time guard estimates longer than this (default "
                  "$THERMOPOT_MAX_SECONDS, else 3600)"),
         arg("--constant-columns", dest="constant_columns", choices=("drop", "refuse"), default="drop",
             help="constant columns of the data: drop them and report it (default) or refuse the data"),
         arg("--binary01", action="store_true", help="the samples are 0/1: map 1 -> +1, 0 -> -1"),
         arg("--em-method", dest="em_method", choices=("pseudo", "pcd"), default=None,
             help="M-step of the remedy's mixture EM (sampled): pseudo-likelihood (default) or pcd (maximum "
                  "likelihood by persistent chains, costlier at large N); pseudo-likelihood steps can lower the "
                  "likelihood, which a warning reports"),
         arg("--no-em-prune", dest="em_prune", action="store_false",
             help="keep every initial component of the remedy's mixture EM (both methods; by default components "
                  "with fewer samples than half their effective parameters are dropped, minimum message length)"))
def knowledge_command(args: argparse.Namespace) -> Output:
    """The pipeline on ``args.data`` (or ``args.dataset``; quick sizes unless --full) by ``args.method``.
    JSON: the fixed fields of the issue (n, patterns, gap, T_star, phi_minima, full_potential_minima,
    reduced_potential_minima, training_minima, spurious_minima, kl_single, kl_mixture, coverage_single,
    coverage_mixture, rare_weight_threshold, and more; the sampled method adds ``*_stderr`` next to the
    estimated ones and the nMF/TAP minima started from the patterns, ``tap_*`` and ``nmf_*``), method, log_z,
    log_z_stderr, bound_states [{state, free_energy, free_energy_stderr,
    weight, training, nearest_pattern_distance}], dropped_columns and the warnings (also on stderr)."""
    if args.quick and args.full:
        raise ThermopotError("--quick and --full exclude each other")
    if args.claims:
        return _claims_output(args)
    from ..knowledge import run_knowledge  # noqa: PLC0415

    source = args.data if args.data is not None else args.dataset
    run = run_knowledge(source, quick=not args.full, seed=args.seed, backend=args.backend, method=args.method,
                        T=args.T, holdout=args.holdout, constant_columns=args.constant_columns,
                        labels=args.labels, rare_target=args.rare_target, max_seconds=args.max_seconds,
                        binary01=args.binary01, em_method=args.em_method, em_prune=args.em_prune)
    data = {**run.summary(), "quick": not args.full, "seconds": run.seconds}
    s = data
    expected = "expected " if s.get("method") == "sampled" else ""  # of S independent samples (sampled_errors)
    rows = [
        ("data", f"{s['dataset']}: N = {s['n']} spins, {s['samples']} samples, M = {s['patterns']} distinct patterns"),
        ("full description", f"gap Delta = {fmt(s['gap'])}, T* = {fmt(s['T_star'])} "
                             f"(exact coexistence {fmt(s['T_coexistence'])})"),
        ("minima of Phi (pairwise couplings)", _count(s["phi_minima"], s.get("phi_starts"))),
        ("minima of G over the full simplex", _count(s["full_potential_minima"], s.get("full_potential_starts"))),
        (f"minima of G over the pairwise family (T = {fmt(s['reduced_potential_T'])})",
         _count(s["reduced_potential_minima"], s.get("reduced_potential_starts"))),
        ("bound states of the fitted model", f"count: {s['training_minima']} training patterns, "
                                             f"{s['spurious_minima']} false states "
                                             + ("(descent of the patterns and of tempering samples)"
                                                if s.get("method") == "sampled" else f"(exact: all 2^{s['n']} states)")),
        *_mean_field_row(s),
        ("chains retrieving a training pattern",
         f"fraction {_pm(s, 'retrieval_training_fraction')} of {s.get('retrieval_chains', 'the')} chains"),
        ("pattern frequencies: TV to exact, one chain / pooled", f"{_pm(s, 'single_chain_tv')} / "
                                                                 f"{_pm(s, 'pooled_tv')}"),
        ("KL(training data || model): single / mixture", f"{_pm(s, 'kl_single')} / {_pm(s, 'kl_mixture')} "
                                                         f"(K = {s['mixture_components']})"),
        ("pattern coverage: single / mixture", f"{expected}fractions {_pm(s, 'coverage_single')} / "
                                               f"{_pm(s, 'coverage_mixture')} of the patterns in "
                                               f"{s.get('remedy_samples', 'the')} samples"),
        ("class coverage: single / mixture", f"{expected}fractions {_pm(s, 'class_coverage_single')} / "
                                             f"{_pm(s, 'class_coverage_mixture')} of the classes"),
    ]
    if "remedy_heldout_gain" in s:  # the sampled path: the comparison to read (training KL favours the larger model)
        held = (f"{_pm(s, 'remedy_heldout_gain')} per sample (mean log-likelihood single "
                f"{_pm(s, 'heldout_log_likelihood_single')}, mixture {_pm(s, 'heldout_log_likelihood_mixture')})"
                if s["remedy_heldout_gain"] is not None else f"not computed: {s['not_computed']['remedy_heldout_gain']}")
        rows.append(("held out: mixture - single", held))
    else:  # the exact path fits on all the data: the held-out comparison is claim C10's
        rows.append(("held out: mixture - single", "see claim C10 (`thermopot knowledge --claims`): the training KL "
                                                   "favours the larger model"))
    target = s.get("rare_target")
    rows.append((f"rare target ({_target(target)}): weight below which its minimum is lost",
                 f"fraction {_pm(s, 'rare_weight_threshold')} of the data weight (now {fmt(target['base_weight'])})")
                if target else ("rare target: weight below which its minimum is lost",
                                f"{_pm(s, 'rare_weight_threshold')} (fraction of the data weight)"))
    rows.insert(1, ("method, log Z at T", f"{s['method']}, log Z = {fmt(s['log_z'])} +- {fmt(s['log_z_stderr'])} "
                                          f"(T = {s['T']:g}); {len(s['bound_states'])} bound states"))
    if s["dropped_columns"]:
        rows.insert(1, ("constant columns dropped", str(s["dropped_columns"])))
    text = text_table(("step", "result"), rows) + f"\n{run.seconds['total']:.3g} s in all"
    return Output(data, text)
