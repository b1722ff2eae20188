"""Figures of the claim table (:func:`thermopot.knowledge.claims`): one PNG per row, drawn from the row's
``measured`` numbers alone, so a table read back from JSON draws the same figures."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from .report import label_axes, new_figure, save_figure


def _minima(ax, m: dict) -> None:
    ax.plot(m["T"], m["reduced_minima"], "o-", label="minima of G over the pairwise family")
    ax.plot(m["T"], m["model_minima"], "s--", label="bound states of the fitted model (basins, F_a at T)")
    ax.plot(m["T"], m["mapped"], "x:", label="distinct bound states a reduced minimum peaks on")
    ax.axvline(m["T_star"], color="grey", ls="--", lw=1, label=f"T* = {m['T_star']:.3g}")
    ax.set_xscale("log")
    label_axes(ax, "T", "count", "C2-C3: reduced description against the model's own free energy")


def _gap(ax, m: dict) -> None:
    n = np.asarray(m["n"], float)
    ax.errorbar(n, np.asarray(m["gap"]) / n, np.asarray(m["gap_error"]) / n, fmt="o-",
                label=f"planted data; d gap / d N = {m['value']:.2f} +- {m['error']:.2f}")
    for label, v in m["datasets"].items():
        ax.errorbar([v["n"]], [v["per_spin"]], [v["per_spin_error"]], fmt="s", label=f"{label} ({v['fit']} fit)")
    label_axes(ax, "N", "gap per spin (E_non - E_train) / N", "C5: energy gap of the fitted model")


def _escape(axes, m: dict) -> None:
    ax_t, ax_b = axes
    for ridge, r in m["ridges"].items():
        ax_t.semilogy(m["n"], r["tau"], "o-", label=f"ridge {ridge}")
        ax_b.plot(m["n"], r["barrier"], "o-", label=f"ridge {ridge}")
    label_axes(ax_t, "N", "mean first-passage time (sweeps)", "C6-C7: escape into the high-T phase at T = 1")
    label_axes(ax_b, "N", "exact escape barrier", "barrier against a decade of ridge penalties")


def _access(ax, m: dict) -> None:
    ax.errorbar(m["weights"], m["chain_rate"], m["chain_rate_error"], fmt="o-",
                label=f"chains from another class, {m['sweeps']} sweeps")
    ax.plot(m["weights"], m["exact_rate"], "k--", label=f"{m['sweeps']} exact independent samples")
    if m["value"] is not None:
        ax.axvline(m["value"], color="C3", ls=":", label=f"threshold {m['value']:.3g}")
    ax.set_xscale("log")
    label_axes(ax, "exact Boltzmann weight of the down-weighted class", "fraction reaching it",
               "C8: access to an under-represented class")


def _pcd(ax, m: dict) -> None:
    models = m["models"]
    x = np.arange(len(next(iter(models.values()))["class_weight"]))
    for i, (name, r) in enumerate(models.items()):
        ax.bar(x + 0.27 * (i - 1), r["class_weight"], 0.27, label=f"{name}: LL {r['log_likelihood']:.4f}")
    label_axes(ax, "class", "exact model weight of the class's data patterns", "C9: PCD against the exact gradient")


def _remedy(ax, m: dict) -> None:
    models = m["models"]
    names = list(models)
    ax.bar(range(len(names)), [models[k]["held_out_log_likelihood"] for k in names],
           yerr=[models[k]["error"] for k in names])
    ax.set_xticks(range(len(names)), [textwrap.fill(f"{k} ({models[k]['parameters']} parameters)", 24)
                                      for k in names], fontsize=6)
    label_axes(ax, "", "held-out log-likelihood per sample", "C10: the remedy against baselines", legend=None)


DRAW = {"C2-C3": (1, _minima), "C5": (1, _gap), "C6-C7": (2, _escape), "C8": (1, _access), "C9": (1, _pcd),
        "C10": (1, _remedy)}


def draw_claims(table: Any, out: str | os.PathLike) -> Any:
    """Draw each row's figure as ``out/claim-<id>.png`` and return the table with the paths in ``figure``
    (a skipped row, or one without numbers, such as the rows method="sampled" does not run, keeps None)."""
    folder = Path(out)
    rows = []
    for row in table.rows:
        panels, draw = DRAW.get(row.id, (0, None))
        if draw is None or row.verdict == "skipped" or set(row.measured) <= {"value", "error"}:
            rows.append(row)
            continue
        fig, axes = new_figure(1, panels, size=(6.0 * panels, 4.0))
        draw(axes, row.measured)
        rows.append(dataclasses.replace(row, figure=save_figure(fig, folder / f"claim-{row.id}.png")))
    return dataclasses.replace(table, rows=tuple(rows))


__all__ = ["draw_claims"]
