"""One classification of stationary points for every minimiser in thermopot: find_minima's batched Newton
(on K = D^1/2 H D^1/2, congruent to the Hessian) and the knowledge potentials' trust-region polish (on the
Hessian in theta).

By the smallest eigenvalue lambda_min of the Hessian (or of a congruent matrix: the same inertia) against a
threshold tol >= 0 on that matrix's own scale:

    minimum      lambda_min >  tol   (positive definite beyond the resolution: counted),
    saddle       lambda_min < -tol   (a descent direction),
    degenerate   otherwise           (a zero direction within tol: a plateau, a critical point, or a
                                      direction to infinity);

an end point whose iteration did not reach stationarity is NOT_CONVERGED, whatever its spectrum. Only
minima are counted as minima (theory.md section 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the kinds of a stationary point, in the order of the indices classify_spectrum returns
KINDS = ("minimum", "saddle", "degenerate")
#: the status of an end point that is not (yet) a stationary point
NOT_CONVERGED = "not converged"


def classify_spectrum(lowest: Any, tol: Any) -> np.ndarray:
    """Index into KINDS of each smallest eigenvalue ``lowest`` against the threshold ``tol`` (module
    docstring): 0 (minimum) when lowest > tol, 1 (saddle) when lowest < -tol, else 2 (degenerate)."""
    lowest = np.asarray(lowest, dtype=np.float64)
    return np.where(lowest > tol, 0, np.where(lowest < -tol, 1, 2))


def kind_names(index: Any) -> np.ndarray:
    """The names (KINDS) of the kind indices ``index`` (from :func:`classify_spectrum`), as a string array."""
    return np.asarray(KINDS)[np.asarray(index, dtype=np.int64)]
