"""Checkpoints that cannot be lost and know what they belong to: a writer killed mid-save leaves the
previous checkpoint loadable; concurrent writers never leave a torn file; a truncated, bit-flipped or
edited checkpoint, or one of another model or temperature, is a ThermopotError naming the file."""

import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from thermopot.errors import ThermopotError
from thermopot.models import random_multispin, random_pairwise
from thermopot.sampling import Sampler, load_state, save_state

MODEL = random_pairwise(10, seed=0)

WRITER = """
import sys
from thermopot.models import random_pairwise
from thermopot.sampling import Sampler, save_state
path, seed, saves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sampler = Sampler(random_pairwise(200, seed=0), 0.8)
state = sampler.run(sampler.init(chains=64, seed=seed), 3, progress=False)
save_state(path, sampler, state)
print("saved", flush=True)
for _ in range(saves):
    save_state(path, sampler, state)
"""


def writer(path, seed, saves):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(seed), str(saves)],
                            stdout=subprocess.PIPE, text=True)


def saved(tmp_path):
    """The path of a checkpoint of 4 chains after 30 sweeps, and the state written to it."""
    path = tmp_path / "run.npz"
    sampler = Sampler(MODEL, 0.8, correlations=True)
    state = sampler.run(sampler.init(chains=4, seed=1), 30, progress=False)
    save_state(path, sampler, state)
    return path, state


def rewrite(path, edit, keep_checksum=True):
    """Rewrite a checkpoint with ``edit(arrays)`` applied: with its old checksum (an edit by hand), or
    with a recomputed one (keep_checksum False: only the deeper checks can catch it)."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    edit(arrays)
    if not keep_checksum:
        from thermopot.sampling.checkpoint import digest  # noqa: PLC0415 (the file's own checksum)

        arrays.pop("checksum")
        arrays["checksum"] = np.array(digest(arrays))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def assert_refused(path, match, **expected):
    with pytest.raises(ThermopotError, match=match) as info:
        load_state(path, **expected)
    assert str(path) in str(info.value)


def test_killed_writer_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    rng = random.Random(0)
    for _ in range(3):
        proc = writer(path, 1, 10**6)
        assert proc.stdout.readline().strip() == "saved"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, resumed = load_state(path, model=random_pairwise(200, seed=0), T=0.8)
        assert resumed.seed == 1 and resumed.sweeps_done == 3
    # what a killed writer leaves is a temporary file named for the checkpoint (the next save removes
    # it once stale), never an anonymous one
    for name in os.listdir(tmp_path):
        assert name == "run.npz" or re.fullmatch(r"\.run\.npz\..+\.tmp", name), name


def test_concurrent_writers_never_tear_the_file(tmp_path):
    path = tmp_path / "run.npz"
    procs = [writer(path, seed, 15) for seed in (1, 2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "saved"
    loads = 0
    while any(proc.poll() is None for proc in procs):
        assert load_state(path)[1].seed in (1, 2)
        loads += 1
    assert all(proc.returncode == 0 for proc in procs) and loads >= 1
    assert load_state(path)[1].seed in (1, 2)
    assert os.listdir(tmp_path) == ["run.npz"]


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_checkpoint(tmp_path, fraction):
    path, _ = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    assert_refused(path, "checkpoint")


def test_bit_flips_in_the_data_are_refused(tmp_path):
    path, state = saved(tmp_path)
    good = path.read_bytes()
    start = good.find(np.ascontiguousarray(state.spins).tobytes())
    meta = good.find('"sweeps_done"'.encode("utf-32-le"))  # numpy stores str as UTF-32
    assert start > 0 and meta > 0
    for pos in (start, start + 17, start + 8 * 40 - 1, meta + 4 * 16):
        bad = bytearray(good)
        bad[pos] ^= 0x04
        path.write_bytes(bytes(bad))
        assert_refused(path, "checkpoint")


def test_any_bit_flip_is_refused_or_harmless(tmp_path):
    """A flipped bit anywhere (zip headers included) gives a ThermopotError, or, where zip ignores it
    (a time stamp), the same checkpoint: never another exception, never a different state."""
    path, state = saved(tmp_path)
    good = path.read_bytes()
    for pos in range(0, len(good), 11):
        bad = bytearray(good)
        bad[pos] ^= 0x10
        path.write_bytes(bytes(bad))
        try:
            _, resumed = load_state(path)
        except ThermopotError as exc:
            assert str(path) in str(exc)
            continue
        assert np.array_equal(resumed.spins, state.spins) and resumed.sweeps_done == state.sweeps_done


def test_edited_checkpoints(tmp_path):
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a.update(meta=np.array(str(a["meta"]).replace('"T": 0.8', '"T": 0.5'))))
    assert_refused(path, "corrupt or was edited")
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a["spins"].__setitem__((0, 0), -a["spins"][0, 0]), keep_checksum=False)
    assert_refused(path, "kernel cache")
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a["model_J"].__setitem__((0, 1), 5.0), keep_checksum=False)
    assert_refused(path, "model is not valid")
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a["model_J"].__setitem__(([0, 1], [1, 0]), 5.0), keep_checksum=False)
    assert_refused(path, "model digest")
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a.pop("flips"), keep_checksum=False)
    assert_refused(path, "lacks")
    path, _ = saved(tmp_path)
    rewrite(path, lambda a: a.pop("checksum"))
    assert_refused(path, "not a sampler checkpoint")


def test_checkpoint_of_another_model_or_temperature(tmp_path):
    path, state = saved(tmp_path)
    assert_refused(path, "another model", model=random_pairwise(10, seed=1))
    assert_refused(path, r"T = 0\.8", T=0.9)
    _, resumed = load_state(path, model="random:n=10,seed=0", T=0.8)  # the same model as a spec
    assert np.array_equal(resumed.spins, state.spins)
    multi = random_multispin(6, seed=2)
    sampler = Sampler(multi, 1.0)
    save_state(tmp_path / "multi.npz", sampler, sampler.run(sampler.init(chains=2, seed=0), 3, progress=False))
    assert load_state(tmp_path / "multi.npz", model=multi, T=1.0)[0].n == 6
    assert_refused(tmp_path / "multi.npz", "another model", model=MODEL)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + bytes(100)])
def test_files_that_are_not_checkpoints(tmp_path, content):
    path = tmp_path / "run.npz"
    path.write_bytes(content)
    assert_refused(path, "checkpoint")
