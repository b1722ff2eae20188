"""The annealed complexity of TAP minima of SK at temperature T (Bray and Moore's count, by Kac-Rice).

For SK (h = 0, J_kl ~ N(0, 1/N), T_c = 1) the TAP equations read F_k(m) = atanh m_k + beta^2 (1 - q) m_k
- beta (J m)_k = 0 with q = (1/N) sum_k m_k^2. Their mean number of solutions is
<#> = int d^N m E[delta(F(m)) |det dF/dm|] (Kac-Rice; A. J. Bray and M. A. Moore 1980, J. Phys. C 13,
L469, who did this average for the TAP equations; the exponential order of the determinant that they used is
proved by D. Belius, F. Concetti and G. Genovese 2024, arXiv:2401.08529). At fixed m:

- w = J m is Gaussian with covariance q I + m m^T / N, so E[delta(F)] = beta^-N p_w(g / beta) with
  g_k = atanh m_k + beta^2 (1 - q) m_k, which is, to exponential order,
  exp(N [-log beta - (1/2) log(2 pi q) - <g^2> / (2 beta^2 q) + <g m>^2 / (4 beta^2 q^2)]);
- given w, J is a GOE matrix up to a rank-2 shift (same spectral law), so (1/N) log|det dF/dm| is the
  log-potential at 0 of the free convolution of the law of g'(m) = 1/(1 - m^2) + beta^2 (1 - q) with the
  semicircle of variance beta^2. Its subordination equation a = <1 / (g' - beta^2 a)> is solved by
  a = 1 - q, giving <log 1/(1 - m^2)> + beta^2 (1 - q)^2 / 2, valid (spectrum > 0: every solution a
  minimum) while beta^2 <(1 - m^2)^2> <= 1, Plefka's condition (theory.md; T. Plefka 1982).

(<.> averages over the spins.) Writing m = tanh x (dm / (1 - m^2) = dx), maximising over the law of x at
fixed q and <g m> (the entropy of the law gives log Z), and linearising <g m>^2 with Delta:

    Sigma(T) = max_{q, Delta} min_lambda { log int dx exp[-g^2 / (2 beta^2 q) + Delta g tanh x
               + lambda (tanh^2 x - q)] - beta^2 q^2 Delta^2 - log beta - (1/2) log(2 pi q)
               + beta^2 (1 - q)^2 / 2 },          g = x + beta^2 (1 - q) tanh x.

Checks (tests/test_tap_states.py): as q -> 0 the bracket tends to beta^2/4 - 1/(4 beta^2) - log beta, zero
at T_c = 1; as T -> 0 Sigma tends to Tanaka and Edwards' 0.1992 for single-flip-stable states (Bray and
Moore's T = 0 limit). ``plefka_ratio`` beta^2 <(1 - m^2)^2> at the maximiser must be <= 1 for the
determinant formula to hold; the result says so when it is not.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.special import logsumexp

from ..checks import check_temperature
from ..errors import ThermopotError
from ..results import Result

__all__ = ["tap_complexity", "TapComplexity"]

#: points of the x = atanh(m) grid of the integral
GRID_POINTS = 8001


@dataclass(frozen=True)
class TapComplexity(Result):
    """Sigma(T) of the module docstring with its maximiser (q, Delta), the multiplier lambda, Plefka's
    ratio beta^2 <(1 - m^2)^2> there, and ``expected(n)`` = exp(n Sigma), the annealed number of TAP
    minima of an SK instance of n spins to exponential order (the O(1) prefactor is not computed)."""

    sigma: float
    q: float
    delta: float
    lam: float
    plefka_ratio: float
    T: float
    seconds: float
    backend: str
    seed: None
    converged: bool
    message: str

    def expected(self, n: int) -> float:
        return math.exp(n * self.sigma)


class _Integral:
    """log int dx exp(phi(x) + lambda tanh^2 x) on the grid, minimised over lambda (the constraint <m^2> = q)."""

    def __init__(self, beta: float) -> None:
        half = max(25.0, 15.0 * beta)
        self.x = np.linspace(-half, half, GRID_POINTS)
        self.log_dx = math.log(self.x[1] - self.x[0])
        self.m = np.tanh(self.x)
        self.beta = beta

    def tilt(self, q: float, delta: float) -> np.ndarray:
        g = self.x + self.beta**2 * (1.0 - q) * self.m
        return -g * g / (2.0 * self.beta**2 * q) + delta * g * self.m

    def weights(self, phi: np.ndarray, lam: float) -> np.ndarray:
        a = phi + lam * self.m**2
        return np.exp(a - logsumexp(a))

    def minimum(self, q: float, delta: float) -> tuple[float, float]:
        """(min over lambda of log Z - lambda q, the minimiser)."""
        phi = self.tilt(q, delta)
        excess = lambda lam: float(np.sum(self.weights(phi, lam) * self.m**2)) - q  # noqa: E731 (increasing)
        lo, hi = -1.0, 1.0
        while excess(lo) > 0:
            lo *= 4.0
        while excess(hi) < 0:
            hi *= 4.0
        lam = brentq(excess, lo, hi, xtol=1e-12)
        return float(logsumexp(phi + lam * self.m**2)) + self.log_dx - lam * q, lam

    def ratio(self, q: float, delta: float) -> float:
        """Plefka's beta^2 <(1 - m^2)^2> under the maximising law at (q, Delta)."""
        _, lam = self.minimum(q, delta)
        return float(self.beta**2 * np.sum(self.weights(self.tilt(q, delta), lam) * (1 - self.m**2) ** 2))


