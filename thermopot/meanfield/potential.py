"""Mean-field Gibbs potentials G_order(m) from the Plefka expansion, batched, on NumPy or CuPy.

For a pairwise model (theory.md section 2), with beta = 1/T,

    G_k(m) = -T [ S_0(m) + beta h.m + sum_{n=1}^{k} beta^n Phi_n(J, m) ],
    S_0(m) = -sum_i [ (1+m_i)/2 log((1+m_i)/2) + (1-m_i)/2 log((1-m_i)/2) ],

where Phi_n is the sum of the order-n graph terms DERIVED by :mod:`thermopot.symbolic.plefka` and
turned into matrix products by ``thermopot.meanfield.compiler`` (so G_k - G_exact = O(beta^k)).
Order 1 is naive mean field, order 2 adds the Onsager term and is stationary at the TAP equations
m_k = tanh(beta h_k + beta sum_l J_kl m_l - beta^2 m_k sum_l J_kl^2 (1 - m_l^2)).
Cost per point: O(N^2) for order <= 2, O(N^3) through order 4 (triangles and squares).

For a multi-spin model only naive mean field (order 1) is defined:
G_1(m) = -sum_alpha J_alpha prod_{k in alpha} m_k - T S_0(m) (a model with subsets of size <= 2 is
treated as pairwise, at any order).

Plefka's convergence condition (second-order form) is reported per point:
1 - beta^2 (1 - m_k^2) sum_l J_kl^2 (1 - m_l^2) > 0 for every k.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .evaluate import coupling_powers, interaction
from .multispin import ProductStateEnergy
from .program import load_program
from ..backend import asarray, default_block_size, get_namespace, namespace_of, to_numpy
from ..errors import ThermopotError
from ..checks import check_real, check_temperature
from ..models import Model, MultiSpinModel, PairwiseModel, resolve_model
from ..symbolic.orders import check_order

__all__ = ["MeanFieldPotential", "mean_field", "gibbs_free_energy", "gibbs_gradient", "gibbs_hessian",
           "plefka_valid", "plefka_margin"]


def _as_pairwise(model: MultiSpinModel) -> tuple[PairwiseModel, float] | None:
    """(pairwise model, constant energy) when every subset has at most two spins, else None."""
    sizes = model.subsets.sum(axis=1)
    if sizes.max(initial=0) > 2:
        return None
    h, J = np.zeros(model.n), np.zeros((model.n, model.n))
    for row, c, r in zip(model.subsets, model.couplings, sizes):
        k = np.flatnonzero(row)
        if r == 1:
            h[k[0]] += c
        elif r == 2:
            J[k[0], k[1]] += c
            J[k[1], k[0]] += c
    return PairwiseModel(h, J, model.meta), -float(model.couplings[sizes == 0].sum())


class MeanFieldPotential:
    """G_order(m) of ``model`` at temperature ``T``, prepared on one backend.

    Methods take m of shape (N,) or (B, N) (any backend; moved to this one) and return arrays of
    THIS backend's namespace (``.xp``), so a solver can stay on the GPU; shapes follow m: a scalar /
    (N,) / (N, N) for one point, (B,) / (B, N) / (B, N, N) for a batch. Batches are processed in
    chunks so that intermediates stay within a few block sizes of memory (the Hessian output itself is
    B N^2 numbers: chunk large batches before asking for it).
    """

    def __init__(self, model: Model | str, T: float, order: int = 2, *, backend: Any = None):
        model = resolve_model(model)
        self.T = check_temperature(T)
        self.order = check_order(order)
        self.xp = get_namespace(backend)
        self.n = model.n
        self.model = model
        self.constant = 0.0
        self._product = None
        if isinstance(model, MultiSpinModel):
            pairwise = _as_pairwise(model)
            if pairwise is None:
                if self.order != 1:
                    raise ThermopotError(f"a multi-spin model with {int(model.subsets.sum(1).max())}-spin "
                                         f"couplings supports only order 1 (naive mean field), got order {order}")
                self._product = ProductStateEnergy(model.subsets, model.couplings, self.xp)
            else:
                model, self.constant = pairwise
        if self._product is None:
            xp = self.xp
            self.h = asarray(model.h, xp)
            self.J = asarray(model.J, xp)
            self.program = load_program(self.order)
            self.powers = coupling_powers(xp, self.J, self.program)
            self.J2 = self.J**2

    # ----- input handling -----
    def _batch(self, m: Any) -> tuple[Any, bool]:
        xp = self.xp
        check_real(m, "magnetisations m")
        try:
            arr = asarray(m, xp)
        except (TypeError, ValueError) as exc:
            raise ThermopotError(f"m must be an array of real numbers ({exc})") from None
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.n:
            raise ThermopotError(f"m must have shape (N,) or (B, N) with N = {self.n} (the model's spins), "
                                 f"got {tuple(arr.shape)}")
        if not bool(xp.all(xp.isfinite(arr))):
            raise ThermopotError("m contains NaN or infinite values")
        if bool(xp.any(xp.abs(arr) >= 1)):
            raise ThermopotError("magnetisations m must lie strictly inside (-1, 1); got |m_k| >= 1 "
                                 f"(max |m| = {float(xp.max(xp.abs(arr)))})")
        return (arr[None, :], True) if arr.ndim == 1 else (arr, False)

    def _chunk(self, want_hess: bool) -> int:
        dense = want_hess or (self._product is None and len(self.program.networks) > 0)
        per_row = self.n * self.n if dense else self.n
        return max(1, 8 * default_block_size(self.xp) // per_row)

    def _interaction_chunk(self, mc: Any, want_grad: bool, want_hess: bool) -> tuple:
        """R, dR/dm, d2R/dm2 (None when not wanted) of the interaction part R = G + T S_0."""
        if self._product is not None:
            return (self._product.value(mc), self._product.gradient(mc) if want_grad else None,
                    self._product.hessian(mc) if want_hess else None)
        T = self.T
        phi, dphi, d2phi = interaction(self.xp, self.program, 1.0 / T, self.powers, mc, want_grad, want_hess)
        return (self.constant - mc @ self.h - T * phi, -self.h[None, :] - T * dphi if want_grad else None,
                -T * d2phi if want_hess else None)

    def _evaluate(self, m: Any, want_grad: bool, want_hess: bool, entropy: bool = True) -> tuple:
        """(value, [gradient], [Hessian]) of G (or of R alone when ``entropy`` is False), in chunks."""
        xp, T = self.xp, self.T
        x, single = self._batch(m)
        step = self._chunk(want_hess)
        parts: list[list] = [[], [], []]
        for start in range(0, x.shape[0], step):
            mc = x[start:start + step]
            r, dr, d2r = self._interaction_chunk(mc, want_grad, want_hess)
            if entropy:
                s0 = -xp.sum((1 + mc) / 2 * xp.log((1 + mc) / 2) + (1 - mc) / 2 * xp.log((1 - mc) / 2), axis=1)
                r = r - T * s0
                dr = dr + T * xp.atanh(mc) if want_grad else None
                d2r = d2r + _diag(xp, T / (1 - mc**2)) if want_hess else None
            for part, value in zip(parts, (r, dr, d2r)):
                part.append(value)
        out = [xp.concat(parts[0])]
        if want_grad:
            out.append(xp.concat(parts[1]))
        if want_hess:
            out.append(xp.concat(parts[2]))
        return tuple(o[0] if single else o for o in out)

    # ----- public methods -----
    def value(self, m: Any) -> Any:
        """G_order(m)."""
        return self._evaluate(m, False, False)[0]

    def gradient(self, m: Any) -> Any:
        """dG/dm = T atanh(m) - h - T dPhi/dm (zero at the TAP solutions)."""
        return self._evaluate(m, True, False)[1]

    def value_and_gradient(self, m: Any) -> tuple[Any, Any]:
        """(G, dG/dm) sharing the matrix products."""
        return self._evaluate(m, True, False)

    def hessian(self, m: Any) -> Any:
        """d2G/dm2 = diag(T / (1 - m^2)) - T d2Phi/dm2."""
        return self._evaluate(m, False, True)[1]

    def interaction(self, m: Any, gradient: bool = False, hessian: bool = False) -> tuple:
        """The interaction part R(m) = G(m) + T S_0(m) (energy, Onsager and higher terms, without the
        entropy of independent spins) and, when asked, dR/dm and d2R/dm2: (R, [dR], [d2R]). Solvers that
        work in x = atanh(m) use it to treat the entropy exactly (no cancellation near |m| = 1)."""
        return self._evaluate(m, gradient, hessian, entropy=False)

    def plefka_margin(self, m: Any) -> Any:
        """min_k [1 - beta^2 (1 - m_k^2) sum_l J_kl^2 (1 - m_l^2)]: Plefka's condition holds when > 0
        (always 1 for a multi-spin model, where the condition is not defined)."""
        x, single = self._batch(m)
        xp = self.xp
        if self._product is not None:
            out = xp.ones(x.shape[0], dtype=xp.float64)
        else:
            q = 1 - x**2
            beta = 1.0 / self.T  # beta^2 J^2 as (beta J)^2: T**2 overflows for T >= 1e155
            out = xp.min(1 - q * (q @ (self.J2 * beta) * beta), axis=1)
        return out[0] if single else out

    def plefka_valid(self, m: Any) -> Any:
        """Plefka's convergence condition per point (bool, or (B,) bool)."""
        return self.plefka_margin(m) > 0


