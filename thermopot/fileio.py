"""Files that cannot be lost: every file thermopot writes goes through :func:`~thermopot.fileio.atomic_write`.

The content is written to a temporary file in the destination's folder (``.NAME.<random>.tmp``),
flushed and fsynced, then renamed over the destination with ``os.replace`` (atomic on POSIX and on
Windows within one file system), and the folder is fsynced so that the rename survives a crash.
A reader therefore sees either the previous file or the new one, never a torn mix. A writer killed
mid-write leaves only its temporary file, whose name starts with ``.NAME.`` and ends in ``.tmp``
(``.old`` for a folder moved aside by :func:`atomic_folder`); the next write of the same destination
removes such orphans once they are older than ``ORPHAN_AGE_SECONDS`` (a concurrent writer's live
temporary file is younger than that). A whole folder (the validation report) is built beside its
destination and swapped in by :func:`atomic_folder`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import IO, Iterator

from .errors import ThermopotError

ORPHAN_AGE_SECONDS = 3600.0

__all__ = ["atomic_write", "atomic_folder", "check_replaceable", "npz_path", "remove_orphans", "refuse_overwrite",
           "ORPHAN_AGE_SECONDS", "REPORT_ENTRIES"]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_orphans(path: str | os.PathLike, *, older_than: float = ORPHAN_AGE_SECONDS) -> int:
    """Remove temporary files left by killed writers of ``path`` (older than ``older_than`` seconds).

    Returns the number removed."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    prefix = _temp_prefix(path)
    now = time.time()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith((".tmp", ".old")):
            try:
                if now - entry.stat().st_mtime >= older_than:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                    removed += 1
            except OSError:
                pass
    return removed


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit, replace ``path`` with it.

    ``mode`` is ``"wb"`` or ``"w"`` (text, ``encoding`` defaults to UTF-8). If the body raises, the
    temporary file is removed and ``path`` is left as it was.

    >>> with atomic_write("model.npz") as fh:      # doctest: +SKIP
    ...     np.savez(fh, h=h, J=J)
    """
    if mode not in ("wb", "w"):
        raise ThermopotError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ThermopotError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise ThermopotError(f"cannot write {path}: it is a folder")
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=folder)
    try:
        if mode == "w":
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="")
        else:
            fh = os.fdopen(fd, "wb")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            # keep the permissions of the file we replace; mkstemp creates 0600
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def refuse_overwrite(out: str | os.PathLike, *, force: bool = False, inputs: tuple = ()) -> Path:
    """Check an output path before a command writes it.

    Always refuses a path that is one of the command's ``inputs`` (the same file, also through a link);
    refuses an existing file unless ``force``. Returns ``out`` as a Path."""
    out = Path(out)
    for src in inputs:
        if src is None:
            continue
        src = Path(src)
        try:
            same = out.exists() and src.exists() and os.path.samefile(out, src)
        except OSError:
            same = False
        if same or out.resolve() == src.resolve():
            raise ThermopotError(f"--out {out} is the command's own input {src}: choose another file")
    if out.exists() and not force:
        raise ThermopotError(f"--out {out} exists: pass --force to overwrite it")
    return out


def npz_path(path: str | os.PathLike, what: str, error: type[ThermopotError] = ThermopotError) -> str:
    """The file an array archive saved to ``path`` goes to: ``path`` with ``.npz`` appended when missing
    (as numpy.savez does); ``error`` naming a ``what`` file when that is a folder or its folder is missing."""
    given = os.fspath(path)
    path = given if given.endswith(".npz") else given + ".npz"
    for name in (given, path):
        if os.path.isdir(name):
            raise error(f"cannot write a {what} to {name!r}: it is a directory; give a file name such as "
                        f"{os.path.join(name, what.replace(' ', '_') + '.npz')!r}")
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise error(f"cannot write a {what} to {path!r}: the folder {folder!r} does not exist")
    return path


#: the entries a folder written by :func:`atomic_folder` may hold for it to be replaced (a report)
REPORT_ENTRIES = frozenset({"report.md", "results.json", "figures"})


def check_replaceable(out: str | os.PathLike, entries: frozenset = REPORT_ENTRIES) -> Path:
    """Refuse an output folder that :func:`atomic_folder` must not replace: an existing file, or a folder
    holding anything but ``entries`` (it is not an earlier report, so replacing it could delete a
    user's files). An empty or missing folder is fine. Returns ``out`` as a Path."""
    out = Path(out)
    try:  # one look at the path: a concurrent writer may move the folder away at any moment
        is_folder = stat.S_ISDIR(out.stat().st_mode)
    except FileNotFoundError:
        return out
    if not is_folder:
        raise ThermopotError(f"--out {out} is a file, not a report folder: choose another path")
    try:
        names = [e.name for e in os.scandir(out)]
    except (FileNotFoundError, NotADirectoryError):  # moved away since: as good as missing
        return out
    foreign = sorted(name for name in names if name not in entries)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise ThermopotError(f"--out {out} holds files that are not part of a report ({shown}); "
                             f"it would be replaced as a whole: choose a new or empty folder")
    return out


def _swap_folder(stage: Path, out: Path) -> None:
    """Move ``out`` aside (``.NAME.<random>.old``), rename ``stage`` to ``out``, delete the old folder.
    A concurrent writer that takes ``out`` in between makes the rename fail: then try again."""
    for _ in range(100):
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=_temp_prefix(out), suffix=".old", dir=out.parent))
            try:
                os.replace(out, old / "report")
            except FileNotFoundError:  # another writer moved it first
                pass
        try:
            os.rename(stage, out)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not out.exists():
                if old is not None and (old / "report").exists() and not out.exists():
                    os.replace(old / "report", out)  # put the previous report back
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                raise
            if old is not None:  # out reappeared (a concurrent writer's): what was moved aside is older
                shutil.rmtree(old, ignore_errors=True)
            continue
        _fsync_folder(out.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    raise ThermopotError(f"could not replace {out}: other writers kept replacing it")


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike, entries: frozenset = REPORT_ENTRIES) -> Iterator[Path]:
    """Build a folder (a report) in a new sibling ``.NAME.<random>.tmp`` and, on a clean exit, put it in
    place of ``out`` as a whole: a reader never sees new files beside old ones. ``out`` must be missing,
    empty, or hold only ``entries`` (:func:`check_replaceable`). If the body raises, the staging folder is
    removed and ``out`` is left as it was. Orphans of killed writers are removed as by :func:`atomic_write`.

    >>> with atomic_folder("validation-report") as stage:   # doctest: +SKIP
    ...     write_report(checks, stage)
    """
    out = check_replaceable(out, entries)
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(out)
    stage = Path(tempfile.mkdtemp(prefix=_temp_prefix(out), suffix=".tmp", dir=parent))
    try:
        yield stage
        check_replaceable(out, entries)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)
        _swap_folder(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
