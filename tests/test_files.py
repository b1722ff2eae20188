"""Files that cannot be lost and inputs that are checked (issue 16 items 2, 3, 5 and 8): writers killed with
SIGKILL mid-save leave the previous file loadable; concurrent writers leave one whole file; truncated,
bit-flipped and edited files give a ThermopotError or are re-derived; ``--out`` never destroys an input;
the public constructors and seeds are validated; progress reaches a log when stderr is not a terminal."""

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import thermopot.progress as progress_module
from thermopot import validation
from thermopot.checks import check_rng
from thermopot.cli import main
from thermopot.errors import ThermopotError
from thermopot.fileio import atomic_folder, atomic_write, remove_orphans
from thermopot.learning import Dataset, as_dataset, load_dataset, sample_exact, save_dataset
from thermopot.learning.data import DataError
from thermopot.models import load_model, random_pairwise, save_model, sk
from thermopot.models.families import random_multispin, random_patterns
from thermopot.datasets import noisy_patterns_dataset, random_patterns_dataset
from thermopot.errors import ModelError

needs_posix = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and rename semantics of POSIX")

# --- writers killed mid-save --------------------------------------------------------------------------------

#: a process that saves FILE over and over until killed, or COUNT times when COUNT > 0: save i holds the value
#: OFFSET + 1 + (i % 2) everywhere (h and J, every weight, results.json and its figure), so that a torn file or
#: a mix of two saves shows; the objects are built once, so that the loop spends its time writing
WRITER = """
import sys, time, types
import numpy as np
kind, path, count, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
values = (offset + 1.0, offset + 2.0)
if kind == "model":
    from thermopot.models import PairwiseModel, save_model
    n = 1000
    off = np.ones((n, n)) - np.eye(n)
    objects = {v: PairwiseModel(np.full(n, v), v * off) for v in values}
    write = lambda v: save_model(path, objects[v])
elif kind == "data":
    from thermopot.learning import Dataset, save_dataset
    samples = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(20000, 100))
    objects = {v: Dataset(samples, np.full(len(samples), v)) for v in values}
    write = lambda v: save_dataset(path, objects[v])
else:
    from pathlib import Path
    from thermopot import validation
    state = {}
    def run(ctx):
        Path(ctx.figure("run")).write_text(repr(state["v"]))
        time.sleep(0.01)
        ctx.check(f"run {state['v']!r}", 0.0, 0.0, 0.0, figure=ctx.figure("run"))
    module = types.ModuleType("thermopot.validation.fake_writer")
    module.run = run
    sys.modules[module.__name__] = module
    validation.MODULES = ("fake_writer",)
    def write(v):
        state["v"] = v
        validation.run_validations(out=path, progress=False)
i = 0
while count <= 0 or i < count:
    i += 1
    write(values[i % 2])
"""


