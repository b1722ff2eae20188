"""Size and time guards that are true (issue 16 item 1): the estimate bounds the measured peak memory
(tracemalloc) within 1.5x on small sizes, too-large jobs are refused naming memory and time, and free
memory comes from the cgroup limit when there is one. No wall-clock asserts: times live in
benchmarks/guards.py."""

import json
import time
import warnings

import numpy as np
import pytest

import thermopot.backend as backend
from thermopot.benchmarks._peak import measure
from thermopot.cli import main
from thermopot.datasets import noisy_patterns_dataset
from thermopot.errors import SizeError
from thermopot.exact import check_size, gibbs_potential, restricted_free_energies, thermodynamics
from thermopot.exact.gibbs import ENUMERATIONS_PER_POINT
from thermopot.exact.guard import (ENUMERATION, FIT_EVALUATION, GIBBS_STEP, LANDSCAPE, LANDSCAPE_T, OBSERVABLES,
                                   RESTRICTED, estimate)
from thermopot.landscape import local_minima
from thermopot.learning import exact_ml
from thermopot.learning.exact_ml import fit_evaluations, fit_exact
from thermopot.learning.result import ConvergenceWarning
from thermopot.models import sk

XP = backend.get_namespace("numpy")
MiB = 2.0**20


def _peak(job):
    job()  # warm up: imports and caches are not the job's memory
    return measure(job)[1]


@pytest.mark.parametrize("n, block", [(12, None), (16, None), (14, 2048)])
def test_enumeration_estimates_bound_the_peak(n, block):
    """Small tiles (block 2048) leave the per-state arrays to dominate: restricted free energies and the
    landscape keep 40 to 76 bytes per state (the guard counted 16 and 32)."""
    model, labels = sk(n, seed=0), np.arange(2**n) % 5
    jobs = [(ENUMERATION, lambda: thermodynamics(model, 1.0, progress=False, block_size=block)),
            (OBSERVABLES, lambda: thermodynamics(model, 1.0, observables={"s": lambda s: s[:, :3]}, block_size=block)),
            (RESTRICTED, lambda: restricted_free_energies(model, 1.0, labels, block_size=block)),
            (LANDSCAPE, lambda: local_minima(model, block_size=block)),
            (LANDSCAPE_T, lambda: local_minima(model, T=0.5, block_size=block))]
    for cost, job in jobs:
        est, _ = estimate(n, XP, block_size=block, cost=cost)
        peak = _peak(job)
        assert peak <= 1.5 * est, (cost, peak / MiB, est / MiB)


