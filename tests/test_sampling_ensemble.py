"""Chains at temperatures of their own as a frozen configuration plus a state: ``Ensemble.run(state, w)``
follows the documented per-chain rule (checked against a naive single-update implementation with the
same Philox numbers), returns a new state and leaves the given one as it was; new couplings are a new
configuration that adopts the state; tempering keeps its chains as such a state."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.backend import to_numpy
from thermopot.errors import ThermopotError
from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import compiled as compiled_module
from thermopot.sampling.ensemble import Ensemble, EnsembleState, EnsembleWork
from thermopot.sampling.kernels import REFRESH_SWEEPS
from thermopot.sampling.philox import philox_key, sweep_numbers
from thermopot.sampling.tempering import ParallelTempering

MODELS = {"pairwise": lambda: random_pairwise(9, seed=5), "multispin": lambda: random_multispin(7, seed=3)}
COMPILED = [False, True] if compiled_module.available() else [False]


def _start(chains: int, n: int, seed: int = 0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random((chains, n)) < 0.5, -1.0, 1.0)


def _arrays(state: EnsembleState) -> dict:
    """Copies of everything a state holds."""
    return {"s": to_numpy(state.s).copy(), "cache": to_numpy(state.cache).copy(),
            "flips": to_numpy(state.flips).copy(), "T": state.temperatures.copy(),
            "counters": np.array([state.sweeps_done, state.seed])}


def _assert_same(a: dict, b: dict) -> None:
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("scan", ["sequential", "random"])
@pytest.mark.parametrize("method", ["heat-bath", "metropolis"])
@pytest.mark.parametrize("compiled", COMPILED)
def test_chains_follow_the_documented_rule_at_their_own_temperatures(kind, scan, method, compiled):
    """Update t of chain c in sweep w visits site t (or the drawn site) and flips iff dE < r(u), with
    r = T_c log((1 - u)/u) (heat bath) or -T_c log u (Metropolis) at the chain's own T_c and dE recomputed
    from the model: the same spins after 12 sweeps in two runs, with the temperatures changed between."""
    model = MODELS[kind]()
    n, chains = model.n, 5
    ensemble = Ensemble(model, method=method, scan=scan, compiled_kernel=compiled)
    first, second = np.linspace(0.4, 2.5, chains), np.linspace(3.0, 0.6, chains)
    state = ensemble.init(_start(chains, n), seed=21, temperatures=first)
    s = state.spins
    for w in range(12):
        temps = first if w < 7 else second
        u, sites = sweep_numbers(philox_key(21), w, n, chains, np, scan == "random")
        r = temps * (np.log1p(-u) - np.log(u)) if method == "heat-bath" else -temps * np.log(u)
        for t in range(n):
            for c in range(chains):
                k = t if sites is None else int(sites[t, c])
                flipped = s[c].copy()
                flipped[k] = -flipped[k]
                de = float(model.energy(flipped[None])[0] - model.energy(s[c][None])[0])
                if de < r[t, c]:
                    s[c] = flipped
    done = ensemble.run(ensemble.run(state, 7).at(second), 5)
    np.testing.assert_array_equal(done.spins, s)
    assert done.sweeps_done == 12 and int(to_numpy(done.flips).sum()) > 20
    np.testing.assert_allclose(ensemble.energies(done), model.energy(s), atol=1e-12)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("compiled", COMPILED)
def test_run_leaves_the_given_state_as_it_was(kind, compiled):
    """Runs from one state leave it unchanged; two runs from it give the same new state (also across
    the refresh of the bookkeeping at REFRESH_SWEEPS), and w sweeps in one run equal them in parts."""
    model = MODELS[kind]()
    ensemble = Ensemble(model, scan="random", compiled_kernel=compiled)
    state = ensemble.run(ensemble.init(_start(6, model.n), seed=2, temperatures=np.full(6, 1.3)), 3)
    before = _arrays(state)
    whole = ensemble.run(state, REFRESH_SWEEPS + 10)
    _assert_same(_arrays(state), before)
    kept = _arrays(whole)
    parts = ensemble.run(ensemble.run(state, 20), REFRESH_SWEEPS - 10)
    _assert_same(_arrays(ensemble.run(state, REFRESH_SWEEPS + 10)), kept)
    _assert_same(_arrays(parts), kept)
    _assert_same(_arrays(whole), kept)


def test_the_unchanged_state_check_catches_a_shared_working_copy(monkeypatch):
    """The check above fails when the working copy sweeps the given state's spins in place."""
    original = EnsembleWork.__init__

    def sharing(self, ensemble, state):
        original(self, ensemble, state)
        self.s = state.s  # the mistake: no copy of the spins

    monkeypatch.setattr(EnsembleWork, "__init__", sharing)
    with pytest.raises(AssertionError):
        test_run_leaves_the_given_state_as_it_was("pairwise", False)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_new_couplings_are_a_new_configuration_that_adopts_the_state(kind):
    """The adopted state keeps its spins, temperatures, seed and sweeps, and its bookkeeping is the new
    model's (energies from it equal the new model's energies); the old ensemble refuses it, and neither
    model's arrays are written to (the former in-place couplings wrote the new ones into the old model)."""
    model = MODELS[kind]()
    other = random_pairwise(model.n, seed=8) if kind == "pairwise" else random_multispin(model.n, seed=9)
    arrays = {k: np.array(v) for k, v in model.to_arrays().items()}
    ensemble = Ensemble(model, compiled_kernel=False)
    state = ensemble.run(ensemble.init(_start(4, model.n), seed=1, temperatures=np.full(4, 0.9)), 5)
    relearnt = ensemble.with_model(other)
    adopted = relearnt.adopt(state)
    moved = relearnt.run(adopted, 3)
    np.testing.assert_allclose(relearnt.energies(moved), other.energy(moved.spins), atol=1e-12)
    for key, value in model.to_arrays().items():
        np.testing.assert_array_equal(value, arrays[key], err_msg=key)
    old = ensemble.run(state, 2)  # the old configuration still runs its own model
    np.testing.assert_allclose(ensemble.energies(old), model.energy(old.spins), atol=1e-12)
    np.testing.assert_array_equal(adopted.spins, state.spins)
    assert (adopted.sweeps_done, adopted.seed, adopted.temperatures.tolist()) == (5, 1, [0.9] * 4)
    np.testing.assert_allclose(relearnt.energies(adopted), other.energy(state.spins), atol=1e-12)
    with pytest.raises(ThermopotError, match="another model"):
        relearnt.run(state, 1)
    with pytest.raises(ThermopotError, match="another model"):
        ensemble.run(adopted, 1)
    if kind == "pairwise":
        np.testing.assert_allclose(to_numpy(adopted.cache), other.local_fields(state.spins), atol=1e-12)


