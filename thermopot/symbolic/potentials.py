"""Knowledge potentials (theory.md section 3): symbolic derivations and their numeric counterparts.

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

Symbolic side (SymPy, imported on first use of one of its names, so that the numeric users of this module
never load SymPy): ``knowledge_potentials`` (A, G, Phi, gradients, Hessians, LaTeX, NumPy functions),
``legendre_G_to_A``, ``legendre_Phi_to_entropy``, ``gibbs_identity``, ``training_identity``,
``coexistence_derivation``, ``krawtchouk_expr``, ``full_description`` (Walsh couplings read off,
Krawtchouk form proven by ``krawtchouk_residual``).

Numeric side (NumPy or CuPy, float64, log-sum-exp): :func:`free_energy_A`, :func:`boltzmann_weights`,
:func:`gibbs_G`, :func:`training_Phi` with ``*_gradient`` and ``*_hessian``, :func:`kl_gap`,
:func:`kl_divergence`, :func:`shannon_entropy`, :func:`log_partition`, :func:`training_Phi_linear`,
:func:`coexistence_temperature`, :func:`krawtchouk`, :func:`pattern_energy_table`,
:func:`pattern_couplings`, :func:`truncated_energy` (Krawtchouk form) and
:func:`truncated_energy_walsh` (the same by fast Walsh-Hadamard transform).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._potentials_numeric import (
    LinearPhi,
    boltzmann_weights,
    coexistence_temperature,
    free_energy_A,
    free_energy_A_gradient,
    free_energy_A_hessian,
    gibbs_G,
    gibbs_G_gradient,
    gibbs_G_hessian,
    kl_divergence,
    kl_gap,
    log_partition,
    shannon_entropy,
    training_Phi,
    training_Phi_gradient,
    training_Phi_hessian,
    training_Phi_linear,
)
from ._potentials_truncation import (
    krawtchouk,
    pattern_couplings,
    pattern_energy_table,
    truncated_energy,
    truncated_energy_walsh,
)

#: the SymPy side, loaded on first use (PEP 562) so that numeric users of this module never import SymPy
_SYMBOLIC = {
    "_potentials_symbolic": ("Coexistence", "KnowledgePotentials", "Legendre", "coexistence_derivation",
                             "gibbs_identity", "kl_expression", "knowledge_potentials", "legendre_G_to_A",
                             "legendre_Phi_to_entropy", "training_identity"),
    "_potentials_walsh": ("FullDescription", "full_description", "krawtchouk_expr", "multilinear"),
}

__all__ = [
    # symbolic
    "KnowledgePotentials", "knowledge_potentials", "Legendre", "legendre_G_to_A",
    "legendre_Phi_to_entropy", "kl_expression", "gibbs_identity", "training_identity",
    "Coexistence", "coexistence_derivation", "krawtchouk_expr", "FullDescription",
    "full_description", "multilinear",
    # numeric
    "log_partition", "free_energy_A", "free_energy_A_gradient", "free_energy_A_hessian",
    "boltzmann_weights", "gibbs_G", "gibbs_G_gradient", "gibbs_G_hessian", "kl_divergence", "kl_gap",
    "shannon_entropy", "training_Phi", "training_Phi_gradient", "training_Phi_hessian", "LinearPhi",
    "training_Phi_linear", "coexistence_temperature", "krawtchouk", "pattern_energy_table",
    "pattern_couplings", "truncated_energy", "truncated_energy_walsh",
]


def __getattr__(name: str) -> Any:
    for module, names in _SYMBOLIC.items():
        if name in names:
            return getattr(importlib.import_module(f".{module}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
