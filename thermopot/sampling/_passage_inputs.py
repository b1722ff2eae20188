"""The inputs of a first-passage question, checked alike by :func:`.passage.first_passage` and
:func:`.exact_passage.exact_first_passage`: exactly one of a threshold (leave the ball of overlap >= threshold
around the start) or target states (reach one of them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ThermopotError
from .chains import real_array


def check_threshold(threshold: Any) -> float:
    """The threshold as a float, or a ThermopotError (a complex number or a string is not an overlap)."""
    try:
        return float(threshold)
    except (TypeError, ValueError):
        raise ThermopotError(f"threshold is an overlap in [-1, 1], got {threshold!r}") from None


def check_targets(targets: Any, n: int) -> np.ndarray:
    """Target states (P, N) of +-1 from (N,) or (P, N), else a ThermopotError."""
    tgt = real_array(targets, "targets")
    tgt = tgt[None, :] if tgt.ndim == 1 else tgt
    if tgt.ndim != 2 or tgt.shape[1] != n or not np.isin(tgt, (-1.0, 1.0)).all():
        raise ThermopotError(f"targets must be +-1 states of shape (N,) or (P, N) with N = {n}, "
                             f"got shape {tgt.shape}")
    return tgt


def check_one_condition(threshold: Any, targets: Any) -> None:
    """Refuse anything but exactly one of a threshold or targets."""
    if (threshold is None) == (targets is None):
        raise ThermopotError("give exactly one of threshold (leave the start basin) or targets (reach a set)")
