"""Size guard of :func:`thermopot.solvers.find_minima`: refuse at once a job that cannot fit in memory or
would run too long, with the amounts (the free-memory and time-limit logic of thermopot.exact.guard).

Memory: the relaxation holds about ``START_ARRAYS`` float64 arrays of the starts (B, N) at once (iterate,
step, trial point, residual and their temporaries), the grouping a few more; the Newton phase runs
chunks of N x N Hessians of ``NEWTON_BLOCKS`` backend blocks (backend.default_block_size elements)
whatever B. Time: per start, a relaxation of order-dependent O(N^2) (O(N^3) at order 3-4) products and,
as if every start were its own Newton group (the worst case), Newton iterations of O(N^3); the
constants are measured by benchmarks/guards_solvers.py.
"""

from __future__ import annotations

from types import ModuleType

from ..backend import backend_name, default_block_size
from ..exact.guard import check_budget

#: float64 arrays of shape (starts, N) alive at once (measured peak / (8 B N), rounded up)
START_ARRAYS = 16
#: backend blocks of float64 alive in a Newton chunk (Hessians, eigenvectors and products)
NEWTON_BLOCKS = 10
#: seconds per start and per N^2 (relaxation), per order, on each backend (conservative)
RELAX_SECONDS = {"numpy": 2e-6, "cupy": 2e-9}
#: seconds per start and per N^3 (Newton iterations with eigen-decompositions), per backend
NEWTON_SECONDS = {"numpy": 1e-7, "cupy": 1e-10}
#: products below this many floating-point operations run on one BLAS thread: handing them to several
#: threads costs more than it saves, most of all on a busy machine (measured on 2 busy cores: the knowledge
#: reduced-G step, 2.4 GFLOP Hessians at N = 16, 146 s with the default threads against 6 s with one)
SINGLE_THREAD_FLOPS = 1e10


def estimate_minima(n: int, starts: int, order: int, xp: ModuleType) -> tuple[float, float]:
    """(bytes, seconds) find_minima needs for ``starts`` starts of N = n spins at Plefka order ``order``."""
    name = backend_name(xp)
    memory = 8.0 * (START_ARRAYS * starts * n + NEWTON_BLOCKS * default_block_size(xp) + 8 * n * n)
    relax = RELAX_SECONDS[name] * n * n * (n if order > 2 else 1) * order
    return memory, starts * (relax + NEWTON_SECONDS[name] * n**3)


def check_minima_size(n: int, starts: int, order: int, xp: ModuleType, *,
                      max_seconds: float | None = None) -> tuple[float, float]:
    """Raise SizeError when find_minima's estimate exceeds the free memory or the time limit."""
    memory, seconds = estimate_minima(n, starts, order, xp)
    return check_budget(memory, seconds, xp, f"find_minima with {starts} starts of N={n} spins at order {order}",
                        "every start its own Newton run", max_seconds=max_seconds)


def blas_limit(flops: float) -> int | None:
    """1 (one BLAS thread) for a product of fewer than SINGLE_THREAD_FLOPS floating-point operations; None
    (the library default) for larger ones."""
    return 1 if flops < SINGLE_THREAD_FLOPS else None
