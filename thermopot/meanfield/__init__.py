"""Mean-field Gibbs potentials G_k(m) of the Plefka expansion, batched, on NumPy or CuPy.

The package is the numeric end of the pipeline SymPy derivation -> array program -> evaluation:

- :mod:`.potential`: the facade (:func:`mean_field`, :class:`MeanFieldPotential`, G, its gradient and
  Hessian, Plefka's validity test);
- :mod:`.program`: the program IR (bond groups, networks, polynomials in m) and its shipped JSON file
  ``data/programs.json``; the leaf of the package, it never imports SymPy;
- :mod:`.compiler`: turns the graph terms derived by :mod:`thermopot.symbolic.plefka` into programs
  (SymPy; run ``python -m thermopot.meanfield.compiler`` to regenerate the shipped file);
- :mod:`.evaluate`: runs a program on a batch of magnetisations;
- :mod:`.multispin`: naive mean field of multi-spin models.
"""

from .potential import (MeanFieldPotential, gibbs_free_energy, gibbs_gradient, gibbs_hessian, mean_field,
                        plefka_margin, plefka_valid)

__all__ = ["MeanFieldPotential", "mean_field", "gibbs_free_energy", "gibbs_gradient", "gibbs_hessian",
           "plefka_valid", "plefka_margin"]
