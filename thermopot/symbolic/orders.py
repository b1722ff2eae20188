"""The Plefka orders thermopot supports (no SymPy needed to check one)."""

from __future__ import annotations

from ..errors import ThermopotError

#: highest order derived and shipped (a cold order-7 derivation takes longer than is reasonable)
MAX_ORDER = 6


def check_order(order: int) -> int:
    """``order`` as an int in 1..MAX_ORDER, or a ThermopotError naming the problem."""
    try:
        ok = not isinstance(order, bool) and int(order) == order
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ThermopotError(f"Plefka order must be an integer, got {order!r}")
    if not 1 <= int(order) <= MAX_ORDER:
        raise ThermopotError(f"Plefka order must be between 1 and {MAX_ORDER}, got {order}")
    return int(order)
