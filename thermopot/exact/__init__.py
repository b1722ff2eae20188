"""Exact enumeration of all 2^N states: the ground truth every theory is checked against."""

from .gibbs import GibbsPotential, gibbs_potential
from .guard import check_size
from .restricted import Restricted, restricted_free_energies
from .thermodynamics import Thermo, check_temperature, thermodynamics

__all__ = ["thermodynamics", "Thermo", "gibbs_potential", "GibbsPotential", "restricted_free_energies",
           "Restricted", "check_size", "check_temperature"]
