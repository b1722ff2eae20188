"""Symbolic layer (SymPy): Plefka/TAP expansions, thermodynamic potentials, entropic loss."""