def test_bad_input_is_refused_by_name():
    model = MODELS["pairwise"]()
    ensemble = Ensemble(model)
    state = ensemble.init(_start(3, model.n), seed=0)
    for bad in (np.ones(4), np.array([1.0, -1.0, 1.0]), np.array([1.0, np.nan, 1.0])):
        with pytest.raises(ThermopotError, match="temperatures"):
            state.at(bad)
    with pytest.raises(ThermopotError, match="N = 5"):
        ensemble.with_model(random_pairwise(5, seed=0))
    with pytest.raises(ThermopotError, match="method"):
        Ensemble(model, method="glauber")
    with pytest.raises(ThermopotError, match="sweeps"):
        ensemble.run(state, -1)
    with pytest.raises(AttributeError, match="frozen"):
        ensemble.scan = "random"


def test_tempering_keeps_its_chains_as_a_state():
    """Each run replaces ``pt.state`` by a new state (the old one unchanged), whose temperatures are the
    ladder's as the swaps left them; ``set_model`` continues the chains under new couplings."""
    model = random_pairwise(8, seed=2)
    pt = ParallelTempering(model, [0.6, 1.0, 1.7], chains=4, seed=3, compiled_kernel=False)
    before = pt.state
    kept = _arrays(before)
    pt.run(30, record=False, progress=False)
    _assert_same(_arrays(before), kept)
    assert pt.state.sweeps_done == 30
    np.testing.assert_array_equal(pt.state.temperatures, pt.temperatures[pt.level])
    np.testing.assert_array_equal(pt.states(), pt.state.spins[pt.perm])
    other = random_pairwise(8, seed=4)
    pt.set_model(other)
    assert pt.model is pt.ensemble.model and pt.state.sweeps_done == 30
    np.testing.assert_allclose(to_numpy(pt.state.cache), other.local_fields(pt.state.spins), atol=1e-12)
