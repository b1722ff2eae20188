"""Deep linear networks f = M_O W_D ... W_1 M_I x and their population loss (theory-entropic.md sections 3, 4).

Network: fixed input map ("view") M_I (n_0 x d_in) and output map M_O (d_out x n_D), trained matrices
W_k (n_k x n_{k-1}), k = 1..D, hidden widths n_1..n_{D-1}. With the prefix products
L_k = W_k ... W_1 M_I (L_0 = M_I) and suffix products R_k = M_O W_D ... W_{k+1} (R_D = M_O), the
end-to-end map is A = R_k W_k L_{k-1} for every k. Per-sample loss l = (1/2)|A x - y|^2; over a batch
(x_s, y_s), s = 1..S, with residuals r_s = A x_s - y_s and G = (1/S) sum_s r_s x_s^T,

    L_B = (1/2S) sum_s |r_s|^2,   g_k = dL_B/dW_k = R_k^T G L_{k-1}^T.

Every array carries a leading axis B of independent runs (seeds x learning rates).

Hidden layer i (1 <= i < D) represents x by h_i = L_i x; its kernel is K_i = L_i^T L_i (d_in x d_in), to
be compared up to scale with :func:`thermopot.entropic.platonic.platonic_kernel`.

Charges of the GL(n_i) symmetry W_i -> A W_i, W_{i+1} -> W_{i+1} A^{-1}: D_i = W_i W_i^T / eta_i -
W_{i+1}^T W_{i+1} / eta_{i+1}. Plain SGD W_k <- W_k - eta_k g_k (no weight decay) changes them by exactly
Delta D_i = eta_i g_i g_i^T - eta_{i+1} g_{i+1}^T g_{i+1}; for one rate eta and the rate-free charges
W_i W_i^T - W_{i+1}^T W_{i+1} that is eta^2 (g_i g_i^T - g_{i+1}^T g_{i+1}). (The first-order terms cancel
because g_i W_i^T = W_{i+1}^T g_{i+1} = R_i^T G L_i^T.)

Teacher (:class:`thermopot.entropic.sgd.LinearTeacher`): y = V x + eps, x ~ N(0, Sigma_x),
eps ~ N(0, Sigma_e). Population loss L = (1/2) Tr[(A - V) Sigma_x (A - V)^T] + (1/2) Tr Sigma_e, gradient
R_k^T (A - V) Sigma_x L_{k-1}^T; its Hessian-vector products are the exact directional derivatives of that
gradient (forward mode), from which come the dense Hessian and its top eigenvalue (power iteration shared
with thermopot.entropic.measure, which has the finite-difference versions for any network on a batch).
"""

from __future__ import annotations

import operator
from types import ModuleType
from typing import Any, Mapping

import numpy as np

from ..backend import asarray, get_namespace, namespace_of, to_numpy
from .measure import power_iteration
from .platonic import check_matrix
from .networks import transpose as _t
from .sgd import LinearTeacher, Params, Rate, SGDError, check_batch, check_count, check_params, learning_rates

#: "auto" Hessian method: dense eigen-decomposition up to this many parameters, power iteration above
DENSE_HESSIAN_MAX = 400


