"""Small networks with a rescaling symmetry and analytic, vectorised gradients (theory-entropic.md 3-4).

Every network has the per-sample loss l = (1/2) |f(x) - y|^2, parameters with a leading run axis B, an
outer layer ``u`` and an inner layer ``w`` (and bias ``b``) related by the rescaling symmetry
(u, w, b) -> (c u, w / c, b / c) of each hidden unit, and says so through ``outer``, ``inner`` and
``hidden_axes`` (the axis of each parameter that indexes hidden units), which thermopot.entropic.measure
uses for charges and per-neuron gradient norms.

- :class:`ScalarToy`: f = (u . w) x with u, w in R^k (k = 1 is the paper's l = (1/2)(u w x - y)^2);
- :class:`TwoLayerLinear`: f = U W x, W (h, d_in), U (d_out, h);
- :class:`ReluNet`: f = U relu(W x + b).

Gradients of the batch mean L_B = (1/(2S)) sum_s |r_s|^2, r_s = f(x_s) - y_s, are written out below per
network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import asarray, get_namespace, namespace_of
from .sgd import Params, check_batch, check_count


def transpose(a: Any) -> Any:
    """The transpose of the last two axes."""
    return namespace_of(a).matrix_transpose(a)


def _check_io(x: Any, y: Any, params: Params, name: str, d_in: int, d_out: int) -> int:
    """Check x (B, S, d_in), y (B, S, d_out) against the run axis B of parameter ``name``; return B."""
    B = params[name].shape[0]
    check_batch(x, y, B, d_in, d_out)
    return B


def _dense_init(rng: np.random.Generator, runs: int, net: Any, u_scale: float, w_scale: float,
                xp: Any) -> Params:
    """Gaussian layers of a d_in -> hidden -> d_out net: W ~ w_scale N(0, 1/d_in), U ~ u_scale N(0, 1/h)."""
    runs = check_count(runs, "runs")
    return {"u": asarray(u_scale * rng.standard_normal((runs, net.d_out, net.hidden)) / np.sqrt(net.hidden), xp),
            "w": asarray(w_scale * rng.standard_normal((runs, net.hidden, net.d_in)) / np.sqrt(net.d_in), xp)}


@dataclass(frozen=True)
class ScalarToy:
    """f = (u . w) x with scalar input and output: l = (1/2)((u . w) x - y)^2.

    With m = (1/S) sum_s r_s x_s, r_s = (u . w) x_s - y_s: g_u = m w, g_w = m u. Every coordinate pair
    (u_i, w_i) is a rescaling pair (hidden axis 1)."""

    k: int = 1
    param_names: tuple[str, ...] = field(default=("u", "w"), init=False)
    outer: tuple[str, ...] = field(default=("u",), init=False)
    inner: tuple[str, ...] = field(default=("w",), init=False)
    hidden_axes: Any = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        check_count(self.k, "k")
        object.__setattr__(self, "hidden_axes", {"u": 1, "w": 1})

    def init(self, rng: np.random.Generator, runs: int, *, u: float = 1.0, w: float = 1.0,
             scale: float = 0.0, backend: Any = None) -> Params:
        """u = u_0 (1 + scale z), w = w_0 (1 + scale z') per coordinate, z standard normal; shape (runs, k)."""
        xp = get_namespace(backend)
        shape = (check_count(runs, "runs"), self.k)
        return {"u": asarray(u * (1 + scale * rng.standard_normal(shape)), xp),
                "w": asarray(w * (1 + scale * rng.standard_normal(shape)), xp)}

    def _product(self, params: Params, x: Any, y: Any) -> tuple[Any, Any]:
        _check_io(x, y, params, "u", 1, 1)
        xp = namespace_of(params["u"])
        a = xp.sum(params["u"] * params["w"], axis=1)
        return a, a[:, None] * x[..., 0] - y[..., 0]

    def loss(self, params: Params, x: Any, y: Any) -> Any:
        """(1/S) sum_s (1/2) r_s^2, shape (B,)."""
        xp = namespace_of(params["u"])
        _, r = self._product(params, x, y)
        return 0.5 * xp.mean(r * r, axis=1)

    def gradients(self, params: Params, x: Any, y: Any) -> Params:
        """g_u = m w, g_w = m u, m = (1/S) sum_s r_s x_s."""
        xp = namespace_of(params["u"])
        _, r = self._product(params, x, y)
        m = xp.mean(r * x[..., 0], axis=1)[:, None]
        return {"u": m * params["w"], "w": m * params["u"]}

    def hessian(self, params: Params, x: Any, y: Any) -> Any:
        """The exact (B, 2k, 2k) Hessian in the order (u, w): <x^2> v v^T + m [[0, I], [I, 0]], v = (w, u)."""
        xp = namespace_of(params["u"])
        _, r = self._product(params, x, y)
        m = xp.mean(r * x[..., 0], axis=1)
        x2 = xp.mean(x[..., 0] ** 2, axis=1)
        v = xp.concat([params["w"], params["u"]], axis=1)
        eye = xp.eye(self.k, dtype=xp.float64)
        zero = xp.zeros((self.k, self.k), dtype=xp.float64)
        swap = xp.concat([xp.concat([zero, eye], axis=1), xp.concat([eye, zero], axis=1)], axis=0)
        return x2[:, None, None] * v[:, :, None] * v[:, None, :] + m[:, None, None] * swap


@dataclass(frozen=True)
class TwoLayerLinear:
    """f = U W x, W (h, d_in), U (d_out, h).

    With h_s = W x_s, r_s = U h_s - y_s: g_U = (1/S) sum_s r_s h_s^T, g_W = (1/S) sum_s U^T r_s x_s^T.
    Hidden unit i owns row W_i and column U[:, i] (hidden axes: w 1, u 2)."""

    d_in: int
    hidden: int
    d_out: int
    param_names: tuple[str, ...] = field(default=("u", "w"), init=False)
    outer: tuple[str, ...] = field(default=("u",), init=False)
    inner: tuple[str, ...] = field(default=("w",), init=False)
    hidden_axes: Any = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        for what in ("d_in", "hidden", "d_out"):
            check_count(getattr(self, what), what)
        object.__setattr__(self, "hidden_axes", {"u": 2, "w": 1})

    def init(self, rng: np.random.Generator, runs: int, *, u_scale: float = 1.0, w_scale: float = 1.0,
             backend: Any = None) -> Params:
        """Gaussian entries: W ~ w_scale N(0, 1/d_in), U ~ u_scale N(0, 1/h)."""
        return _dense_init(rng, runs, self, u_scale, w_scale, get_namespace(backend))

    def _forward(self, params: Params, x: Any, y: Any) -> tuple[Any, Any]:
        _check_io(x, y, params, "u", self.d_in, self.d_out)
        h = x @ transpose(params["w"])
        return h, h @ transpose(params["u"]) - y

    def loss(self, params: Params, x: Any, y: Any) -> Any:
        """(1/S) sum_s (1/2) |r_s|^2, shape (B,)."""
        xp = namespace_of(params["u"])
        _, r = self._forward(params, x, y)
        return 0.5 * xp.mean(xp.sum(r * r, axis=2), axis=1)

    def gradients(self, params: Params, x: Any, y: Any) -> Params:
        """g_U = <r h^T>, g_W = <(U^T r) x^T> over the batch."""
        h, r = self._forward(params, x, y)
        S = x.shape[1]
        back = r @ params["u"]
        return {"u": transpose(r) @ h / S, "w": transpose(back) @ x / S}


@dataclass(frozen=True)
class ReluNet:
    """f = U relu(W x + b), W (h, d_in), b (h,), U (d_out, h).

    With z_s = W x_s + b, a_s = relu(z_s), r_s = U a_s - y_s, delta_s = (U^T r_s) * 1[z_s > 0]:
    g_U = <r a^T>, g_W = <delta x^T>, g_b = <delta>. Unit i (row W_i, bias b_i, column U[:, i]) has the
    rescaling symmetry (c U[:, i], W_i / c, b_i / c), so its charge is |U[:, i]|^2 - |W_i|^2 - b_i^2."""

    d_in: int
    hidden: int
    d_out: int
    param_names: tuple[str, ...] = field(default=("u", "w", "b"), init=False)
    outer: tuple[str, ...] = field(default=("u",), init=False)
    inner: tuple[str, ...] = field(default=("w", "b"), init=False)
    hidden_axes: Any = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        for what in ("d_in", "hidden", "d_out"):
            check_count(getattr(self, what), what)
        object.__setattr__(self, "hidden_axes", {"u": 2, "w": 1, "b": 1})

    def init(self, rng: np.random.Generator, runs: int, *, u_scale: float = 1.0, w_scale: float = 1.0,
             bias: float = 0.1, backend: Any = None) -> Params:
        """W ~ w_scale N(0, 1/d_in), b = w_scale * bias, U ~ u_scale N(0, 1/h)."""
        xp = get_namespace(backend)
        params = _dense_init(rng, runs, self, u_scale, w_scale, xp)
        return {**params, "b": asarray(np.full((params["u"].shape[0], self.hidden), w_scale * bias), xp)}

    def _forward(self, params: Params, x: Any, y: Any) -> tuple[Any, Any, Any]:
        _check_io(x, y, params, "u", self.d_in, self.d_out)
        xp = namespace_of(params["u"])
        z = x @ transpose(params["w"]) + params["b"][:, None, :]
        a = xp.where(z > 0, z, 0.0)
        return z, a, a @ transpose(params["u"]) - y

    def loss(self, params: Params, x: Any, y: Any) -> Any:
        """(1/S) sum_s (1/2) |r_s|^2, shape (B,)."""
        xp = namespace_of(params["u"])
        _, _, r = self._forward(params, x, y)
        return 0.5 * xp.mean(xp.sum(r * r, axis=2), axis=1)

    def gradients(self, params: Params, x: Any, y: Any) -> Params:
        """g_U = <r a^T>, g_W = <delta x^T>, g_b = <delta>, delta = (r U) * 1[z > 0]."""
        xp = namespace_of(params["u"])
        z, a, r = self._forward(params, x, y)
        S = x.shape[1]
        delta = xp.where(z > 0, r @ params["u"], 0.0)
        return {"u": transpose(r) @ a / S, "w": transpose(delta) @ x / S, "b": xp.mean(delta, axis=1)}


__all__ = ["ReluNet", "ScalarToy", "TwoLayerLinear"]
