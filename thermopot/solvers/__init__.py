"""Numeric solvers: every minimum of a mean-field/TAP free energy from many starts at once, its
stability, continuation in temperature, and the comparison with the exact library of states.

One multi-start engine, read in this order:

- :mod:`.result`: the one result of a multi-start minimisation, :class:`Minima` (points, the objective under
  its own name, kind, start_point, converged; count, basin_fraction, records of the minima), which
  find_minima's :class:`MeanFieldMinima` and the knowledge potentials' results extend;
- :mod:`.stationary`: the one classification of end points (minimum / saddle / degenerate / not converged);
- :mod:`.dedup`: the one de-duplication, O(B log B), with a metric (max norm, relative max, total variation);
- :mod:`.local`: the Objective protocol (value_grad, hessian) and ``method=`` (lbfgs, lbfgs-newton, newton,
  simplex through the domain map of :mod:`.simplex`), multistart and EndPoint: the knowledge potentials
  Phi, reduced G and G over the simplex are its objectives;
- :mod:`.newton` and :mod:`.minima`: the batched method for the mean-field potentials (all starts as one
  array program in the domain map x = atanh m: a coarse relaxation, one saddle-free Newton run per group of
  nearby starts, the chord iteration with that run's Hessian for the others), with :mod:`.guard` (size
  and time guard, BLAS threads) and :mod:`.objective`;
- :mod:`.continuation` and :mod:`.compare`: minima followed in T, and matched with the exact basins;
  :mod:`.spinodal`: one chosen minimum followed in T with an adaptive step to where it disappears;
- :mod:`.seeds`, :mod:`.amp` and :mod:`.counting`: starts that reach TAP states in the spin-glass phase
  (``find_minima(seeds=...)``), the Bolthausen (AMP) iteration of the TAP equations, and counts of
  single-flip-stable states and TAP minima with the complexity log(count)/N; :mod:`.bray_moore`: the
  annealed complexity of TAP minima of SK, Sigma(T), that those counts are compared with.
"""

from .amp import AmpResult, bolthausen
from .bray_moore import TapComplexity, tap_complexity
from .compare import ExactComparison, compare_with_exact
from .continuation import Branch, Branches, follow_minima
from .minima import MeanFieldMinima, find_minima
from .result import Minima
from .counting import StateCount, count_states, state_complexity
from .objective import METHODS
from .seeds import SEEDS, StateOverlap, state_overlap
from .spinodal import MinimumTrack, track_minimum

__all__ = ["find_minima", "Minima", "MeanFieldMinima", "follow_minima", "Branches", "Branch", "compare_with_exact",
           "ExactComparison", "METHODS", "SEEDS", "bolthausen", "AmpResult", "count_states", "state_complexity",
           "StateCount", "state_overlap", "StateOverlap", "tap_complexity", "TapComplexity", "track_minimum",
           "MinimumTrack"]
