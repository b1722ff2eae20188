"""The sampler as a frozen configuration plus a state: ``run(state, w)`` returns a new state and leaves
the given one as it was; the chains follow the documented random numbers (checked against a naive
single-update implementation); the deprecated mutable use gives the same chains and warns (the only
tests of it: everything else uses the pair); a state written to a checkpoint and read back continues
bit-identically; first-passage clocks equal a naive per-update
overlap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thermopot.backend import to_numpy
from thermopot.errors import ThermopotError
from thermopot.models import random_multispin, random_pairwise
from thermopot.report import to_json
from thermopot.sampling import (Sampler, SamplerState, ShortRunWarning, first_passage, load_state, sample,
                                save_state, start_clock)
from thermopot.sampling import compiled as compiled_module
from thermopot.sampling.measure import Measurements
from thermopot.sampling.philox import philox_key, sweep_numbers

MODELS = {"pairwise": lambda: random_pairwise(10, seed=3), "multispin": lambda: random_multispin(7, seed=3)}
COMPILED = [False, None] if compiled_module.available() else [False]


def _strip(result):
    """The JSON text of a result without its wall time."""
    return to_json({k: v for k, v in result.to_dict().items() if k != "seconds"})


def _arrays(state: SamplerState) -> dict:
    """Copies of everything a state holds, as NumPy."""
    out = {"s": to_numpy(state.s).copy(), "cache": to_numpy(state.cache).copy(),
           "flips": to_numpy(state.flips).copy(), "rng": repr(state.rng_state),
           "counters": (state.sweeps_done, state.recorded_sweeps, state.seed)}
    out.update({k: to_numpy(v).copy() for k, v in state.measurements.arrays().items()})
    return out


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("scan", ["sequential", "random"])
@pytest.mark.parametrize("method", ["heat-bath", "metropolis"])
def test_chains_follow_the_documented_numbers(method, scan):
    """Philox chains of the state API equal a naive implementation of the documented rule: update t
    of chain b in sweep w visits site t (or the drawn site), and flips iff dE = 2 s_k h_k(s) < r(u),
    r = T log((1 - u)/u) (heat bath) or -T log u (Metropolis), with h_k recomputed from the model."""
    model, T, b, sweeps = random_pairwise(9, seed=5), 0.8, 4, 12
    sampler = Sampler(model, T, method=method, scan=scan, generator="philox", compiled=False)
    state = sampler.init(chains=b, seed=21)
    s = state.spins
    for w in range(sweeps):
        u, sites = sweep_numbers(philox_key(state.seed), w, model.n, b, np, scan == "random")
        r = T * (np.log1p(-u) - np.log(u)) if method == "heat-bath" else -T * np.log(u)
        for t in range(model.n):
            for c in range(b):
                k = t if sites is None else int(sites[t, c])
                de = 2.0 * s[c, k] * (model.h[k] + s[c] @ model.J[:, k])
                if de < r[t, c]:
                    s[c, k] = -s[c, k]
    np.testing.assert_array_equal(sampler.run(state, sweeps, record=False).spins, s)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("generator", ["pcg64", "philox"])
@pytest.mark.parametrize("compiled", COMPILED)
def test_old_and_new_use_give_the_same_chains(kind, generator, compiled):
    """The deprecated mutable use and the state API: the same spins, bookkeeping and measurements."""
    model = MODELS[kind]()
    opts = dict(scan="random", generator=generator, compiled=compiled, record_every=2, correlations=True)
    with pytest.warns(DeprecationWarning):
        old = Sampler(model, 0.9, chains=5, seed=7, **opts).run(6, record=False).run(50)
    sampler = Sampler(model, 0.9, **opts)
    new = sampler.run(sampler.run(sampler.init(chains=5, seed=7), 6, record=False), 50)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(old.spins, new.spins)
        assert _strip(old.result()) == _strip(sampler.result(new))
        np.testing.assert_array_equal(old.energies(), sampler.energies(new))
    np.testing.assert_array_equal(to_numpy(old.kernel.cache()), to_numpy(new.cache))
    assert int(to_numpy(new.flips).sum()) > 50  # the chains moved


def test_deprecated_checkpoint_methods_warn_and_resume(tmp_path):
    """The deprecated ``Sampler.save``/``Sampler.load`` warn and write and read the checkpoints of
    ``save_state``/``load_state``: the same chains after resuming."""
    model = MODELS["pairwise"]()
    with pytest.warns(DeprecationWarning):  # the constructor and run(sweeps)
        bound = Sampler(model, 0.9, chains=3, seed=2).run(20)
    with pytest.warns(DeprecationWarning, match="Sampler.save"):
        bound.save(tmp_path / "old.npz")
    with pytest.warns(DeprecationWarning, match="Sampler.load"):
        old = Sampler.load(tmp_path / "old.npz", model=model, T=0.9)
    sampler, state = load_state(tmp_path / "old.npz", model=model, T=0.9)
    assert state.sweeps_done == 20
    expected = sampler.run(sampler.run(sampler.init(chains=3, seed=2), 20), 15)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(old.run(15).spins, expected.spins)
    np.testing.assert_array_equal(sampler.run(state, 15).spins, expected.spins)


def _branching(sampler: Sampler, state: SamplerState) -> None:
    """Runs from one state leave it as it was, and two runs from it give the same new state, also
    after a run of the state in between (which appends to the shared series buffer)."""
    before = _arrays(state)
    first = sampler.run(state, 9)
    _assert_same(_arrays(state), before)
    kept = _arrays(first)
    later = sampler.run(first, 4)
    again = sampler.run(state, 9)
    _assert_same(_arrays(again), kept)
    _assert_same(_arrays(first), kept)
    sampler.run(first, 6)  # writes past ``later``'s series in the shared buffer, if it were shared
    assert _strip(sampler.result(later)) == _strip(sampler.result(sampler.run(sampler.run(state, 9), 4)))


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("compiled", COMPILED)
def test_run_leaves_the_given_state_as_it_was(kind, compiled):
    sampler = Sampler(MODELS[kind](), 0.8, scan="random", compiled=compiled, correlations=True)
    _branching(sampler, sampler.run(sampler.init(chains=4, seed=2), 3))


def test_branching_check_catches_shared_measurements(monkeypatch):
    """The check above fails when a run records into the given state's accumulators."""
    monkeypatch.setattr(Measurements, "copy", lambda self: self)
    sampler = Sampler(MODELS["pairwise"](), 0.8, compiled=False)
    with pytest.raises(AssertionError):
        _branching(sampler, sampler.run(sampler.init(chains=4, seed=2), 3))


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("generator", ["pcg64", "philox"])
@pytest.mark.parametrize("compiled", COMPILED)
def test_state_checkpoint_continues_bit_identically(kind, generator, compiled, tmp_path):
    model = MODELS[kind]()
    sampler = Sampler(model, 0.8, scan="random", generator=generator, compiled=compiled, method="metropolis",
                      correlations=True, record_every=3)
    start = sampler.init(chains=6, seed=5)
    whole = sampler.run(sampler.run(start, 40), 35)
    save_state(tmp_path / "run.npz", sampler, sampler.run(start, 40))  # crosses no refresh; the rest does
    loaded, state = load_state(tmp_path / "run.npz", model=model, T=0.8)
    assert (loaded.generator, loaded.scan, loaded.method, loaded.record_every) == (generator, "random", "metropolis", 3)
    resumed = loaded.run(state, 35)
    _assert_same(_arrays(resumed), _arrays(whole))
    assert _strip(loaded.result(resumed)) == _strip(sampler.result(whole))


