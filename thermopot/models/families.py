"""The usual model families: SK, Curie-Weiss, Hopfield (Hebbian), 1D ring, random pairwise and
random multi-spin models. Every generator is reproducible from its ``seed``."""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import Any

import numpy as np

from ..checks import check_nonnegative, check_rng, positional_deprecated
from ..errors import ModelError
from ..states import MAX_SPINS
from ._checks import real_array, spin_count
from .multispin import MultiSpinModel
from .pairwise import PairwiseModel

#: most candidate subsets random_multispin lists before drawing its terms
MAX_POOL = 1_000_000


def _fields(n: int, h: float) -> np.ndarray:
    return np.full(n, float(h))


def _rng(seed: Any) -> np.random.Generator:
    """The generator of a model family (:func:`thermopot.checks.check_rng`: None, an integer >= 0 or a
    numpy Generator)."""
    return check_rng(seed)


def _symmetric_gaussian(rng: np.random.Generator, n: int, std: float) -> np.ndarray:
    upper = np.triu(rng.normal(0.0, std, size=(n, n)), 1)
    return upper + upper.T


@positional_deprecated("seed", "j", "h")
def sk(n: int, *, seed: int | np.random.Generator | None = None, j: float = 1.0, h: float = 0.0) -> PairwiseModel:
    """Sherrington-Kirkpatrick: J_kl ~ N(0, j^2 / N) i.i.d. for k < l, uniform field h.

    Parameters
    ----------
    n : int
        Number of spins N >= 1.
    seed : int, numpy.random.Generator or None, optional
        Seed of the couplings (None: fresh entropy); the same seed gives the same model.
    j : float, optional
        Coupling scale: the standard deviation of J_kl is j / sqrt(N).
    h : float, optional
        The field on every spin.

    Returns
    -------
    PairwiseModel
        With ``meta`` recording the family and its parameters.

    Raises
    ------
    ModelError
        When ``n`` is not a usable number of spins.

    Examples
    --------
    >>> import numpy as np
    >>> from thermopot.models import sk
    >>> model = sk(20, seed=0)
    >>> model.n, bool(np.all(model.J == model.J.T)), bool(np.all(np.diag(model.J) == 0))
    (20, True, True)
    """
    n = spin_count(int(n))
    J = _symmetric_gaussian(_rng(seed), n, j / np.sqrt(n))
    return PairwiseModel(_fields(n, h), J, {"family": "sk", "seed": seed, "j": j, "h": h})


def curie_weiss(n: int, j: float = 1.0, h: float = 0.0) -> PairwiseModel:
    """Curie-Weiss: J_kl = j / N for all k != l, uniform field h; E = -(j/2N)[(sum s)^2 - N] - h sum s."""
    n = spin_count(int(n))
    J = np.full((n, n), j / n)
    np.fill_diagonal(J, 0.0)
    return PairwiseModel(_fields(n, h), J, {"family": "curie-weiss", "j": j, "h": h})


@positional_deprecated("seed")
def random_patterns(n: int, p: int, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """p independent uniform +-1 patterns of N spins, shape (p, N), int8."""
    if int(p) < 1:
        raise ModelError(f"need at least one pattern, got p = {p}")
    rng = _rng(seed)
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(int(p), spin_count(int(n))))


def hopfield(patterns, h: float = 0.0) -> PairwiseModel:
    """Hopfield model with Hebbian couplings J_kl = (1/N) sum_mu xi^mu_k xi^mu_l (k != l)."""
    xi = real_array(patterns, "patterns", 2)
    if not np.isin(xi, (-1.0, 1.0)).all():
        raise ModelError("Hopfield patterns must be +-1")
    n = spin_count(xi.shape[1])
    J = xi.T @ xi / n
    np.fill_diagonal(J, 0.0)
    return PairwiseModel(_fields(n, h), J, {"family": "hopfield", "patterns": xi.astype(np.int8), "h": h})


def ring(n: int, j: float = 1.0, h: float = 0.0) -> PairwiseModel:
    """1D periodic chain: J_{k,k+1 mod N} = j, uniform field h (n >= 3)."""
    n = spin_count(int(n))
    if n < 3:
        raise ModelError(f"a ring needs at least 3 spins, got {n}")
    J = np.zeros((n, n))
    k = np.arange(n)
    J[k, (k + 1) % n] = j
    J[(k + 1) % n, k] = j
    return PairwiseModel(_fields(n, h), J, {"family": "ring", "j": j, "h": h})


