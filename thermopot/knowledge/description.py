"""The full description of a binary training set (theory.md section 3, He and Lubchenko).

A data set of samples s in {-1, +1}^N is merged into M distinct patterns xi^mu with normalised
weights w_mu (duplicates summed). Each pattern gets the energy

    E_mu = -T0 log w_mu                      (so exp(-E_mu / T0) = w_mu: Boltzmann at T0 is the data),

and every non-represented state (the continuum, paper: a high-temperature phase) sits at one energy

    E_gap = E_lib + Delta,    E_lib := max_mu E_mu,    Delta = eps N  (an extensive gap).

Choice of E_lib: the LEAST weighted pattern, so every pattern lies at least Delta below the gap; the
depths Delta_mu = E_gap - E_mu = Delta + T0 log(w_mu / w_min) are all >= Delta.

Walsh couplings (thermopot.states conventions, subset alpha as an integer mask):
    J_alpha = -2^-N sum_s E(s) chi_alpha(s),       chi_alpha(s) = prod_{k in alpha} s_k,
    J_{}    = -E_gap + 2^-N sum_mu Delta_mu,
    J_alpha = 2^-N sum_mu Delta_mu chi_alpha(xi^mu)          (alpha != {}).
"The gap enters only J_{}" in this precise sense: a uniform shift of every energy (E_gap included)
changes J_{} alone; for alpha != {} the couplings see the gap only through the depths Delta_mu.

Library against continuum: A_lib(T) = -T log sum_mu exp(-E_mu / T), A_cont(T) = E_gap - T log(2^N - M).
They are equal at one temperature (A_lib - A_cont rises strictly with T when M < 2^(N-1)); the root
lies in [T*, max_mu Delta_mu / L] with the formula T* = Delta / L, L = log((2^N - M) / M), and equals
T* when all weights are equal. At that temperature half of the Boltzmann weight is "garbage".

The identities are checked by the functions of :mod:`thermopot.knowledge._description_identities`
(re-exported here on first use, PEP 562, so that this module never imports the module that checks it):
:func:`coupling_residual`, :func:`shift_residual`, :func:`krawtchouk_residual`, :func:`truncation_scale`.
"""

from __future__ import annotations

import functools
import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from ..backend import backend_name, get_namespace, to_numpy
from ..checks import check_positive as positive, check_temperature
from ..errors import SizeError, ThermopotError
from ..exact.guard import check_size
from ..datasets.dataset import Dataset, as_dataset
from ..results import jsonable as _jsonable
from ..states import spins_to_index, state_blocks, walsh_couplings
from .potentials import coexistence_temperature, free_energy_A
from .truncation import pattern_energy_table, truncated_energy

#: states x patterns per block of a Krawtchouk evaluation (the distances d_mu(s))
_BLOCK_ELEMENTS = 1 << 22

#: the identity checks of :mod:`._description_identities`, re-exported on first use
_IDENTITIES = ("TruncationScale", "coupling_residual", "krawtchouk_residual", "shift_residual", "truncation_scale")

#: float64 numbers stored per state by a description (energy table and Walsh couplings)
TABLE_BYTES_PER_STATE = 16.0