def _naive_passage(model, T, start, chains, seed, scan, leave, max_sweeps):
    """First-passage times from a per-update hook that recomputes the overlap (or the distance to the
    all-minus state) from the spins after every update, on the array path."""
    sampler = Sampler(model, T, scan=scan, compiled=False)
    state = sampler.init(chains=chains, initial=start, seed=seed)
    s = state.spins
    times = np.full(chains, -1)
    n = model.n
    for sweep in range(max_sweeps):
        def hook(t, k, flip, new):
            rows = np.arange(chains)
            s[rows, to_numpy(k)] = to_numpy(new)
            hit = (s @ start < 0.5 * n) if leave else (s == -1).all(axis=1)
            times[hit & (times < 0)] = sweep * n + t + 1
        state = sampler.run(state, 1, record=False, hook=hook)
    return times


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("scan", ["sequential", "random"])
@pytest.mark.parametrize("compiled", COMPILED)
def test_first_passage_equals_a_naive_overlap(kind, scan, compiled):
    model = MODELS[kind]()
    start = np.ones(model.n)
    naive = _naive_passage(model, 1.4, start, 6, 3, scan, True, 40)
    fp = first_passage(model, 1.4, start, threshold=0.5, max_updates=40 * model.n, chains=6, seed=3, scan=scan,
                       generator="pcg64")
    assert (naive > 0).sum() >= 3  # chains left
    np.testing.assert_array_equal(np.where(fp.censored, -1, fp.times), np.where(naive > 40 * model.n, -1, naive))
    naive = _naive_passage(model, 3.0, start, 4, 1, scan, False, 60)
    fp = first_passage(model, 3.0, start, targets=-start, max_updates=60 * model.n, chains=4, seed=1, scan=scan,
                       generator="pcg64")
    assert (naive > 0).sum() >= 1  # some chain reached the target
    np.testing.assert_array_equal(np.where(fp.censored, -1, fp.times), np.where(naive > 60 * model.n, -1, naive))


