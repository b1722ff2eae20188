"""Size guard of :func:`thermopot.solvers.find_minima`: refuse at once a job that cannot fit in memory or
would run too long, with the amounts (the free-memory and time-limit logic of thermopot.exact.guard).

Memory: the relaxation holds about ``START_ARRAYS`` float64 arrays of the starts (B, N) at once (iterate,
step, trial point, residual and their temporaries), the grouping a few more; orders 3-4 add
``PROGRAM_ARRAYS`` (B, N, N) intermediates (in chunks of 8 blocks); the Newton phase runs chunks of at
most one backend block (backend.default_block_size elements) of N x N matrices, ``NEWTON_ARRAYS`` of them
at once, whatever B; plus ``FIXED_BYTES``. Time: a fixed cost per relaxation iteration (at most
``RELAX_ITERATIONS``; the slowest start sets their number), the relaxation's products per start
(O(N^2) at orders 1-2, O(N^3) at 3-4) and, as if every start were its own Newton group (the worst case),
Newton iterations of O(N^3) per start. The constants are measured by benchmarks/guards_solvers.py on a
busy 2-core machine (a quiet one is faster: the estimate errs on the safe side).
"""

from __future__ import annotations

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
#: seconds per relaxation iteration whatever the number of starts (array dispatch), per backend
ITERATION_SECONDS = {"numpy": 8e-3, "cupy": 2e-3}
#: seconds per start and per N^2 (N^3 at orders 3-4) and order, relaxation, per backend
RELAX_SECONDS = {"numpy": 2e-6, "cupy": 2e-9}
#: seconds per start and per N^3 (Newton iterations with eigen-decompositions), per backend
NEWTON_SECONDS = {"numpy": 2e-9, "cupy": 1e-11}
#: products below this many floating-point operations run on one BLAS thread: handing them to several
#: threads costs more than it saves, most of all on a busy machine (measured on 2 busy cores: the knowledge
#: reduced-G step, 2.4 GFLOP Hessians at N = 16, 146 s with the default threads against 6 s with one)
SINGLE_THREAD_FLOPS = 1e10


def estimate_minima(n: int, starts: int, order: int, xp: ModuleType) -> tuple[float, float]:
    """(bytes, seconds) find_minima needs for ``starts`` starts of N = n spins at Plefka order ``order``."""
    name = backend_name(xp)
    block = default_block_size(xp)
    newton = NEWTON_ARRAYS * min(starts * n * n, max(block, n * n))
    program = PROGRAM_ARRAYS * min(starts * n * n, 8 * max(block, n * n)) if order > 2 else 0
    memory = 8.0 * (START_ARRAYS * starts * n + newton + program + 8 * n * n) + FIXED_BYTES
    relax = RELAX_SECONDS[name] * n * n * (n if order > 2 else 1) * order
    return memory, RELAX_ITERATIONS * ITERATION_SECONDS[name] + starts * (relax + NEWTON_SECONDS[name] * n**3)


def check_minima_size(n: int, starts: int, order: int, xp: ModuleType, *,
                      max_seconds: float | None = None) -> tuple[float, float]:
    """Raise SizeError when find_minima's estimate exceeds the free memory or the time limit."""
    memory, seconds = estimate_minima(n, starts, order, xp)
    return check_budget(memory, seconds, f"find_minima with {starts} starts of N={n} spins at order {order}", xp,
                        max_seconds=max_seconds, rate="assuming every start needs its own Newton run")
