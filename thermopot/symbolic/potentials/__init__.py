"""Knowledge potentials (theory.md section 3): the symbolic derivations (SymPy).

Over n states with energies E_i at temperature T (k_B = 1):

    A(E, T)      = -T log sum_i exp(-E_i / T)                 free energy, concave in E, dA/dE_i = p_i
    G(x; E, T)   = sum_i x_i E_i + T sum_i x_i log x_i        Gibbs free energy of a distribution x
    Phi(E; w, T) = sum_i w_i E_i - A(E, T)                    training potential (T x cross-entropy)

with p_i = exp(-E_i / T) / Z the Boltzmann weights. Relations (derived symbolically, checked
numerically by the tests):

    min_{x in simplex} G(x; E, T) = A(E, T), at x = p                 (Legendre transform)
    G(x; E, T) - A(E, T) = T KL(x || p) >= 0                           (Gibbs inequality)
    min_E Phi(E; w, T) = T S[w],  Phi - T S[w] = T KL(w || p) >= 0     (Legendre transform back)
    Phi(-X theta) is convex in theta: d2Phi/dtheta2 = Cov_p(X) / T     (one minimum, moment matching)

Library against continuum: M states at E_lib, 2^N - M at E_lib + Delta have equal free energies at::

    T* = Delta / log((2^N - M) / M).

Full description of M patterns xi^mu (energies E_gap - Delta_mu, all other states at E_gap) and its
order-K Walsh truncation, which depends on s only through the Hamming distances d_mu(s)::

    J_alpha = 2^-N sum_mu Delta_mu prod_{k in alpha} xi^mu_k            (alpha != {})
    E_K(s)  = E_gap - 2^-N sum_mu Delta_mu sum_{j<=K} K_j(d_mu(s); N)    (Krawtchouk polynomials K_j)

so every non-constant coupling, and the whole d-dependence of E_K for K = 2, is of order 2^-N Delta N^2.

Here (SymPy): ``knowledge_potentials`` (A, G, Phi, gradients, Hessians, LaTeX, NumPy functions),
``legendre_G_to_A``, ``legendre_Phi_to_entropy``, ``gibbs_identity``, ``training_identity``,
``coexistence_derivation``, ``kl_expression`` (module :mod:`.legendre`); ``krawtchouk_expr``,
``full_description`` (Walsh couplings read off, Krawtchouk form proven), ``multilinear`` (module :mod:`.walsh`).

The numeric counterparts (NumPy or CuPy, float64, log-sum-exp) live next to their users, in
:mod:`thermopot.knowledge.potentials` (A, G, Phi with gradients and Hessians, KL, entropy, T*) and
:mod:`thermopot.knowledge.truncation` (Krawtchouk polynomials, pattern couplings, truncated energies).
Their old names here still work for one release, with a DeprecationWarning.
"""

from __future__ import annotations

import warnings
from typing import Any

from .legendre import (Coexistence, KnowledgePotentials, Legendre, coexistence_derivation, gibbs_identity,
                       kl_expression, knowledge_potentials, legendre_G_to_A, legendre_Phi_to_entropy,
                       training_identity)
from .walsh import FullDescription, full_description, krawtchouk_expr, multilinear

__all__ = [
    "KnowledgePotentials", "knowledge_potentials", "Legendre", "legendre_G_to_A",
    "legendre_Phi_to_entropy", "kl_expression", "gibbs_identity", "training_identity",
    "Coexistence", "coexistence_derivation", "krawtchouk_expr", "FullDescription",
    "full_description", "multilinear",
]

#: numeric names that lived here until 0.x: deprecated aliases of thermopot.knowledge.{potentials,truncation}
_MOVED = {
    "potentials": ("log_partition", "free_energy_A", "free_energy_A_gradient", "free_energy_A_hessian",
                   "boltzmann_weights", "gibbs_G", "gibbs_G_gradient", "gibbs_G_hessian", "kl_divergence",
                   "kl_gap", "shannon_entropy", "training_Phi", "training_Phi_gradient",
                   "training_Phi_hessian", "LinearPhi", "training_Phi_linear", "coexistence_temperature"),
    "truncation": ("krawtchouk", "pattern_energy_table", "pattern_couplings", "truncated_energy",
                   "truncated_energy_walsh"),
}


def __getattr__(name: str) -> Any:
    for module, names in _MOVED.items():
        if name in names:
            warnings.warn(f"thermopot.symbolic.potentials.{name} moved to thermopot.knowledge.{module}.{name}; "
                          "the old name goes in the next release", DeprecationWarning, stacklevel=2)
            from ...knowledge import potentials, truncation
            return getattr({"potentials": potentials, "truncation": truncation}[module], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