def _diag(xp: ModuleType, d: Any) -> Any:
    """(B, N) -> (B, N, N) diagonal matrices."""
    n = d.shape[1]
    return d[:, :, None] * xp.eye(n, dtype=xp.float64)[None, :, :]


def mean_field(model: Model | str, T: float, order: int = 2, *, backend: Any = None) -> MeanFieldPotential:
    """A prepared :class:`MeanFieldPotential` (reuse it for many evaluations)."""
    return MeanFieldPotential(model, T, order, backend=backend)


def _prepared(model, m, T, order, backend) -> MeanFieldPotential:
    return MeanFieldPotential(model, T, order, backend=backend if backend is not None else namespace_of(m))


def gibbs_free_energy(model: Model | str, m: Any, T: float, order: int = 2, *, backend: Any = None):
    """G_order(m) as a float (m of shape (N,)) or a NumPy (B,) array (m of shape (B, N)).

    G_k(m) = -T [S_0(m) + beta h.m + sum_{n=1}^{k} beta^n Phi_n(J, m)] (module docstring; docs/theory.md
    section 2). Order 1 is naive mean field, order 2 adds the Onsager term (TAP).

    Parameters
    ----------
    model : PairwiseModel, MultiSpinModel or str
        The model, or a generator spec such as ``"sk:n=20,seed=0"``. A multi-spin model with subsets of
        more than two spins allows order 1 only.
    m : array (NumPy or CuPy), shape (N,) or (B, N)
        Magnetisations, strictly inside (-1, 1).
    T : float
        Temperature, > 0.
    order : int, optional
        Plefka order, 1..MAX_ORDER.
    backend : str or None, optional
        ``"numpy"``, ``"cupy"`` or ``"auto"``; None follows the namespace of ``m``.

    Returns
    -------
    float or numpy.ndarray
        G_order(m): a float for one point, a (B,) array for a batch.

    Raises
    ------
    ThermopotError
        When ``m`` has the wrong shape or an entry with abs(m_k) >= 1, ``T`` is not finite and positive,
        or ``order`` is not allowed for the model.

    Examples
    --------
    >>> import numpy as np
    >>> from thermopot.models import curie_weiss
    >>> from thermopot.meanfield import gibbs_free_energy
    >>> model = curie_weiss(4, j=1.0)
    >>> # at m = 0: G_2 = -T [N log 2 + (beta^2 / 2) sum_{k<l} J_kl^2] with J_kl = 1/4
    >>> round(gibbs_free_energy(model, np.zeros(4), T=2.0, order=2), 6)
    -5.638927
    >>> round(float(-2.0 * (4 * np.log(2) + (0.25 / 2) * 6 / 16)), 6)
    -5.638927
    """
    out = to_numpy(_prepared(model, m, T, order, backend).value(m))
    return float(out) if out.ndim == 0 else out


def gibbs_gradient(model: Model | str, m: Any, T: float, order: int = 2, *, backend: Any = None) -> np.ndarray:
    """dG_order/dm, shape of m (NumPy)."""
    return to_numpy(_prepared(model, m, T, order, backend).gradient(m))


def gibbs_hessian(model: Model | str, m: Any, T: float, order: int = 2, *, backend: Any = None) -> np.ndarray:
    """d2G_order/dm2: (N, N) or (B, N, N) (NumPy)."""
    return to_numpy(_prepared(model, m, T, order, backend).hessian(m))


def plefka_margin(model: Model | str, m: Any, T: float, *, backend: Any = None):
    """min_k [1 - beta^2 (1 - m_k^2) sum_l J_kl^2 (1 - m_l^2)] per point (float or NumPy (B,))."""
    out = to_numpy(_prepared(model, m, T, 1, backend).plefka_margin(m))
    return float(out) if out.ndim == 0 else out


def plefka_valid(model: Model | str, m: Any, T: float, *, backend: Any = None):
    """Plefka's convergence condition per point: bool or NumPy (B,) bool."""
    out = np.asarray(plefka_margin(model, m, T, backend=backend)) > 0
    return bool(out) if out.ndim == 0 else out
