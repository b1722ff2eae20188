"""Progress bars: shown at once when asked, never when refused, and by default only for long jobs
(steps done before a late bar opens are counted in it)."""

import pytest

import thermopot.progress as progress_module
from thermopot.exact import thermodynamics
from thermopot.models import random_pairwise
from thermopot.progress import Progress
from thermopot.sampling import Sampler


@pytest.mark.parametrize("progress,after,shown", [(True, 3.0, True), (False, 0.0, False),
                                                  (None, 3.0, False), (None, 0.0, True)])
def test_sampler_progress_bar(progress, after, shown, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PROGRESS_AFTER_SECONDS", after)
    sampler = Sampler(random_pairwise(6, seed=0), 1.0)
    sampler.run(sampler.init(chains=4, seed=0), 7, progress=progress)
    err = capsys.readouterr().err
    assert ("sampling N=6" in err) == shown


def test_progress_counts_steps_before_the_bar_opens(monkeypatch):
    monkeypatch.setattr(progress_module, "PROGRESS_AFTER_SECONDS", 0.0)
    bar = Progress(None, 10, unit="step", desc="job")
    assert bar.bar is None  # nothing drawn before the first step is seen
    bar.update(3)
    assert bar.bar is not None and bar.bar.n == 3
    bar.update(2)
    assert bar.bar.n == 5
    bar.close()


@pytest.mark.parametrize("progress,shown", [(True, True), (False, False), (None, False)])
def test_enumeration_progress_bar(progress, shown, capsys):
    thermodynamics(random_pairwise(8, seed=0), 1.0, progress=progress, block_size=16)
    assert ("enumerate N=8" in capsys.readouterr().err) == shown


def test_inner_bars_are_hidden_under_an_outer_bar(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PROGRESS_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(progress_module, "stderr_is_terminal", lambda: True)
    sampler = Sampler(random_pairwise(6, seed=0), 1.0)
    with progress_module.inner_bars_hidden():
        sampler.run(sampler.init(chains=4, seed=0), 5)  # would show: slow enough
        assert not progress_module.shows_progress(None, 100.0)
        assert progress_module.shows_progress(True, 0.0)  # asked for explicitly: still shown
    assert "sampling" not in capsys.readouterr().err
    sampler.run(sampler.init(chains=4, seed=0), 5)
    assert "sampling N=6" in capsys.readouterr().err


def test_inner_loops_reach_a_log_file_at_a_modest_rate(capsys, monkeypatch):
    """With stderr not a terminal, a loop inside an outer job's step (inner bars hidden) writes plain
    lines (indented, what and how far), at most one per LOG_INTERVAL_SECONDS over all inner loops; never
    for a loop refused (progress=False)."""
    monkeypatch.setattr(progress_module, "PROGRESS_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(progress_module, "stderr_is_terminal", lambda: False)
    monkeypatch.setattr(progress_module, "_last_inner_line", [0.0])
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: clock[0])
    with progress_module.inner_bars_hidden():
        with Progress(None, 100, unit="iteration", desc="relax N=64") as job:
            for _ in range(50):
                clock[0] += 1.0
                job.update()
        with Progress(False, 100, unit="iteration", desc="quiet") as job:
            for _ in range(50):
                clock[0] += 1.0
                job.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("thermopot:   relax N=64: ") for line in lines)
    assert lines[0].startswith("thermopot:   relax N=64: 1/100 iterations (1%)")
    assert len(lines) == 1 + 49 // int(progress_module.LOG_INTERVAL_SECONDS)


@pytest.mark.parametrize("terminal", [False, True])
def test_a_late_bar_counts_the_time_before_it_opened(capsys, monkeypatch, terminal):
    """A bar opened after 3.5 s of a loop (PROGRESS_AFTER_SECONDS) reports 3.5 s elapsed and the rate of
    the steps done in them, not the time since it opened: in a log file its first line is the status
    ("967/1000 sweeps (97%), 3.5 s elapsed, about ..."), not "started"; a tqdm bar's clock starts 3.5 s back."""
    monkeypatch.setattr(progress_module, "PROGRESS_AFTER_SECONDS", 3.0)
    monkeypatch.setattr(progress_module, "stderr_is_terminal", lambda: terminal)
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: clock[0])
    job = Progress(None, 1000, unit="sweep", desc="TI N=64")
    job.update(966)
    clock[0] += 3.5
    job.update(1)
    if terminal:
        assert job.bar.n == 967
        assert job.bar._time() - job.bar.start_t == pytest.approx(3.5, abs=0.5)
    else:
        line = capsys.readouterr().err.strip()
        assert line == "thermopot: TI N=64: 967/1000 sweeps (97%), 3.5 s elapsed, about 0.12 s left"
    job.close()
