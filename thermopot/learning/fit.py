"""One entry point for every fitting method: ``fit(data, method=...)``."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import SizeError, ThermopotError
from ..datasets.dataset import Dataset, as_dataset, warn_few_samples
from .exact_ml import fit_exact
from .meanfield import fit_nmf, fit_tap
from .pcd import fit_pcd
from .pseudo import fit_pseudolikelihood
from .result import FitResult

#: method name -> fitting function
METHODS = {"exact": fit_exact, "pseudo": fit_pseudolikelihood, "nmf": fit_nmf, "tap": fit_tap, "pcd": fit_pcd}


def fit(data: Dataset | Any, method: str = "exact", weights: Any = None, *, binary01: bool = False,
        **options: Any) -> FitResult:
    """Fit a pairwise model to binary data by ``method``: "exact" (maximum likelihood by enumeration),
    "pseudo" (symmetrised pseudo-likelihood), "nmf" (naive mean-field inversion), "tap" (TAP
    inversion) or "pcd" (maximum likelihood with persistent sampled chains, any N). ``data`` is a
    Dataset, a (M, N) array of +-1 (0/1 with ``binary01=True``) or a .npz path; ``options`` go to the
    method (l2, pseudocount, init, tol, max_iter, backend; for "exact" also max_seconds, the time limit
    its size guard budgets the enumerations of the fit against; for "pcd" chains, steps, tempering, ...).
    An array or file with fewer samples (rows) than spins gets a DataWarning naming its shape (often a
    transposed array); an exact fit too large to enumerate is refused with a SizeError that names the
    methods that scale (pseudo, pcd)."""
    if method not in METHODS:
        raise ThermopotError(f"unknown fitting method {method!r}; choose one of {', '.join(METHODS)}")
    func = METHODS[method]
    accepted = [p for p in inspect.signature(func).parameters if p not in ("data", "weights")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ThermopotError(f"method {method!r} does not take {', '.join(unknown)}; "
                             f"its options are {', '.join(accepted)}")
    dataset = as_dataset(data, weights, binary01=binary01)
    if not isinstance(data, Dataset):  # an array or a file as given by the user (a Dataset is deliberate)
        warn_few_samples(dataset, "the data", stacklevel=3)
    try:
        return func(dataset, **options)
    except SizeError as exc:
        if method != "exact":
            raise
        raise SizeError(f"{exc}. For N = {dataset.n} spins use method='pseudo' (pseudo-likelihood, "
                        "seconds at any N; `thermopot fit --method pseudo`) or method='pcd' (maximum "
                        "likelihood with persistent sampled chains; `--method pcd`)") from None
