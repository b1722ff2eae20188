"""The sampler's size and time guard: its memory estimate bounds the measured peak (tracemalloc) of
`sample` and `first_passage` within 1.5x without over-estimating more than 4x, and too large a run
is refused at once, naming the memory and the time it needs (API and command line)."""

import tracemalloc

import numpy as np
import pytest

from thermopot.backend import get_namespace
from thermopot.cli import main
from thermopot.errors import SizeError
from thermopot.models import random_multispin, sk
from thermopot.sampling import first_passage, sample
from thermopot.sampling.budget import check_run
from thermopot.sampling.burn_in import resolve_burn_in

XP = get_namespace("numpy")
NO_LIMIT = 1e30


def peak_bytes(fn):
    """Peak bytes traced during fn(), after one untraced call: the compiled kernel's one-time compilation
    (numba, once per process and signature, cached on disk) is not part of a job's memory."""
    fn()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


@pytest.mark.parametrize("model,chains,sweeps,opts", [
    (sk(8, seed=0), 1, 3000, {}),  # the recorded series dominate (a list of arrays cost 35x them)
    (sk(64, seed=0), 64, 20, {}),
    (sk(128, seed=0), 16, 10, {"scan": "random"}),
    (random_multispin(20, order=3, seed=0), 16, 20, {"correlations": True}),
], ids=["series", "state", "random-scan", "multispin-correlations"])
def test_sample_memory_estimate_bounds_the_peak(model, chains, sweeps, opts):
    est, _ = check_run(model, chains, XP, sweeps=sweeps + resolve_burn_in(None, sweeps), records=sweeps,
                       scan=opts.get("scan", "sequential"), correlations=opts.get("correlations", False),
                       max_seconds=NO_LIMIT)
    peak = peak_bytes(lambda: sample(model, 1.0, chains=chains, sweeps=sweeps, seed=0, progress=False,
                                     **opts))
    assert peak <= 1.5 * est and est <= 4 * peak, (peak, est)


@pytest.mark.parametrize("targets", [0, 3])
def test_first_passage_memory_estimate_bounds_the_peak(targets):
    model, chains, sweeps = sk(32, seed=0), 64, 10
    goal = {"targets": -np.ones((targets, 32))} if targets else {"threshold": -1.0}  # never reached
    est, _ = check_run(model, chains, XP, sweeps=sweeps, scan="random", passage=True, targets=targets,
                       max_seconds=NO_LIMIT)
    peak = peak_bytes(lambda: first_passage(model, 0.05, np.ones(32), chains=chains, max_updates=sweeps * 32,
                                            seed=0, progress=False, **goal))
    assert peak <= 1.5 * est and est <= 4 * peak, (peak, est)


AMOUNTS = r"needs about [0-9.]+ [KMGTP]?i?B of memory and about [0-9.e+]+ (s|min|h|days|years) on numpy"


@pytest.mark.parametrize("call,match", [
    (lambda: sample(sk(6, seed=0), 1.0, chains=1000, sweeps=10**9), AMOUNTS + ", but only"),
    (lambda: sample(sk(6, seed=0), 1.0, chains=4, sweeps=10**11, record_every=10**9),
     AMOUNTS + ", more than the limit of 1 h"),  # 2.4e12 updates: hours even on the compiled kernel
    (lambda: sample(sk(6, seed=0), 1.0, chains=4, sweeps=10**4, max_seconds=1e-3), AMOUNTS + ", more than"),
    (lambda: first_passage(sk(6, seed=0), 1.0, np.ones(6), threshold=0.5, max_updates=10**12),
     r"first passage\) " + AMOUNTS + ", more than the limit"),
])
def test_too_large_runs_are_refused_with_memory_and_time(call, match):
    with pytest.raises(SizeError, match=match):
        call()


def test_command_line_refuses_with_memory_and_time(capsys):
    code = main(["sample", "sk:n=6,seed=0", "--T", "1", "--chains", "1000", "--sweeps", "1000000000"])
    err = capsys.readouterr().err
    assert code == 2 and "of memory and about" in err and "1000 chains of N = 6" in err


def test_compiled_time_estimate_follows_the_measured_rates(monkeypatch):
    """The compiled kernel's quiet-machine estimate of long runs equals the updates over the rates the
    README measured for it (256 chains, pcg64: 3.3e7 / 3.2e7 / 1.4e7 updates/s at N = 64 / 256 / 1000)
    within 25 %, and it is the default on NumPy with numba; the array path's estimate is kept for
    compiled_kernel=False and for a first passage to targets (its hook takes the array path)."""
    from thermopot.sampling import budget, compiled

    for n, rate in ((64, 3.3e7), (256, 3.2e7), (1000, 1.4e7)):
        sweeps = 2000 if n < 1000 else 200
        est = budget.seconds(256, n, sweeps, scan="sequential", backend="numpy", compiled_kernel=True)
        assert est == pytest.approx(256 * n * sweeps / rate, rel=0.25), n
        array = budget.seconds(256, n, sweeps, scan="sequential", backend="numpy")
        assert est < array
        targets = budget.seconds(256, n, sweeps, scan="sequential", backend="numpy", passage=True, targets=3,
                                 compiled_kernel=True)
        assert targets == budget.seconds(256, n, sweeps, scan="sequential", backend="numpy", passage=True,
                                         targets=3)
    monkeypatch.setattr(budget, "slowdown", lambda xp: 1.0)
    model = sk(64, seed=0)
    default = check_run(model, 256, XP, sweeps=2000, max_seconds=NO_LIMIT)[1]
    array = check_run(model, 256, XP, sweeps=2000, max_seconds=NO_LIMIT, compiled_kernel=False)[1]
    assert (default < array) == compiled.available()