@dataclass(frozen=True)
class KnowledgeDescription:
    """Full description of a training set: M patterns below a flat continuum at E_gap.

    Arrays are NumPy float64 (``patterns`` int8, ``indices`` int64); ``energy_table`` and
    ``couplings`` (2^N each) are computed on first use on ``backend`` and returned as NumPy.
    ``t_star`` / ``t_coexistence`` are None when M >= 2^(N-1) (no coexistence temperature).
    """

    n: int
    m: int
    patterns: np.ndarray  #: xi^mu (M, N) int8 of +-1, rows in sorted order (Dataset.unique)
    indices: np.ndarray  #: state index of each pattern (M,), thermopot.states convention
    weights: np.ndarray  #: w_mu (M,), sum 1
    energies: np.ndarray  #: E_mu = -T0 log w_mu (M,)
    depths: np.ndarray  #: Delta_mu = E_gap - E_mu >= Delta (M,)
    T0: float  #: temperature at which the library reproduces the data
    eps: float  #: gap per spin
    gap: float  #: Delta = eps N
    e_lib: float  #: E_lib = max_mu E_mu (the least weighted pattern)
    e_gap: float  #: E_gap = E_lib + Delta, energy of every non-represented state
    t_star: float | None  #: Delta / log((2^N - M) / M)
    t_coexistence: float | None  #: root of A_lib(T) = A_cont(T)
    backend: str  #: "numpy" or "cupy": where the 2^N tables are computed

    @functools.cached_property
    def energy_table(self) -> np.ndarray:
        """E(s) for all 2^N states (index order): E_mu on the patterns, E_gap elsewhere."""
        return pattern_energy_table(self.patterns.astype(np.float64), self.depths, gap_energy=self.e_gap)

    @functools.cached_property
    def couplings(self) -> np.ndarray:
        """All 2^N Walsh couplings J_alpha = -2^-N sum_s E(s) chi_alpha(s) by the fast Walsh-Hadamard
        transform, indexed by the subset mask alpha."""
        xp = get_namespace(self.backend)
        return to_numpy(walsh_couplings(xp.asarray(self.energy_table)))

    def truncated_energy(self, order: int, states: Any = None) -> np.ndarray:
        """Order-K truncation in Krawtchouk form at ``states`` (B, N) (None: all 2^N states):
        E_K(s) = E_gap - 2^-N sum_mu Delta_mu sum_{j<=K} K_j(d_mu(s); N), evaluated in blocks of
        states so that memory stays bounded for many patterns."""
        xp = get_namespace(self.backend)
        xi = xp.asarray(self.patterns, dtype=xp.float64)
        dl = xp.asarray(self.depths)
        rows = max(1, _BLOCK_ELEMENTS // self.m)
        if states is None:
            blocks = (block for _, block in state_blocks(self.n, rows, xp))
        else:
            s = xp.asarray(to_numpy(states), dtype=xp.float64)
            if s.ndim == 1:
                return np.asarray(truncated_energy(xi, dl, order, s, gap_energy=self.e_gap))
            blocks = (s[i:i + rows] for i in range(0, max(s.shape[0], 1), rows))
        parts = [truncated_energy(xi, dl, order, block, gap_energy=self.e_gap) for block in blocks]
        return np.concatenate([np.atleast_1d(p) for p in parts])

    def library_free_energy(self, T: float) -> float:
        """A_lib(T) = -T log sum_mu exp(-E_mu / T) (log-sum-exp)."""
        return float(free_energy_A(self.energies, check_temperature(T)))

    def continuum_free_energy(self, T: float) -> float:
        """A_cont(T) = E_gap - T log(2^N - M) (refused when M = 2^N: no continuum)."""
        T = check_temperature(T)
        if self.m == 2**self.n:
            raise ThermopotError("every state is a pattern: there is no continuum")
        return self.e_gap - T * _log_continuum(self.n, self.m)

    def garbage_weight(self, T: Any) -> Any:
        """Boltzmann weight of the non-represented states at T (a number or an array of T):
        (2^N - M) e^{-E_gap/T} / (sum_mu e^{-E_mu/T} + (2^N - M) e^{-E_gap/T})
        = 1 / (1 + exp((A_cont - A_lib) / T)); 1/2 at t_coexistence, 0 when M = 2^N."""
        temps = np.asarray(T, dtype=np.float64)
        values = np.array([self._garbage(check_temperature(t)) for t in temps.reshape(-1)])
        return float(values[0]) if temps.ndim == 0 else values.reshape(temps.shape)

    def _garbage(self, T: float) -> float:
        if self.m == 2**self.n:
            return 0.0
        return float(expit((self.library_free_energy(T) - self.continuum_free_energy(T)) / T))

    def to_dict(self) -> dict:
        """JSON-ready fields (the 2^N tables are left out)."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return _jsonable(fields)


def _log_continuum(n: int, m: int) -> float:
    """log(2^N - M) without forming 2^N as a float for large N."""
    return n * math.log(2.0) + math.log1p(-m / 2.0**n)


def exact_coexistence(energies: Any, e_gap: float, n: int) -> float:
    """The temperature where A_lib(T) = -T log sum_mu exp(-E_mu/T) equals A_cont(T) = E_gap -
    T log(2^N - M), by bracketed root finding. f = A_lib - A_cont has f' = log(2^N - M) - S_lib > 0,
    and f(T*) <= 0 <= f(max_mu Delta_mu / L) with T* = (E_gap - max E_mu) / L, L = log((2^N-M)/M),
    so the root is unique and inside that bracket; it is T* itself when all E_mu are equal."""
    e = np.asarray(energies, dtype=np.float64)
    m = e.size
    if e.ndim != 1 or m == 0 or not np.isfinite(e).all():
        raise ThermopotError(f"the library energies must be a non-empty finite 1-D array, got shape {e.shape}")
    if not math.isfinite(e_gap) or e_gap <= e.max():
        raise ThermopotError(f"E_gap = {e_gap!r} must be finite and above every library energy (max {e.max():g})")
    if 2 * m >= 2**n:
        raise ThermopotError(f"M = {m} >= 2^(N-1): the library outweighs the continuum at every T > 0, "
                             "there is no coexistence temperature")
    log_ratio = _log_continuum(n, m) - math.log(m)
    low, high = (e_gap - e.max()) / log_ratio, (e_gap - e.min()) / log_ratio

    def f(T: float) -> float:
        return float(free_energy_A(e, T)) - (e_gap - T * _log_continuum(n, m))

    if high <= low or f(low) >= 0.0:
        return low
    return brentq(f, low, high, xtol=1e-15 * high, rtol=4 * np.finfo(float).eps)


def _patterns_of(data: Any) -> Dataset:
    """Distinct patterns with normalised weights, refusing empty and constant data sets."""
    if data is None:
        raise ThermopotError("the data set is empty (None): need at least two distinct patterns")
    dataset = as_dataset(data).unique()
    if dataset.size < 2:
        raise ThermopotError("the data set is constant (all samples equal, one distinct pattern): a full "
                             "description needs at least two distinct patterns")
    return Dataset(dataset.samples, dataset.weights / dataset.weights.sum())


def describe(data: Dataset | Any, *, T0: float = 1.0, eps: float = 1.0, backend: Any = None) -> KnowledgeDescription:
    """The full description of a data set (a Dataset, a (M, N) array of +-1, or a .npz path).

    Duplicates are merged into weights w_mu (normalised); E_mu = -T0 log w_mu; E_lib = max_mu E_mu;
    Delta = eps N; E_gap = E_lib + Delta; Delta_mu = E_gap - E_mu; T* = Delta / log((2^N - M)/M) and
    the exact coexistence temperature (see :func:`exact_coexistence`). Refused: an empty or constant
    data set, T0 or eps <= 0, and (SizeError, by the size guard) an N whose 2^N energy table and
    Walsh couplings cannot be built on ``backend``.
    """
    T0 = positive(T0, "reference temperature T0")
    eps = positive(eps, "gap per spin eps")
    dataset = _patterns_of(data)
    n, m = dataset.n, dataset.size
    xp = get_namespace(backend)
    try:
        check_size(n, xp, per_state_bytes=TABLE_BYTES_PER_STATE,
                   what="the full description (2^N energy table and Walsh couplings)")
    except SizeError as exc:
        raise SizeError(f"describe: the energy table and the Walsh couplings were not computed: {exc}") from None
    energies = -T0 * np.log(dataset.weights)
    gap = eps * n
    e_lib = float(energies.max())
    e_gap = e_lib + gap
    if 2 * m < 2**n:
        t_star = float(coexistence_temperature(gap, n, m))
        t_coex = float(exact_coexistence(energies, e_gap, n))
    else:
        t_star = t_coex = None
    patterns = dataset.samples.astype(np.int8)
    return KnowledgeDescription(
        n=n, m=m, patterns=patterns,
        indices=np.asarray(to_numpy(spins_to_index(patterns.astype(np.float64))), dtype=np.int64),
        weights=dataset.weights.copy(), energies=energies, depths=e_gap - energies, T0=T0, eps=eps,
        gap=gap, e_lib=e_lib, e_gap=e_gap, t_star=t_star, t_coexistence=t_coex, backend=backend_name(xp))


__all__ = ["KnowledgeDescription", "describe", "exact_coexistence", "TruncationScale", "coupling_residual",
           "shift_residual", "krawtchouk_residual", "truncation_scale"]


def __getattr__(name: str) -> Any:
    if name in _IDENTITIES:
        return getattr(importlib.import_module("._description_identities", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
