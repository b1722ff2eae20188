"""The SGD engine of thermopot.entropic (theory-entropic.md sections 1 and 3).

Parameters are a dict ``name -> array`` whose leading axis ``B`` indexes independent runs (seeds times
learning rates); a batch is ``x (B, S, d_in)``, ``y (B, S, d_out)``. One step of SGD with coupled weight
decay ``gamma`` and a diagonal (layer-wise) learning-rate matrix Lambda is

    theta <- theta - Lambda (g_B + 2 gamma theta),   g_B = grad (1/S) sum_s l(x_s, y_s; theta),

with a fresh batch every step (online SGD) or a batch drawn with replacement from a fixed set
(:class:`FiniteData`). Controls: full-batch gradient descent (``run_sgd(..., full_batch=True)``) and
gradient flow d theta/dt = -Lambda (grad L + 2 gamma theta) by RK4 or Euler (:func:`gradient_flow`).
All runs of a batch advance in one array program on NumPy or CuPy (``xp`` from thermopot.backend);
records come back as NumPy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, Union, runtime_checkable

import numpy as np

from ..backend import asarray, get_namespace, namespace_of, to_numpy
from ..errors import ThermopotError
from ..checks import check_count as _check_count, check_rng
from ..results import Result

#: parameters (or gradients): name -> array with leading axis B (runs)
Params = dict[str, Any]
#: a learning rate: one number, one per run (B,), or per parameter name (each a number or (B,))
Rate = Union[float, Sequence[float], np.ndarray, Mapping[str, Any]]
#: a record callable: (params, step) -> dict name -> array with leading axis B
Recorder = Callable[[Params, int], Mapping[str, Any]]


class SGDError(ThermopotError):
    """Bad input to the SGD engine or a network: learning rates, batch sizes, shapes, non-finite values."""


@runtime_checkable
class Network(Protocol):
    """A network with analytic, vectorised gradients.

    ``param_names``: the keys of its parameter dict. ``loss(params, x, y)`` returns (B,), the mean of
    the per-sample loss over the batch; ``gradients(params, x, y)`` returns ``name -> array`` (shape of
    the parameter), the gradient of that mean."""

    param_names: tuple[str, ...]

    def loss(self, params: Params, x: Any, y: Any) -> Any: ...

    def gradients(self, params: Params, x: Any, y: Any) -> Params: ...


@runtime_checkable
class DataSource(Protocol):
    """Where batches come from: ``draw(rng, batch, size, xp)`` returns fresh ``x (batch, size, d_in)``,
    ``y (batch, size, d_out)`` arrays of namespace ``xp`` (label noise included), using the NumPy
    generator ``rng`` for every random number (so a seed fixes the batches on every backend)."""

    def draw(self, rng: np.random.Generator, batch: int, size: int, xp: ModuleType) -> tuple[Any, Any]: ...


def _covariance_factor(value: Any, dim: int, what: str, *, std: bool) -> np.ndarray:
    """A (dim, dim) factor L with L L^T = the covariance given as a number (a standard deviation when
    ``std`` else a variance, times the identity) or a symmetric positive semi-definite matrix."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise SGDError(f"{what} must be finite, got {value!r}")
    if arr.ndim == 0:
        if arr < 0:
            raise SGDError(f"{what} must be >= 0, got {float(arr)}")
        return (float(arr) if std else math.sqrt(float(arr))) * np.eye(dim)
    if arr.shape != (dim, dim) or not np.allclose(arr, arr.T):
        raise SGDError(f"{what} must be a number or a symmetric ({dim}, {dim}) matrix, got shape {arr.shape}")
    vals, vecs = np.linalg.eigh(arr)
    if vals.min() < -1e-12 * max(1.0, abs(vals).max()):
        raise SGDError(f"{what} must be positive semi-definite (smallest eigenvalue {vals.min():.3g})")
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


