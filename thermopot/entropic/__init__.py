"""Entropic forces in SGD (theory-entropic.md): a vectorised SGD engine (:mod:`.sgd`), small networks with
a rescaling symmetry (:mod:`.networks`), measurements of charges, gradient balance and sharpness
(:mod:`~thermopot.entropic.measure`), deep linear networks (:mod:`.deep_linear`) and the platonic kernel (:mod:`.platonic`).

``hessian_vector_product`` and ``top_hessian_eigenvalue`` are the generic ones of :mod:`~thermopot.entropic.measure`
(finite differences of any network's batch gradient); the exact population versions for deep linear
networks are ``population_hessian_vector_product`` and ``population_top_eigenvalue``; both top eigenvalues
use the one :func:`power_iteration`."""

from . import deep_linear, platonic
from .deep_linear import (DeepLinear, population_gradients, population_hessian, population_hessian_vector_product,
                          population_loss, population_top_eigenvalue)
from .measure import (charge, expected_batch_gradient_norms, gradient_norms, hessian_vector_product,
                      per_sample_gradients, power_iteration, squared_norm, top_hessian_eigenvalue)
from .networks import ReluNet, ScalarToy, TwoLayerLinear
from .platonic import check_covariance, kernel_cosine, noise_balance_matrix, platonic_kernel, psd_power
from .sgd import (DataSource, FiniteData, LinearTeacher, Network, SGDError, Trajectory, check_batch, check_count,
                  check_params, gradient_flow, learning_rates, run_sgd, sgd_step)

__all__ = ["DataSource", "DeepLinear", "FiniteData", "LinearTeacher", "Network", "ReluNet", "SGDError", "ScalarToy",
           "Trajectory", "TwoLayerLinear", "charge", "check_batch", "check_count", "check_covariance", "check_params",
           "deep_linear",
           "expected_batch_gradient_norms", "gradient_flow", "gradient_norms", "hessian_vector_product",
           "kernel_cosine", "learning_rates", "noise_balance_matrix", "per_sample_gradients", "platonic",
           "platonic_kernel", "population_gradients", "population_hessian", "population_hessian_vector_product",
           "population_loss", "population_top_eigenvalue", "power_iteration", "psd_power", "run_sgd", "sgd_step",
           "squared_norm", "top_hessian_eigenvalue"]
