"""The knowledge potentials on a data set (theory.md section 3, "Potentials"): where one minimum,
where several.

- :func:`phi_minima`: the training potential Phi(E_theta; w, T) = sum_s w_s E_theta(s) - A(E_theta, T)
  over the pairwise couplings theta = (h, J), E_theta(s) = -h.s - sum_{k<l} J_kl s_k s_l on all 2^N
  states. Convex (d2Phi/dtheta2 = Cov_p(X) / T): ONE minimum, theta* = T theta_ML with theta_ML the
  exact maximum-likelihood fit (Phi(theta; T) = T f_ML(theta / T)).
- :func:`reduced_potential_minima`: G(x; E_full, T) = sum_s x_s E(s) + T sum_s x_s log x_s over the
  weights x = p_theta reachable by the pairwise family, G(p_theta) = A + T KL(p_theta || p_full)
  (reverse KL, mode seeking): SEVERAL minima at low T, one at high T. "Library" minima put most weight
  on the patterns (peaked on one pattern, or on a mixture of patterns; a pattern pair can be
  represented by several near-equivalent coupling sets, each its own minimum); the "continuum" minimum
  (library weight < 1/2, near theta = 0) exists from about T* up; at high T it is the only one.
- :func:`full_potential_minima`: G over the whole simplex (all 2^N weights, i.e. the full Walsh family):
  strictly convex, ONE minimum x = p_full with G = A(E_full, T); found by a generic minimiser (L-BFGS on
  sqrt(x), thermopot.solvers.simplex) that sees only G and its gradient, so the count could come out otherwise.
- :func:`minima_counts`: numbers of reduced-G minima against T and against the number of patterns M.

Regime of the reduced-G minima. Near a deep pattern the minimiser is close to a product state with
spin-flip probability q ~ exp(-Delta_mu / T) (from Delta_mu (1 - q)^(N-1) = T log((1 - q) / q)), so
theta stays finite (|h| ~ Delta_mu / 2), but the Hessian has N eigenvalues of order q / T (single
flips) and N(N-1)/2 of order q^2 / T (pair directions, seen only by double flips): its condition number
is ~ 1/q. With the default ``rel_eig`` = 1e-9 minima are resolved for Delta_mu / T <~ 12; below that T
they are rejected as plateaus ("degenerate" or "not converged"). Choose T >= max_mu Delta_mu / 12: for the
digits (eps = 1, N = 16, max Delta_mu = 18.8, T* = 4.09) T in [2, 6] brackets the coexistence.

Every minimum is verified: L-BFGS from several starts, then trust-region Newton steps with the analytic
Hessian; counted only when the Newton decrement g^T H^-1 g <= tol (|G| + T) and every Hessian eigenvalue
exceeds ``rel_eig`` x the largest. End points with a (near-)zero or negative eigenvalue, or not
converged, are plateaus / saddles (reported apart, never counted); "degenerate" and "saddle" (the one
classification of thermopot.solvers.stationary) only at a
stationary point (max |gradient| <= gtol T), else "not converged". Distinct minima: theta equal within
``dedup`` x (1 + max |theta|). The landscape has many minima and the count is a lower bound (what the
starts reach); ``pattern_starts`` seed the library minima of the most weighted patterns.

Cost: one G evaluation is two (2^N x P) matrix-vector products (P = N(N+1)/2 = 136 at N = 16) and 2^N
exponentials; one Hessian is a (P x 2^N) x (2^N x P) product (about 1.2 GFLOP at N = 16), used only in
the Newton polish of each end point. The feature matrix takes 2^N P x 8 bytes (71 MB at N = 16).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from ..backend import backend_name, blas_limit, blas_threads, get_namespace, to_numpy
from ..checks import check_count, check_positive as positive, check_temperature, recorded_seed
from ..errors import ThermopotError
from ..exact import check_size, thermodynamics
from ..learning import fit
from ..datasets.dataset import Dataset, as_dataset
from ..learning.result import pack, unpack
from ..models import PairwiseModel
from ..progress import Progress
from ..results import Result, renamed
from ..solvers.dedup import RELATIVE_MAX, TOTAL_VARIATION
from ..solvers.guard import SINGLE_THREAD_FLOPS
from ..solvers.local import distinct, multistart, start_points
from ..solvers.result import Minima
from ..solvers.stationary import NOT_CONVERGED, kind_names
from ..states import spins_to_index
from .potentials import (boltzmann_weights, free_energy_A, gibbs_G, gibbs_G_gradient, kl_divergence,
                         training_Phi_linear)
from ._reduced_objectives import ReducedG, pairwise_features
from .description import KnowledgeDescription, describe


def _random_theta(rng: np.random.Generator, n: int, size: float) -> np.ndarray:
    """h_k ~ N(0, size^2), J_kl ~ N(0, size^2 / N): a random pairwise model of energy scale ``size``."""
    return pack(rng.normal(0.0, size, n), np.triu(rng.normal(0.0, size / np.sqrt(n), (n, n)), 1))


def _as_description(description: Any) -> KnowledgeDescription:
    if not isinstance(description, KnowledgeDescription):
        raise ThermopotError("expected a KnowledgeDescription (from describe(data)), "
                             f"got {type(description).__name__}")
    return description


# ----------------------------------------------------------------------------------------- Phi
@dataclass(frozen=True)
class PhiMinima(Minima):
    """Minima of the training potential Phi over the pairwise couplings (expected: exactly one), in the
    :class:`~thermopot.solvers.Minima` convention: ``points`` (count, P) the minimisers
    theta = (h, J_{k<l}), every ``kind`` "minimum" (only verified end points are kept)."""

    objective_name: ClassVar[str] = "Phi"
    per_point: ClassVar[tuple[str, ...]] = ("hessian_min_eig", "gradient_max")

    Phi: np.ndarray  #: Phi at each minimum (count,)
    entropy_bound: float  #: T S[w] <= Phi (equality only if the data were Boltzmann in the family)
    hessian_min_eig: np.ndarray  #: smallest eigenvalue of Cov_p(X) / T at each minimum (count,)
    gradient_max: np.ndarray  #: max |X^T (p - w)| at each minimum (count,)
    ml_theta: np.ndarray | None  #: T theta_ML of the exact maximum-likelihood fit (P,)
    ml_difference: float | None  #: max |theta_min - T theta_ML| over the minima
    end_spread: float  #: largest max |theta_end - theta_min| over all starts
    rejected: int  #: distinct end points without a positive-definite Hessian
    thetas = renamed("points", "thetas")
    values = renamed("Phi", "values")


def phi_minima(data: Dataset | Any, T: float = 1.0, *, starts: int = 8, seed: int | None = 0,
               scale: float = 1.0, tol: float = 1e-9, max_iter: int = 5000, compare_ml: bool = True,
               rel_eig: float = 1e-10, dedup: float = 1e-5, backend: Any = None) -> PhiMinima:
    """Minima of Phi(theta) = sum_s w_s E_theta(s) - A(E_theta, T) = -theta.<X>_w + T log Z_theta over
    the pairwise couplings, by L-BFGS from ``starts`` random theta (h ~ N(0, (scale T)^2),
    J ~ N(0, (scale T)^2 / N)) to max |gradient| <= tol; gradient <X>_theta - <X>_w by exact
    enumeration (thermopot.exact.thermodynamics). Each distinct end point is verified with
    ``training_Phi_linear`` on the dense pairwise feature matrix: Hessian Cov_p(X) / T positive definite,
    gradient small. With ``compare_ml`` the minimiser is compared with T theta_ML of fit(data, "exact").
    The data moments must lie inside the marginal polytope (e.g. not too few patterns), else the
    minimum is at infinite theta and no end point is accepted."""
    begin = time.perf_counter()
    T = check_temperature(T)
    starts = check_count(starts, "starts")
    scale = positive(scale, "scale")
    dataset = as_dataset(data).unique()
    n = dataset.n
    xp = get_namespace(backend)
    check_size(n, xp, per_state_bytes=8.0 * (n * (n + 1) // 2 + 2),
               what="Phi minima (pairwise features of all 2^N states)")
    w = dataset.weights / dataset.weights.sum()
    m, C = dataset.moments()
    target = pack(m, C)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        th = thermodynamics(PairwiseModel(*unpack(theta, n)), T, backend=xp, progress=False)
        return T * th.log_z - theta @ target, pack(th.magnetization, th.correlation) - target

    rng = np.random.default_rng(seed)
    thetas0 = [_random_theta(rng, n, scale * T) for _ in range(starts)]
    points = multistart(SimpleNamespace(value_grad=objective), thetas0, method="lbfgs", gtol=tol, max_iter=max_iter)
    ends = [e.x for e in points]
    X = pairwise_features(n, xp)
    w_full = np.zeros(2**n)
    w_full[np.asarray(to_numpy(spins_to_index(dataset.samples.astype(np.float64))))] = w
    w_full = xp.asarray(w_full)
    kept, groups, values, eigs, grads, rejected = [], [], [], [], [], 0
    reps, labels = distinct(points, dedup, RELATIVE_MAX)
    for group, i in enumerate(reps):
        lin = training_Phi_linear(xp.asarray(ends[i]), X, w_full, T)
        eig = np.linalg.eigvalsh(lin.hessian)
        if eig[0] <= rel_eig * max(eig[-1], 0.0) or np.max(np.abs(lin.gradient)) > 100 * tol:
            rejected += 1
            continue
        kept.append(ends[i])
        groups.append(group)
        values.append(lin.value)
        eigs.append(eig[0])
        grads.append(np.max(np.abs(lin.gradient)))
    thetas = np.array(kept).reshape(len(kept), target.size)
    spread = max(min(np.max(np.abs(e - k)) for k in kept) for e in ends) if kept else float("nan")
    ml_theta = ml_diff = None
    if compare_ml:
        model = fit(dataset, "exact", backend=xp).model
        ml_theta = T * pack(model.h, model.J)
        ml_diff = float(np.max(np.abs(thetas - ml_theta))) if kept else None
    entropy = float(-np.sum(w * np.log(w)))
    converged = np.array([e.status == "converged" for e in points], dtype=bool)  # a start that did not
    # converge ends at no point (start_point -1), though it took part in the de-duplication
    return PhiMinima(points=thetas, Phi=np.array(values), kind=kind_names(np.zeros(len(kept))),
                     start_point=start_points(starts, np.flatnonzero(converged), labels[converged], groups),
                     converged=converged, T=T,
                     iterations=max(e.iterations for e in points), seconds=time.perf_counter() - begin,
                     backend=backend_name(xp), seed=recorded_seed(seed),
                     message=f"{int(converged.sum())} of {starts} starts reached max |gradient| <= tol = {tol:.3g}; "
                             f"{len(kept)} distinct minima verified, {rejected} rejected",
                     entropy_bound=T * entropy, hessian_min_eig=np.array(eigs), gradient_max=np.array(grads),
                     ml_theta=ml_theta, ml_difference=ml_diff, end_spread=float(spread), rejected=rejected)


# ------------------------------------------------------------------------------------ reduced G
@dataclass(frozen=True)
class ReducedMinima(Minima):
    """Verified minima of G(p_theta; E_full, T) over the pairwise family, plus the rejected end points, in
    the :class:`~thermopot.solvers.Minima` convention: ``points`` (count, P) the minimisers theta,
    sorted by G, every ``kind`` "minimum" (the rejected end points are the plateaus, kept apart)."""

    objective_name: ClassVar[str] = "G"
    per_point: ClassVar[tuple[str, ...]] = ("kl", "hessian_min_eig", "hessian_max_eig", "gradient_max", "state",
                                            "peak_weight", "pattern", "library_weight")
    _derived = Minima._derived + ("library", "continuum", "retrieved")

    G: np.ndarray  #: G at each minimum (count,)
    A: float  #: A(E_full, T), the global bound G >= A (full-simplex minimum)
    kl: np.ndarray  #: KL(p_theta || p_full) = (G - A) / T at each minimum (count,)
    hessian_min_eig: np.ndarray  #: smallest Hessian eigenvalue at each minimum (count,)
    hessian_max_eig: np.ndarray  #: largest Hessian eigenvalue (count,)
    gradient_max: np.ndarray  #: max |dG/dtheta| at each minimum (count,)
    state: np.ndarray  #: argmax_s p_theta(s) (state index) at each minimum (count,)
    peak_weight: np.ndarray  #: p_theta at that state (count,)
    pattern: np.ndarray  #: index mu of the pattern the peak sits on, -1 if it is not a pattern (count,)
    library_weight: np.ndarray  #: sum_mu p_theta(xi^mu) (count,)
    plateaus: int  #: end points with a flat or negative Hessian direction, or not converged (not counted)
    plateau_G: np.ndarray  #: G at those end points
    plateau_status: tuple  #: "degenerate", "saddle" or "not converged", one per plateau
    thetas = renamed("points", "thetas")

    @property
    def library(self) -> int:
        """Library minima: library weight sum_mu p_theta(xi^mu) >= 1/2."""
        return int(np.sum(self.library_weight >= 0.5))

    @property
    def continuum(self) -> int:
        """Continuum minima: library weight < 1/2 (the high-temperature phase of the reduced model)."""
        return int(np.sum(self.library_weight < 0.5))

    @property
    def retrieved(self) -> np.ndarray:
        """The distinct patterns mu on which some library minimum peaks, ascending."""
        return np.unique(self.pattern[(self.pattern >= 0) & (self.library_weight >= 0.5)])


def reduced_potential_minima(description: KnowledgeDescription, T: float, *, starts: int = 8,
                             pattern_starts: int = 0, seed: int | None = 0, scale: float = 1.0,
                             tol: float = 1e-12, rel_eig: float = 1e-9, dedup: float = 1e-5,
                             gtol: float = 1e-8, max_iter: int = 1000, max_polish: int = 200,
                             backend: Any = None) -> ReducedMinima:
    """Minima of G(theta) = sum_s p_theta(s) (E_full(s) + T log p_theta(s)) = A + T KL(p_theta || p_full)
    over the pairwise couplings theta = (h, J), p_theta ~ exp(-E_theta / T).

    From theta = 0 (the uniform distribution), ``starts`` - 1 random theta (h ~ N(0, (scale T)^2),
    J ~ N(0, (scale T)^2 / N)) and, with ``pattern_starts`` = k, the product states aligned with the k
    most weighted patterns (h = Delta_mu xi^mu / 2, J = 0: the predicted minimiser near a deep pattern):
    L-BFGS with the analytic gradient Cov_p(X, E_full - E_theta) / T to max |gradient| <= gtol T (at
    most ``max_iter`` iterations; not from a pattern start, which is already in its basin), then at most
    ``max_polish`` trust-region Newton steps with the analytic Hessian (the multi-start engine
    thermopot.solvers.local, methods "lbfgs-newton" and "newton"); a minimum needs Newton decrement
    <= tol (|G| + T) and every Hessian eigenvalue > rel_eig x the largest. Distinct minima by theta. ``backend`` (default: the description's) holds the
    2^N x P feature matrix. See the module docstring for the regime of T where minima are finite and resolved."""
    begin = time.perf_counter()
    d = _as_description(description)
    T = check_temperature(T)
    starts = check_count(starts, "starts")
    scale = positive(scale, "scale")
    xp = get_namespace(backend if backend is not None else d.backend)
    P = d.n * (d.n + 1) // 2
    pattern_starts = check_count(pattern_starts, "pattern_starts", 0)
    if pattern_starts > d.m:
        raise ThermopotError(f"pattern_starts = {pattern_starts} exceeds the number of patterns M = {d.m}")
    check_size(d.n, xp, per_state_bytes=8.0 * (3 * P + 4),
               what="reduced G minima (pairwise features of all 2^N states)")
    g = ReducedG(d.energy_table, T, xp, pairwise_features(d.n, xp))
    rng = np.random.default_rng(seed)
    initial = [np.zeros(P)] + [_random_theta(rng, d.n, scale * T) for _ in range(starts - 1)]
    for mu in np.argsort(-d.weights, kind="stable")[:pattern_starts]:
        initial.append(pack(0.5 * d.depths[mu] * d.patterns[mu].astype(np.float64), np.zeros((d.n, d.n))))
    # one BLAS thread unless the largest product, the (P x 2^N) (2^N x P) Hessian, is large
    with blas_threads(blas_limit(2.0 * 2**d.n * P * P, SINGLE_THREAD_FLOPS), xp):
        # a pattern start already sits in its pattern's basin, on a plateau (|gradient| ~ 1e-5, a slightly
        # negative Hessian direction): L-BFGS's first line search would leap out of it, to a mixture
        # minimum picked by the rounding of the machine; the trust-region Newton polish stays local
        ends = multistart(g, initial, method=["lbfgs-newton"] * starts + ["newton"] * (len(initial) - starts),
                          gtol=gtol * T, max_iter=max_iter, tol=lambda x: tol * (abs(g.value_grad(x)[0]) + T),
                          rel_eig=rel_eig, max_polish=max_polish)
    members = [i for i, e in enumerate(ends) if e.status == "minimum"]
    found = [ends[i] for i in members]
    rejected = [e for e in ends if e.status != "minimum"]
    reps, labels = distinct(found, dedup, RELATIVE_MAX)
    groups = sorted(range(len(reps)), key=lambda group: found[reps[group]].value)
    minima = [found[reps[group]] for group in groups]
    converged = np.array([e.status != NOT_CONVERGED for e in ends], dtype=bool)
    a_full = float(free_energy_A(d.energy_table, T))
    pattern_of = {int(s): mu for mu, s in enumerate(d.indices)}
    peaks = [g.peak(e.x) for e in minima]
    return ReducedMinima(
        points=np.array([e.x for e in minima]).reshape(len(minima), P), kind=kind_names(np.zeros(len(minima))),
        start_point=start_points(len(ends), members, labels, groups), converged=converged, T=T,
        iterations=max(e.iterations for e in ends), seconds=time.perf_counter() - begin, backend=backend_name(xp),
        seed=recorded_seed(seed),
        message=f"{int(converged.sum())} of {len(ends)} starts reached a stationary point; {len(minima)} distinct "
                f"minima, {len(rejected)} end points not counted (degenerate, saddle or not converged)",
        G=np.array([e.value for e in minima]), A=a_full, kl=(np.array([e.value for e in minima]) - a_full) / T,
        hessian_min_eig=np.array([e.eigenvalues[0] for e in minima]),
        hessian_max_eig=np.array([e.eigenvalues[-1] for e in minima]),
        gradient_max=np.array([e.stationarity for e in minima]),
        state=np.array([pk[0] for pk in peaks], dtype=np.int64), peak_weight=np.array([pk[1] for pk in peaks]),
        pattern=np.array([pattern_of.get(pk[0], -1) for pk in peaks], dtype=np.int64),
        library_weight=np.array([float(pk[2][d.indices].sum()) for pk in peaks]),
        plateaus=len(rejected), plateau_G=np.array([e.value for e in rejected]),
        plateau_status=tuple(e.status for e in rejected))


# ------------------------------------------------------------------------------- G on the simplex
@dataclass(frozen=True)
class FullMinima(Minima):
    """Minima of G over the full simplex (expected: one, x = p_full, G = A), in the
    :class:`~thermopot.solvers.Minima` convention: ``points`` (count, 2^N) the weights x of each
    distinct verified minimum (left out of ``to_dict``), every ``kind`` "minimum"; per minimum ``G``,
    ``kl``, ``stationarity``, ``hessian_min_eig_bound``; per start ``converged`` (stationarity <= gtol)."""

    objective_name: ClassVar[str] = "G"
    per_point: ClassVar[tuple[str, ...]] = ("kl", "stationarity", "hessian_min_eig_bound")
    _omit = ("points",)  # to_dict: 2^N weights per minimum

    G: np.ndarray  #: G at each minimum (count,)
    A: float  #: A(E_full, T)
    kl: np.ndarray  #: KL(x || p_full) at each minimum (count,)
    weight_error: float  #: max over all end points and states of |x - p_full|
    stationarity: np.ndarray  #: max_s 2 sqrt(x_s) |g_s - <g>_x|, g = dG/dx: the tangent gradient (count,)
    hessian_min_eig_bound: np.ndarray  #: T / max_s x_s <= smallest eigenvalue of T diag(1/x) on the tangent space


def _gibbs_objective(E: Any, T: float, xp: Any) -> Any:
    """x -> (G(x; E, T), dG/dx) by gibbs_G and gibbs_G_gradient; where a weight has underflowed to 0
    the gradient entry is set to 0 (it enters the simplex gradient multiplied by x_s = 0)."""
    def objective(x: Any) -> tuple[float, np.ndarray]:
        value = float(gibbs_G(x, E, T))
        inside = x > 0
        if bool(xp.all(inside)):
            return value, gibbs_G_gradient(x, E, T)
        grad = np.zeros(x.shape[0])
        grad[np.asarray(to_numpy(inside))] = gibbs_G_gradient(x[inside], E[inside], T)
        return value, grad
    return objective


def full_potential_minima(description: KnowledgeDescription, T: float, *, starts: int = 8,
                          seed: int | None = 0, spread: float = 3.0, gtol: float | None = None,
                          max_iter: int = 2000, dedup: float | None = None, backend: Any = None) -> FullMinima:
    """Minimise G(x; E_full, T) = sum_s x_s E(s) + T sum_s x_s log x_s over all 2^N weights with a generic
    minimiser that sees only G and its gradient (``gibbs_G``, ``gibbs_G_gradient``): L-BFGS on
    y = sqrt(x) (x = y^2 / |y|^2, thermopot.solvers.simplex) from ``starts`` random interior points
    (log x ~ N(0, spread^2)), until max_s 2 sqrt(x_s) |g_s - <g>_x| <= ``gtol`` (g = dG/dx = E + T (log x + 1);
    default below).
    An end point is a verified minimum when it converged and lies strictly inside the simplex, where the
    Hessian T diag(1/x) is positive definite on the tangent space (smallest eigenvalue >= T / max x,
    reported); verified end points closer than
    ``dedup`` in total variation are one minimum. Near a minimum (Hessian 4 T in y) G - A <= 2^N gtol^2 / (8 T)
    and |x_s - p_s| <= sqrt(p_s) gtol / (2 T), so two end points of one minimum differ in TV by at most
    2^(N/2) gtol / (2 T); ``dedup`` defaults to twice that, 2^(N/2) gtol / T (2.6e-5 for N = 16, T = 1).
    Default gtol = 2 sqrt(eps_mach T (max|E| + T N log 2)), the gradient below which a line search stops
    seeing progress: G = sum x E + T sum x log x is a difference of two sums of size up to
    max|E| + T N log 2 (on the digits at T = 1, G = A = -4e-6 from sums of +-7), known to eps_mach times
    that, and a step lowers G by only |grad|^2 / (8 T). On the digits at T = 1 this is 1.8e-7, giving
    G - A <= 2.5e-10 (bound; measured at rounding level) and max |x - p_full| ~ 2e-9 (measured).
    G is strictly convex on the simplex: expected one minimum, x = p_full, G = A."""
    begin = time.perf_counter()
    d = _as_description(description)
    T = check_temperature(T)
    starts = check_count(starts, "starts")
    spread = positive(spread, "spread")
    E = d.energy_table
    if gtol is None:
        gtol = 2.0 * math.sqrt(np.finfo(np.float64).eps * T * (np.max(np.abs(E)) + T * d.n * math.log(2.0)))
    gtol = positive(gtol, "gtol")
    max_iter = check_count(max_iter, "max_iter")
    dedup = 2.0**(d.n / 2) * gtol / T if dedup is None else positive(dedup, "dedup")
    xp = get_namespace(backend if backend is not None else d.backend)
    objective = _gibbs_objective(xp.asarray(E), T, xp)
    rng = np.random.default_rng(seed)
    x0 = [np.exp(z - z.max()) for z in (rng.normal(0.0, spread, 2**d.n) for _ in range(starts))]
    with blas_threads(1, xp):  # vector operations on 2^N weights: threading them costs more than it saves
        ends = multistart(SimpleNamespace(value_grad=objective), x0, method="simplex", gtol=gtol, max_iter=max_iter,
                          xp=xp)
    members = [i for i, e in enumerate(ends) if e.status == "converged" and e.x.min() > 0]
    verified = [ends[i] for i in members]
    reps, labels = distinct(verified, dedup, TOTAL_VARIATION)
    minima = [verified[i] for i in reps]
    p_full = boltzmann_weights(E, T)
    return FullMinima(points=np.array([to_numpy(e.x) for e in minima]).reshape(len(minima), 2**d.n),
                      kind=kind_names(np.zeros(len(minima))),
                      start_point=start_points(starts, members, labels, range(len(reps))),
                      backend=backend_name(xp), seed=recorded_seed(seed), T=T,
                      G=np.array([e.value for e in minima]), A=float(free_energy_A(E, T)),
                      kl=np.array([kl_divergence(e.x, p_full) for e in minima]),
                      weight_error=float(max(np.max(np.abs(e.x - p_full)) for e in ends)),
                      stationarity=np.array([e.stationarity for e in minima]),
                      hessian_min_eig_bound=np.array([T / e.x.max() for e in minima]),
                      iterations=max(e.iterations for e in ends),
                      converged=np.array([e.status == "converged" for e in ends], dtype=bool),
                      message=f"{sum(e.status == 'converged' for e in ends)} of {starts} starts reached stationarity "
                              f"<= gtol = {gtol:.3g} within max_iter = {max_iter}",
                      seconds=time.perf_counter() - begin)


# ------------------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class MinimaCounts(Result):
    """Numbers of reduced-G minima against T (all patterns) and against M (nested pattern subsets).
    Per curve: ``counts`` (verified distinct minima), ``library`` / ``continuum`` (minima with library
    weight >= 1/2 / < 1/2), ``retrieved`` (distinct patterns some
    library minimum peaks on) and ``plateaus`` (rejected end points); suffix ``_m`` for the M curve."""

    temperatures: np.ndarray  #: (nT,)
    counts: np.ndarray
    library: np.ndarray
    continuum: np.ndarray
    retrieved: np.ndarray
    plateaus: np.ndarray
    m_values: np.ndarray  #: numbers of patterns M (nM,): the M most weighted patterns
    m_temperature: float | None  #: T used for the M curve
    counts_m: np.ndarray
    library_m: np.ndarray
    continuum_m: np.ndarray
    retrieved_m: np.ndarray
    plateaus_m: np.ndarray
    t_star: float | None  #: T* of the full data set
    starts: int


def _curve(results: list[ReducedMinima]) -> dict[str, np.ndarray]:
    return {"counts": np.array([r.count for r in results], dtype=np.int64),
            "library": np.array([r.library for r in results], dtype=np.int64),
            "continuum": np.array([r.continuum for r in results], dtype=np.int64),
            "retrieved": np.array([r.retrieved.size for r in results], dtype=np.int64),
            "plateaus": np.array([r.plateaus for r in results], dtype=np.int64)}


def minima_counts(data: Dataset | KnowledgeDescription | Any, temperatures: Any, *, m_values: Any = (),
                  m_temperature: float | None = None, T0: float = 1.0, eps: float = 1.0, starts: int = 8,
                  pattern_starts: int = 0, seed: int | None = 0, scale: float = 1.0,
                  backend: Any = None) -> MinimaCounts:
    """Counts of verified reduced-G minima (:func:`reduced_potential_minima`) at each T of
    ``temperatures`` for the full description of ``data``, and at ``m_temperature`` for the nested
    sub-data sets of the M most weighted patterns (weights renormalised; ties by pattern order) for
    each M in ``m_values`` (each >= 2). ``data`` may be a description (its T0 and eps are then used).
    ``starts``, ``pattern_starts`` (capped at M), ``seed``, ``scale``: as in reduced_potential_minima."""
    if isinstance(data, KnowledgeDescription):
        full, T0, eps = data, data.T0, data.eps
    else:
        full = describe(data, T0=T0, eps=eps, backend=backend)
    temps = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    ms = np.atleast_1d(np.asarray(m_values, dtype=np.int64))
    if ms.size and m_temperature is None:
        raise ThermopotError("m_temperature is needed for the curve against the number of patterns")
    if ms.size and (ms.min() < 2 or ms.max() > full.m):
        raise ThermopotError(f"m_values must lie in 2..M = {full.m}, got {ms.tolist()}")
    options = dict(starts=starts, seed=seed, scale=scale, backend=backend)
    order = np.argsort(-full.weights, kind="stable")
    with Progress(None, temps.size + ms.size, unit="point", desc="minima counts") as bar:  # shown when slow
        by_t, by_m = [], []
        for T in temps:
            by_t.append(reduced_potential_minima(full, T, pattern_starts=min(pattern_starts, full.m), **options))
            bar.update()
        for m in ms:
            sub = describe(Dataset(full.patterns[order[:m]], full.weights[order[:m]]), T0=T0, eps=eps,
                           backend=backend)
            by_m.append(reduced_potential_minima(sub, m_temperature, pattern_starts=min(pattern_starts, int(m)),
                                                 **options))
            bar.update()
    by_t, by_m = _curve(by_t), _curve(by_m)
    return MinimaCounts(temperatures=temps, **by_t, m_values=ms,
                        m_temperature=None if m_temperature is None else float(m_temperature),
                        **{f"{k}_m": v for k, v in by_m.items()}, t_star=full.t_star, starts=int(starts))


__all__ = ["PhiMinima", "phi_minima", "ReducedMinima", "reduced_potential_minima", "FullMinima",
           "full_potential_minima", "MinimaCounts", "minima_counts", "pairwise_features"]