@dataclass(frozen=True)
class LinearTeacher:
    """Online data y = V x + e with x ~ N(0, Sigma_x), e ~ N(0, Sigma_e).

    ``teacher`` V is (d_out, d_in); ``noise`` is the label-noise standard deviation sigma (Sigma_e =
    sigma^2 I) or the covariance matrix Sigma_e; ``input_cov`` is None (identity), a variance, or the
    matrix Sigma_x."""

    teacher: np.ndarray
    noise: Any = 0.0
    input_cov: Any = None
    _lx: np.ndarray = field(init=False, repr=False, compare=False)
    _le: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        V = np.atleast_2d(np.asarray(self.teacher, dtype=np.float64))
        if V.ndim != 2 or not np.all(np.isfinite(V)):
            raise SGDError(f"teacher V must be a finite (d_out, d_in) matrix, got shape {V.shape}")
        object.__setattr__(self, "teacher", V)
        d_out, d_in = V.shape
        object.__setattr__(self, "_lx", _covariance_factor(1.0 if self.input_cov is None else self.input_cov,
                                                           d_in, "input covariance", std=False))
        object.__setattr__(self, "_le", _covariance_factor(self.noise, d_out, "label noise",
                                                           std=np.ndim(self.noise) == 0))

    @property
    def d_in(self) -> int:
        """Input dimension."""
        return self.teacher.shape[1]

    @property
    def d_out(self) -> int:
        """Output dimension."""
        return self.teacher.shape[0]

    @property
    def input_covariance(self) -> np.ndarray:
        """Sigma_x (d_in, d_in)."""
        return self._lx @ self._lx.T

    @property
    def noise_covariance(self) -> np.ndarray:
        """Sigma_e (d_out, d_out)."""
        return self._le @ self._le.T

    def draw(self, rng: np.random.Generator, batch: int, size: int, xp: ModuleType) -> tuple[Any, Any]:
        """Fresh x = z Lx^T, y = x V^T + z' Le^T with standard normal z, z' (float64, namespace xp)."""
        x = rng.standard_normal((batch, size, self.d_in)) @ self._lx.T
        y = x @ self.teacher.T + rng.standard_normal((batch, size, self.d_out)) @ self._le.T
        return asarray(x, xp), asarray(y, xp)


