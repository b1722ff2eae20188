"""Energy models on N binary spins: pairwise (Ising) and multi-spin (Walsh basis), the usual
families, and model files."""

from .families import (GENERATORS, curie_weiss, from_spec, hopfield, random_multispin,
                       random_pairwise, random_patterns, ring, sk)
from .io import Model, load_model, resolve_model, save_model
from .multispin import MultiSpinModel
from .pairwise import PairwiseModel

__all__ = ["PairwiseModel", "MultiSpinModel", "Model", "sk", "curie_weiss", "hopfield", "ring",
           "random_pairwise", "random_multispin", "random_patterns", "from_spec", "GENERATORS",
           "load_model", "save_model", "resolve_model"]
