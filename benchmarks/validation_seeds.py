"""Chance failures of the z-based validation checks over seeds (2-core CPU; a measurement, not a benchmark row).

Many checks of ``validation/*.py`` have a tolerance that is a multiple of an estimated standard error, and
several take the largest |z| over K estimates (or record K separate checks, which fail the run as a family)
against the single-estimate multiple. This script calls each check's own function with a quick validation
``Context`` at seeds 0..S-1 and reports, per check group:

- ``failures``: the seeds at which a check of the group failed (the group's verdict, as ``validate`` sees it);
- ``K`` (estimates compared per seed), ``dof`` (degrees of freedom of their error bars), ``z_nominal`` (the
  stated multiple), ``rate_single`` = P(|t_dof| > z_nominal) and ``rate_family`` = 1 - (1 - rate_single)^K
  (the chance-failure rate of the largest |z| of K independent estimates);
- the per-estimate signed z pooled over the seeds: count, mean, sd, fraction beyond 2 and 3, largest |z|;
- ``family_threshold`` = :func:`thermopot.validation.family_z` (K, z_nominal, dof): the t with P(max of K
  independent |t_dof| > t) = P(|N(0, 1)| > z_nominal) (Sidak).

Run from the repository root with the worktree's validation package on the path:
``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/validation_seeds.py --seeds 30 --only cw_tempering``.
Per-seed lines go to stderr (JSON after ``[seed]``), the summary to stdout as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import stats

from thermopot.exact import thermodynamics
from thermopot.report import new_figure
from thermopot.validation import Context
from thermopot.validation import entropic as v_entropic
from thermopot.validation import knowledge as v_knowledge
from thermopot.validation import learning as v_learning
from thermopot.validation import sampled as v_sampled
from thermopot.validation import sampling as v_sampling
from thermopot.validation.entropic import sharpness_checks
from thermopot.validation import family_z


def single_rate(z: float, dof: float) -> float:
    """P(|t_dof| > z) (dof = inf: normal)."""
    return float(2.0 * (stats.norm.sf(z) if math.isinf(dof) else stats.t.sf(z, dof)))


def family_rate(count: int, z: float, dof: float, sd: float) -> float:
    """1 - (1 - P(|t_dof| > z / sd))^count: the chance-failure rate of the largest |z| of ``count`` independent
    estimates whose z have standard deviation ``sd`` (error bars off by that factor)."""
    return -math.expm1(count * math.log1p(-single_rate(z / sd, dof)))


def check_z(check) -> np.ndarray:
    """Signed z of a ``ctx.check`` whose tolerance is Z_MAX (4) standard errors: (theory - exact) / (tol / 4)."""
    diff = np.asarray(check.theory, dtype=float) - np.asarray(check.exact, dtype=float)
    return np.ravel(diff / (check.tolerance / 4.0))


@contextmanager
def recording(module, name: str):
    """Replace ``module.name`` by a wrapper that records (args, kwargs, result) of every call."""
    original = getattr(module, name)
    calls: list[tuple] = []

    def wrapper(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append((args, kwargs, out))
        return out

    setattr(module, name, wrapper)
    try:
        yield calls
    finally:
        setattr(module, name, original)


def _axes(count: int):
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = new_figure(1, count, size=(4.0 * count, 3.0))
    return fig, np.ravel(axes), plt


# ------------------------------------------------------------------ one function per check group
# each takes (ctx) and returns {"failed": bool, "z": signed per-estimate z, ...} for one seed

def cw_tempering(ctx) -> dict:
    """validation/sampled.py _tempering_checks: Curie-Weiss N = 14, 8 temperatures; 8 energy checks and 8
    'worst k of the 14 <s_k>' checks at 4 stderr (K = 8 x 15 = 120 estimates); the swap-rate check apart."""
    fig, axes, plt = _axes(1)
    with recording(v_sampled, "parallel_tempering") as calls:
        v_sampled._tempering_checks(ctx, axes[0], ctx.quick, None)
    plt.close(fig)
    run = calls[0][2]
    ladder = np.asarray(calls[0][0][1])
    z = []
    for r, T in enumerate(ladder):
        exact = thermodynamics(v_sampled.curie_weiss(14), float(T), progress=False)
        z.append((run.energy[r] - exact.energy) / run.energy_stderr[r])
        z.extend((run.magnetization[r] - exact.magnetization) / run.magnetization_stderr[r])
    family = [c for c in ctx.checks if c.name.startswith("tempering ")]
    swap = [c for c in ctx.checks if c.name.startswith("swap rate")][0]
    premise = [c for c in ctx.checks if c.name.startswith("premise")][0]
    return {"failed": not all(c.passed for c in family), "z": np.asarray(z), "premise_failed": not premise.passed,
            "swap_failed": not swap.passed, "swap_z": float(check_z(swap)[0])}


def _trapped(ctx, index: int) -> dict:
    case = v_sampled._trapped_tempering_cases(ctx.seed)[index]
    with recording(v_sampled, "tempering_moment_z") as calls:
        v_sampled.trapped_tempering_check(ctx, *case, ctx.quick, None)
    run, exact = calls[0][0]
    iu = np.triu_indices(exact.magnetization.size, 1)
    z = np.concatenate([(run.energy[:1] - exact.energy) / run.energy_stderr[:1],
                        (run.magnetization[0] - exact.magnetization) / run.magnetization_stderr[0],
                        (run.correlation[0][iu] - exact.correlation[iu]) / run.correlation_stderr[0][iu]])
    premise, moments = ctx.checks
    return {"failed": not moments.passed, "z": z, "premise_failed": not premise.passed,
            "note": moments.name}


def trapped_digits(ctx) -> dict:
    """validation/sampled.py trapped_tempering_check, digits N = 16 (exact ML): largest |z| of 137 moments at 4."""
    return _trapped(ctx, 0)


def trapped_planted(ctx) -> dict:
    """validation/sampled.py trapped_tempering_check, planted N = 20 (pseudo-likelihood): 211 moments at 4."""
    return _trapped(ctx, 1)


def pcd_ml(ctx) -> dict:
    """validation/sampled.py _pcd_ml_checks: on the digits (N = 16, 120 couplings) and planted clusters
    (N = 20, 190 couplings), max |(J1 + J2)/2 - J_ML| / sigma against family_z(K, 4) (5.02 and 5.10), sigma
    pooled from the K differences J1 - J2. The z are (J - J_ML) / sigma, digits first; ``at_4_failed``: a
    plain 4 (the threshold before the family one) would have failed. The summary's ``family_threshold`` is
    that of all K = 310 together (5.20), not the checks' own."""
    v_sampled._pcd_ml_checks(ctx, ctx.quick, None)
    z, by_data = [], {}
    for check in ctx.checks:
        diff = np.asarray(check.theory, dtype=float) - np.asarray(check.exact, dtype=float)
        z.append(diff / (check.tolerance / family_z(diff.size, 4.0)))
        by_data["digits_failed" if "digits" in check.name else "planted_failed"] = not check.passed
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate(z),
            "at_4_failed": bool(max(np.abs(v).max() for v in z) > 4.0), **by_data}