class DeepLinear:
    """f = M_O W_D ... W_1 M_I x with fixed maps M_I (n_0 x d_in), M_O (d_out x n_D) and D = len(widths) + 1
    trained matrices W_1..W_D (parameter names "W1".."WD"); implements the Network protocol of
    :mod:`thermopot.entropic.sgd` (loss and analytic gradients, vectorised over a leading run axis B)."""

    def __init__(self, m_in: Any, widths: Any, m_out: Any) -> None:
        self.m_in = check_matrix(m_in, "M_I (input map)")
        self.m_out = check_matrix(m_out, "M_O (output map)")
        try:
            self.widths = tuple(operator.index(w) for w in widths)
        except TypeError:
            self.widths = ()
        if not self.widths or min(self.widths) < 1:
            raise SGDError(f"hidden widths must be a non-empty list of integers >= 1, got {widths!r}")
        self.sizes = (self.m_in.shape[0], *self.widths, self.m_out.shape[1])
        self.depth = len(self.sizes) - 1
        self.d_in, self.d_out = self.m_in.shape[1], self.m_out.shape[0]
        self.param_names = tuple(f"W{k}" for k in range(1, self.depth + 1))
        self.shapes = {f"W{k}": (self.sizes[k], self.sizes[k - 1]) for k in range(1, self.depth + 1)}
        self.n_params = int(sum(a * b for a, b in self.shapes.values()))

    def __repr__(self) -> str:
        return f"DeepLinear(d_in={self.d_in}, sizes={self.sizes}, d_out={self.d_out})"

    def init(self, rng: np.random.Generator, runs: int, *, scale: float = 1.0,
             backend: str | ModuleType | None = None) -> Params:
        """``runs`` independent Gaussian initialisations: W_k entries ~ N(0, scale^2 / n_{k-1}),
        arrays (runs, n_k, n_{k-1})."""
        runs = check_count(runs, "runs")
        xp = get_namespace(backend)
        return {name: asarray(rng.standard_normal((runs, *shape)) * (scale / np.sqrt(shape[1])), xp)
                for name, shape in self.shapes.items()}

    def check(self, params: Mapping[str, Any]) -> tuple[Params, int, ModuleType]:
        """(params as float64 arrays, B, namespace); SGDError for missing names or wrong shapes."""
        xp = namespace_of(*params.values())
        params, B = check_params(self, params, xp)
        for n in self.param_names:
            if tuple(params[n].shape) != (B, *self.shapes[n]):
                raise SGDError(f"parameter {n} has shape {tuple(params[n].shape)}, expected (B, "
                               f"{self.shapes[n][0]}, {self.shapes[n][1]}) for {self!r}")
        return params, B, xp

    # ------------------------------------------------------------------------------- products
    def _prefixes(self, params: Params, B: int, xp: ModuleType) -> list[Any]:
        """L_0..L_D of checked parameters."""
        out = [xp.broadcast_to(asarray(self.m_in, xp), (B, *self.m_in.shape))]
        for name in self.param_names:
            out.append(params[name] @ out[-1])
        return out

    def _suffixes(self, params: Params, B: int, xp: ModuleType) -> list[Any]:
        """R_0..R_D of checked parameters."""
        out = [xp.broadcast_to(asarray(self.m_out, xp), (B, *self.m_out.shape))]
        for name in reversed(self.param_names):
            out.append(out[-1] @ params[name])
        return out[::-1]

    def prefixes(self, params: Params) -> list[Any]:
        """L_0 = M_I, L_k = W_k L_{k-1}, k = 1..D: (B, n_k, d_in) arrays."""
        return self._prefixes(*self.check(params))

    def suffixes(self, params: Params) -> list[Any]:
        """R_D = M_O, R_{k-1} = R_k W_k: the list R_0..R_D of (B, d_out, n_k) arrays."""
        return self._suffixes(*self.check(params))

    def _end_to_end(self, params: Params, B: int, xp: ModuleType) -> Any:
        """A = M_O L_D of checked parameters."""
        return asarray(self.m_out, xp) @ self._prefixes(params, B, xp)[-1]

    def end_to_end(self, params: Params) -> Any:
        """A = M_O W_D ... W_1 M_I = M_O L_D, (B, d_out, d_in)."""
        return self._end_to_end(*self.check(params))

    # ------------------------------------------------------------------------------- Network protocol
    def loss(self, params: Params, x: Any, y: Any) -> Any:
        """Mini-batch loss L_B = (1/2S) sum_s |A x_s - y_s|^2, shape (B,)."""
        params, B, xp = self.check(params)
        check_batch(x, y, B, self.d_in, self.d_out)
        r = x @ _t(self._end_to_end(params, B, xp)) - y
        return 0.5 * xp.mean(xp.sum(r * r, axis=-1), axis=-1)

    def gradients(self, params: Params, x: Any, y: Any) -> Params:
        """g_k = R_k^T G L_{k-1}^T, G = (1/S) sum_s r_s x_s^T with r_s = A x_s - y_s: the gradient of the batch
        mean for every W_k."""
        params, B, xp = self.check(params)
        check_batch(x, y, B, self.d_in, self.d_out)
        L, R = self._prefixes(params, B, xp), self._suffixes(params, B, xp)
        G = _t(x @ _t(R[0] @ L[0]) - y) @ x / x.shape[1]
        return {name: _t(R[k]) @ G @ _t(L[k - 1]) for k, name in enumerate(self.param_names, start=1)}

    # ------------------------------------------------------------------------------- observables
    def layer_kernels(self, params: Params) -> np.ndarray:
        """K_i = L_i^T L_i = (W_i ... W_1 M_I)^T (W_i ... W_1 M_I) of hidden layers i = 1..D-1,
        NumPy (B, D-1, d_in, d_in)."""
        L = self.prefixes(params)
        xp = namespace_of(L[0])
        return to_numpy(xp.stack([_t(L[i]) @ L[i] for i in range(1, self.depth)], axis=1))

    def _rates(self, lr: Rate | None, B: int, xp: ModuleType) -> list[Any]:
        """Per-layer rates as (B, 1, 1) arrays (all 1 for ``lr`` None), via sgd.learning_rates."""
        rates = learning_rates(1.0 if lr is None else lr, self.param_names, B, xp)
        return [xp.reshape(rates[n], (B, 1, 1)) for n in self.param_names]

    def charges(self, params: Params, lr: Rate | None = None) -> list[np.ndarray]:
        """D_i = W_i W_i^T / eta_i - W_{i+1}^T W_{i+1} / eta_{i+1}, i = 1..D-1, each NumPy (B, n_i, n_i);
        ``lr`` (a number, (B,) or a dict name -> rate) None gives W_i W_i^T - W_{i+1}^T W_{i+1}."""
        params, B, xp = self.check(params)
        W, eta = [params[n] for n in self.param_names], self._rates(lr, B, xp)
        return [to_numpy(W[i] @ _t(W[i]) / eta[i] - _t(W[i + 1]) @ W[i + 1] / eta[i + 1])
                for i in range(self.depth - 1)]

    def charge_increments(self, grads: Params, lr: Rate | None = None) -> list[np.ndarray]:
        """eta_i g_i g_i^T - eta_{i+1} g_{i+1}^T g_{i+1}, i = 1..D-1 (NumPy (B, n_i, n_i)): the exact change of
        :meth:`charges` (same ``lr``) in one plain SGD step W_k <- W_k - eta_k g_k. With ``lr`` None it is
        g_i g_i^T - g_{i+1}^T g_{i+1}, which times eta^2 is the change of the rate-free charges at one rate eta."""
        grads, B, xp = self.check(grads)
        g, eta = [grads[n] for n in self.param_names], self._rates(lr, B, xp)
        return [to_numpy(eta[i] * (g[i] @ _t(g[i])) - eta[i + 1] * (_t(g[i + 1]) @ g[i + 1]))
                for i in range(self.depth - 1)]

    # ------------------------------------------------------------------------------- flattening
    def flatten(self, params: Params) -> Any:
        """Parameters (or tangents) as one (B, n_params) array: W1..WD in order, each row-major."""
        params, B, xp = self.check(params)
        return xp.concat([xp.reshape(params[n], (B, -1)) for n in self.param_names], axis=1)

    def unflatten(self, flat: Any) -> Params:
        """Inverse of :meth:`flatten` for a (B, n_params) array."""
        xp = namespace_of(flat)
        if flat.ndim != 2 or flat.shape[1] != self.n_params:
            raise SGDError(f"flat parameters must be (B, {self.n_params}), got {tuple(flat.shape)}")
        out, start = {}, 0
        for n in self.param_names:
            size = self.shapes[n][0] * self.shapes[n][1]
            out[n] = xp.reshape(flat[:, start:start + size], (flat.shape[0], *self.shapes[n]))
            start += size
        return out


