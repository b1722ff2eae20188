"""Inverse Ising: exact maximum likelihood, pseudo-likelihood, mean-field and TAP inversion, mixtures.

Fit a pairwise model P(s) = exp(h.s + sum_{k<l} J_kl s_k s_l) / Z to binary data (M samples of +-1,
optionally weighted) with :func:`fit` (method "exact", "pseudo", "nmf", "tap" or "pcd"), or a mixture of K
such models by EM with :func:`fit_mixture`; test a fitted model's moments against the data's with fresh
independent chains, :func:`check_moments`. Data sets (re-exported from :mod:`thermopot.datasets`):
:func:`~thermopot.datasets.load_dataset`, :func:`~thermopot.datasets.save_dataset`,
:func:`~thermopot.datasets.as_dataset`; exact samples of small models: :func:`sample_exact`.
"""

import sys

from ..datasets import dataset as data
from ..datasets.dataset import DataError, Dataset, as_dataset, load_dataset, save_dataset
from .exact_ml import fit_exact
from .exact_sampling import boltzmann_log_weights, sample_exact
from .fit import METHODS, fit
from .meanfield import fit_nmf, fit_tap
from .moment_check import MomentCheck, check_moments
from .mixture import (ComponentDropWarning, DroppedComponent, Mixture, MixtureFit, basin_responsibilities,
                      effective_parameters, em_stopped, fit_mixture, prune_components)
from .pseudo import fit_pseudolikelihood, pseudolikelihood_objective
from .result import BoundaryWarning, ConvergenceWarning, FitResult

__all__ = ["Dataset", "DataError", "as_dataset", "load_dataset", "save_dataset", "fit", "METHODS",
           "fit_exact", "fit_pseudolikelihood", "pseudolikelihood_objective", "fit_nmf", "fit_tap",
           "FitResult", "ConvergenceWarning", "BoundaryWarning", "sample_exact", "boltzmann_log_weights", "Mixture",
           "MixtureFit", "fit_mixture", "basin_responsibilities", "ComponentDropWarning", "DroppedComponent",
           "prune_components", "effective_parameters", "em_stopped",
           "check_moments", "MomentCheck"]

#: the data set type moved to thermopot.datasets.dataset (issue 18: data below learning); the old module name
#: thermopot.learning.data stays importable for one release
sys.modules[f"{__name__}.data"] = data
