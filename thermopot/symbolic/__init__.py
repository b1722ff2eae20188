"""Symbolic layer (SymPy): the Plefka expansion of the Gibbs potential to any order (with its TAP
equations, gradient and Hessian) and the knowledge potentials A, G, Phi with their Legendre transforms."""

from . import potentials
from .plefka import PlefkaExpansion, plefka_expansion

__all__ = ["plefka_expansion", "PlefkaExpansion", "potentials"]