def _teacher_arrays(net: DeepLinear, teacher: LinearTeacher, xp: ModuleType) -> tuple[Any, Any]:
    """(V, Sigma_x) of the teacher in namespace xp; SGDError when its sizes differ from the network's."""
    if (teacher.d_in, teacher.d_out) != (net.d_in, net.d_out):
        raise SGDError(f"{net!r} maps {net.d_in} -> {net.d_out} but the teacher maps "
                       f"{teacher.d_in} -> {teacher.d_out}")
    return asarray(teacher.teacher, xp), asarray(teacher.input_covariance, xp)


def population_loss(net: DeepLinear, params: Params, teacher: LinearTeacher) -> np.ndarray:
    """L = E l = (1/2) Tr[(A - V) Sigma_x (A - V)^T] + (1/2) Tr Sigma_e per run, NumPy (B,)."""
    params, B, xp = net.check(params)
    V, sx = _teacher_arrays(net, teacher, xp)
    E = net._end_to_end(params, B, xp) - V
    return to_numpy(0.5 * xp.sum((E @ sx) * E, axis=(-2, -1))) + 0.5 * float(np.trace(teacher.noise_covariance))


def population_gradients(net: DeepLinear, params: Params, teacher: LinearTeacher) -> Params:
    """dL/dW_k = R_k^T (A - V) Sigma_x L_{k-1}^T for every layer (arrays of the parameters' namespace)."""
    params, B, xp = net.check(params)
    V, sx = _teacher_arrays(net, teacher, xp)
    L, R = net._prefixes(params, B, xp), net._suffixes(params, B, xp)
    E = (R[0] @ L[0] - V) @ sx
    return {n: _t(R[k]) @ E @ _t(L[k - 1]) for k, n in enumerate(net.param_names, start=1)}


