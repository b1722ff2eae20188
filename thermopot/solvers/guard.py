"""Size guard of :func:`thermopot.solvers.find_minima`: refuse at once a job that cannot fit in memory or
would run too long, with the amounts (the free-memory and time-limit logic of thermopot.exact.guard).

Memory: the relaxation holds about ``START_ARRAYS`` float64 arrays of the starts (B, N) at once (iterate,
step, trial point, residual and their temporaries), the grouping a few more; orders 3-4 add
``PROGRAM_ARRAYS`` (B, N, N) intermediates (in chunks of 8 blocks); the Newton phase runs chunks of at
most one backend block (backend.default_block_size elements) of N x N matrices, ``NEWTON_ARRAYS`` of them
at once, whatever B; plus ``FIXED_BYTES``.

Time, for B starts of N spins at Plefka order p, with G Newton groups (G = B unless given: every start
its own Newton run, the worst case, which SK under nMF at T = 0.5 reaches: 945 groups from 1000 starts at
N = 256):

    seconds = CALL_SECONDS + LOOP_SECONDS[p] (RELAX_ITERATIONS + NEWTON_LOOPS)
              + B E(N) RELAX_SECONDS w(N, p)
              + G (K(N) + 2) NEWTON_SECONDS (N^3 + NEWTON_N2 N^2) (1 + 2 max(p - 2, 0)),

    E(N) = RELAX_EVALS + RELAX_EVALS_SQRT sqrt(N)   (relaxation evaluations per start),
    K(N) = NEWTON_ITERATIONS + NEWTON_ITERATIONS_SQRT sqrt(N)   (Newton iterations per group),
    w(N, p) = p N^2 + SPIN_WORK N (orders 1-2),  (p - 2) PROGRAM_WORK (N^3 + 64 N^2) (orders 3-4).

The first line is the batched loops' own cost (array dispatch) at their caps: the relaxation's
RELAX_ITERATIONS and NEWTON_LOOPS Newton iterations with their line searches (a job that does not
converge, e.g. TAP3 far outside Plefka's condition, runs to these caps); the second the relaxation's
products, E(N) evaluations of the interaction and its gradient per start (O(N^2) at orders 1-2, O(N^3) at
3-4); the third the Newton phase per group: K(N) iterations of an N x N eigen-decomposition with the
Hessian and the line search, plus the chord matrix and the classification (the + 2); at orders 3-4 the
program's Hessian costs about twice the eigen-decomposition (0.92 against 0.60 ms at N = 64), the factor
1 + 2 (p - 2). E(N) and K(N) bound
the counts measured on the calibration grid (benchmarks/guards_solvers.py --grid: E up to 327 at N = 1000,
K up to 11.4 where the starts converge); a job whose many starts do not converge (TAP3-4 at T = 0.1:
172-200 Newton iterations per group) runs longer than this per-start part.

An estimate for B starts is therefore tight (1.1-3.7x on the grid) when the starts end at distinct points,
and 100-800x above the run when they crowd into a few basins (the knowledge pipeline's pattern starts: 800
starts at N = 256 in 0.44-0.48 s against 74-77 s; the TAP2 paramagnet of SK at N = 1000, 1000 starts:
5.3 s against 4180 s): the number of groups is not known before the relaxation. find_minima therefore checks twice
(:func:`check_minima_size`): before the run with one group, after the coarse relaxation with the groups
it reached, before their Newton runs. The NumPy constants are
wall times on a busy 2-core Intel Xeon (AVX-512), one BLAS thread (load 1.2-4.2; a quiet machine is
faster: the estimate errs on the safe side); the CuPy ones are not measured (below).
"""

from __future__ import annotations

import math
from types import ModuleType

from ..backend import backend_name, default_block_size
from ..exact.guard import check_budget
from .newton import RELAX_ITERATIONS

#: float64 arrays of shape (starts, N) alive at once (measured peak 11.6 B N x 8 bytes at N = 64)
START_ARRAYS = 16
#: float64 arrays of one Newton chunk (Hessians, eigenvectors, products) alive at once
NEWTON_ARRAYS = 8
#: float64 (B, N, N) intermediates of the order-3 and order-4 programs (meanfield evaluates them in chunks
#: of 8 backend blocks; measured 3-6 B N^2 for a gradient)
PROGRAM_ARRAYS = 6
#: bytes whatever the size: the loaded Plefka program and Python objects (measured 0.55 MB at first use)
FIXED_BYTES = 4 * 2**20

