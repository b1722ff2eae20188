"""Knowledge as ergodicity breaking (He and Lubchenko; theory.md section 3), step by step:

- :mod:`.description`: the full description of a training set (E_mu = -T0 log w_mu, the continuum at
  E_gap = E_lib + eps N, all 2^N Walsh couplings, T*) and its identities;
- :mod:`.reduced_potentials`: Phi over the pairwise couplings (one minimum), G over the full simplex (one
  minimum) and over the weights reachable by the pairwise family (several minima), counts against T and M;
- :mod:`.library`: the bound states of a fitted pairwise model (training patterns and false states);
- :mod:`.sampled_library`: the same without enumeration (descent and tempering occupancies, any N);
- :mod:`.retrieval`: Gibbs chains from random starts, trapping times, single-chain pattern frequencies;
- :mod:`.rare`: the weight below which an under-represented pattern or class loses its minimum;
- :mod:`.remedy`: one model against a mixture of models (KL, coverage, rare patterns);
- :mod:`.pipeline`: all of it on one data set (``thermopot knowledge``);
- ``claims``: the paper's claims as experiments with independent references and verdicts
  (``thermopot knowledge --claims``; the function :func:`claims` shadows its module's name here).
- :mod:`.sampled_pipeline`: the same rows from chains, with error bars, for any N (``method="sampled"``).
"""

from .description import KnowledgeDescription, describe, description_levels, exact_coexistence
from .library import Library, bound_states
from .pipeline import (DATASETS, FULL, KNOWLEDGE_METHODS, MAX_SPINS, QUICK, KnowledgeRun, Settings,
                       drop_constant_columns, resolve_data, run_knowledge)
from .sampled_pipeline import SAMPLED_FULL, SAMPLED_QUICK, SampledKnowledgeRun, SampledSettings
from .rare import RareScan, rare_weight_scan
from .reduced_potentials import (FullMinima, MinimaCounts, PhiMinima, ReducedMinima, full_potential_minima,
                                 minima_counts, phi_minima, reduced_potential_minima)
from .remedy import Remedy, compare_remedy
from .sampled_library import SampledBoundStates, sampled_bound_states
from .retrieval import (BasinOccupancy, PatternFrequencies, Retrieval, Trapping, TrappingSize, basin_occupancy,
                        pattern_frequencies, retrieve, trapping_times, trapping_vs_size)
from .claims import ClaimRow, ClaimTable, claims  # noqa: E402 (after the steps it runs)

__all__ = ["BasinOccupancy", "basin_occupancy", "DATASETS", "FULL", "MAX_SPINS", "QUICK", "FullMinima", "KnowledgeDescription", "KnowledgeRun",
           "Library", "MinimaCounts", "PatternFrequencies", "PhiMinima", "RareScan", "ReducedMinima", "Remedy",
           "Retrieval", "Settings", "Trapping", "TrappingSize", "bound_states", "compare_remedy", "describe",
           "exact_coexistence", "full_potential_minima", "minima_counts", "pattern_frequencies", "phi_minima",
           "rare_weight_scan", "reduced_potential_minima", "resolve_data", "retrieve", "run_knowledge",
           "trapping_times", "trapping_vs_size", "SampledBoundStates", "sampled_bound_states",
           "ClaimRow", "ClaimTable", "claims",
           "description_levels", "drop_constant_columns", "KNOWLEDGE_METHODS", "SAMPLED_FULL", "SAMPLED_QUICK",
           "SampledKnowledgeRun", "SampledSettings"]
