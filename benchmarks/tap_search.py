"""Which seeds reach the TAP states of SK at T = 0.3, and is the search complete? (issue 14)

Per instance sk(n, seed=5000 + i) the non-paramagnetic TAP2 minima are counted (solvers.counting.tap_minima:
+-m pairs twice) from ``S`` starts of each strategy, every one run through the Bolthausen iteration, the
relaxation and the Newton polish of find_minima (stationary to 1e-10, classified by the Hessian):

    quench      find_minima(seeds="quench"): zero-temperature quenches dressed with their local fields;
    thermal     find_minima(seeds="thermal"): heat-bath chains at T from random spins, 200 sweeps of
                burn-in, the average of the next 100;
    chains      the dynamics' trapping states: heat-bath chains at T started in quenched states, CHAIN_BURN_IN
                sweeps, then the time average of CHAIN_WINDOW sweeps;
    windows     one long heat-bath chain per instance from a quenched state: the averages of S consecutive
                windows of WINDOW_SWEEPS sweeps;
    downward    continuation with re-seeding: the minima at T + T_ABOVE followed down a grid of step T_STEP (Newton
                from each minimum and its image at the next T) with S fresh quench seeds at every T.

Completeness (n <= ROOT_MAX_N): Levenberg-Marquardt on the TAP equations themselves (:func:`tap_roots`,
scipy.optimize.root, method "lm", the analytic Jacobian) from the seeds of quench, thermal, chains and
windows, S uniform random m and the images -m of all of them; it converges onto saddles as well as minima (it
minimises |F|^2, not G), so it also counts the non-paramagnetic saddles. Its roots are polished and classified
by find_minima(init=...). Every minimum of the union is checked: smallest eigenvalue of D^1/2 H D^1/2 > 0,
Plefka's global condition, and chains started at sign(m) (solvers.state_overlap, 32 chains, 100 sweeps).

Run: ``python benchmarks/tap_search.py [--quick] [--json]`` or ``thermopot bench --only tap_search``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.optimize import root

from thermopot.benchmarks import log, row, standalone
from thermopot.models import sk
from thermopot.sampling import Sampler
from thermopot.solvers import find_minima, state_overlap
from thermopot.solvers.bray_moore import tap_complexity
from thermopot.solvers.counting import PARAMAGNET_Q, tap_minima
from thermopot.solvers.newton import X_MAX
from thermopot.solvers.seeds import SEED_MAX, amp_starts, quench_states, seeded_starts

T_LOW = 0.3
CHAIN_BURN_IN, CHAIN_WINDOW = 100, 200
WINDOW_SWEEPS = 20
T_ABOVE, T_STEP = 0.2, 0.02
ROOT_MAX_N = 100
STRATEGIES = ("quench", "thermal", "chains", "windows", "downward")


def _states(res) -> np.ndarray:
    return res.is_minimum & (np.mean(res.points**2, axis=1) > PARAMAGNET_Q)


def _time_averages(model, T: float, spins: np.ndarray, burn_in: int, windows: int, sweeps: int, rng) -> np.ndarray:
    """(windows, chains, N) averages of consecutive windows of ``sweeps`` heat-bath sweeps at T after
    ``burn_in`` sweeps, from the chains ``spins``."""
    sampler = Sampler(model, T)
    state = sampler.init(initial=spins.astype(np.float64), seed=rng)
    if burn_in:
        state = sampler.run(state, burn_in, record=False, progress=False)
    out = np.zeros((windows, spins.shape[0], model.n))
    for w in range(windows):
        for _ in range(sweeps):
            state = sampler.run(state, 1, record=False, progress=False)
            out[w] += state.spins
    return np.clip(out / sweeps, -SEED_MAX, SEED_MAX)


def _seeds(model, T: float, strategy: str, starts: int, rng) -> np.ndarray:
    """The seeds of ``strategy`` (chains, windows) before the Bolthausen iteration."""
    if strategy == "chains":
        return _time_averages(model, T, quench_states(model, starts=starts, seed=rng), CHAIN_BURN_IN, 1,
                              CHAIN_WINDOW, rng)[0]
    return _time_averages(model, T, quench_states(model, starts=1, seed=rng), 0, starts, WINDOW_SWEEPS, rng)[:, 0]


def _search(model, T: float, strategy: str, starts: int, seed: int):
    """(find_minima result at T, the seeds used) of one strategy (module docstring)."""
    rng = np.random.default_rng(seed)
    if strategy in ("quench", "thermal"):
        seeds = seeded_starts(model, T, order=2, seeds=strategy, starts=starts, seed=rng)
        return find_minima(model, T, init=seeds, max_seconds=1e6), seeds
    if strategy in ("chains", "windows"):
        seeds = _seeds(model, T, strategy, starts, rng)
        return find_minima(model, T, init=amp_starts(model, T, m0=seeds), max_seconds=1e6), seeds
    held, used = np.zeros((0, model.n)), []
    for t in np.round(np.arange(T + T_ABOVE, T - 1e-9, -T_STEP), 6):
        fresh = seeded_starts(model, t, order=2, seeds="quench", starts=starts, seed=rng)
        res = find_minima(model, t, init=np.concatenate([held, -held, fresh]), max_seconds=1e6)
        held = res.points[_states(res)]
        used.append(fresh)
    return res, np.concatenate(used)


def tap_roots(model, T: float, m0: np.ndarray) -> np.ndarray:
    """Magnetisations of the roots of the TAP2 equations of a pairwise model (h, J),
        F(x) = x - beta (h + J m) + beta^2 m o [(J o J)(1 - m^2)] = 0,   m = tanh x,
    reached by Levenberg-Marquardt from the rows of m0 (those with max |F| < 1e-8), before polishing."""
    beta, h, J = 1.0 / T, model.h, model.J
    J2, eye = J * J, np.eye(model.n)

    def value(x: np.ndarray) -> np.ndarray:
        m = np.tanh(np.clip(x, -X_MAX, X_MAX))
        return x - beta * (h + J @ m) + beta * beta * m * (J2 @ (1.0 - m * m))

    def jacobian(x: np.ndarray) -> np.ndarray:
        m = np.tanh(np.clip(x, -X_MAX, X_MAX))
        dm = -beta * J + np.diag(beta * beta * (J2 @ (1.0 - m * m))) - 2 * beta * beta * m[:, None] * J2 * m[None, :]
        return eye + dm * (1.0 - m * m)[None, :]

    ends = [root(value, np.arctanh(m), jac=jacobian, method="lm").x for m in m0]
    return np.array([np.tanh(x) for x in ends if np.abs(value(x)).max() < 1e-8]).reshape(-1, model.n)


def _verify(model, T: float, res, seed: int) -> str:
    """The checks of every counted minimum of ``res``: Hessian, Plefka's global condition, and chains started
    at sign(m) (stable: mean overlap within 3 standard errors of q; and the largest |overlap - q|)."""
    rows = np.flatnonzero(_states(res))
    chains = [state_overlap(model, T, m=res.points[a], chains=32, sweeps=100, seed=seed + int(a)) for a in rows]
    gap = max((abs(c.mean - c.q) for c in chains), default=0.0)
    return (f"{rows.size} minima: Hessian min eig > 0 for {int((res.hessian_min_eig[rows] > 0).sum())}, Plefka "
            f"global {int(res.plefka_global[rows].sum())}, chain-stable {sum(c.stable for c in chains)} "
            f"(max |overlap - q| {gap:.3f})")


def _instance_rows(n: int, T: float, instances: int, starts: int) -> list[dict]:
    bm = tap_complexity(T)
    counts = {name: [] for name in (*STRATEGIES, "union", "roots: minima", "roots: saddles")}
    seconds = dict.fromkeys(counts, 0.0)
    checks = []
    for i in range(instances):
        model = sk(n, seed=5000 + i)
        found, seeds = [], {}
        for strategy in STRATEGIES:
            begin = time.perf_counter()
            res, used = _search(model, T, strategy, starts, seed=i)
            seconds[strategy] += time.perf_counter() - begin
            counts[strategy].append(tap_minima(res, symmetric=True))
            found.append(res.points[_states(res)])
            seeds[strategy] = used
        begin = time.perf_counter()
        if n <= ROOT_MAX_N:
            uniform = np.random.default_rng(i).uniform(-1, 1, (starts, n)) * SEED_MAX
            pool = np.concatenate([*(seeds[s] for s in STRATEGIES if s != "downward"), uniform])
            roots = tap_roots(model, T, np.concatenate([pool, -pool]))
            every = find_minima(model, T, init=roots, max_seconds=1e6)
            nonzero = np.mean(every.points**2, axis=1) > PARAMAGNET_Q
            counts["roots: minima"].append(tap_minima(every, symmetric=True))
            counts["roots: saddles"].append(int((~every.is_minimum & nonzero).sum()))
            found.append(every.points[_states(every)])
        seconds["roots: minima"] += time.perf_counter() - begin
        union = np.concatenate(found)
        if union.shape[0]:
            res = find_minima(model, T, init=np.concatenate([union, -union]), max_seconds=1e6)
            counts["union"].append(tap_minima(res, symmetric=True))
            checks.append(_verify(model, T, res, seed=i))
        else:
            counts["union"].append(0)
        log("tap_search", f"N={n} T={T} instance {i}: " + ", ".join(f"{k} {v[-1]}" for k, v in counts.items() if v))
    rows = []
    for name, values in counts.items():
        if not values:
            continue
        c = np.array(values, dtype=float)
        note = (f"mean {c.mean():.2f} +- {c.std(ddof=1) / np.sqrt(c.size):.2f} per instance (max {int(c.max())}) "
                f"against exp(N Sigma({T})) = {bm.expected(n):.2f}; {starts} starts per strategy")
        if name == "union":
            note += "; checks: " + "; ".join(checks)
        log("tap_search", f"N={n} T={T} {name}: {note}")
        rows.append(row(f"TAP2 minima SK N={n} T={T}, {name}, {instances} instances", seconds[name], "s",
                        "numpy", note, n=n, instances=instances, counts=values, bray_moore=bm.expected(n)))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (NumPy)."""
    jobs = [(50, T_LOW, 3, 64)] if quick else [(50, T_LOW, 10, 128), (100, T_LOW, 6, 128), (200, T_LOW, 3, 128),
                                                (200, 0.5, 3, 128)]
    return [r for n, T, k, starts in jobs for r in _instance_rows(n, T, k, starts)]


if __name__ == "__main__":
    sys.exit(standalone(run, __doc__.split("\n\n")[0], "N = 50 only, 3 instances, 64 starts per strategy"))
