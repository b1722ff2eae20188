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

from .potential import *  # noqa: F403 (the facade's public names, listed once in potential.__all__)
from .potential import __all__
