"""Are the TAP2 minima that thermal seeds find on SK stable under chains? (issue 14)

Per instance sk(n, seed=5000 + i) (and the issue's sk(200, seed=0) at T = 0.5) the non-paramagnetic TAP2 minima of
find_minima(seeds="thermal", starts=STARTS, seed=i), one per +-m pair (G is flip-symmetric), are checked by
solvers.state_overlap (CHAINS chains, SWEEPS sweeps) started at sign(m) and sampled from m, averaged from the first
sweep (burn_in=0, the test before the burn-in) and after the MSER burn-in (the default). The chains' own long-run
overlap (state_overlap with LONG sweeps and the first LONG_BURN_IN discarded) is the reference that says whether a
failure is the start-up transient (then the long-run overlap is at q) or a difference between the TAP2
magnetisations and the state the chains sit in (the long-run overlap is off q too), and whether chains leave.

Run: ``python benchmarks/tap_stability.py [--quick] [--json]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.solvers import find_minima, state_overlap
from thermopot.solvers.counting import PARAMAGNET_Q

STARTS, CHAINS, SWEEPS = 128, 32, 100
LONG, LONG_BURN_IN = 1000, 200
#: a long-run overlap this far below q: chains left the state
LEFT = 0.05


def _pairs(res) -> np.ndarray:
    """Rows of the non-paramagnetic minima, one per +-m pair."""
    rows = np.flatnonzero(res.is_minimum & (np.mean(res.points**2, axis=1) > PARAMAGNET_Q))
    partner = np.asarray(res.partner)[rows]
    return rows[~np.isin(partner, rows) | (partner > rows)]


def _checks(model, T: float, m: np.ndarray, seed: int) -> dict:
    out = {}
    for start in ("sign", "sample"):
        for name, burn_in in (("first sweep", 0), ("mser", "mser")):
            c = state_overlap(model, T, m=m, chains=CHAINS, sweeps=SWEEPS, start=start, burn_in=burn_in, seed=seed)
            out[f"{start}, {name}"] = c.stable
            if name == "mser":
                out[f"{start} burn-in"] = c.burn_in
    ref = state_overlap(model, T, m=m, chains=CHAINS, sweeps=LONG, burn_in=LONG_BURN_IN, seed=seed)
    out["long - q"] = ref.mean - ref.q
    out["long stderr"] = ref.stderr
    out["left"] = ref.mean < ref.q - LEFT
    return out


def _case(label: str, n: int, T: float, models: list) -> dict:
    begin = time.perf_counter()
    checks = []
    for i, model in models:
        res = find_minima(model, T, seeds="thermal", starts=STARTS, seed=i, max_seconds=1e6)
        for a in _pairs(res):
            checks.append(_checks(model, T, res.points[a], seed=i + int(a)))
            log("tap_stability", f"{label} instance {i} row {a}: {checks[-1]}")
    keys = ("sign, first sweep", "sign, mser", "sample, first sweep", "sample, mser")
    stable = {k: sum(c[k] for c in checks) for k in keys}
    gaps = np.array([c["long - q"] for c in checks])
    left = sum(c["left"] for c in checks)
    stayed = gaps[[not c["left"] for c in checks]]
    note = (f"{len(checks)} +-m pairs; stable under chains (|mean - q| <= 3 stderr, {CHAINS} chains, {SWEEPS} sweeps): "
            + ", ".join(f"{k} {v}/{len(checks)}" for k, v in stable.items())
            + f"; long run ({LONG} sweeps, first {LONG_BURN_IN} discarded): chains left {left}, "
            + (f"overlap - q of the rest median {np.median(stayed):+.4f}, range {stayed.min():+.4f} to {stayed.max():+.4f}"
               if stayed.size else "none stayed"))
    log("tap_stability", f"{label}: {note}")
    return row(f"TAP2 minima stable under chains, {label}", time.perf_counter() - begin, "s", "numpy", note, n=n,
               T=T, pairs=len(checks), stable=stable, left=left, gaps=gaps.tolist())


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy)."""
    jobs = [(50, 0.3, 3)] if quick else [(50, 0.3, 10), (100, 0.3, 6), (200, 0.3, 10)]
    rows = [_case(f"SK N={n} T={T}, {k} instances", n, T, [(i, sk(n, seed=5000 + i)) for i in range(k)])
            for n, T, k in jobs]
    if not quick:
        rows.append(_case("sk(200, seed=0) T=0.5", 200, 0.5, [(1, sk(200, seed=0))]))
    return rows


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 50 only, 3 instances"))