def test_gibbs_and_fit_estimates_bound_the_peak():
    model = sk(10, seed=1)
    est, _ = estimate(10, XP, cost=GIBBS_STEP, passes=2 * ENUMERATIONS_PER_POINT)
    assert _peak(lambda: gibbs_potential(model, np.full((2, 10), 0.2), 1.0)) <= 1.5 * est
    data, _ = noisy_patterns_dataset(10, 3, 40, 0.15, seed=3)
    est, _ = estimate(10, XP, cost=FIT_EVALUATION, passes=fit_evaluations(10, 5000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _peak(lambda: fit_exact(data)) <= 1.5 * est


def _refused(match, job):
    with pytest.raises(SizeError, match=match) as info:
        job()
    message = str(info.value)
    assert "memory" in message and ("min" in message or " h " in message or "days" in message
                                    or "years" in message or " s " in message), message
    return message


def test_too_large_jobs_are_refused_naming_memory_and_time(monkeypatch):
    _refused("N=40 .* more than the limit", lambda: thermodynamics(sk(40, seed=0), 1.0))
    _refused("Gibbs potential at 500 point", lambda: gibbs_potential(sk(26, seed=0), np.zeros((500, 26)), 1.0))
    data = np.where(np.random.default_rng(0).random((50, 30)) < 0.5, 1, -1).astype(np.int8)
    _refused("maximum-likelihood .* N=30 .* more than the limit", lambda: fit_exact(data))
    monkeypatch.setattr(backend, "cgroup_free_bytes", lambda: int(64 * MiB))
    _refused("landscape with per-basin .* only 64 MiB is free", lambda: local_minima(sk(22, seed=0), T=1.0))
    labels = np.zeros(2**22, dtype=np.int64)
    _refused("restricted free energies .* only 64 MiB is free",
             lambda: restricted_free_energies(sk(22, seed=0), 1.0, labels))
    assert check_size(20)[0] < 0.8 * 64 * MiB  # the enumeration's tiles still fit


def test_exact_fit_stops_at_its_time_limit(monkeypatch):
    """A fit admitted by its estimate (here budgeted one evaluation) that runs slower than estimated (each
    enumeration made to take 0.1 s) stops at max_seconds: its best point, not converged, with the reason."""
    data, _ = noisy_patterns_dataset(8, 3, 40, 0.15, seed=2)
    converged = fit_exact(data)
    assert converged.converged  # the default limit is far away
    enumerate_slowly = exact_ml.thermodynamics

    def slow(*args, **kwargs):
        time.sleep(0.1)
        return enumerate_slowly(*args, **kwargs)

    monkeypatch.setattr(exact_ml, "thermodynamics", slow)
    monkeypatch.setattr(exact_ml, "fit_evaluations", lambda n, max_iter: 1)
    with pytest.warns(ConvergenceWarning, match=r"time limit of 0.08 s \(.*\) after 1 objective evaluation"):
        result = fit_exact(data, max_seconds=0.08)
    assert not result.converged and result.iterations == 1
    assert result.objective > converged.objective


def _cgroup_tree(tmp_path, v2):
    """A fake cgroup mount: /a/b with a limit at /a (300 MiB, 100 MiB used of which 40 MiB inactive file
    cache) and a looser one at /a/b."""
    root = tmp_path / "cg"
    names = (("memory.max", "memory.current", "inactive_file") if v2 else
             ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
    for folder, limit, usage in (("a", 300, 100), ("a/b", 1000, 90)):
        path = root / folder
        path.mkdir(parents=True)
        (path / names[0]).write_text(f"{int(limit * MiB)}\n")
        (path / names[1]).write_text(f"{int(usage * MiB)}\n")
        (path / "memory.stat").write_text(f"anon 1\n{names[2]} {int(40 * MiB)}\n")
    (root / names[0]).write_text("max\n" if v2 else "9223372036854771712\n")
    (root / names[1]).write_text("0\n")
    proc = tmp_path / "cgroup"
    proc.write_text("0::/a/b\n" if v2 else "5:memory:/a/b\n0::/\n")
    files = (("" if v2 else "memory", str(root), *names),)
    return str(proc), files


@pytest.mark.parametrize("v2", [True, False])
def test_cgroup_limit_is_the_free_memory(tmp_path, v2):
    proc, files = _cgroup_tree(tmp_path, v2)
    assert backend.cgroup_free_bytes(proc, files) == int(300 * MiB) - int(60 * MiB)
    nowhere = (("", str(tmp_path / "none"), "a", "b", "c"),)
    assert backend.cgroup_free_bytes(str(tmp_path / "missing"), nowhere) is None


def test_free_memory_is_the_smaller_of_host_and_cgroup(monkeypatch):
    monkeypatch.setattr(backend, "cgroup_free_bytes", lambda: 12345)
    assert backend.free_memory_bytes(XP) == 12345
    monkeypatch.setattr(backend, "cgroup_free_bytes", lambda: None)
    assert backend.free_memory_bytes(XP) > 12345


def test_cli_refuses_too_large_jobs(tmp_path, capsys):
    assert main(["enumerate", "sk:n=40,seed=0", "--T", "1"]) == 2
    err = capsys.readouterr().err
    assert "memory" in err and "limit" in err and len(err.strip().splitlines()) == 1
    assert main(["landscape", "sk:n=40,seed=0", "--T", "1"]) == 2
    assert "landscape" in capsys.readouterr().err
    data = tmp_path / "d30.npz"
    np.savez(data, samples=np.where(np.random.default_rng(1).random((40, 30)) < 0.5, 1, -1).astype(np.int8))
    assert main(["fit", str(data), "--method", "exact"]) == 2
    assert "maximum-likelihood" in capsys.readouterr().err


def test_cli_no_false_refusal_at_extreme_temperatures(capsys):
    assert main(["enumerate", "curie-weiss:n=8", "--T", "1e-16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["entropy"] == pytest.approx(np.log(2), abs=1e-14) and out["energy"] == -3.5
    assert main(["enumerate", "curie-weiss:n=8", "--T", "1e300", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entropy"] == pytest.approx(8 * np.log(2), abs=1e-12)
    assert main(["landscape", "curie-weiss:n=8", "--T", "1e-9", "--json"]) == 0
    minima = json.loads(capsys.readouterr().out)["minima"]
    assert [m["free_energy"] for m in minima] == pytest.approx([-3.5, -3.5], abs=1e-13)


def test_free_memory_is_read_only_for_jobs_that_could_not_fit(monkeypatch):
    """A job under SMALL_JOB_BYTES is admitted without reading the free memory (a read per small
    enumeration cost 4-5 % of it); a larger one still reads it, and is refused when it does not fit."""
    from thermopot.exact import guard

    reads = []
    monkeypatch.setattr(guard, "free_memory_bytes", lambda xp: reads.append(1) or int(20 * MiB))
    assert guard.check_budget(guard.SMALL_JOB_BYTES, 1.0, "a small job") == (guard.SMALL_JOB_BYTES, 1.0)
    thermodynamics(sk(10, seed=0), 1.0, progress=False)
    assert reads == []
    with pytest.raises(SizeError, match="only 20 MiB is free"):
        guard.check_budget(guard.SMALL_JOB_BYTES + 1, 1.0, "a larger job")
    assert reads == [1]
    with pytest.raises(SizeError, match="more than the limit"):
        guard.check_budget(1.0, 10.0, "a small but long job", max_seconds=1.0)


def test_a_job_the_nominal_rate_would_refuse_is_timed_at_the_measured_rate(monkeypatch):
    """Before refusing on time, the guard measures the tile engine here (once per process): a machine
    100x faster than the nominal 1e7 states/s runs 2^30 states in ~1 s, so 10 s admits them; a probe
    slower than the nominal never makes the estimate longer; a job the nominal rate admits is not probed."""
    from thermopot.exact import guard

    calls = []

    def probe(rate):
        def measured():
            calls.append(rate)
            return rate
        return measured

    guard.register_rate_probe(probe(1e9))
    try:
        guard.check_size(12, "numpy", max_seconds=10.0)
        assert calls == []  # admitted by the nominal rate: nothing measured
        _, seconds = guard.check_size(30, "numpy", max_seconds=10.0)
        assert seconds == pytest.approx(guard.ENUMERATION.overhead + 2.0**30 / 1e9)
        guard.check_size(30, "numpy", max_seconds=10.0)
        assert calls == [1e9]  # measured once per process
        with pytest.raises(SizeError, match=r"1e\+09 states/s, measured on this machine now.*limit of 0.5 s"):
            guard.check_size(30, "numpy", max_seconds=0.5)
        guard.register_rate_probe(probe(1e6))
        with pytest.raises(SizeError, match=r"at ~1e\+07 states/s\)"):  # the nominal rate, not the slower probe
            guard.check_size(30, "numpy", max_seconds=10.0)
    finally:
        guard.register_rate_probe(thermodynamics_module().engine_rate)


def thermodynamics_module():
    import importlib

    return importlib.import_module("thermopot.exact.thermodynamics")


def test_the_engine_rate_probe_is_states_over_the_faster_of_two_timed_enumerations(monkeypatch):
    """engine_rate = 2^20 / min(t_1, t_2) with t_i the clock around each of its two enumerations of
    sk(20, seed=0) at T = 1 (a clock that reads 0, 0.5, 0.5, 0.75 s: 2^22 states/s), floored at 1e-9 s;
    each enumeration's own guard gets the default hour explicitly, whatever limit is in force."""
    from types import SimpleNamespace

    from thermopot.exact import guard

    module = thermodynamics_module()
    calls = []

    def enumerate_(model, T, **kwargs):
        calls.append((model.n, float(np.abs(model.J).sum()), T, kwargs.get("max_seconds")))

    def clock(*readings):
        it = iter(readings)
        return SimpleNamespace(perf_counter=lambda: next(it))

    monkeypatch.setattr(module, "thermodynamics", enumerate_)
    monkeypatch.setattr(module, "time", clock(0.0, 0.5, 0.5, 0.75))
    assert module.engine_rate() == 2.0**20 / 0.25
    couplings = float(np.abs(sk(20, seed=0).J).sum())
    assert calls == [(20, couplings, 1.0, guard.DEFAULT_MAX_SECONDS)] * 2
    monkeypatch.setattr(module, "time", clock(1.0, 1.0, 2.0, 2.0))  # too fast for the clock: the floor
    assert module.engine_rate() == 2.0**20 / 1e-9


def test_a_small_time_limit_refuses_without_probing_forever(monkeypatch):
    """Under THERMOPOT_MAX_SECONDS = 1 us an enumeration of 2^20 states is over the limit, so the guard runs
    the rate probe, whose own 2^20 enumeration must not be refused (nor probe again: a RecursionError before)."""
    from thermopot.exact import guard

    guard.register_rate_probe(thermodynamics_module().engine_rate)  # not yet measured in this process
    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "1e-6")
    with pytest.raises(SizeError, match=r"measured on this machine now.*more than the limit of 1e-06 s"):
        check_size(20, "numpy")


def test_time_budget_sets_the_default_limit_of_every_guard_inside_it(monkeypatch):
    """time_limit: a call's own max_seconds, else the innermost time_budget, else THERMOPOT_MAX_SECONDS;
    the block's limit ends with it (also when it raises); a bad limit is refused by name."""
    from thermopot.errors import ThermopotError
    from thermopot.exact.guard import time_budget, time_limit

    monkeypatch.setenv("THERMOPOT_MAX_SECONDS", "600")
    with time_budget(7200.0):
        assert time_limit(None) == 7200.0 and time_limit(5.0) == 5.0
        with time_budget(0.01):
            assert time_limit(None) == 0.01
            with pytest.raises(SizeError, match="more than the limit of 0.01 s"):  # 2^30 states
                check_size(30, "numpy")
        with time_budget(None):
            assert time_limit(None) == 7200.0
        assert time_limit(None) == 7200.0
    assert time_limit(None) == 600.0
    with pytest.raises(ThermopotError, match="max_seconds"):
        with time_budget(-1.0):
            pass
    assert time_limit(None) == 600.0
