"""Numeric solvers: every minimum of a mean-field/TAP free energy from many starts at once, its
stability, continuation in temperature, and the comparison with the exact library of states."""

from .compare import ExactComparison, compare_with_exact
from .continuation import Branch, Branches, follow_minima
from .minima import Minima, find_minima
from .objective import METHODS

__all__ = ["find_minima", "Minima", "follow_minima", "Branches", "Branch", "compare_with_exact",
           "ExactComparison", "METHODS"]
