"""find_minima's time estimate (thermopot.solvers.guard) against what the runs measured and what they do.

The constants are wall times measured by benchmarks/guards_solvers.py --grid (2-core Intel Xeon AVX-512,
NumPy, one BLAS thread, load 1.3-4.2, 2026-12-03); no test here reads a clock. Measured references:
SK N = 256 under nMF at T = 0.5, 1000 uniform starts (945 distinct Newton groups, the worst case) ran
39.1 s; the knowledge pipeline's step (800 pattern starts at N = 256, TAP2 and nMF) 0.5-0.7 s each."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from thermopot.backend import get_namespace
from thermopot.errors import SizeError
from thermopot.exact.guard import human_bytes, human_seconds
from thermopot.models import sk
from thermopot.solvers import find_minima, guard, minima
from thermopot.solvers.guard import check_minima_size, estimate_minima

XP = get_namespace("numpy")
#: the worst case measured at N = 256 (SK, nMF, T = 0.5, 1000 starts, 945 Newton groups), seconds
WORST_256_SECONDS = 39.1


def test_guard_refuses_at_once_a_job_whose_relaxation_alone_is_too_long():
    """5000 TAP2 starts at N = 1000 under a 1 min limit: even the relaxation and one Newton run (the first of
    find_minima's two checks) exceed it, so the job is refused before it starts, the message naming the
    job, both amounts, the limit and what the time counts."""
    memory, seconds = estimate_minima(1000, 5000, 2, XP, groups=1)
    assert seconds > 60
    with pytest.raises(SizeError) as err:
        find_minima(sk(1000, seed=0), 0.5, method="tap2", starts=5000, max_seconds=60)
    msg = str(err.value)
    for part in ("5000 starts of N=1000 spins at order 2", f"about {human_bytes(memory)} of memory",
                 f"about {human_seconds(seconds)}", "more than the limit of 1 min",
                 "counting the relaxation and one Newton run"):
        assert part in msg


def test_guard_refuses_after_the_relaxation_when_its_newton_groups_do_not_fit():
    """SK N = 64 under nMF at T = 0.1, 100 starts, most of which end at their own minimum: with a limit
    halfway between the estimates for 1 and for 100 Newton groups the first check admits the job and the
    second, after the coarse relaxation, refuses it, naming the groups the relaxation reached (over half of
    the starts: the estimate with that many groups is over the limit)."""
    one = estimate_minima(64, 100, 1, XP, groups=1)[1]
    limit = 0.5 * (one + estimate_minima(64, 100, 1, XP)[1])
    with pytest.raises(SizeError, match=r"the relaxation reached (\d+) Newton groups") as err:
        find_minima(sk(64, seed=0), 0.1, method="nmf", starts=100, seed=0, max_seconds=limit)
    groups = int(re.search(r"reached (\d+) Newton groups", str(err.value)).group(1))
    assert 50 < groups <= 100 and estimate_minima(64, 100, 1, XP, groups=groups)[1] > limit > one


def test_guard_admits_crowded_starts_that_the_worst_case_would_refuse():
    """2000 TAP2 starts of SK N = 256 at T = 0.5 under a 1 min limit: every start relaxes to the paramagnet
    (one Newton group), so the job runs (about 2 s) although the worst case, a Newton run per start, is
    estimated at over 1 min: before the two-stage check it was refused."""
    assert estimate_minima(256, 2000, 2, XP)[1] > 60 > estimate_minima(256, 2000, 2, XP, groups=1)[1]
    res = find_minima(sk(256, seed=0), 0.5, method="tap2", starts=2000, seed=0, max_seconds=60)
    assert res.points.shape == (1, 256) and list(res.kind) == ["minimum"]
    assert np.max(np.abs(res.points)) < 1e-6 and bool(np.all(res.converged))


def test_guard_admits_the_knowledge_case_under_the_default_limit(monkeypatch):
    """800 pattern starts at N = 256, nMF and TAP2 (the sampled pipeline's mean-field step): admitted
    under the default hour, and each estimate an upper bound of the measured worst case of that size
    (800/1000 of WORST_256_SECONDS) and within 5x of it; the old constants (2e-6 s per N^2 and start)
    gave 253 s."""
    monkeypatch.delenv("THERMOPOT_MAX_SECONDS", raising=False)
    for order in (1, 2):
        _, seconds = check_minima_size(256, 800, order, XP)
        assert 0.8 * WORST_256_SECONDS <= seconds <= 5 * 0.8 * WORST_256_SECONDS


def test_the_knowledge_case_check_fails_with_the_old_relaxation_constant(monkeypatch):
    """The injected mistake: a relaxation constant 100x too large (as the former 2e-6 s per start, N^2 and
    order was) puts the estimate outside the 5x band of the test above."""
    monkeypatch.setattr(guard, "RELAX_SECONDS", {"numpy": 100 * guard.RELAX_SECONDS["numpy"]})
    _, seconds = estimate_minima(256, 800, 2, XP)
    assert seconds > 5 * 0.8 * WORST_256_SECONDS


def _counted_newton(monkeypatch) -> dict:
    """Record the rows and iterations of every newton_batch call of find_minima."""
    seen = {"groups": 0, "iterations": 0}
    inner = minima.newton_batch

    def counting(R, x0, *args, **kwargs):
        state = inner(R, x0, *args, **kwargs)
        seen["groups"] += int(x0.shape[0])
        seen["iterations"] += int(np.asarray(state.iterations).sum())
        return state
    monkeypatch.setattr(minima, "newton_batch", counting)
    return seen


def _newton_per_group(n: int) -> float:
    """K(N) of the estimate: the Newton iterations it charges per group (besides the chord matrix and the
    classification)."""
    return guard.NEWTON_ITERATIONS + guard.NEWTON_ITERATIONS_SQRT * math.sqrt(n)


def test_worst_case_run_has_a_group_per_start_and_fewer_newton_iterations_than_charged(monkeypatch):
    """SK N = 64 under nMF at T = 0.1: most of 100 uniform starts end at their own minimum (the worst
    case the estimate assumes), and the Newton iterations per group stay below K(N)."""
    seen = _counted_newton(monkeypatch)
    res = find_minima(sk(64, seed=0), 0.1, method="nmf", starts=100, seed=0, backend="numpy")
    assert seen["groups"] >= 80 and res.count >= 80
    assert seen["iterations"] / seen["groups"] <= _newton_per_group(64)


def test_newton_count_check_fails_when_the_estimate_assumes_one_iteration(monkeypatch):
    """The injected mistake: a model that charges one Newton iteration per group (Newton's quadratic
    convergence taken for granted) is below what the worst-case run does."""
    monkeypatch.setattr(guard, "NEWTON_ITERATIONS", 1.0)
    monkeypatch.setattr(guard, "NEWTON_ITERATIONS_SQRT", 0.0)
    seen = _counted_newton(monkeypatch)
    find_minima(sk(64, seed=0), 0.1, method="nmf", starts=100, seed=0, backend="numpy")
    assert seen["iterations"] / seen["groups"] > _newton_per_group(64)


def test_estimate_with_known_groups_is_below_the_worst_case():
    """``groups`` charges the Newton phase per group: one group costs less than a group per start, and
    the difference is (B - 1) groups' Newton cost, linear in the groups."""
    _, worst = estimate_minima(256, 800, 2, XP)
    _, one = estimate_minima(256, 800, 2, XP, groups=1)
    _, half = estimate_minima(256, 800, 2, XP, groups=400)
    assert one < worst
    assert half - one == pytest.approx((worst - one) * 399 / 799)


def test_guard_counts_the_starts_left_over_by_the_chord_iteration(monkeypatch):
    """Crowded starts (SK N = 64, TAP2 at T = 0.5: every start relaxes to the paramagnet, one anchor) whose
    chord iteration is made to fail: each left-over start may need a Newton run of its own, so with a limit
    between the estimates for 1 and for 200 groups the guard's check before those runs refuses the job,
    counting anchor + left-over starts = 200; without the failure the same job runs."""
    limit = 0.5 * (estimate_minima(64, 200, 2, XP, groups=1)[1] + estimate_minima(64, 200, 2, XP)[1])
    assert find_minima(sk(64, seed=0), 0.5, method="tap2", starts=200, seed=0, max_seconds=limit).points.shape[0] == 1
    real = minima.chord_batch

    def failing(*args, **kwargs):
        state = real(*args, **kwargs)
        state.converged = state.converged & False
        return state
    monkeypatch.setattr(minima, "chord_batch", failing)
    with pytest.raises(SizeError, match=r"reached 200 Newton groups"):
        find_minima(sk(64, seed=0), 0.5, method="tap2", starts=200, seed=0, max_seconds=limit)
