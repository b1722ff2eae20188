"""The `thermopot sample` command: run chains and summarise them (registered in thermopot.cli)."""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

from ..checks import read_npz
from ..errors import ThermopotError
from .chains import DEFAULT_CHAINS, sample
from .statistics import ShortRunWarning

#: names under which an --initial file may hold its states (else: its only array)
INITIAL_KEYS = ("initial", "states", "spins", "s")


def load_initial_states(path: str | os.PathLike, n: int | None = None) -> np.ndarray:
    """The starting states of ``thermopot sample --initial FILE.npz``: the array stored as ``initial``,
    ``states``, ``spins`` or ``s`` (or the file's only array), of shape (N,) (one state for every chain)
    or (C, N) (one per chain), holding only +1 and -1. ThermopotError naming the problem otherwise
    (magnetisations strictly inside (-1, 1), such as a TAP state, are refused with the remedy
    ``np.where(m >= 0, 1, -1)``)."""
    arrays = read_npz(path, "initial states", ThermopotError)
    keys = [k for k in INITIAL_KEYS if k in arrays]
    if keys:
        s = arrays[keys[0]]
    elif len(arrays) == 1:
        s = next(iter(arrays.values()))
    else:
        raise ThermopotError(f"initial states file {os.fspath(path)!r} holds {sorted(arrays)}; store the states "
                             f"as one of {', '.join(INITIAL_KEYS)} (shape (N,) or (chains, N))")
    if s.ndim not in (1, 2) or 0 in s.shape:
        raise ThermopotError(f"initial states must have shape (N,) or (chains, N), got {s.shape}")
    if n is not None and s.shape[-1] != n:
        raise ThermopotError(f"initial states have {s.shape[-1]} spins (shape {s.shape}) but the model has N = {n}")
    if not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
        raise ThermopotError(f"initial states must be real numbers, got dtype {s.dtype}")
    if not np.isin(s, (-1, 1)).all():
        inside = bool(np.all(np.abs(s) < 1))
        raise ThermopotError("initial states must hold only +1 and -1" + (
            "; these look like magnetisations (all inside (-1, 1)): save np.where(m >= 0, 1, -1) to start "
            "from the state they point to" if inside else f", found {np.unique(s)[:6].tolist()}"))
    return s.astype(np.float64)


def sample_command(args: argparse.Namespace) -> tuple[dict, str]:
    """Run ``thermopot sample MODEL --T T --chains C --sweeps W`` (plus the optional --burn-in,
    --method, --scan, --seed, --generator (alias --rng), --correlations, --backend, --initial FILE.npz)
    and return (JSON fields, text summary). With --initial the chains start from the file's state(s)
    (:func:`load_initial_states`; --chains defaults to its number of rows). A run shorter than 50
    integrated autocorrelation times adds a WARNING line and ``short_run``/``warnings`` to the JSON."""
    initial = getattr(args, "initial", None)
    chains = getattr(args, "chains", None)
    model = args.model
    if initial is not None:
        from ..models import resolve_model  # noqa: PLC0415

        model = resolve_model(model)
        initial = load_initial_states(initial, model.n)
        if chains is None and initial.ndim == 2:
            chains = initial.shape[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ShortRunWarning)
        res = sample(model, args.T, chains=DEFAULT_CHAINS if chains is None else chains, sweeps=args.sweeps,
                     burn_in=getattr(args, "burn_in", None), method=getattr(args, "method", "heat-bath"),
                     scan=getattr(args, "scan", "sequential"), seed=getattr(args, "seed", 0),
                     correlations=getattr(args, "correlations", False), initial=initial,
                     generator=getattr(args, "generator", getattr(args, "rng", None)),
                     backend=getattr(args, "backend", None))
    short = [str(w.message) for w in caught if issubclass(w.category, ShortRunWarning)]
    for w in caught:  # everything else goes on as usual
        if not issubclass(w.category, ShortRunWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    m, err = res.magnetization, res.magnetization_stderr
    lines = [f"{res.method} {res.scan}-scan sampling: N = {res.n}, T = {res.T:g}, {res.chains} chains x "
             f"{res.sweeps} sweeps ({res.backend}{', fused kernel' if res.fused else ''}"
             f"{', compiled kernel' if res.compiled else ''}, "
             f"{res.seconds:.3g} s, {res.generator} seed {res.seed})",
             f"energy U = {res.energy:.8g} +- {res.energy_stderr:.2g}",
             f"mean magnetization = {m.mean():+.6f}, largest stderr of m_k = {np.nanmax(err):.2g}",
             f"tau_int (sweeps): energy {res.tau_int['energy']:.3g}, magnetization "
             f"{res.tau_int['magnetization']:.3g}; flip rate {res.flip_rate:.3f}"]
    if res.n <= 16:
        lines.append("magnetization: " + " ".join(f"{v:+.4f}" for v in m))
    lines += [f"WARNING: {w}" for w in short]
    data = res.to_dict()
    data["short_run"] = bool(short)
    data["warnings"] = short
    if initial is not None:
        data["initial"] = os.fspath(args.initial)
    return data, "\n".join(lines)
