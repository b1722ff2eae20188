"""Baselines of the C10 remedy (claims.py): models with about as many parameters as the mixture of pairwise
models, fitted to the training samples and scored exactly on held-out ones (log p(s) for all 2^N states).

- independent-site mixture, by EM: p(s) = sum_c pi_c prod_k (1 + m_ck s_k) / 2;
- higher-order model in the Walsh basis, by exact maximum likelihood:

      E(s) = -sum_{alpha in A} theta_alpha chi_alpha(s),   chi_alpha(s) = prod_{k in alpha} s_k,
      f(theta) = log Z - theta . c + (l2 / 2) |theta|^2,   df/dtheta = <chi>_theta - c + l2 theta,

  c the training moments; A holds every subset of size 1 .. k-1 and, of size k, those with the largest
  |c_alpha| until |A| equals the parameter budget (pairs come before triples, ...). The energy table and all
  2^N moments are one fast Walsh-Hadamard transform each (O(N 2^N) per evaluation); f is convex;
- restricted Boltzmann machine with H hidden +-1 units, by exact maximum likelihood over the 2^N visible
  states (the hidden ones summed in closed form):

      p(v) = exp(-F(v)) / Z,   -F(v) = a . v + sum_j log 2 cosh(x_j),   x = c + W v,
      d<log p>_data / da = <v>_data - <v>,  / dc = <tanh x>_data - <tanh x>,  / dW = <tanh x v^T>_data - <tanh x v^T>,

  minus the ridge (l2 / 2) |(a, c, W)|^2; not convex: started from a = artanh(m), c = 0, W ~ 0.01 N(0, 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..backend import get_namespace
from ..checks import check_rng
from ..errors import ThermopotError
from ..learning.result import lbfgs
from ..results import Result
from ..states import fwht, index_to_spins, spins_to_index

#: the hidden-unit baseline enumerates the 2^N visible states for each of its hidden units at every
#: evaluation; beyond this many spins its fit takes too long for the claim table
HIDDEN_MAX_SPINS = 16
#: visible states per tile of the hidden-unit model's enumeration
_TILE = 1024


@dataclass(frozen=True)
class TableModel(Result):
    """A fitted baseline: ``name``, ``parameters`` (count), ``log_p`` (2^N,) the exact log-probability of every
    state (index as in thermopot.states), ``iterations``, ``converged`` and ``message`` of its fit, and ``arrays``
    (the fitted arrays: ``subsets``, ``theta`` of the Walsh model; ``a``, ``c``, ``W`` of the RBM)."""

    name: str
    parameters: int
    log_p: np.ndarray
    iterations: int
    converged: bool
    arrays: dict
    message: str = ""

    def log_prob(self, samples: np.ndarray) -> np.ndarray:
        """Exact log p of +-1 samples (S, N)."""
        return self.log_p[spins_to_index(np.asarray(samples))]


def site_log_prob(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """log prod_k (1 + m_ck s_k) / 2 for samples (S, N) and components (K, N) -> (S, K)."""
    return np.log((1.0 + x[:, None, :] * m[None]) / 2.0).sum(axis=2)


def independent_site_mixture(samples: np.ndarray, k: int, iterations: int, *,
                             seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pi (K,), m (K, N)): EM for a mixture of K independent-site models from K samples' halves (the samples
    drawn with ``seed``)."""
    x = samples.astype(float)
    m = np.clip(x[check_rng(seed).choice(len(x), k, replace=False)] * 0.5, -0.95, 0.95)
    pi = np.full(k, 1.0 / k)
    for _ in range(iterations):
        log_r = np.log(pi) + site_log_prob(x, m)
        log_r -= np.logaddexp.reduce(log_r, axis=1, keepdims=True)
        r = np.exp(log_r)
        pi = np.maximum(r.mean(axis=0), 1e-12)
        m = np.clip((r.T @ x) / np.maximum(r.sum(axis=0)[:, None], 1e-12), -0.999, 0.999)
    return pi / pi.sum(), m


def _log_normalise(log_w: np.ndarray) -> np.ndarray:
    return log_w - np.logaddexp.reduce(log_w)


def walsh_subsets(moments: np.ndarray, budget: int) -> tuple[np.ndarray, int]:
    """(the Walsh indices A, the highest order k): all subsets of orders 1 .. k-1, then order-k subsets by
    decreasing |moment| until |A| = ``budget`` (moments: all 2^N training moments, index = subset mask)."""
    size = moments.size
    order = np.array([bin(a).count("1") for a in range(size)])
    if not 1 <= budget <= size - 1:
        raise ThermopotError(f"a higher-order model of N = {size.bit_length() - 1} spins has 1 .. {size - 1} "
                             f"parameters, not {budget}")
    ranked = np.lexsort((-np.abs(moments), order))[1:]  # by order, then |moment| decreasing; drops alpha = 0
    chosen = ranked[:budget]
    return np.sort(chosen), int(order[chosen].max())


