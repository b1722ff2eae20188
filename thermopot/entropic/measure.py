"""Measurements on networks with a rescaling symmetry (theory-entropic.md sections 3-4).

A network here has ``outer`` and ``inner`` parameter names and ``hidden_axes`` (name -> the axis that
indexes hidden units), as the networks of thermopot.entropic.networks do. Everything is vectorised over
the leading run axis B and works on NumPy and CuPy arrays.

- charge C = |u|^2 - |w|^2 (- |b|^2): sum of squares of the outer minus the inner parameters;
  per neuron C_i = |u_:i|^2 - |w_i|^2 - b_i^2; with layer-wise rates C = |u|^2/eta_u - |w|^2/eta_w;
- gradient norms |g_u|^2, |g_w|^2 (+ |g_b|^2 in the inner group), per layer and per neuron;
- E_B |g_B|^2 for batches of size S, estimated without bias from per-sample gradients;
- the top Hessian eigenvalue by power iteration (:func:`power_iteration`, shared with the exact population
  Hessian of thermopot.entropic.deep_linear) on finite-difference Hessian-vector products.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..backend import asarray, namespace_of, to_numpy
from ..checks import check_rng
from .sgd import Network, Params, SGDError, check_count, learning_rates


def _square_sums(arrays: Mapping[str, Any], names: tuple[str, ...], hidden_axes: Mapping[str, int] | None,
                 rates: Mapping[str, Any] | None = None) -> Any:
    """sum over ``names`` of |a|^2 (/ rate) per run (B,), or per hidden unit (B, h) when ``hidden_axes``."""
    total = 0.0
    for k in names:
        a = arrays[k]
        xp = namespace_of(a)
        sq = a * a
        if hidden_axes is None:
            s = xp.sum(xp.reshape(sq, (sq.shape[0], -1)), axis=1)
        else:
            axes = tuple(i for i in range(1, sq.ndim) if i != hidden_axes[k])
            s = xp.sum(sq, axis=axes) if axes else sq
        if rates is not None:
            s = s / xp.reshape(rates[k], (-1,) + (1,) * (s.ndim - 1))
        total = total + s
    return total


def _hidden(network: Any, per_neuron: bool) -> Mapping[str, int] | None:
    if not per_neuron:
        return None
    if getattr(network, "hidden_axes", None) is None:
        raise SGDError(f"{type(network).__name__} declares no hidden_axes: per-neuron quantities are undefined")
    return network.hidden_axes


def charge(network: Any, params: Params, *, per_neuron: bool = False, lr: Mapping[str, Any] | None = None) -> Any:
    """The rescaling charge C = sum_outer |p|^2 / eta_p - sum_inner |p|^2 / eta_p (eta_p = 1 unless
    layer-wise rates ``lr`` name -> number or (B,) are given): (B,), or (B, h) per hidden unit
    (C_i = |u_:i|^2 - |w_i|^2 - b_i^2)."""
    hidden = _hidden(network, per_neuron)
    if lr is not None:
        first = params[network.outer[0]]
        lr = learning_rates(lr, network.outer + network.inner, first.shape[0], namespace_of(first))
    return _square_sums(params, network.outer, hidden, lr) - _square_sums(params, network.inner, hidden, lr)


def squared_norm(network: Any, params: Params, *, per_neuron: bool = False) -> Any:
    """|theta|^2 = sum_outer |p|^2 + sum_inner |p|^2 per run (B,), or per hidden unit (B, h) (|u_:i|^2 + |w_i|^2 +
    b_i^2): the scale of the charge C, whose rounding error in float64 is ~ 1e-16 |theta|^2."""
    return _square_sums(params, network.outer + network.inner, _hidden(network, per_neuron))


def gradient_norms(network: Any, grads: Params, *, per_neuron: bool = False) -> dict[str, Any]:
    """``{"outer": sum_outer |g_p|^2, "inner": sum_inner |g_p|^2}``, each (B,) or (B, h) per hidden unit."""
    hidden = _hidden(network, per_neuron)
    return {"outer": _square_sums(grads, network.outer, hidden), "inner": _square_sums(grads, network.inner, hidden)}


def per_sample_gradients(network: Network, params: Params, x: Any, y: Any) -> Params:
    """The gradient of each sample's loss: name -> ``(B, K, *shape)`` for x (B, K, d_in) (the runs are
    repeated K times and each sample is a batch of one)."""
    xp = namespace_of(x)
    B, K = x.shape[:2]
    tiled = {k: xp.reshape(xp.broadcast_to(v[:, None], (B, K, *v.shape[1:])), (B * K, *v.shape[1:]))
             for k, v in params.items()}
    g = network.gradients(tiled, xp.reshape(x, (B * K, 1, x.shape[2])), xp.reshape(y, (B * K, 1, y.shape[2])))
    return {k: xp.reshape(v, (B, K, *v.shape[1:])) for k, v in g.items()}


def expected_batch_gradient_norms(network: Any, params: Params, x: Any, y: Any, batch_size: int, *,
                                  per_neuron: bool = False) -> dict[str, Any]:
    """E_B |g_B|^2 for batches of ``batch_size`` S drawn with replacement, from K samples x (B, K, d_in):

        E_B |g_B|^2 = |grad L|^2 + Tr Sigma / S,

    with the unbiased estimates Tr Sigma = K/(K-1) (<|g_s|^2> - |<g_s>|^2) and |grad L|^2 = |<g_s>|^2 -
    Tr Sigma / K. Returned as {"outer", "inner"} (B,) or (B, h) per hidden unit."""
    K = x.shape[1]
    batch_size = check_count(batch_size, "batch size")
    if K < 2:
        raise SGDError(f"the estimate needs at least 2 samples per run, got K={K}")
    xp = namespace_of(x)
    g = per_sample_gradients(network, params, x, y)
    hidden = _hidden(network, per_neuron)
    mean = {k: xp.mean(v, axis=1) for k, v in g.items()}
    out = {}
    for side in ("outer", "inner"):
        names = getattr(network, side)
        per_sample = _square_sums({k: xp.reshape(g[k], (-1, *g[k].shape[2:])) for k in names}, names, hidden)
        second = xp.mean(xp.reshape(per_sample, (x.shape[0], K, *per_sample.shape[1:])), axis=1)
        first = _square_sums(mean, names, hidden)
        trace = (second - first) * K / (K - 1)
        out[side] = first - trace / K + trace / batch_size
    return out


def hessian_vector_product(network: Network, params: Params, x: Any, y: Any, v: Params, eps: float = 1e-5) -> Params:
    """H v ~ (g(theta + eps v) - g(theta - eps v)) / (2 eps), central differences of the analytic
    gradient g of the batch mean loss (error O(eps^2 |v|^3)); ``eps`` > 0."""
    if not (math.isfinite(eps) and eps > 0):
        raise SGDError(f"finite-difference step eps must be finite and > 0, got {eps!r}")
    plus = network.gradients({k: params[k] + eps * v[k] for k in params}, x, y)
    minus = network.gradients({k: params[k] - eps * v[k] for k in params}, x, y)
    return {k: (plus[k] - minus[k]) / (2 * eps) for k in params}


def _dot(a: Params, b: Params) -> Any:
    """sum_k <a_k, b_k> per run (B,)."""
    xp = namespace_of(*a.values())
    return sum(xp.sum(xp.reshape(a[k] * b[k], (a[k].shape[0], -1)), axis=1) for k in a)


def power_iteration(operator: Callable[[Params], Params], like: Params, *, iterations: int = 100,
                    seed: int = 0) -> np.ndarray:
    """The largest-modulus eigenvalue per run (B,) of a symmetric linear map M on parameter dicts
    (``operator(v)`` = M v, e.g. a Hessian-vector product): v <- M v / |M v| ``iterations`` times from a
    seeded standard normal start shaped like ``like`` (arrays (B, ...)), then the Rayleigh quotient v^T M v.
    The error decays as (|lambda_2| / |lambda_1|)^(2 iterations)."""
    iterations = check_count(iterations, "iterations")
    xp = namespace_of(*like.values())
    rng = check_rng(seed)
    v = {k: asarray(rng.standard_normal(p.shape), xp) for k, p in like.items()}
    for _ in range(iterations):
        norm = xp.sqrt(_dot(v, v))
        v = {k: a / xp.reshape(norm, (-1,) + (1,) * (a.ndim - 1)) for k, a in v.items()}
        mv = operator(v)
        rayleigh = _dot(v, mv)
        v = mv
    return to_numpy(rayleigh)


def top_hessian_eigenvalue(network: Network, params: Params, x: Any, y: Any, *, iterations: int = 100,
                           eps: float = 1e-5, seed: int = 0) -> np.ndarray:
    """The largest-magnitude eigenvalue of the Hessian of the batch mean loss per run (B,):
    :func:`power_iteration` on the finite-difference :func:`hessian_vector_product`."""
    return power_iteration(lambda v: hessian_vector_product(network, params, x, y, v, eps), params,
                           iterations=iterations, seed=seed)


__all__ = ["charge", "expected_batch_gradient_norms", "gradient_norms", "hessian_vector_product",
           "per_sample_gradients", "power_iteration", "squared_norm", "top_hessian_eigenvalue"]
