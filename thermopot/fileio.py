"""Files that cannot be lost: every file thermopot writes goes through :func:`atomic_write`.

The content is written to a temporary file in the destination's folder (``.NAME.<random>.tmp``),
flushed and fsynced, then renamed over the destination with ``os.replace`` (atomic on POSIX and on
Windows within one file system), and the folder is fsynced so that the rename survives a crash.
A reader therefore sees either the previous file or the new one, never a torn mix. A writer killed
mid-write leaves only its temporary file, whose name starts with ``.NAME.`` and ends in ``.tmp``;
the next write of the same destination removes such orphans once they are older than
``ORPHAN_AGE_SECONDS`` (a concurrent writer's live temporary file is younger than that).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Iterator

from .errors import ThermopotError

ORPHAN_AGE_SECONDS = 3600.0

__all__ = ["atomic_write", "remove_orphans", "refuse_overwrite", "ORPHAN_AGE_SECONDS"]


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
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            try:
                if now - entry.stat().st_mtime >= older_than:
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