@dataclass(frozen=True)
class FiniteData:
    """A fixed training set: ``x (N, d_in)``, ``y (N, d_out)`` shared by every run, or ``(B, N, .)``, one
    set per run. ``draw`` picks minibatches uniformly with replacement; :meth:`full` is the whole set
    (full-batch gradient descent and gradient flow)."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        x, y = np.asarray(self.x, dtype=np.float64), np.asarray(self.y, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if y.ndim == 1:
            y = y[:, None]
        if x.ndim not in (2, 3) or y.ndim != x.ndim or x.shape[:-1] != y.shape[:-1]:
            raise SGDError(f"finite data: x and y must be (N, d) or (B, N, d) with the same N (and B), "
                           f"got {x.shape} and {y.shape}")
        if x.shape[-2] < 1 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise SGDError("finite data must hold at least one sample and only finite values")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @classmethod
    def sample(cls, source: LinearTeacher, n: int, rng: np.random.Generator,
               runs: int | None = None) -> "FiniteData":
        """A fixed set of ``n`` samples from ``source`` (shared, or one per run when ``runs`` is given)."""
        x, y = source.draw(rng, runs or 1, int(n), get_namespace("numpy"))
        x, y = np.asarray(x), np.asarray(y)
        return cls(x, y) if runs else cls(x[0], y[0])

    @property
    def size(self) -> int:
        """Number N of samples in the set."""
        return self.x.shape[-2]

    @property
    def runs(self) -> int | None:
        """B for per-run sets, None for a shared set."""
        return self.x.shape[0] if self.x.ndim == 3 else None

    def _check_runs(self, batch: int) -> None:
        if self.runs is not None and self.runs != batch:
            raise SGDError(f"finite data holds {self.runs} per-run sets but {batch} runs were asked for")

    def draw(self, rng: np.random.Generator, batch: int, size: int, xp: ModuleType) -> tuple[Any, Any]:
        """``size`` indices per run drawn uniformly with replacement; the selected samples."""
        if size > self.size:
            raise SGDError(f"batch size {size} is larger than the finite data set ({self.size} samples)")
        self._check_runs(batch)
        idx = rng.integers(0, self.size, size=(batch, size))
        if self.runs is None:
            return asarray(self.x[idx], xp), asarray(self.y[idx], xp)
        rows = np.arange(batch)[:, None]
        return asarray(self.x[rows, idx], xp), asarray(self.y[rows, idx], xp)

    def full(self, batch: int, xp: ModuleType) -> tuple[Any, Any]:
        """The whole set as ``(batch, N, d)`` arrays (one copy per run for a shared set)."""
        self._check_runs(batch)
        x, y = self.x, self.y
        if self.runs is None:
            x = np.broadcast_to(x, (batch, *x.shape))
            y = np.broadcast_to(y, (batch, *y.shape))
        return asarray(x, xp), asarray(y, xp)


@dataclass(frozen=True)
class Trajectory(Result):
    """What :func:`run_sgd` and :func:`gradient_flow` return.

    ``steps`` (T,): the recorded step indices (0 = the initial point); ``time`` (T,): the same in units
    of the learning rate for SGD/GD (step), of flow time for gradient flow (step * dt); ``records``:
    name -> NumPy array (T, B, ...) from the ``record`` callable; ``params``: the final parameters (NumPy)."""

    steps: np.ndarray
    time: np.ndarray
    records: dict[str, np.ndarray]
    params: dict[str, np.ndarray]


def check_params(network: Network, params: Mapping[str, Any], xp: ModuleType) -> tuple[Params, int]:
    """The parameters as float64 arrays of namespace ``xp`` and the number of runs B (leading axis);
    SGDError for missing or extra names, a missing run axis, unequal B or non-finite values."""
    names = tuple(network.param_names)
    if set(params) != set(names):
        raise SGDError(f"parameters must be exactly {names}, got {tuple(params)}")
    out = {k: asarray(params[k], xp) for k in names}
    sizes = {v.shape[0] if v.ndim else None for v in out.values()}
    if len(sizes) != 1 or None in sizes:
        raise SGDError("every parameter needs the same leading run axis B; got shapes "
                       + ", ".join(f"{k} {tuple(v.shape)}" for k, v in out.items()))
    for k, v in out.items():
        if not bool(xp.all(xp.isfinite(v))):
            raise SGDError(f"parameter {k!r} holds non-finite values")
    return out, sizes.pop()


def _per_run(value: Any, B: int, xp: ModuleType, what: str, *, positive: bool) -> Any:
    """A number or a (B,) array as a float64 (B,) array, checked > 0 (or >= 0 when not ``positive``)."""
    arr = np.asarray(to_numpy(value), dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(B, float(arr))
    if arr.shape != (B,):
        raise SGDError(f"{what} must be a number or one value per run ({B},), got shape {arr.shape}")
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        raise SGDError(f"{what} must be finite and {'> 0' if positive else '>= 0'}, got {arr[bad][0]!r}")
    return asarray(arr, xp)


def learning_rates(lr: Rate, names: Sequence[str], B: int, xp: ModuleType) -> dict[str, Any]:
    """The diagonal of Lambda per parameter: name -> (B,) rates from a number, a (B,) array, or a dict
    name -> number or (B,) (layer-wise rates; every name must be given)."""
    if isinstance(lr, Mapping):
        if set(lr) != set(names):
            raise SGDError(f"layer-wise learning rates must name exactly {tuple(names)}, got {tuple(lr)}")
        return {k: _per_run(lr[k], B, xp, f"learning rate of {k!r}", positive=True) for k in names}
    rate = _per_run(lr, B, xp, "learning rate", positive=True)
    return {k: rate for k in names}


def _prepare(network: Network, params: Mapping[str, Any], lr: Rate, weight_decay: Any,
             xp: ModuleType) -> tuple[Params, int, dict[str, Any], Any]:
    """(checked params, B, rates name -> (B,), weight decay (B,)): the inputs of every update rule."""
    params, B = check_params(network, params, xp)
    rates = learning_rates(lr, network.param_names, B, xp)
    return params, B, rates, _per_run(weight_decay, B, xp, "weight decay", positive=False)


def _expand(v: Any, like: Any) -> Any:
    """A (B,) array reshaped to broadcast against ``like`` (B, ...)."""
    return v.reshape((v.shape[0],) + (1,) * (like.ndim - 1))


def _apply(params: Params, grads: Params, rates: Mapping[str, Any], decay: Any) -> Params:
    """theta - Lambda (g + 2 gamma theta) for every parameter."""
    return {k: p - _expand(rates[k], p) * (grads[k] + 2.0 * _expand(decay, p) * p) for k, p in params.items()}


def sgd_step(network: Network, params: Mapping[str, Any], x: Any, y: Any, lr: Rate,
             weight_decay: Any = 0.0) -> tuple[Params, Params]:
    """One step theta' = theta - Lambda (g_B + 2 gamma theta) on the batch (x, y); returns (theta', g_B).

    ``lr`` and ``weight_decay`` take the forms of :func:`run_sgd`."""
    params, B, rates, decay = _prepare(network, params, lr, weight_decay, namespace_of(*params.values()))
    grads = network.gradients(params, x, y)
    return _apply(params, grads, rates, decay), grads


def check_batch(x: Any, y: Any, B: int, d_in: int | None = None, d_out: int | None = None) -> None:
    """SGDError unless x is (B, S, d_in) and y is (B, S, d_out) with S >= 1 (``d_in``/``d_out`` None: any)."""
    if x.ndim != 3 or y.ndim != 3 or x.shape[:2] != y.shape[:2] or x.shape[0] != B or x.shape[1] < 1 \
            or (d_in is not None and x.shape[2] != d_in) or (d_out is not None and y.shape[2] != d_out):
        raise SGDError(f"a batch must be x ({B}, S, {'d_in' if d_in is None else d_in}), y ({B}, S, "
                       f"{'d_out' if d_out is None else d_out}) with S >= 1; got {tuple(x.shape)}, {tuple(y.shape)}")


class _Recorder:
    """Collects ``record(params, step)`` every ``every`` steps (and at step 0) as NumPy arrays."""

    def __init__(self, record: Recorder | None, every: int, dt: float = 1.0) -> None:
        if int(every) != every or every < 1:
            raise SGDError(f"record_every must be an integer >= 1, got {every!r}")
        self.record, self.every, self.dt = record, int(every), dt
        self.steps: list[int] = []
        self.rows: list[dict[str, np.ndarray]] = []

    def __call__(self, params: Params, step: int) -> None:
        if self.record is None or step % self.every:
            return
        self.steps.append(step)
        self.rows.append({k: to_numpy(v).astype(np.float64, copy=True) for k, v in self.record(params, step).items()})

    def trajectory(self, params: Params) -> Trajectory:
        steps = np.asarray(self.steps, dtype=np.int64)
        records = {k: np.stack([r[k] for r in self.rows]) for k in (self.rows[0] if self.rows else {})}
        return Trajectory(steps=steps, time=steps * self.dt, records=records,
                          params={k: to_numpy(v) for k, v in params.items()})


def check_count(value: Any, what: str) -> int:
    """``value`` as an int >= 1 (a count: runs, steps, sizes, iterations): the project's
    :func:`thermopot.checks.check_count`, raising SGDError naming ``what``."""
    try:
        return _check_count(value, what)
    except ThermopotError as exc:
        raise SGDError(str(exc)) from None


def _check_finite(params: Params, xp: ModuleType, step: int) -> None:
    """SGDError naming ``step``, the parameter and the runs when a parameter holds NaN or inf after that
    step (the run diverged, e.g. a learning rate above the stability limit 2 / lambda_top)."""
    for k, v in params.items():
        if not bool(xp.all(xp.isfinite(v))):
            bad = np.flatnonzero(~np.all(np.isfinite(to_numpy(v).reshape(v.shape[0], -1)), axis=1))
            raise SGDError(f"parameter {k!r} became non-finite at step {step} (runs {bad.tolist()}): the run "
                           "diverged")


def run_sgd(network: Network, params: Mapping[str, Any], data: DataSource, *, lr: Rate,
            batch_size: int | None = None, steps: int, weight_decay: Any = 0.0,
            seed: int | Sequence[int] = 0, record: Recorder | None = None, record_every: int = 1,
            full_batch: bool = False, backend: str | ModuleType | None = None) -> Trajectory:
    """``steps`` steps of theta <- theta - Lambda (g_B + 2 gamma theta) for B runs at once.

    ``lr``: a number, one per run (B,), or a dict name -> number/(B,) for layer-wise rates;
    ``weight_decay`` gamma: a number or (B,). Each step draws a batch of ``batch_size`` samples per run
    from ``data``. ``seed``: an int gives one generator for all runs (fast); a sequence of B ints gives
    each run its own generator (slower; run b then equals a lone run with ``seed=[seed[b]]``). A step that
    leaves a parameter NaN or infinite raises SGDError naming the step.
    ``full_batch=True`` (``data`` a :class:`FiniteData`, no ``batch_size``) is gradient descent on the
    whole set. ``record(params, step)`` is called at step 0 and every ``record_every`` steps; its arrays
    are stacked to (T, B, ...)."""
    xp = get_namespace(backend)
    params, B, rates, decay = _prepare(network, params, lr, weight_decay, xp)
    steps = check_count(steps, "steps")
    recorder = _Recorder(record, record_every)
    if full_batch:
        if not isinstance(data, FiniteData) or batch_size is not None:
            raise SGDError("full_batch=True needs a FiniteData set and no batch_size")
        x, y = data.full(B, xp)
        check_batch(x, y, B)
        draw = lambda: (x, y)  # noqa: E731
    else:
        if batch_size is None:
            raise SGDError("batch_size is required (or full_batch=True with finite data)")
        size = check_count(batch_size, "batch size")
        if seed is None or isinstance(seed, (int, np.integer, np.random.Generator)):
            rng = check_rng(seed)
            draw = lambda: data.draw(rng, B, size, xp)  # noqa: E731
        else:
            try:
                seeds = list(seed)
            except TypeError:
                raise SGDError(f"seed must be None, an integer >= 0, a numpy Generator or one seed per run "
                               f"({B}), got {seed!r}") from None
            if len(seeds) != B:
                raise SGDError(f"seed must be an int or one seed per run ({B}), got {len(seeds)} seeds")
            if isinstance(data, FiniteData) and data.runs is not None:
                raise SGDError("per-run seeds need a shared finite data set (x (N, d)), not per-run sets")
            rngs = [check_rng(s, f"seed[{b}]") for b, s in enumerate(seeds)]

            def draw() -> tuple[Any, Any]:
                parts = [data.draw(r, 1, size, xp) for r in rngs]
                return xp.concat([p[0] for p in parts]), xp.concat([p[1] for p in parts])
    recorder(params, 0)
    for t in range(1, steps + 1):
        xb, yb = draw()
        if t == 1:
            check_batch(xb, yb, B)
        params = _apply(params, network.gradients(params, xb, yb), rates, decay)
        _check_finite(params, xp, t)
        recorder(params, t)
    return recorder.trajectory(params)


def gradient_flow(network: Network, params: Mapping[str, Any], data: FiniteData, *, time: float, dt: float,
                  lr: Rate = 1.0, weight_decay: Any = 0.0, method: str = "rk4", record: Recorder | None = None,
                  record_every: int = 1, backend: str | ModuleType | None = None) -> Trajectory:
    """Gradient flow d theta/dt = -Lambda (grad L + 2 gamma theta) on the whole finite set, integrated
    to ``time`` with steps ``dt`` by classical RK4 (``method="rk4"``) or forward Euler (``"euler"``,
    which is full-batch GD with rate Lambda dt). ``time`` must be a whole number n of steps (n dt =
    time within 1e-9 relative; SGDError otherwise, as for a step that leaves a parameter non-finite).
    ``lr`` is the (relative) rate matrix Lambda in the forms of :func:`run_sgd`; the recorded ``time``
    is step * dt."""
    if method not in ("rk4", "euler"):
        raise SGDError(f"gradient flow method must be 'rk4' or 'euler', got {method!r}")
    if not isinstance(data, FiniteData):
        raise SGDError("gradient flow needs a FiniteData set (the loss is its full-batch mean)")
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0 and math.isfinite(float(time)) and float(time) > 0):
        raise SGDError(f"gradient flow needs time > 0 and dt > 0, got time={time!r}, dt={dt!r}")
    n = round(float(time) / dt)
    if n < 1 or abs(n * dt - float(time)) > 1e-9 * float(time):
        raise SGDError(f"gradient flow time must be a whole number of steps dt: time={time!r} is "
                       f"{float(time) / dt:.12g} x dt={dt!r}")
    xp = get_namespace(backend)
    params, B, rates, decay = _prepare(network, params, lr, weight_decay, xp)
    x, y = data.full(B, xp)
    recorder = _Recorder(record, record_every, dt)

    def velocity(p: Params) -> Params:
        g = network.gradients(p, x, y)
        return {k: -_expand(rates[k], v) * (g[k] + 2.0 * _expand(decay, v) * v) for k, v in p.items()}

    def shifted(p: Params, v: Params, h: float) -> Params:
        return {k: p[k] + h * v[k] for k in p}

    recorder(params, 0)
    for t in range(1, n + 1):
        k1 = velocity(params)
        if method == "euler":
            params = shifted(params, k1, dt)
        else:
            k2 = velocity(shifted(params, k1, dt / 2))
            k3 = velocity(shifted(params, k2, dt / 2))
            k4 = velocity(shifted(params, k3, dt))
            params = {k: params[k] + (dt / 6) * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]) for k in params}
        _check_finite(params, xp, t)
        recorder(params, t)
    return recorder.trajectory(params)


__all__ = ["DataSource", "FiniteData", "LinearTeacher", "Network", "Params", "Rate", "SGDError", "Trajectory",
           "check_batch", "check_count", "check_params", "gradient_flow", "learning_rates", "run_sgd", "sgd_step"]