def log_z(ctx) -> dict:
    """validation/sampled.py _log_z_checks: 4 log Z estimates against enumeration and AIS = TI at N = 64, each
    at 4 stderr (5 checks)."""
    fig, axes, plt = _axes(1)
    v_sampled._log_z_checks(ctx, axes[0], ctx.quick, None)
    plt.close(fig)
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate([check_z(c) for c in ctx.checks])}


def sampling_stationary(ctx) -> dict:
    """validation/sampling.py _stationary_checks: 10 <s_k> and the energy, 11 checks at 4 stderr (N = 10)."""
    fig, axes, plt = _axes(2)
    q = ctx.quick  # the sizes of validation/sampling.py run()
    v_sampling._stationary_checks(ctx, tuple(axes), 10, 1.0, 64 if q else 128, 2000 if q else 10000, None)
    plt.close(fig)
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate([check_z(c) for c in ctx.checks])}


def sampling_escape(ctx) -> dict:
    """validation/sampling.py _escape_checks (quick): the golf-course mean escape time, 2 scans at 4 stderr."""
    fig, axes, plt = _axes(1)
    q = ctx.quick  # the sizes of validation/sampling.py run()
    v_sampling._escape_checks(ctx, axes[0], 6, 1.0, (3.0,) if q else (3.0, 5.0), ("random", "sequential"),
                              3000 if q else 10000, None)
    plt.close(fig)
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate([check_z(c) for c in ctx.checks])}


def knowledge_escape(ctx) -> dict:
    """validation/knowledge.py check_escape_time (as _escape runs it, quick: 256 chains): 2 scans at 4 stderr."""
    model, start = v_knowledge.escape_model()
    for scan in v_knowledge.SCANS:
        fp = v_knowledge.escape_run(model, start, v_knowledge.ESCAPE_T, scan, 256 if ctx.quick else 2048, ctx.seed + 7,
                                    v_knowledge.escape_budget(model, start, scan))
        v_knowledge.check_escape_time(ctx, fp, model, start, v_knowledge.ESCAPE_THRESHOLD, None)
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate([check_z(c) for c in ctx.checks])}