def fit_walsh_model(samples: np.ndarray, budget: int, *, l2: float, max_iter: int = 2000,
                    tol: float = 1e-6) -> TableModel:
    """The higher-order baseline with ``budget`` couplings (module docstring), exact ML by L-BFGS."""
    n = samples.shape[1]
    counts = np.bincount(spins_to_index(samples), minlength=2**n).astype(float)
    moments = fwht(counts / counts.sum())
    subsets, top = walsh_subsets(moments, budget)
    c = moments[subsets]
    full = np.zeros(2**n)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        full[subsets] = theta
        log_w = fwht(full)  # -E(s) = sum_alpha theta_alpha chi_alpha(s) for every state
        log_z = float(np.logaddexp.reduce(log_w))
        model = fwht(np.exp(log_w - log_z))[subsets]
        return log_z - float(theta @ c) + 0.5 * l2 * float(theta @ theta), model - c + l2 * theta

    theta, _, grad, iterations, message = lbfgs(objective, np.zeros(budget), tol, max_iter)
    full[subsets] = theta
    of_top = int(sum(bin(int(a)).count("1") == top for a in subsets))
    return TableModel(f"one model with couplings up to order {top} (every one of order < {top}, the {of_top} "
                      f"strongest of order {top})", budget, _log_normalise(fwht(full)), iterations, bool(np.abs(grad).max() <= tol),
                      {"subsets": subsets, "theta": theta}, message)


def hidden_units_for(budget: int, n: int) -> int:
    """The number H of hidden units whose RBM (N + H + N H parameters) has at least ``budget`` parameters."""
    return max(1, math.ceil((budget - n) / (n + 1)))


def fit_hidden_model(samples: np.ndarray, hidden: int, *, l2: float, seed: int, max_iter: int = 300,
                     tol: float = 1e-5) -> TableModel:
    """The RBM baseline with ``hidden`` units (module docstring), exact ML by L-BFGS over the 2^N visible
    states (refused beyond HIDDEN_MAX_SPINS spins)."""
    n = samples.shape[1]
    if n > HIDDEN_MAX_SPINS:
        raise ThermopotError(f"the hidden-unit baseline enumerates the 2^N visible states; N = {n} > "
                             f"{HIDDEN_MAX_SPINS} is too many for it")
    v_all = index_to_spins(np.arange(2**n), n, get_namespace("numpy"))
    data = samples.astype(float)
    rng = np.random.default_rng(seed)
    m = data.mean(axis=0)
    x0 = np.concatenate([np.arctanh(np.clip(m, -0.99, 0.99)), np.zeros(hidden),
                         0.01 * rng.standard_normal(hidden * n)])

    def split(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return p[:n], p[n:n + hidden], p[n + hidden:].reshape(hidden, n)

    def neg_free(v: np.ndarray, a, c, W) -> tuple[np.ndarray, np.ndarray]:
        """(-F(v), tanh x) with log 2 cosh x = |x| + log(1 + e^-2|x|) (in place: two arrays per tile)."""
        x = v @ W.T
        x += c
        t = np.tanh(x)
        np.abs(x, out=x)
        out = v @ a + x.sum(axis=1)
        x *= -2.0
        np.exp(x, out=x)
        np.log1p(x, out=x)
        return out + x.sum(axis=1), t

    def log_weights(p: np.ndarray) -> np.ndarray:
        return np.concatenate([neg_free(v_all[i:i + _TILE], *split(p))[0] for i in range(0, 2**n, _TILE)])

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        """One pass over the tiles: log Z and the model moments by a running log-sum-exp (the sums rescaled
        whenever a tile raises the running maximum)."""
        a, c, W = split(p)
        shift, total = -np.inf, 0.0
        g_a, g_c, g_W = np.zeros(n), np.zeros(hidden), np.zeros((hidden, n))
        for i in range(0, 2**n, _TILE):
            v = v_all[i:i + _TILE]
            log_w, t = neg_free(v, a, c, W)
            top = float(log_w.max())
            if top > shift:
                rescale = math.exp(shift - top) if np.isfinite(shift) else 0.0
                total, g_a, g_c, g_W, shift = total * rescale, g_a * rescale, g_c * rescale, g_W * rescale, top
            q = np.exp(log_w - shift)
            tq = t * q[:, None]
            total, g_a, g_c, g_W = total + q.sum(), g_a + q @ v, g_c + tq.sum(axis=0), g_W + tq.T @ v
        log_z = shift + math.log(total)
        f_data, t = neg_free(data, a, c, W)
        t /= len(data)
        value = log_z - float(f_data.mean()) + 0.5 * l2 * float(p @ p)
        grad = np.concatenate([g_a / total - data.mean(axis=0), g_c / total - t.sum(axis=0),
                               (g_W / total - t.T @ data).ravel()])
        return value, grad + l2 * p

    p, _, grad, iterations, message = lbfgs(objective, x0, tol, max_iter)
    a, c, W = split(p)
    return TableModel(f"one model with {hidden} hidden units (RBM)", n + hidden + n * hidden,
                      _log_normalise(log_weights(p)), iterations, bool(np.abs(grad).max() <= tol),
                      {"a": a, "c": c, "W": W}, message)


__all__ = ["HIDDEN_MAX_SPINS", "TableModel", "fit_hidden_model", "fit_walsh_model", "hidden_units_for",
           "independent_site_mixture", "site_log_prob", "walsh_subsets"]