def _writer(kind, path, count=0, offset=0.0):
    return subprocess.Popen([sys.executable, "-c", WRITER, kind, str(path), str(count), str(offset)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _value_of_model(path):
    model = load_model(path)
    v = float(model.h[0])
    np.testing.assert_array_equal(model.h, np.full(model.n, v))  # one whole save, not a mix of two
    np.testing.assert_array_equal(model.J, v * (np.ones((model.n, model.n)) - np.eye(model.n)))
    return v


def _value_of_data(path):
    data = load_dataset(path)
    v = float(data.weights[0])
    assert data.size == 20000 and data.n == 100 and data.samples.dtype == np.int8
    np.testing.assert_array_equal(data.weights, np.full(data.size, v))
    return v


def _value_of_report(path):
    results = json.loads((path / "results.json").read_text())
    (check,) = results["checks"]
    figure = Path(check["figure"])
    assert figure == path / "figures" / "fake_writer-run.png"
    v = float(figure.read_text())  # the figure of the same run as results.json, not a newer one
    assert check["name"] == f"run {v!r}" and results["passed"] is True
    assert f"run {v!r}" in (path / "report.md").read_text()
    assert sorted(p.name for p in (path / "figures").iterdir()) == ["fake_writer-run.png"]
    return v


READERS = {"model": ("model.npz", _value_of_model), "data": ("data.npz", _value_of_data),
           "report": ("report", _value_of_report)}


@needs_posix
@pytest.mark.parametrize("kind", list(READERS))
def test_killed_writer_leaves_the_previous_file(kind, tmp_path):
    """SIGKILL at random moments of a save loop: the file on disk is always one whole earlier save."""
    name, read = READERS[kind]
    path = tmp_path / name
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(6):
        proc = _writer(kind, path)
        deadline = time.monotonic() + 120
        while not (path / "results.json" if kind == "report" else path).exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer wrote nothing in 120 s"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        seen.append(read(path))
    assert set(seen) <= {1.0, 2.0}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != name]
    assert all(p.startswith(f".{name}.") and p.endswith((".tmp", ".old")) for p in leftovers), leftovers
    remove_orphans(path, older_than=0.0)  # what the next write does once they are old
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@needs_posix
@pytest.mark.parametrize("kind", list(READERS))
def test_concurrent_writers_leave_one_whole_file(kind, tmp_path):
    name, read = READERS[kind]
    path = tmp_path / name
    count = 4 if kind == "report" else 10
    procs = [_writer(kind, path, count=count, offset=offset) for offset in (0.0, 1000.0)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
        proc.stderr.close()
    assert read(path) in (1.0 + count % 2, 1001.0 + count % 2)  # the last save of one of the two writers
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left behind


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "model.npz"
    save_model(path, sk(4, seed=0))
    with pytest.raises(RuntimeError), atomic_write(path, "wb") as fh:
        fh.write(b"half a file")
        raise RuntimeError("disk full")
    np.testing.assert_array_equal(load_model(path).J, sk(4, seed=0).J)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


# --- damaged files ------------------------------------------------------------------------------------------

def _damaged(data: bytes, rng: np.random.Generator, count: int = 40):
    """Truncations and single-bit flips of ``data`` at spread-out positions."""
    for cut in np.linspace(0, len(data) - 1, count // 2).astype(int):
        yield "truncated", data[:cut]
    for pos in rng.choice(len(data), size=count, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(8))
        yield "bit-flipped", bytes(flipped)


@pytest.mark.parametrize("kind", ["model", "data"])
def test_truncated_and_bit_flipped_files_are_refused_or_intact(kind, tmp_path):
    """Every damaged file gives the reader's ThermopotError naming the file, or (a flip in a zip header
    field nobody reads) the very same content, never a traceback or other numbers."""
    path = tmp_path / f"{kind}.npz"
    if kind == "model":
        original = random_pairwise(5, seed=1)
        save_model(path, original)
        read, error = load_model, ModelError
        same = lambda m: np.array_equal(m.h, original.h) and np.array_equal(m.J, original.J)  # noqa: E731
    else:
        original = as_dataset(np.random.default_rng(2).choice([-1, 1], size=(30, 6)), np.arange(1.0, 31.0))
        save_dataset(path, original)
        read, error = load_dataset, DataError
        same = lambda d: (np.array_equal(d.samples, original.samples)  # noqa: E731
                          and np.array_equal(d.weights, original.weights))
    data = path.read_bytes()
    damaged = tmp_path / f"damaged-{kind}.npz"
    for how, content in _damaged(data, np.random.default_rng(3)):
        damaged.write_bytes(content)
        try:
            loaded = read(damaged)
        except error as exc:
            assert str(damaged) in str(exc), (how, exc)
        else:
            assert same(loaded), how


def test_edited_model_file_is_refused_when_incomplete(tmp_path):
    path = tmp_path / "edited.npz"
    np.savez(path, h=np.zeros(3), couplings=np.zeros(2))
    with pytest.raises(ModelError, match="needs 'h' and 'J'"):
        load_model(path)


@pytest.fixture
def plefka_cache(tmp_path, monkeypatch):
    """A user cache in tmp_path and no shipped file, so that order 3 comes from the cache."""
    from thermopot.symbolic.plefka import store as store

    monkeypatch.setenv("THERMOPOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(store, "DATA_FILE", tmp_path / "no-shipped-file.json")
    return store, tmp_path / "plefka_order3.json"


def _edit_coefficient(text: str) -> str:
    data = json.loads(text)
    data["terms"][-1]["coefficient"][0][1] = "7/3"  # still valid JSON and a valid term: only the checksum tells
    return json.dumps(data)


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped", "edited coefficient", "not JSON", "renamed key",
                                    "wrong types"])
def test_damaged_plefka_cache_is_derived_again(plefka_cache, damage):
    store, path = plefka_cache
    fresh = store.derive_graph_terms(3)
    assert store.load_graph_terms(3) == fresh and path.exists()  # derived and cached
    assert store.load_graph_terms(3) == fresh  # read back from the cache
    text = path.read_text()
    damaged = {"truncated": lambda t: t[: len(t) // 2],
               "bit-flipped": lambda t: t.replace('"1/2"', '"1/3"', 1),
               "edited coefficient": _edit_coefficient,
               "not JSON": lambda t: "\x00\xff garbage",
               "renamed key": lambda t: t.replace('"coefficient"', '"coefficients"'),
               "wrong types": lambda t: json.dumps({**json.loads(t), "terms": [1, 2, 3]})}[damage](text)
    assert damaged != text
    path.write_text(damaged)
    assert store.load_graph_terms(3) == fresh  # never the damaged terms, never a traceback
    assert json.loads(path.read_text())["sha256"] == json.loads(text)["sha256"]  # written again


def test_shipped_plefka_file_carries_its_checksum():
    from thermopot.symbolic.plefka import store as store

    data = json.loads(store.DATA_FILE.read_text())
    assert data["sha256"] == store._checksum(data["order"], data["terms"])
    assert store._read(store.DATA_FILE, data["order"]) is not None


def test_edited_meanfield_program_file_is_refused(tmp_path, monkeypatch):
    from thermopot.meanfield import program as code
    from thermopot.meanfield.compiler import compile_program

    stored = json.loads(code.PROGRAMS_FILE.read_text())
    assert all(entry["sha256"] == code._checksum(entry) for entry in stored.values())
    stored["2"]["bonds"][0]["left"][0]["c0"][1] = 3.0  # an edit that still parses
    stored["3"] = "garbage"
    copy = tmp_path / "programs.json"
    copy.write_text(json.dumps(stored))
    monkeypatch.setattr(code, "PROGRAMS_FILE", copy)
    assert code._stored_program(2) is None and code._stored_program(3) is None
    assert code._stored_program(1) == compile_program(1)  # intact entries are still used
    with pytest.raises(ThermopotError, match="regenerate"):  # never used, refused with the remedy (the
        code.load_program.__wrapped__(2)                      # program IR must not import its compiler)
    copy.write_text("{not json")
    with pytest.raises(ThermopotError, match="order 1"):
        code.load_program.__wrapped__(1)


# --- --out rules --------------------------------------------------------------------------------------------

def _data_file(tmp_path, name="data.npz"):
    path = tmp_path / name
    np.savez(path, samples=np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(40, 4)))
    return path


def _refused(capsys, argv, *words):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("thermopot: error: ") and err.count("\n") == 1, err
    assert all(w in err for w in words), err


@pytest.mark.parametrize("out", ["data.npz", "data", "link.npz"])
def test_fit_out_never_overwrites_its_data(tmp_path, capsys, out):
    data = _data_file(tmp_path)
    (tmp_path / "link.npz").symlink_to(data)
    before = data.read_bytes()
    for force in ([], ["--force"]):
        _refused(capsys, ["fit", data, "--method", "nmf", "--out", tmp_path / out, *force], "own input")
    assert data.read_bytes() == before  # was replaced by the model, exit 0
    assert load_dataset(data).size == 40


def test_fit_out_needs_force_to_replace_a_file(tmp_path, capsys):
    data = _data_file(tmp_path)
    out = tmp_path / "model.npz"
    save_model(out, sk(4, seed=9))
    _refused(capsys, ["fit", data, "--method", "nmf", "--out", out], "exists", "--force")
    np.testing.assert_array_equal(load_model(out).J, sk(4, seed=9).J)
    assert main(["fit", str(data), "--method", "nmf", "--out", str(out), "--force", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    np.testing.assert_array_equal(load_model(out).J, np.array(info["J"]))


def _fake_module(monkeypatch, name, figures):
    def run(ctx):
        for figure in figures:
            Path(ctx.figure(figure)).write_bytes(b"png")
        ctx.check("ok", 1.0, 1.0, 0.0, figure=ctx.figure(figures[0]) if figures else None)
    module = types.ModuleType(f"thermopot.validation.{name}")
    module.run = run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(validation, "MODULES", validation.MODULES + (name,))


def test_validation_into_an_old_report_replaces_it_as_a_whole(tmp_path, monkeypatch):
    out = tmp_path / "report"
    _fake_module(monkeypatch, "fake_first", ["a", "b"])
    validation.run_validations(out=out, only="fake_first", progress=False)
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["fake_first-a.png", "fake_first-b.png"]
    _fake_module(monkeypatch, "fake_second", ["c"])
    checks = validation.run_validations(out=out, only="fake_second", progress=False)
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["fake_second-c.png"]  # no stale figures
    assert checks[0].figure == str(out / "figures" / "fake_second-c.png")
    results = json.loads((out / "results.json").read_text())
    assert results["checks"][0]["figure"] == checks[0].figure and results["passed"] is True
    assert "](figures/fake_second-c.png)" in (out / "report.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_crashed_report_writer_leaves_the_old_report(tmp_path, monkeypatch):
    out = tmp_path / "report"
    _fake_module(monkeypatch, "fake_first", ["a"])
    validation.run_validations(out=out, only="fake_first", progress=False)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(out) as stage:
            (stage / "results.json").write_text("{}")
            raise KeyboardInterrupt
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize("command", ["validate", "entropic"])
def test_report_folder_with_other_files_is_refused(tmp_path, capsys, command):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "results.json").write_text("{}")
    _refused(capsys, [command, "--out", tmp_path, *(["--only", "thermodynamics"] if command == "validate" else [])],
             "notes.txt", "not part of a report")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "file").write_text("x")
    _refused(capsys, ["validate", "--out", tmp_path / "file"], "is a file")


# --- bad input at the Python API ----------------------------------------------------------------------------

@pytest.mark.parametrize("samples, weights, words", [
    ([[0, 1], [1, 0]], None, "binary01"),             # 0/1 data was fitted as if -1 were 0
    ([[5, 1], [1, -1]], None, "found the values"),
    ([[1, -1], [1, 1]], [1.0, -2.0], ">= 0"),          # crashed deep inside a fit
    ([[1, -1], [1, 1]], [1e308, 1e308], "float64 range"),  # summed to inf: NaN moments
    ([[1, -1], [1, 1]], [0.0, 0.0], "sum to zero"),
    ([[1, -1], [1, 1]], [1.0, np.nan], "NaN"),
    ([[1, -1], [1, 1]], [1.0, 1.0, 1.0], "shape (2,)"),
    ([[1, -1], [1, 1]], [1.0 + 1j, 1.0], "real"),
    ([1, -1], None, "shape (M, N)"),
    (np.zeros((0, 3)), None, "empty"),
])
def test_dataset_constructor_validates_like_the_loader(samples, weights, words, tmp_path):
    with pytest.raises(DataError, match=None) as info:
        Dataset(np.asarray(samples), weights)
    assert words in str(info.value)
    path = tmp_path / "d.npz"
    np.savez(path, samples=np.asarray(samples), **({} if weights is None else {"weights": np.asarray(weights)}))
    with pytest.raises(DataError) as loaded:
        load_dataset(path)
    assert words in str(loaded.value)  # the same message from the file


def test_dataset_constructor_keeps_valid_data():
    d = Dataset(np.array([[1, -1], [-1, -1]]))
    assert d.samples.dtype == np.int8 and np.array_equal(d.weights, [1.0, 1.0])
    m, C = Dataset(np.array([[1, -1], [1, 1]], np.int8), [3.0, 1.0]).moments()
    np.testing.assert_allclose(m, [1.0, -0.5])
    np.testing.assert_allclose(C, [[1.0, -0.5], [-0.5, 1.0]])


@pytest.mark.parametrize("func", ["gibbs_free_energy", "gibbs_gradient", "gibbs_hessian", "plefka_margin",
                                  "plefka_valid"])
@pytest.mark.parametrize("m", [np.array([0.1, 0.2, 0.1j]), [0.1, 0.2 + 0j, 0.3], np.zeros((2, 3), complex)])
def test_complex_magnetisations_are_refused(func, m):
    import thermopot.meanfield as mf

    with pytest.raises(ThermopotError, match="real numbers, got complex"):
        getattr(mf, func)(sk(3, seed=0), m, 1.0)


BAD_SEEDS = [-1, 1.5, "7", True, np.random.RandomState(0)]
SEEDED = {
    "sk": lambda seed: sk(5, seed=seed).J,
    "random_pairwise": lambda seed: random_pairwise(5, seed=seed).J,
    "random_multispin": lambda seed: random_multispin(5, seed=seed).couplings,
    "random_patterns": lambda seed: random_patterns(6, 2, seed=seed),
    "random_patterns_dataset": lambda seed: random_patterns_dataset(6, 3, seed=seed).samples,
    "noisy_patterns_dataset": lambda seed: noisy_patterns_dataset(6, 2, 3, 0.1, seed=seed)[0].samples,
    "sample_exact": lambda seed: sample_exact(sk(4, seed=0), 20, seed=seed),
}


@pytest.mark.parametrize("name", list(SEEDED))
@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_bad_seeds_are_refused_everywhere(name, seed):
    with pytest.raises(ThermopotError, match="seed must be None, an integer >= 0 or a numpy.random.Generator"):
        SEEDED[name](seed)


@pytest.mark.parametrize("name", list(SEEDED))
def test_a_generator_seed_gives_the_integer_seed_stream(name):
    """SPEC 7: an int seed and default_rng(int) give bit-identical results (so int seeds are unchanged)."""
    np.testing.assert_array_equal(SEEDED[name](3), SEEDED[name](np.random.default_rng(3)))


def test_seeds_of_the_knowledge_and_entropic_entry_points():
    from thermopot.entropic.measure import power_iteration
    from thermopot.knowledge.retrieval import trapping_times, trapping_vs_size
    from thermopot.learning import fit_mixture

    with pytest.raises(ThermopotError, match="seed"):
        power_iteration(lambda v: v, {"w": np.ones((1, 3))}, seed=-1)
    with pytest.raises(ThermopotError, match="seed"):
        fit_mixture(np.array([[1, -1], [-1, 1], [1, 1]]), 2, init="random", seed=-3)
    with pytest.raises(ThermopotError, match="seed must be an integer >= 0"):
        trapping_vs_size([4], 2, 1.0, seed=-1)
    assert check_rng(np.random.default_rng(5)).integers(100) == np.random.default_rng(5).integers(100)
    assert callable(trapping_times)


# --- progress in a log --------------------------------------------------------------------------------------

def test_log_lines_say_what_how_far_and_how_long(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "LOG_INTERVAL_SECONDS", 0.0)
    bar = progress_module.progress_bar(4, unit="step", desc="job")
    assert isinstance(bar, progress_module.LogLines)  # stderr is captured: not a terminal
    bar.update(2)
    bar.set_postfix_str("check a: pass")
    bar.close()
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "thermopot: job: started, 0/4 steps"
    assert lines[1].startswith("thermopot: job: 2/4 steps (50%), ") and "elapsed, about" in lines[1]
    assert lines[-1].startswith("thermopot: job: finished 2/4 steps (50%)") and "[check a: pass]" in lines[-1]
    assert len(lines) == 4


def test_log_lines_come_at_a_modest_rate(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "LOG_INTERVAL_SECONDS", 3600.0)
    for _ in progress_module.progress_bar(1000, unit="tile", desc="enumerate", iterable=range(1000)):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["thermopot: enumerate: started, 0/1000 tiles",
                     lines[1]] and lines[1].startswith("thermopot: enumerate: finished 1000/1000 tiles (100%)")


def test_disabled_progress_writes_nothing(capsys):
    bar = progress_module.progress_bar(3, unit="step", desc="job", enabled=False)
    bar.update(3)
    bar.close()
    assert capsys.readouterr().err == ""


PROGRESS_RUN = """
import sys, types
from thermopot import validation
from thermopot.cli import main
def run(ctx):
    ctx.check("ok", 1.0, 1.0, 0.0)
module = types.ModuleType("thermopot.validation.fake_log")
module.run = run
sys.modules[module.__name__] = module
validation.MODULES = ("fake_log",)
sys.exit(main(["validate", "--out", sys.argv[1]]))
"""


def test_validate_progress_reaches_a_log_file(tmp_path):
    """stderr redirected to a file: start and end lines of the run (tqdm printed nothing there)."""
    log = tmp_path / "log"
    with open(log, "w") as err:
        done = subprocess.run([sys.executable, "-c", PROGRESS_RUN, str(tmp_path / "report")], stderr=err,
                              stdout=subprocess.DEVNULL, timeout=300)
    text = log.read_text()
    assert done.returncode == 0, text
    assert "thermopot: validate: started, 0/1 modules" in text
    assert "thermopot: validate fake_log: finished 1/1 modules (100%)" in text and "[ok: pass]" in text
