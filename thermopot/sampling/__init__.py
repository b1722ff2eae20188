"""Batched Gibbs and Metropolis chains, measurements with autocorrelation-aware errors, escape times.

``sample(model, T, chains=..., sweeps=...)`` runs B chains of heat-bath or Metropolis single-spin
updates (sequential or random scan) as one array program on NumPy or CuPy and returns a
:class:`SampleResult` (magnetisations, energy, standard errors, integrated autocorrelation times);
:class:`Sampler` is the same engine step by step as a frozen configuration that advances a
:class:`SamplerState` (``state = sampler.run(state, sweeps)``), and ``save_state``/``load_state``
write a state to a checkpoint and resume it;
``first_passage(...)`` measures escape and hitting times in single-spin updates, and
``exact_first_passage(...)`` solves for their exact mean over all 2^N states (small N, :mod:`.exact_passage`);
``parallel_tempering`` runs replica exchange over a temperature ladder, ``log_partition`` estimates log Z
by annealed importance sampling or thermodynamic integration (both, and PCD, on chains at temperatures
of their own: an :class:`Ensemble` configuration advancing an :class:`EnsembleState`, the same split),
``descend`` quenches states to the single-flip-stable states of their basins. The samplers discard their
burn-in by the one rule of :mod:`.burn_in` (``resolve_burn_in``). Random numbers come from host PCG64 or the counter-based
Philox4x32-10 (:mod:`.philox`, ``generator="philox"``), which on CuPy runs the sweeps in fused CUDA
kernels (:mod:`.fused`) and on the CPU, with numba, in compiled loops (:mod:`.compiled`). Checkpoints
(:mod:`.checkpoint`) are written atomically and verified when loaded; :mod:`.budget` is the size and
time guard.
"""

from .burn_in import BurnInWarning, mser_burn_in, resolve_burn_in
from .chains import GENERATORS, Sampler, load_state, sample, save_state
from .descent import Descent, descend
from .ensemble import Ensemble, EnsembleState, EnsembleWork
from .exact_passage import ExactPassage, exact_first_passage
from .free_energy import LogPartition, log_partition
from .initial import load_initial_states
from .kernels import METHODS, SCANS
from .measure import SampleResult
from .passage import FirstPassage, first_passage, start_clock
from .state import PassageClock, SamplerState, SpinArrays
from .statistics import MIN_RUN_TAUS, BatchMeans, ShortRunWarning, integrated_time, mean_stderr
from .tempering import (LowSwapRateWarning, ParallelTempering, TemperingResult, exact_swap_rate, parallel_tempering,
                        temperature_ladder)

__all__ = ["sample", "Sampler", "SamplerState", "SpinArrays", "save_state", "load_state", "PassageClock", "start_clock",
           "Ensemble", "EnsembleState", "EnsembleWork",
           "SampleResult", "first_passage", "FirstPassage", "exact_first_passage", "ExactPassage", "integrated_time",
           "mean_stderr", "BatchMeans", "METHODS", "SCANS", "GENERATORS", "parallel_tempering", "ParallelTempering",
           "TemperingResult", "temperature_ladder", "exact_swap_rate", "LowSwapRateWarning", "log_partition",
           "LogPartition", "descend", "Descent", "ShortRunWarning", "MIN_RUN_TAUS", "load_initial_states",
           "resolve_burn_in", "mser_burn_in", "BurnInWarning"]