def test_passage_clock_runs_with_the_state():
    """A clock started on a state runs through several run calls and does not change the chains."""
    sampler = Sampler(MODELS["pairwise"](), 1.2, scan="random")
    state = sampler.init(chains=5, initial=np.ones(10), seed=4)
    plain = sampler.run(state, 30, record=False)
    timed = start_clock(state, threshold=0.6)
    assert to_numpy(timed.passage.times).tolist() == [-1] * 5 and state.passage is None
    for _ in range(3):
        timed = sampler.run(timed, 10, record=False)
    np.testing.assert_array_equal(timed.spins, plain.spins)
    assert (to_numpy(timed.passage.times) > 0).sum() >= 3
    with pytest.raises(ThermopotError, match="first-passage clock"):
        save_state("/nonexistent/x.npz", sampler, timed)


def test_sample_is_init_and_two_runs():
    """``sample`` is init, an unrecorded and a recorded run and the result of the state, with the message
    of its ShortRunWarning (this run is short) in ``warnings``."""
    model = MODELS["multispin"]()
    sampler = Sampler(model, 1.1, scan="random")
    state = sampler.run(sampler.init(chains=4, seed=8), 6, record=False)
    with pytest.warns(ShortRunWarning) as caught:
        res = sample(model, 1.1, chains=4, sweeps=60, burn_in=6, scan="random", seed=8)
    assert res.warnings == (str(caught[0].message),) and res.burn_in == 6
    assert _strip(dataclasses.replace(res, warnings=())) == _strip(dataclasses.replace(
        sampler.result(sampler.run(state, 60)), burn_in=6))


def test_configuration_is_frozen_and_states_fit_their_model():
    sampler = Sampler(MODELS["pairwise"](), 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sampler.T = 2.0
    other = Sampler(random_pairwise(10, seed=4), 1.0)
    with pytest.raises(ThermopotError, match="another model"):
        other.run(sampler.init(chains=2, seed=0), 1)
    with pytest.raises(ThermopotError, match="correlations"):
        Sampler(MODELS["pairwise"](), 1.0, correlations=True).run(sampler.init(chains=2, seed=0), 1)
    # a state runs under another temperature of the same model (annealing), not changing its seed
    hot = Sampler(MODELS["pairwise"](), 3.0).run(sampler.init(chains=2, seed=0), 2, record=False)
    assert hot.seed == 0 and hot.sweeps_done == 2
