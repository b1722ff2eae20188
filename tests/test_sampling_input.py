"""Bad input to the sampler and first_passage gets a ThermopotError naming the problem: complex states,
seeds that are not SPEC 7 seeds; a numpy Generator is a seed; ``generator=`` names the random numbers,
``rng=`` (its former name) still works with a DeprecationWarning, on the API and the command line."""

import json
import warnings

import numpy as np
import pytest

from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.models import random_pairwise
from thermopot.sampling import Sampler, first_passage, sample

MODEL = random_pairwise(6, seed=0)


@pytest.mark.parametrize("call,match", [
    (lambda: Sampler(MODEL, 1.0).init(initial=np.ones(6) + 0j), "complex"),
    (lambda: Sampler(MODEL, 1.0).init(initial=np.ones((2, 6)) * (1 + 1e-3j)), "complex"),
    (lambda: Sampler(MODEL, 1.0).init(initial=["a"] * 6), "initial states"),
    (lambda: first_passage(MODEL, 1.0, np.ones(6) + 0j, threshold=0.5, max_updates=10), "complex"),
    (lambda: first_passage(MODEL, 1.0, np.ones(6), targets=-np.ones(6) + 0j, max_updates=10), "complex"),
    (lambda: first_passage(MODEL, 1.0, np.ones(6), threshold=0.5 + 0.1j, max_updates=10), "threshold"),
    (lambda: first_passage(MODEL, 1.0, np.ones(6), threshold="high", max_updates=10), "threshold"),
    (lambda: Sampler(MODEL, 1.0).init(seed=-1), "seed"),
    (lambda: Sampler(MODEL, 1.0).init(seed=1.5), "seed"),
    (lambda: Sampler(MODEL, 1.0).init(seed="3"), "seed"),
    (lambda: Sampler(MODEL, 1.0).init(seed=True), "seed"),
    (lambda: Sampler(MODEL, 1.0).init(seed=np.random.RandomState(0)), "seed"),
    (lambda: sample(MODEL, 1.0, sweeps=10, seed=2.0), "seed"),
    (lambda: first_passage(MODEL, 1.0, np.ones(6), threshold=0.5, max_updates=10, seed=-3), "seed"),
    (lambda: Sampler(MODEL, 1.0, generator="philox", rng="pcg64"), "generator= only"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ThermopotError, match=match):
        call()


def test_a_generator_is_a_seed():
    """SPEC 7: a Generator seeds the sampler by one draw, so equal generator states give equal
    chains, and the integer drawn is the sampler's reproducible seed."""
    sampler = Sampler(MODEL, 1.0)
    a, b = (sampler.run(sampler.init(chains=4, seed=np.random.default_rng(7)), 5, progress=False) for _ in "ab")
    assert a.seed == b.seed == int(np.random.default_rng(7).integers(1 << 63))
    assert np.array_equal(a.spins, b.spins)
    c = sampler.run(sampler.init(chains=4, seed=a.seed), 5, progress=False)
    assert np.array_equal(a.spins, c.spins)


@pytest.mark.parametrize("name", ["philox", "pcg64"])
def test_rng_is_a_deprecated_alias_of_generator(name):
    new = Sampler(MODEL, 1.0, generator=name)
    with pytest.warns(DeprecationWarning, match="generator="):
        old = Sampler(MODEL, 1.0, rng=name)
    assert old.generator == new.generator == name
    assert np.array_equal(old.run(old.init(chains=3, seed=4), 4).spins, new.run(new.init(chains=3, seed=4), 4).spins)
    with pytest.warns(DeprecationWarning):
        res = sample(MODEL, 1.0, chains=3, sweeps=4, seed=4, rng=name, progress=False)
    assert res.generator == name
    with pytest.warns(DeprecationWarning, match="SampleResult.rng is deprecated"):
        assert res.rng == name  # the former name of the field, for one release
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first_passage(MODEL, 1.0, np.ones(6), threshold=0.5, max_updates=30, seed=1, generator=name)


def test_command_line_generator_and_its_alias(capsys):
    base = ["sample", "random:n=6,seed=0", "--T", "1", "--chains", "3", "--sweeps", "20", "--json"]
    runs = []
    for flag in ("--generator", "--rng"):
        assert main(base + [flag, "philox"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0]["generator"] == runs[1]["generator"] == runs[0]["rng"] == "philox"  # "rng": the former key
    assert runs[0]["magnetization"] == runs[1]["magnetization"]