def learning_cramer_rao(ctx) -> dict:
    """validation/learning.py run: the Cramer-Rao rms check at 4 of its predicted standard deviations."""
    v_learning.run(ctx)
    (check,) = [c for c in ctx.checks if "Cramer-Rao" in c.name]
    return {"failed": not check.passed, "z": check_z(check),
            "others_failed": [c.name for c in ctx.checks if not c.passed and c is not check]}


def entropic_weight_decay(ctx) -> dict:
    """validation/entropic.py _weight_decay: the stationary charge at 2 decays, each at 4 standard errors over
    32 seeds (2 checks)."""
    v_entropic._weight_decay(ctx)
    return {"failed": not all(c.passed for c in ctx.checks), "z": np.concatenate([check_z(c) for c in ctx.checks])}


def entropic_sharpness(ctx) -> dict:
    """validation/_entropic_deep.py sharpness_checks: flat and sharp starts' end values within 4 combined
    standard errors (8 seeds each); the second (finite-rate shift) check is not z-based."""
    sharpness_checks(ctx)
    check = ctx.checks[0]
    return {"failed": not check.passed, "z": check_z(check),
            "shift_failed": not ctx.checks[1].passed}


def library_fa(ctx) -> dict:
    """validation/sampled.py _library_checks: the per-basin F_a of the exact bound states of weight > 1e-3
    (digits N = 16, about 30; planted N = 20, 4-15) against enumeration, each check's largest |z| against
    family_z(K, 3, 15). The z are signed per state, digits first; ``at_3_failed``: a plain 3 (the threshold
    before the family one) would have failed. K in the summary is the first seed's."""
    with recording(v_sampled, "sampled_bound_states") as libraries, \
            recording(v_sampled, "local_minima") as landscapes, recording(v_sampled, "thermodynamics") as exacts:
        v_sampled._library_checks(ctx, ctx.quick, None)
    z = []
    for (_, _, sampled), (_, _, land), (_, _, exact) in zip(libraries, landscapes, exacts):
        heavy = np.flatnonzero(np.exp(-(land.free_energy - exact.free_energy)) > 1e-3)
        z.append(v_sampled.basin_free_energy_z(land, heavy, sampled))
    z = np.concatenate(z)
    checks = [c for c in ctx.checks if c.name.startswith("per-basin")]
    return {"failed": not all(c.passed for c in checks), "z": z, "at_3_failed": bool(np.abs(z).max() > 3.0)}


def n64_ais_ti(ctx) -> dict:
    """validation/sampled.py _n64_checks: AIS = TI on planted N = 64 at 4 combined standard errors (one z)."""
    v_sampled._n64_checks(ctx, ctx.quick, None)
    return {"failed": not ctx.checks[0].passed, "z": check_z(ctx.checks[0])}


#: group -> (function, module, dof of the errors (quick sizes), stated multiple z, how dof is counted)
GROUPS: dict[str, tuple[Callable[[Any], dict], str, float, float, str]] = {
    "cw_tempering": (cw_tempering, "sampled", math.inf, 4.0,
                     "BatchMeans over (32..63 batches x 16 columns): >= 511"),
    "trapped_digits": (trapped_digits, "sampled", math.inf, 4.0,
                       "BatchMeans over (32..63 batches x 16 columns): >= 511"),
    "trapped_planted": (trapped_planted, "sampled", math.inf, 4.0,
                        "BatchMeans over (32..63 batches x 16 columns): >= 511"),
    "pcd_ml": (pcd_ml, "sampled", math.inf, 4.0,
               "sigma pooled over the K differences J1 - J2 (120 digits, 190 planted; the check uses no dof)"),
    "log_z": (log_z, "sampled", math.inf, 4.0, "AIS: 256 chains; TI: 16 columns x quadrature (mixed)"),
    "library_fa": (library_fa, "sampled", 15, 3.0, "16 tempering columns: t_15"),
    "n64_ais_ti": (n64_ais_ti, "sampled", 15, 4.0, "TI: 16 columns (t_15); AIS: 256 chains"),
    "sampling_stationary": (sampling_stationary, "sampling", math.inf, 4.0,
                            "batch means over 64 chains x time"),
    "sampling_escape": (sampling_escape, "sampling", 2999, 4.0, "3000 i.i.d. chains"),
    "knowledge_escape": (knowledge_escape, "knowledge", 255, 4.0, "256 i.i.d. chains"),
    "learning_cramer_rao": (learning_cramer_rao, "learning", math.inf, 4.0,
                            "standard deviation predicted from the Fisher information (not estimated)"),
    "entropic_weight_decay": (entropic_weight_decay, "entropic", 31, 4.0, "32 SGD seeds (np.std, ddof 0)"),
    "entropic_sharpness": (entropic_sharpness, "entropic", 14, 4.0, "8 + 8 SGD seeds (Welch, about 14)"),
}