def _bracket(integral: _Integral, q: float, delta: float) -> float:
    beta = integral.beta
    value, _ = integral.minimum(q, delta)
    return value - beta**2 * q * q * delta**2 - math.log(beta) - 0.5 * math.log(2 * math.pi * q) + \
        beta**2 * (1 - q) ** 2 / 2


def tap_complexity(T: float) -> TapComplexity:
    """Bray and Moore's annealed complexity Sigma(T) of TAP minima of SK (module docstring); 0 for T >= 1."""
    T = check_temperature(T)
    begin = time.perf_counter()
    if T >= 1.0:
        return TapComplexity(sigma=0.0, q=0.0, delta=0.0, lam=0.0, plefka_ratio=1.0 / T**2, T=T,
                             seconds=time.perf_counter() - begin, backend="numpy", seed=None, converged=True,
                             message="T >= T_c = 1: the paramagnet is the only TAP solution")
    beta = 1.0 / T
    integral = _Integral(beta)

    def loss(p: np.ndarray) -> float:
        q = float(p[0])
        if not 1e-6 < q < 1 - 1e-12 or integral.ratio(q, float(p[1])) > 1.0:  # outside Plefka's condition
            return 1e9
        return -_bracket(integral, q, float(p[1]))

    best = None
    for q0 in (0.5, 0.8, 0.95, 1 - T * T):
        start = [q0, (1.0 + beta**2 * (1 - q0)) / (2 * beta**2 * q0)]
        res = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    if best is None or not best.success:
        raise ThermopotError(f"the Bray-Moore maximisation did not converge at T = {T}")
    q, delta = float(best.x[0]), float(best.x[1])
    _, lam = integral.minimum(q, delta)
    ratio = integral.ratio(q, delta)
    valid = ratio <= 1.0 + 1e-6
    message = (f"Sigma = {-best.fun:.5f} at q = {q:.4f}" if valid else
               f"Plefka's condition fails at the maximiser (beta^2 <(1 - m^2)^2> = {ratio:.3f} > 1): the "
               "determinant formula does not hold there and Sigma is not the count of TAP minima")
    return TapComplexity(sigma=float(-best.fun), q=q, delta=delta, lam=float(lam), plefka_ratio=ratio, T=T,
                         seconds=time.perf_counter() - begin, backend="numpy", seed=None, converged=valid,
                         message=message)
