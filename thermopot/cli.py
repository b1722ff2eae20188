"""The ``thermopot`` command (docs/architecture.md, "Command-line contract").

Every subcommand is one function registered with :func:`command`; it receives the parsed arguments
and returns an :class:`Output`: the object printed by ``--json`` (exactly one JSON object on stdout),
the readable text printed otherwise, and the exit code. Progress bars go to stderr. Bad input (a
ThermopotError, an unreadable file, a bad option) becomes one line ``thermopot: error: ...`` on stderr
and exit code 2, never a traceback. Adding a subcommand::

    @command("name", "one-line help", MODEL, TEMPERATURE, JSON, arg("--starts", type=positive_int, default=8))
    def _name(args) -> Output:
        result = ...
        return Output(result.to_dict(), "readable summary")
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import __version__
from .errors import ThermopotError
from .report import checks_table, text_table, to_json


class UsageError(ThermopotError):
    """A command line that does not parse (unknown option, missing argument, bad number)."""


@dataclass(frozen=True)
class Output:
    """What a subcommand produces: ``data`` for --json, ``text`` for people, the exit ``code``."""

    data: dict
    text: str
    code: int = 0


#: subcommand name -> (help, argument specs, function)
COMMANDS: dict[str, tuple[str, tuple, Callable[[argparse.Namespace], Output]]] = {}


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict]:
    """An argument spec: the positional ``flags`` and keyword ``options`` of ``add_argument``."""
    return flags, options


def command(name: str, help: str, *arguments: tuple) -> Callable:
    """Register the decorated function as subcommand ``name`` with the given :func:`arg` specs."""
    def register(func: Callable[[argparse.Namespace], Output]) -> Callable[[argparse.Namespace], Output]:
        COMMANDS[name] = (help, arguments, func)
        return func
    return register


# shared argument specs
MODEL = arg("model", metavar="MODEL", help="a .npz model file or a generator spec, e.g. sk:n=20,seed=0, "
            "curie-weiss:n=50,j=1, hopfield:n=30,p=3,seed=1, ring:n=12, random:n=10,seed=3")
TEMPERATURE = arg("--T", dest="T", type=float, required=True, metavar="T", help="temperature T > 0")
OPTIONAL_TEMPERATURE = arg("--T", dest="T", type=float, default=None, metavar="T",
                           help="temperature for per-basin free energies and magnetisations")
BACKEND = arg("--backend", default=None, metavar="B",
              help="numpy, cupy or auto (default: $THERMOPOT_BACKEND, else auto)")
JSON = arg("--json", action="store_true", help="print one JSON object on stdout and nothing else")
QUICK = arg("--quick", action="store_true", help="small sizes only (about a minute)")


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (counts: chains, sweeps, starts, tile sizes)."""
    return _int_at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0 (seeds, burn-in sweeps, rows shown)."""
    return _int_at_least(text, 0)


def _signs(state: Sequence[int]) -> str:
    return "".join("+" if s > 0 else "-" for s in state)


@command("enumerate", "exact thermodynamics by enumeration of all 2^N states",
         MODEL, TEMPERATURE, BACKEND, JSON,
         arg("--block-size", type=positive_int, default=None, metavar="B", help="states per streaming tile"),
         arg("--scheduler", default=None, metavar="ADDRESS", help="enumerate on the Dask cluster at ADDRESS"),
         arg("--workers", type=positive_int, default=None, metavar="K",
             help="enumerate on a local Dask cluster of K worker processes"))
def _enumerate(args: argparse.Namespace) -> Output:
    from .models import resolve_model  # noqa: PLC0415 (keep `thermopot --help` fast)

    if args.scheduler or args.workers:
        from .distributed.enumeration import thermodynamics  # noqa: PLC0415
        options = {"scheduler": args.scheduler, "workers": args.workers}
    else:
        from .exact import thermodynamics  # noqa: PLC0415
        options = {}
    th = thermodynamics(resolve_model(args.model), args.T, backend=args.backend, block_size=args.block_size,
                        **options)
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


@command("landscape", "zero-temperature minima (single-flip stable states), basins, per-basin F",
         MODEL, OPTIONAL_TEMPERATURE, BACKEND, JSON,
         arg("--limit", type=nonnegative_int, default=20, metavar="K", help="rows shown in the text output"))
def _landscape(args: argparse.Namespace) -> Output:
    from .landscape import local_minima  # noqa: PLC0415
    from .models import resolve_model  # noqa: PLC0415

    land = local_minima(resolve_model(args.model), T=args.T, backend=args.backend)
    data = land.to_dict()
    headers = ["#", "state", "energy", "basin size", "strict"]
    if args.T is not None:
        headers += ["F_a", "mean m_a"]
    stable = sorted(data["minima"] + data["plateaus"], key=lambda r: r["row"])
    rows = []
    for row in stable[:args.limit]:
        cells = [str(row["row"]), _signs(row["state"]), f"{row['energy']:.8g}", str(row["basin_size"]),
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


@command("sample", "batched heat-bath/Metropolis chains: magnetisations and energy with "
         "autocorrelation-aware errors", MODEL, TEMPERATURE, BACKEND, JSON,
         arg("--chains", type=positive_int, default=None, metavar="C",
             help="independent chains (default 64, or one per row of --initial)"),
         arg("--sweeps", type=positive_int, default=1000, metavar="W",
             help="recorded sweeps per chain (N single-spin updates each; at least 2; a WARNING when fewer "
                  "than 50 integrated autocorrelation times)"),
         arg("--initial", metavar="FILE.npz", default=None,
             help="start the chains from the +-1 state(s) stored in FILE.npz (key initial, states, spins or s, "
                  "or its only array): shape (N,) for every chain or (C, N), one per chain"),
         arg("--burn-in", dest="burn_in", type=nonnegative_int, default=None, metavar="W0",
             help="unrecorded sweeps first (default W/10)"),
         arg("--method", choices=("heat-bath", "metropolis"), default="heat-bath"),
         arg("--scan", choices=("sequential", "random"), default="sequential"),
         arg("--seed", type=nonnegative_int, default=0, help="random seed (same seed, same numbers)"),
         arg("--generator", "--rng", dest="generator", choices=("pcg64", "philox"), default=None,
             help="random numbers: host PCG64 or counter-based Philox (default: philox on a GPU, where "
                  "it runs the sweeps of a pairwise model in one fused kernel; pcg64 on the CPU); "
                  "--rng is its former name"),
         arg("--correlations", action="store_true", help="also <s_k s_l> with errors (N <= 256)"))
def _sample(args: argparse.Namespace) -> Output:
    from .sampling.cli import sample_command  # noqa: PLC0415

    data, text = sample_command(args)
    return Output(data, text)


@command("fit", "fit a pairwise model to binary data (inverse Ising)",
         arg("data", metavar="DATA", help="a .npz data set: samples (M, N) of +-1 (int8), optional weights (M,)"),
         arg("--method", choices=("exact", "pseudo", "nmf", "tap", "pcd"), default="exact",
             help="exact maximum likelihood (N up to about 20-24), pseudo-likelihood, naive mean-field or TAP "
                  "inversion, or maximum likelihood with persistent chains (pcd, any N)"),
         arg("--out", default=None, metavar="MODEL.npz",
             help="write the fitted model (h, J) here (never over DATA; over an existing file only with --force)"),
         arg("--force", action="store_true", help="let --out replace an existing file"),
         arg("--l2", type=float, default=None, metavar="L", help="L2 penalty (L/2)|theta|^2 (exact, pseudo)"),
         arg("--pseudocount", type=float, default=None, metavar="A",
             help="mix the data moments with the uniform distribution (exact, nmf, tap)"),
         arg("--binary01", action="store_true", help="the samples are 0/1: map 1 -> +1, 0 -> -1"),
         arg("--max-iter", dest="max_iter", type=positive_int, default=None, metavar="K",
             help="L-BFGS iteration limit (exact, pseudo)"),
         arg("--chains", type=positive_int, default=None, metavar="C", help="persistent chains (pcd; default 256)"),
         arg("--steps", type=positive_int, default=None, metavar="K", help="gradient steps (pcd; default 2000)"),
         arg("--seed", type=nonnegative_int, default=None, metavar="S", help="seed of the chains (pcd)"),
         BACKEND, JSON)
def _fit(args: argparse.Namespace) -> Output:
    from .learning.cli import fit_command  # noqa: PLC0415

    data, text = fit_command(args)
    return Output(data, text, 0 if data["converged"] else 1)


@command("minima", "every minimum of a mean-field or TAP free energy from many starts",
         MODEL, TEMPERATURE,
         arg("--method", choices=("nmf", "tap2", "tap3", "tap4"), default="tap2",
             help="naive mean field or TAP (Plefka) of order 2, 3, 4 (default tap2)"),
         arg("--starts", type=positive_int, default=256, metavar="K", help="random starts (default 256)"),
         arg("--seed", type=nonnegative_int, default=None, metavar="S", help="seed of the starts"),
         arg("--limit", type=nonnegative_int, default=20, metavar="K", help="rows shown in the text output"),
         arg("--seeds", choices=("quench", "nmf", "thermal", "random"), default=None,
             help="starts for the spin-glass phase: zero-temperature quenches, nMF minima or chain averages, "
                  "each run through the Bolthausen (AMP) iteration first (default: uniform random starts)"),
         arg("--valid-only", nargs="?", const="global", default=None, choices=("global", "site"),
             help="keep only the minima that satisfy Plefka's global condition beta^2 J^2 (1/N) sum (1 - m^2)^2 < 1 "
                  "(the default of the flag; Plefka 1982) or his per-site one"),
         BACKEND, JSON)
def _minima(args: argparse.Namespace) -> Output:
    from .models import resolve_model  # noqa: PLC0415
    from .solvers import find_minima  # noqa: PLC0415

    res = find_minima(resolve_model(args.model), args.T, method=args.method, starts=args.starts, seed=args.seed,
                      backend=args.backend, seeds=args.seeds)
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
    text = [f"{res.count} minima and {res.saddles} other stationary points of {args.method} at T = {args.T:g} "
            f"from {res.starts} starts ({res.message}) in {res.seconds:.3g} s{kept}",
            text_table(("#", "free energy", "mean m", "mean |m|", "min eig", "Plefka site", "Plefka x (<1)",
                        "fraction"), rows)]
    if len(data["minima"]) > len(rows):
        text.append(f"... {len(data['minima']) - len(rows)} more (see --json or --limit)")
    return Output(data, "\n".join(text))


@command("validate", "run the theory-versus-exact validations and write a report",
         QUICK, arg("--out", default="validation-report", metavar="DIR",
                    help="report folder (default: ./validation-report)"),
         arg("--only", default=None, metavar="NAMES", help="comma-separated validation modules"),
         arg("--seed", type=nonnegative_int, default=0, help="seed of the random models"), JSON)
def _validate(args: argparse.Namespace) -> Output:
    from .validate import run_validations  # noqa: PLC0415

    checks = run_validations(quick=args.quick, out=args.out, only=args.only, seed=args.seed)
    failed = [c.name for c in checks if not c.passed]
    summary = (f"{len(checks) - len(failed)} of {len(checks)} checks pass; "
               f"report: {args.out}/report.md, {args.out}/results.json")
    data = {"passed": not failed, "count": len(checks), "failed": failed,
            "report": f"{args.out}/report.md", "results": f"{args.out}/results.json"}
    return Output(data, checks_table(checks) + "\n" + summary, 0 if not failed else 1)


@command("entropic", "entropic forces in SGD: charge identities, gradient balance, symmetries (the entropic "
         "validation)", QUICK,
         arg("--out", default="entropic-report", metavar="DIR", help="report folder (default: ./entropic-report)"),
         arg("--seed", type=nonnegative_int, default=0, help="seed of the runs"), JSON)
def _entropic(args: argparse.Namespace) -> Output:
    """The entropic validation (validation/entropic.py: the exact charge identities, gradient balance,
    relaxation, weight decay, symmetries and, where present, the deep-linear sharpness and platonic checks)
    into ``args.out``. JSON: {"checks": [{name, theory, simulated, tolerance, passed, note}], passed, count,
    failed, quick, seconds, report}."""
    from .validate import run_validations  # noqa: PLC0415 (the validations import plotting)

    start = time.perf_counter()
    checks = run_validations(quick=args.quick, out=args.out, only="entropic", seed=args.seed)  # progress: stderr
    seconds = time.perf_counter() - start
    rows = [{"name": c.name, "theory": c.theory, "simulated": c.exact, "tolerance": c.tolerance,
             "passed": c.passed, "note": c.note} for c in checks]
    failed = [c.name for c in checks if not c.passed]
    data = {"checks": rows, "passed": not failed, "count": len(checks), "failed": failed,
            "quick": bool(args.quick), "seconds": round(seconds, 3), "report": f"{args.out}/report.md"}
    text = (checks_table(checks) + f"\n{len(checks) - len(failed)} of {len(checks)} entropic checks pass in "
            f"{seconds:.1f} s; report: {args.out}/report.md")
    return Output(data, text, 0 if not failed else 1)


def _fmt(value: object) -> str:
    """A number with 4 significant digits, a fraction of what was not computed as 'n/a'."""
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _claims_output(args: argparse.Namespace) -> Output:
    """``thermopot knowledge --claims``: the claim table (one row per claim) and its figures."""
    from .claim_figures import draw_claims  # noqa: PLC0415
    from .knowledge import claims  # noqa: PLC0415

    table = draw_claims(claims(args.dataset, seed=args.seed, progress=True), args.claims_out)
    rows = [(r.id, r.verdict, f"{_fmt(r.measured.get('value'))} +- {_fmt(r.measured.get('error'))}", r.figure or "")
            for r in table.rows]
    text = text_table(("claim", "verdict", "measured", "figure"), rows) + f"\n{table.seconds:.3g} s in all"
    return Output(table.to_dict(), text)


def _count(value: object, starts: object) -> str:
    """A count of minima with the number of starts it came from (a lower bound of the true number)."""
    return "n/a" if value is None else f"count {_fmt(value)} (from {starts} starts)"


def _target(t: dict) -> str:
    return f"class {t['target']}" if t["by"] == "class" else f"pattern of row {t['target']}"


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
                  "N = 20, sampled beyond)"),
         arg("--T", dest="T", type=float, default=None, metavar="T",
             help="temperature of the fitted model's bound states, log Z and remedy (default 1)"),
         arg("--holdout", type=float, default=None, metavar="F",
             help="share of the samples kept out of the fit for the held-out log-likelihood (sampled; default 0.2)"),
         arg("--constant-columns", dest="constant_columns", choices=("drop", "refuse"), default="drop",
             help="constant columns of the data: drop them and report it (default) or refuse the data"))
def _knowledge(args: argparse.Namespace) -> Output:
    """The pipeline on ``args.data`` (or ``args.dataset``; quick sizes unless --full) by ``args.method``.
    JSON: the fixed fields of the issue (n, patterns, gap, T_star, phi_minima, full_potential_minima,
    reduced_potential_minima, training_minima, spurious_minima, kl_single, kl_mixture, coverage_single,
    coverage_mixture, rare_weight_threshold, and more; the sampled method adds ``*_stderr`` next to the
    estimated ones), method, log_z, log_z_stderr, bound_states [{state, free_energy, free_energy_stderr,
    weight, training, nearest_pattern_distance}], dropped_columns and the warnings (also on stderr)."""
    if args.quick and args.full:
        raise ThermopotError("--quick and --full exclude each other")
    if args.claims:
        return _claims_output(args)
    from .knowledge import run_knowledge  # noqa: PLC0415

    source = args.data if args.data is not None else args.dataset
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_knowledge(source, quick=not args.full, seed=args.seed, backend=args.backend, method=args.method,
                            T=args.T, holdout=args.holdout, constant_columns=args.constant_columns,
                            labels=args.labels, rare_target=args.rare_target)
    notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning)))
    for note in notes:
        print(f"thermopot: warning: {note}", file=sys.stderr)
    data = {**run.summary(), "quick": not args.full, "seconds": run.seconds, "warnings": notes}
    s = data
    rows = [
        ("data", f"{s['dataset']}: N = {s['n']} spins, {s['samples']} samples, M = {s['patterns']} distinct patterns"),
        ("full description", f"gap Delta = {_fmt(s['gap'])}, T* = {_fmt(s['T_star'])} "
                             f"(exact coexistence {_fmt(s['T_coexistence'])})"),
        ("minima of Phi (pairwise couplings)", _count(s["phi_minima"], s.get("phi_starts"))),
        ("minima of G over the full simplex", _count(s["full_potential_minima"], s.get("full_potential_starts"))),
        (f"minima of G over the pairwise family (T = {_fmt(s['reduced_potential_T'])})",
         _count(s["reduced_potential_minima"], s.get("reduced_potential_starts"))),
        ("bound states of the fitted model", f"count: {s['training_minima']} training patterns, "
                                             f"{s['spurious_minima']} false states "
                                             + ("(descent of the patterns and of tempering samples)"
                                                if s.get("method") == "sampled" else f"(exact: all 2^{s['n']} states)")),
        ("chains retrieving a training pattern",
         f"fraction {_fmt(s['retrieval_training_fraction'])} of {s.get('retrieval_chains', 'the')} chains"),
        ("pattern frequencies: TV to exact, one chain / pooled", f"{_fmt(s['single_chain_tv'])} / "
                                                                 f"{_fmt(s['pooled_tv'])}"),
        ("KL(data || model): single / mixture", f"{_fmt(s['kl_single'])} / {_fmt(s['kl_mixture'])} "
                                                f"(K = {s['mixture_components']})"),
        ("pattern coverage: single / mixture", f"fractions {_fmt(s['coverage_single'])} / "
                                               f"{_fmt(s['coverage_mixture'])} of the patterns in "
                                               f"{s.get('remedy_samples', 'the')} samples"),
        ("class coverage: single / mixture", f"fractions {_fmt(s['class_coverage_single'])} / "
                                             f"{_fmt(s['class_coverage_mixture'])} of the classes"),
    ]
    target = s.get("rare_target")
    rows.append((f"rare target ({_target(target)}): weight below which its minimum is lost",
                 f"fraction {_fmt(s['rare_weight_threshold'])} of the data weight (now {_fmt(target['base_weight'])})")
                if target else ("rare target: weight below which its minimum is lost",
                                f"{_fmt(s['rare_weight_threshold'])} (fraction of the data weight)"))
    rows.insert(1, ("method, log Z at T", f"{s['method']}, log Z = {_fmt(s['log_z'])} +- {_fmt(s['log_z_stderr'])} "
                                          f"(T = {s['T']:g}); {len(s['bound_states'])} bound states"))
    if s["dropped_columns"]:
        rows.insert(1, ("constant columns dropped", str(s["dropped_columns"])))
    text = text_table(("step", "result"), rows) + f"\n{run.seconds['total']:.3g} s in all"
    return Output(data, text)


@command("bench", "benchmarks: throughput against baselines", QUICK, JSON,
         arg("--only", default=None, metavar="NAMES", help="comma-separated benchmark modules"))
def _bench(args: argparse.Namespace) -> Output:
    from .benchmarks import machine_info, run_benchmarks  # noqa: PLC0415

    rows = run_benchmarks(quick=args.quick, only=args.only)
    table = text_table(("benchmark", "value", "unit", "backend", "vs floor", "note"),
                       [(r["name"], f"{r['value']:.4g}", r["unit"], r["backend"], _floor_ratio(r), r.get("note", ""))
                        for r in rows])
    return Output({"quick": args.quick, "machine": machine_info(), "rows": rows}, table)


def _floor_ratio(row: dict) -> str:
    """A row's value over the floor it is measured against on the same machine ("0.62 x exp floor"), from
    its fields ``floor`` (same unit) and ``floor_name``; empty for a row without one."""
    floor = row.get("floor")
    if not floor:
        return ""
    return f"{row['value'] / floor:.2f} x {row.get('floor_name', 'floor')}"


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
def _logz(args: argparse.Namespace) -> Output:
    """JSON: log_z, log_z_stderr, free_energy, free_energy_stderr, method, T, n, chains, steps, seed, backend,
    seconds (thermopot.sampling.log_partition)."""
    from .sampling import log_partition  # noqa: PLC0415

    res = log_partition(args.model, args.T, method=args.method, chains=args.chains, steps=args.steps,
                        sweeps=args.sweeps, seed=args.seed, backend=args.backend)
    text = (f"log Z = {res.log_z:.6f} +- {res.log_z_stderr:.2g} ({res.method.upper()}, N = {res.n}, T = {res.T:g}, "
            f"{res.chains} chains, {res.steps} steps, {res.seconds:.3g} s on {res.backend})\n"
            f"F = -T log Z = {res.free_energy:.6f} +- {res.free_energy_stderr:.2g}")
    return Output(res.to_dict(), text)


@command("sweep", "a resumable parameter sweep of a command on Dask; rows in a Parquet dataset",
         arg("spec", metavar="SPEC.toml", help='task = "COMMAND" and a [grid] table of parameter = [values]'),
         arg("--out", required=True, metavar="DIR", help="results folder (a re-run skips finished tasks)"),
         arg("--scheduler", default=None, metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786"),
         arg("--workers", type=positive_int, default=None, metavar="K",
             help="worker processes of the embedded LocalCluster (default: the core count)"),
         arg("--force", action="store_true", help="add to a folder that holds another sweep"),
         arg("--large", action="store_true", help="allow a grid of more than a million tasks"), JSON)
def _sweep(args: argparse.Namespace) -> Output:
    from .distributed.cli import sweep_command  # noqa: PLC0415

    data, text = sweep_command(args)
    return Output(data, text, 0 if not data["failed"] else 1)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError (one line on stderr, exit 2) instead of printing usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = _Parser(prog="thermopot", description="Exact enumeration, thermodynamic potentials and "
                     "validations for binary spin models. Run `thermopot COMMAND --help` for details.")
    parser.add_argument("--version", action="version", version=f"thermopot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, func) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        for flags, options in arguments:
            p.add_argument(*flags, **options)
        p.set_defaults(func=func)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ThermopotError) else f"{type(exc).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 failed validation, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
        out = args.func(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except (ThermopotError, OSError, MemoryError) as exc:
        print(f"thermopot: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thermopot: error: interrupted", file=sys.stderr)
        return 130
    print(to_json(out.data) if getattr(args, "json", False) else out.text)
    return out.code


if __name__ == "__main__":
    sys.exit(main())