# Time constants: wall seconds fitted to benchmarks/guards_solvers.py --grid (N = 16-1000, 8-10000 starts,
# nMF, TAP2, TAP3 at N <= 64, TAP4 at N = 16; SK at T = 0.5 and 0.1, Hopfield from noisy patterns), 2-core
# Intel Xeon (AVX-512), NumPy, one BLAS thread, load 1.2-4.2 (TAP4: 22), 2026-12-03.
#: seconds per call whatever the size (setup, grouping, de-duplication, result), per backend
CALL_SECONDS = {"numpy": 0.1, "cupy": 0.5}
# CuPy: not measured (no GPU was lent in this session); the former constants carried over into this form
# (relaxation 2e-9 s per start, N^2 and order at E(256) evaluations, Newton 1e-11 s per start and N^3 at
# K(256) + 2 iterations, 2 ms per loop), to be replaced by `benchmarks/guards_solvers.py --grid` on a GPU.
#: seconds per batched loop iteration (array dispatch; an order-3/4 program evaluates in many small
#: products), by order: measured 0.3 ms (nMF), 0.8 ms (TAP2), 7-8 ms (TAP3), 23-30 ms (TAP4) per
#: relaxation iteration
LOOP_SECONDS = {"numpy": {1: 5e-4, 2: 1e-3, 3: 1e-2, 4: 3e-2}, "cupy": {1: 2e-3, 2: 2e-3, 3: 1e-2, 4: 3e-2}}
#: the Newton phase's loop cost in units of LOOP_SECONDS: 200 (find_minima's max_iter) iterations of
#: about 8 loop costs each (the Hessian, the eigen-decomposition, the line search's evaluations; measured
#: 5-7 at orders 3-4, where SK at T = 0.1 runs every start to both caps)
NEWTON_LOOPS = 1600
#: relaxation evaluations per start: E(N) = RELAX_EVALS + RELAX_EVALS_SQRT sqrt(N) (measured at most 25,
#: 90, 143, 327 per start at N = 16, 64, 256, 1000 for nMF, 27-31 for TAP2, 85 for TAP3 at N = 16)
RELAX_EVALS = 100
RELAX_EVALS_SQRT = 10.0
#: seconds per start, relaxation evaluation and unit of w(N, p), per backend (measured 1.2e-10 at N = 256,
#: 0.6e-10 at N = 1000 for the N^2 products; SPIN_WORK N covers the per-spin tanh/exp: 5e-8 s per spin)
RELAX_SECONDS = {"numpy": 1.2e-10, "cupy": 8e-12}
SPIN_WORK = 400
#: the orders 3-4 programs per start and evaluation, in units of RELAX_SECONDS: 1.8e-9 N^3 s at N = 16,
#: 4.6e-10 N^3 s at N = 64
PROGRAM_WORK = 3.0
#: Newton iterations per group: K(N) = NEWTON_ITERATIONS + NEWTON_ITERATIONS_SQRT sqrt(N) (measured mean
#: 2.5, 4.2, 5.0, 8.1-11.4 at N = 16, 64, 256, 1000 on SK)
NEWTON_ITERATIONS = 3.0
NEWTON_ITERATIONS_SQRT = 0.3
#: seconds per Newton iteration of one group, per (N^3 + NEWTON_N2 N^2), per backend (measured 6.4 ms at
#: N = 256, 0.16 s at N = 1000, 0.37 ms at N = 64: the eigen-decomposition, the Hessian, the line search)
NEWTON_SECONDS = {"numpy": 2e-10, "cupy": 1e-12}
NEWTON_N2 = 400
#: products below this many floating-point operations run on one BLAS thread: handing them to several
#: threads costs more than it saves, most of all on a busy machine (measured on 2 busy cores: the knowledge
#: reduced-G step, 2.4 GFLOP Hessians at N = 16, 146 s with the default threads against 6 s with one)
SINGLE_THREAD_FLOPS = 1e10


def relax_work(n: int, order: int) -> float:
    """w(N, p) of the module docstring: the work of one evaluation of the interaction and its gradient."""
    if order <= 2:
        return order * n * n + SPIN_WORK * n
    return (order - 2) * PROGRAM_WORK * (float(n) ** 3 + 64.0 * n * n)


def estimate_minima(n: int, starts: int, order: int, xp: ModuleType, *,
                    groups: int | None = None) -> tuple[float, float]:
    """(bytes, seconds) find_minima needs for ``starts`` starts of N = n spins at Plefka order ``order``
    (module docstring), with ``groups`` Newton groups (default ``starts``: the worst case)."""
    name = backend_name(xp)
    block = default_block_size(xp)
    newton = NEWTON_ARRAYS * min(starts * n * n, max(block, n * n))
    program = PROGRAM_ARRAYS * min(starts * n * n, 8 * max(block, n * n)) if order > 2 else 0
    memory = 8.0 * (START_ARRAYS * starts * n + newton + program + 8 * n * n) + FIXED_BYTES
    groups = starts if groups is None else groups
    loops = LOOP_SECONDS[name][min(order, 4)] * (RELAX_ITERATIONS + NEWTON_LOOPS)
    relax = (RELAX_EVALS + RELAX_EVALS_SQRT * math.sqrt(n)) * RELAX_SECONDS[name] * relax_work(n, order)
    iterations = NEWTON_ITERATIONS + NEWTON_ITERATIONS_SQRT * math.sqrt(n) + 2.0
    per_group = iterations * NEWTON_SECONDS[name] * (float(n) ** 3 + NEWTON_N2 * n * n) * (1 + 2 * max(order - 2, 0))
    return memory, CALL_SECONDS[name] + loops + starts * relax + groups * per_group


def check_minima_size(n: int, starts: int, order: int, xp: ModuleType, *, max_seconds: float | None = None,
                      groups: int | None = None) -> tuple[float, float]:
    """Raise SizeError when find_minima's estimate exceeds the free memory or the time limit. find_minima
    checks twice: before the run with ``groups=1`` (the relaxation and one Newton run: refuses at once what
    cannot fit whatever the landscape) and after the coarse relaxation with the Newton groups it found
    (tight, see the module docstring), before the Newton phase, the bulk of a job whose starts stay apart."""
    memory, seconds = estimate_minima(n, starts, order, xp, groups=groups)
    what = f"find_minima with {starts} starts of N={n} spins at order {order}"
    rate = ("counting the relaxation and one Newton run" if groups == 1 else
            f"the relaxation reached {groups} Newton groups" if groups is not None else
            "assuming every start needs its own Newton run")
    return check_budget(memory, seconds, what, xp, max_seconds=max_seconds, rate=rate)
