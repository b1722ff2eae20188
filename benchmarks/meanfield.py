"""Plefka/TAP layer: derivation time of the symbolic expansion, and the generated numeric code against
a hand-written einsum version.

Rows:
- "derive plefka order K (cold)": ``derive_graph_terms(K)`` from scratch, no cache (goals: order 4 < 60 s,
  order 6 < 5 min on the 2-core machine); the full run also times order 6.
- "order-2 G+grad generated" / "hand-written einsum" for B points, N spins (full: B = 4096, N = 256;
  quick: B = 512): ``MeanFieldPotential.value_and_gradient`` against the TAP free energy and gradient
  written by hand with ``einsum`` (goal: generated within 2x); "ratio" = generated / hand-written.
- "order-4 G+grad generated" for information (O(B N^3): triangles and squares).

Run: ``python benchmarks/meanfield.py [--quick] [--json]`` or ``thermopot bench``.
"""

from __future__ import annotations

import sys
import time
from types import ModuleType

import numpy as np

from thermopot.backend import asarray, backend_name, get_namespace
from thermopot.benchmarks import best_seconds, on_every_backend, standalone
from thermopot.meanfield import mean_field
from thermopot.models import sk
from thermopot.symbolic.plefka import derive_graph_terms

T = 1.5


def handwritten_tap2(xp: ModuleType, m, h, J, J2, T: float):
    """G_2 and its gradient written by hand (the baseline):
    G = -T S0 - h.m - m.J.m/2 - (beta/4) sum_kl J_kl^2 (1-m_k^2)(1-m_l^2),
    dG/dm = T atanh m - h - J m + beta m (J^2 (1 - m^2))."""
    q = 1 - m**2
    Jm = xp.einsum("bj,jk->bk", m, J, optimize=True)
    J2q = xp.einsum("bj,jk->bk", q, J2, optimize=True)
    S = -xp.sum((1 + m) / 2 * xp.log((1 + m) / 2) + (1 - m) / 2 * xp.log((1 - m) / 2), axis=1)
    G = -T * S - m @ h - 0.5 * xp.einsum("bk,bk->b", m, Jm) - 0.25 / T * xp.einsum("bk,bk->b", q, J2q)
    grad = T * xp.atanh(m) - h[None, :] - Jm + m * J2q / T
    return G, grad


def _numeric_rows(xp: ModuleType, quick: bool) -> list[dict]:
    backend = backend_name(xp)
    B, n = (512 if quick else 4096), 256
    model = sk(n, seed=0, h=0.1)
    m = asarray(np.random.default_rng(0).uniform(-0.8, 0.8, (B, n)), xp)
    h, J = asarray(model.h, xp), asarray(model.J, xp)
    J2 = J**2
    pot2 = mean_field(model, T, order=2, backend=xp)
    G, g = pot2.value_and_gradient(m)
    Gh, gh = handwritten_tap2(xp, m, h, J, J2, T)
    err = float(xp.max(xp.abs(G - Gh)) + xp.max(xp.abs(g - gh)))
    t_gen = best_seconds(lambda: pot2.value_and_gradient(m), xp, budget=2.0)
    t_hand = best_seconds(lambda: handwritten_tap2(xp, m, h, J, J2, T), xp, budget=2.0)
    size = f"B={B}, N={n}"
    rows = [
        {"name": "order-2 G+grad generated", "value": B / t_gen, "unit": "points/s", "backend": backend,
         "note": f"{size}; {t_gen * 1e3:.1f} ms; max |diff| to hand-written {err:.1e}"},
        {"name": "order-2 G+grad hand-written einsum", "value": B / t_hand, "unit": "points/s",
         "backend": backend, "note": f"{size}; {t_hand * 1e3:.1f} ms"},
        {"name": "order-2 generated / hand-written time", "value": t_gen / t_hand, "unit": "ratio",
         "backend": backend, "note": "goal <= 2"},
    ]
    B4 = 64 if quick else 512
    pot4 = mean_field(model, T, order=4, backend=xp)
    t4 = best_seconds(lambda: pot4.value_and_gradient(m[:B4]), xp, repeats=3, budget=2.0)
    rows.append({"name": "order-4 G+grad generated", "value": B4 / t4, "unit": "points/s", "backend": backend,
                 "note": f"B={B4}, N={n}; O(B N^3) (triangles, squares)"})
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows {name, value, unit, backend, note}."""
    rows = []
    for order in ((4,) if quick else (4, 6)):
        t0 = time.perf_counter()
        terms = derive_graph_terms(order)
        dt = time.perf_counter() - t0
        goal = {4: "goal < 60 s", 6: "goal < 300 s"}[order]
        rows.append({"name": f"derive plefka order {order} (cold)", "value": dt, "unit": "s", "backend": "sympy",
                     "note": f"{len(terms)} graph classes; {goal}"})
    return rows + on_every_backend(lambda name, quick: _numeric_rows(get_namespace(name), quick), quick)


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "smaller sizes, order 4 derivation only"))
