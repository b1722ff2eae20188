"""The honest moment test of a fitted model: its moments from fresh, independent chains against the data's.

A maximum-likelihood pairwise model matches the data moments, <s_k>_model = m_k and <s_k s_l>_model =
C_kl (with an L2 penalty l2: the data moments minus l2 times the parameter, the penalised stationary
point). Beyond enumeration the model moments are estimated from B independent chains of the model,
started from uniformly random states (not from the data, so a chain that never finds a mode shows it),
run ``burn_in`` sweeps that are discarded and ``sweeps`` sweeps that are averaged. Each chain gives one
time average x_b per moment; the estimate and its standard error come from the chain-to-chain spread,

    x = (1/B) sum_b x_b,    se_model = std_b(x_b) / sqrt(B),

which needs no autocorrelation model and includes trapping: chains stuck in different modes disagree.
With ``tempering`` (a ladder starting at 1) the B chains are the T = 1 replicas of B independent columns
of a parallel-tempering run. The data moments have their own sampling error; with p_m the normalised
weights, M_eff = 1 / sum_m p_m^2 and s^2 = 1,

    se_data(m_k) = sqrt((1 - m_k^2) / M_eff),    se_data(C_kl) = sqrt((1 - C_kl^2) / M_eff).

Two z-scores per moment (mismatch = x - target):

- ``z = mismatch / sqrt(se_model^2 + se_data^2)`` (combined): the mismatch against the uncertainty of
  both sides; a mismatch below it is smaller than the data's own sampling error. At the exact ML point the
  fraction with |z| <= 2 is above 95 % (near 100 % when se_data dominates), so it cannot show that a fit
  reached the optimum, only that what it missed is not visible in the data;
- ``z_model = mismatch / se_model``: the test that the model is at the (penalised) ML point, where
  |z_model| <= 2 holds for ~95 % of the moments whatever the chains' length; it grows stricter as the
  chains get longer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import get_namespace, to_numpy
from ..checks import check_count
from ..datasets.dataset import Dataset, as_dataset
from ..errors import ThermopotError
from ..models import PairwiseModel
from ..results import Result
from ..sampling.burn_in import BurnIn, run_burn_in
from ..sampling.chains import resolve_seed
from ..sampling.ensemble import Ensemble
from ..sampling.tempering import ParallelTempering, tempering_burn_in
from .pcd import model_ladder
from .result import check_regularisers, pack


@dataclass(frozen=True)
class MomentCheck(Result):
    """The N(N + 1)/2 moments (magnetisations, then the pairs k < l in row order) of a model from
    independent chains against the data's (see the module docstring). ``target`` is what an exact fit
    would give: the data moments minus l2 times the parameters."""

    model_moments: np.ndarray
    model_stderr: np.ndarray
    data_moments: np.ndarray
    data_stderr: np.ndarray
    target: np.ndarray
    #: fraction of the moments with |z| <= 2 (combined standard error) and with |z_model| <= 2
    fraction_within_2_stderr: float
    fraction_within_2_model_stderr: float
    max_abs_z: float
    max_abs_z_model: float
    largest_mismatch: float
    chains: int
    sweeps: int
    burn_in: int
    tempering: list | None
    l2: float
    seconds: float
    _omit = ("model_moments", "model_stderr", "data_moments", "data_stderr", "target")


def data_moment_stderr(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(moments, standard errors) of the data, packed like the parameters: sqrt((1 - x^2) / M_eff)."""
    m, C = data.moments()
    p = data.probabilities
    moments = pack(m, C)
    return moments, np.sqrt(np.clip(1.0 - moments**2, 0.0, None) * float(np.sum(p**2)))


class _MomentSums:
    """Per-chain sums of s_k and s_k s_l over the sweeps, the states gathered in blocks of BLOCK sweeps and
    each block's products summed by one batched matrix product, (B, N, K) @ (B, K, N) (exact: sums of +-1)."""

    BLOCK = 64

    def __init__(self, chains: int, n: int):
        self.first, self.second = np.zeros((chains, n)), np.zeros((chains, n, n))
        self.block = np.empty((self.BLOCK, chains, n))
        self.filled = 0

    def add(self, s: Any) -> None:
        self.block[self.filled] = to_numpy(s)
        self.filled += 1
        if self.filled == self.BLOCK:
            self.flush()

    def flush(self) -> None:
        block = self.block[: self.filled]
        self.first += block.sum(axis=0)
        self.second += np.matmul(block.transpose(1, 2, 0), block.transpose(1, 0, 2))
        self.filled = 0

    def packed(self, sweeps: int) -> np.ndarray:
        """The per-chain time averages (B, N(N + 1)/2), packed like the parameters."""
        self.flush()
        iu = np.triu_indices(self.first.shape[1], 1)
        return np.concatenate([self.first, self.second[:, iu[0], iu[1]]], axis=1) / sweeps