def summary(name: str, records: list[dict]) -> dict:
    """The group's figures over the seeds run (module docstring)."""
    _, module, dof, z_nom, dof_note = GROUPS[name]
    K = len(records[0]["z"])  # estimates per seed
    z = np.concatenate([np.asarray(r["z"], dtype=float) for r in records])
    finite = z[np.isfinite(z)]
    rate = single_rate(z_nom, dof)
    sd = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
    extra = {k: sum(bool(r.get(k)) for r in records) for k in sorted({k for r in records for k in r})
             if k.endswith("_failed")}
    return {"group": name, "module": module, "K": K, "dof": "inf" if math.isinf(dof) else dof,
            "dof_note": dof_note,
            "z_nominal": z_nom, "seeds": [r["seed"] for r in records],
            "failures": sum(r["failed"] for r in records), "failed_seeds": [r["seed"] for r in records if r["failed"]],
            "rate_single": rate, "rate_family": -math.expm1(K * math.log1p(-rate)),
            "rate_family_at_measured_sd": family_rate(K, z_nom, dof, sd if finite.size > 1 else 1.0),
            "family_threshold": family_z(K, z_nom, None if math.isinf(dof) else dof),
            "z_count": int(z.size), "z_nonfinite": int(z.size - finite.size),
            "z_mean": float(finite.mean()), "z_sd": sd,
            "frac_abs_z_gt_2": float(np.mean(np.abs(finite) > 2)),
            "frac_abs_z_gt_3": float(np.mean(np.abs(finite) > 3)),
            "largest_abs_z_per_seed": [round(float(np.max(np.abs(r["z"]))), 3) for r in records],
            "cpu_s_per_seed": float(np.mean([r["seconds"] for r in records])),
            "wall_s_per_seed": float(np.mean([r["wall"] for r in records])), **extra}


def measure(name: str, seeds: list[int], *, quick: bool = True) -> dict:
    """Run group ``name`` at each seed (fresh Context, quick sizes unless ``quick`` is False) and summarise."""
    function, module = GROUPS[name][:2]
    records = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = Context(module=module, out=Path(tmp), quick=quick, seed=seed)
            t0, w0 = time.process_time(), time.perf_counter()
            record = function(ctx)
            record.update(seed=seed, seconds=time.process_time() - t0, wall=time.perf_counter() - w0)
        records.append(record)
        extra = {k: v for k, v in record.items() if k not in ("z", "seed", "seconds", "wall", "failed")}
        line = {"group": name, "seed": seed, "failed": bool(record["failed"]), "cpu_s": round(record["seconds"], 2),
                "wall_s": round(record["wall"], 2), "z": [round(float(v), 4) for v in record["z"]], **extra}
        print("[seed] " + json.dumps(line), file=sys.stderr, flush=True)
    return summary(name, records)


def from_logs(paths: list[str]) -> dict[str, list[dict]]:
    """The per-seed records of earlier runs, read back from their stderr logs (lines ``[seed] {json}``), by group;
    a seed seen twice keeps its last record."""
    groups: dict[str, dict[int, dict]] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.startswith("[seed] "):
                r = json.loads(line[len("[seed] "):])
                r.update(seconds=r.pop("cpu_s"), wall=r.pop("wall_s", float("nan")))
                groups.setdefault(r["group"], {})[r["seed"]] = r
    return {name: [by_seed[s] for s in sorted(by_seed)] for name, by_seed in groups.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..S-1 (default 20)")
    parser.add_argument("--first", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--from-logs", nargs="+", metavar="LOG",
                        help="summarise the per-seed lines of earlier runs' stderr logs instead of running")
    parser.add_argument("--full", action="store_true",
                        help="the full sizes of `validate` (default: --quick's); only some groups read ctx.quick")
    args = parser.parse_args(argv)
    if args.from_logs:
        logged = from_logs(args.from_logs)
        print(json.dumps({"groups": [summary(n, r) for n, r in logged.items() if n in GROUPS],
                          "unknown_groups": sorted(set(logged) - set(GROUPS))}, indent=1))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    seeds = list(range(args.first, args.first + args.seeds))
    print(json.dumps({"quick": not args.full, "groups": [measure(n, seeds, quick=not args.full) for n in names]},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
