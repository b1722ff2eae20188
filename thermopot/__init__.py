"""thermopot: statistical mechanics of learning.

Exact enumeration of small spin systems as ground truth, symbolic (SymPy) thermodynamic potentials,
and batched numeric solvers on NumPy or CuPy. See README.md for the tour."""

__version__ = "0.1.0"