@positional_deprecated("seed", "h_std", "j_std")
def random_pairwise(n: int, *, seed: int | np.random.Generator | None = None, h_std: float = 0.5,
                    j_std: float | None = None) -> PairwiseModel:
    """Gaussian fields h_k ~ N(0, h_std^2) and couplings J_kl ~ N(0, j_std^2) (default 1/sqrt(N))."""
    n = spin_count(int(n))
    rng = _rng(seed)
    h_std = check_nonnegative(h_std, "h_std")
    j_std = 1.0 / np.sqrt(n) if j_std is None else check_nonnegative(j_std, "j_std")
    h = rng.normal(0.0, h_std, size=n)
    return PairwiseModel(h, _symmetric_gaussian(rng, n, j_std),
                         {"family": "random", "seed": seed, "h_std": h_std, "j_std": j_std})


@positional_deprecated("seed", "scale")
def random_multispin(n: int, order: int = 3, terms: int | None = None, *,
                     seed: int | np.random.Generator | None = None, scale: float = 0.5) -> MultiSpinModel:
    """Random Walsh couplings N(0, scale^2) on ``terms`` distinct random subsets of 1..order spins
    (default: every subset of up to ``order`` spins when there are at most 200, else 200)."""
    n = spin_count(int(n), MAX_SPINS)
    if not 1 <= int(order) <= n:
        raise ModelError(f"order must be in 1..{n}, got {order}")
    scale = check_nonnegative(scale, "scale")
    size = sum(comb(n, k) for k in range(1, int(order) + 1))
    if size > MAX_POOL:
        raise ModelError(f"n={n}, order={order} has {size:.3g} candidate subsets, more than the "
                         f"{MAX_POOL:.0e} this generator draws from; lower n or order")
    rng = _rng(seed)
    pool = [c for k in range(1, int(order) + 1) for c in combinations(range(n), k)]
    count = min(len(pool), 200) if terms is None else int(terms)
    if not 1 <= count <= len(pool):
        raise ModelError(f"terms must be in 1..{len(pool)} for n={n}, order={order}, got {terms}")
    chosen = [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]
    return MultiSpinModel.from_terms(chosen, rng.normal(0.0, scale, size=count), n=n,
                                     meta={"family": "multispin", "seed": seed, "order": order})


#: generator name -> (function, parameter name -> type), for specs like ``sk:n=20,seed=0``
GENERATORS = {
    "sk": (sk, {"n": int, "seed": int, "j": float, "h": float}),
    "curie-weiss": (curie_weiss, {"n": int, "j": float, "h": float}),
    "hopfield": (None, {"n": int, "p": int, "seed": int, "h": float}),
    "ring": (ring, {"n": int, "j": float, "h": float}),
    "random": (random_pairwise, {"n": int, "seed": int, "h_std": float, "j_std": float}),
    "multispin": (random_multispin, {"n": int, "order": int, "terms": int, "seed": int, "scale": float}),
}


def from_spec(spec: str) -> PairwiseModel | MultiSpinModel:
    """A model from a generator spec ``name:key=value,...``, e.g. ``sk:n=20,seed=0``,
    ``curie-weiss:n=50,j=1``, ``hopfield:n=30,p=3,seed=1``, ``ring:n=12,j=1,h=0.1``,
    ``random:n=10,seed=3``, ``multispin:n=8,order=3,seed=0``."""
    name, _, args = spec.partition(":")
    name = name.strip().lower()
    if name not in GENERATORS:
        raise ModelError(f"unknown model generator {name!r} in {spec!r}; known: {', '.join(GENERATORS)}"
                         " (or give a .npz file)")
    func, types = GENERATORS[name]
    params = {}
    for item in filter(None, (a.strip() for a in args.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in types:
            raise ModelError(f"bad parameter {item!r} in {spec!r}; {name} takes {', '.join(types)}")
        if key in params:
            raise ModelError(f"parameter {key} is given twice in {spec!r}")
        try:
            params[key] = types[key](value)
        except ValueError:
            raise ModelError(f"parameter {key} in {spec!r} must be {types[key].__name__}, got {value!r}") from None
    if "n" not in params:
        raise ModelError(f"generator spec {spec!r} needs n=<number of spins>")
    if name == "hopfield":
        h = params.pop("h", 0.0)
        model = hopfield(random_patterns(params["n"], params.get("p", 1), seed=params.get("seed")), h=h)
        model.meta.update(seed=params.get("seed"))
        return model
    return func(**params)