def _chain_averages(model: PairwiseModel, chains: int, sweeps: int, burn_in: BurnIn, ladder: np.ndarray | None,
                    seed: int, compiled_kernel: bool | None, backend: Any) -> tuple[np.ndarray, int]:
    """Per-chain time averages (B, N(N + 1)/2) of the packed moments over ``sweeps`` sweeps after the burn-in
    (the rule of :mod:`thermopot.sampling.burn_in`), from uniformly random starts (or the T = 1 replicas of
    tempering columns, all sweeps in one ParallelTempering.run), and the burn-in used."""
    n = model.n
    xp = get_namespace(backend)
    sums = _MomentSums(chains, n)
    if ladder is None:
        ensemble = Ensemble(model, method="heat-bath", scan="sequential", compiled_kernel=compiled_kernel,
                            backend=xp)
        starts = 1.0 - 2.0 * np.random.default_rng(seed).integers(0, 2, size=(chains, n))
        work = ensemble.work(ensemble.init(starts, seed=seed))

        def trace(k: int) -> np.ndarray:
            rows = []
            for _ in range(k):
                work.sweep()
                rows.append(float(to_numpy(work.energies()).mean()))
            return np.array(rows)

        used = run_burn_in(burn_in, sweeps, run=work.sweep, trace=trace)
        for _ in range(sweeps):
            work.sweep()
            sums.add(work.s)
    else:
        pt = ParallelTempering(model, ladder, chains=chains, seed=seed, compiled_kernel=compiled_kernel, backend=xp)
        used = tempering_burn_in(pt, burn_in, sweeps=sweeps, progress=False)
        pt.run(sweeps, record=False, progress=False, observe=lambda energies, cold: sums.add(cold))
    return sums.packed(sweeps), used


def check_moments(model: PairwiseModel, data: Dataset | Any, weights: Any = None, *, l2: float = 0.0,
                  chains: int = 64, sweeps: int = 2000, burn_in: BurnIn = None, tempering: Any = None,
                  seed: Any = None, compiled_kernel: bool | None = None, backend: Any = None) -> MomentCheck:
    """The moments of ``model`` at T = 1 from ``chains`` fresh independent chains (``burn_in`` sweeps
    dropped: None, an integer or "mser", the rule of :mod:`thermopot.sampling.burn_in`, reported as the
    result's ``burn_in``; ``sweeps`` averaged; with ``tempering``, a ladder starting at 1, the T = 1
    replicas of as many tempering columns) against the moments of ``data`` and their sampling errors (the module
    docstring). ``l2``: the penalty the model was fitted with; the target is the data moments minus l2
    times the model's parameters."""
    start = time.perf_counter()
    data = as_dataset(data, weights)
    check_regularisers(data, "check_moments", l2=l2, allowed=("l2",))
    if not isinstance(model, PairwiseModel) or model.n != data.n:
        raise ThermopotError(f"check_moments needs a PairwiseModel of the data's N = {data.n} spins, got "
                             f"{type(model).__name__} with N = {getattr(model, 'n', None)}")
    chains = check_count(chains, "chains", 2)
    sweeps = check_count(sweeps, "sweeps")
    ladder = model_ladder(tempering)
    per_chain, burn_in = _chain_averages(model, chains, sweeps, burn_in, ladder, resolve_seed(seed),
                                         compiled_kernel, backend)
    x = per_chain.mean(axis=0)
    se_model = per_chain.std(axis=0, ddof=1) / np.sqrt(chains)
    moments, se_data = data_moment_stderr(data)
    target = moments - l2 * pack(model.h, model.J)
    mismatch = x - target
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(mismatch) / np.hypot(se_model, se_data)
        z_model = np.abs(mismatch) / se_model
    z, z_model = (np.where(mismatch == 0, 0.0, v) for v in (z, z_model))  # 0/0: a moment both sides pin
    return MomentCheck(model_moments=x, model_stderr=se_model, data_moments=moments, data_stderr=se_data,
                       target=target, fraction_within_2_stderr=float(np.mean(z <= 2)),
                       fraction_within_2_model_stderr=float(np.mean(z_model <= 2)), max_abs_z=float(z.max()),
                       max_abs_z_model=float(z_model.max()), largest_mismatch=float(np.abs(mismatch).max()),
                       chains=chains, sweeps=sweeps, burn_in=burn_in,
                       tempering=None if ladder is None else ladder.tolist(), l2=float(l2),
                       seconds=time.perf_counter() - start)