def population_hessian_vector_product(net: DeepLinear, params: Params, teacher: LinearTeacher,
                                      tangent: Params) -> Params:
    """H T, the exact directional derivative of :func:`population_gradients` along ``tangent`` T:
    d g_k = (dR_k^T E + R_k^T dE) L_{k-1}^T + R_k^T E dL_{k-1}^T with E = (A - V) Sigma_x, dE = M_O dL_D Sigma_x,
    dL_k = T_k L_{k-1} + W_k dL_{k-1} (dL_0 = 0), dR_{k-1} = dR_k W_k + R_k T_k (dR_D = 0)."""
    params, B, xp = net.check(params)
    tangent = net.check(tangent)[0]
    V, sx = _teacher_arrays(net, teacher, xp)
    names, D = net.param_names, net.depth
    W, T = [params[n] for n in names], [tangent[n] for n in names]
    L, R = net._prefixes(params, B, xp), net._suffixes(params, B, xp)
    dL = [xp.zeros_like(L[0])]
    for k in range(1, D + 1):
        dL.append(T[k - 1] @ L[k - 1] + W[k - 1] @ dL[k - 1])
    dR = [xp.zeros_like(R[D])]
    for k in range(D, 0, -1):
        dR.append(dR[-1] @ W[k - 1] + R[k] @ T[k - 1])
    dR = dR[::-1]
    E = (R[D] @ L[D] - V) @ sx
    dE = R[D] @ dL[D] @ sx
    return {n: (_t(dR[k]) @ E + _t(R[k]) @ dE) @ _t(L[k - 1]) + _t(R[k]) @ E @ _t(dL[k - 1])
            for k, n in enumerate(names, start=1)}


def population_hessian(net: DeepLinear, params: Params, teacher: LinearTeacher) -> np.ndarray:
    """The dense population Hessian in :meth:`DeepLinear.flatten` order, NumPy (B, n_params, n_params): the
    exact Hessian-vector products with all n_params basis tangents at once (the runs repeated), symmetrised."""
    params, B, xp = net.check(params)
    P = net.n_params
    repeated = {n: xp.reshape(xp.broadcast_to(v[:, None], (B, P, *v.shape[1:])), (B * P, *v.shape[1:]))
                for n, v in params.items()}
    basis = xp.reshape(xp.broadcast_to(xp.eye(P, dtype=xp.float64), (B, P, P)), (B * P, P))
    H = net.flatten(population_hessian_vector_product(net, repeated, teacher, net.unflatten(basis)))
    H = xp.reshape(H, (B, P, P))
    return to_numpy(0.5 * (H + _t(H)))


def population_top_eigenvalue(net: DeepLinear, params: Params, teacher: LinearTeacher, *, method: str = "auto",
                              iterations: int = 300, seed: int = 0, lr: Rate | None = None) -> np.ndarray:
    """The largest eigenvalue of the population Hessian H per run, NumPy (B,); with learning rates ``lr``
    (the forms of :func:`~thermopot.entropic.run_sgd`) that of Lambda^{1/2} H Lambda^{1/2}, i.e. eta
    lambda_top for one rate eta: the step theta <- theta - Lambda grad L is linearly stable near a minimum
    only while it is below 2.

    ``method="dense"``: eigvalsh of :func:`population_hessian`. ``"power"``: :func:`measure.power_iteration
    <thermopot.entropic.power_iteration>` on :func:`population_hessian_vector_product` (the
    eigenvalue of largest modulus, which is the top one near a minimum, where H is positive semi-definite up
    to terms of order |A - V|). ``"auto"``: dense up to ``DENSE_HESSIAN_MAX`` parameters."""
    if method == "auto":
        method = "dense" if net.n_params <= DENSE_HESSIAN_MAX else "power"
    if method not in ("dense", "power"):
        raise SGDError(f"unknown Hessian method {method!r}; choose 'dense', 'power' or 'auto'")
    params, B, xp = net.check(params)
    root = None if lr is None else {n: xp.sqrt(r) for n, r in learning_rates(lr, net.param_names, B, xp).items()}
    if method == "dense":
        H = population_hessian(net, params, teacher)
        if root is not None:
            s = to_numpy(net.flatten({n: xp.broadcast_to(xp.reshape(root[n], (B, 1, 1)), (B, *net.shapes[n]))
                                      for n in net.param_names}))
            H = s[:, :, None] * H * s[:, None, :]
        return np.linalg.eigvalsh(H)[:, -1]

    def scaled(v: Params) -> Params:
        return v if root is None else {n: xp.reshape(root[n], (B, 1, 1)) * v[n] for n in net.param_names}

    return power_iteration(lambda v: scaled(population_hessian_vector_product(net, params, teacher, scaled(v))),
                           params, iterations=iterations, seed=seed)


__all__ = ["DENSE_HESSIAN_MAX", "DeepLinear", "population_gradients", "population_hessian",
           "population_hessian_vector_product", "population_loss", "population_top_eigenvalue"]
