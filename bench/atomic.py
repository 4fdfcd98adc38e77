"""Atomic writes: a temp file in the target's folder, fsync, then rename over the target.

A reader (or a crash) sees the old file or the new one, never half of one. Files get
the permissions a plain open() would give (mkstemp alone makes them owner-only).
Pure standard library, so the profiler imports it on a bare GPU machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

_UMASK = os.umask(0)
os.umask(_UMASK)


def make_public(path: str | os.PathLike, directory: bool = False) -> None:
    """Permissions of a normally created file (0666) or folder (0777), less the umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_UMASK)


def check_output_dir(path: str | os.PathLike | None, option: str = "--out") -> None:
    """Raise BenchError, before anything runs or is written, when the output folder `path`
    cannot be made: its nearest existing ancestor is not a folder (a path under a file) or
    is not writable. Creates nothing, so a dry run can call it. None (the command's default
    folder) passes."""
    from bench.errors import BenchError

    if path is None:
        return
    path = Path(path).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise BenchError(f"{option} {path}: exists and is not a folder")
    top = path
    while not top.exists():
        top = top.parent
    if not top.is_dir():
        raise BenchError(f"{option} {path}: cannot be created, {top} is not a folder")
    if not os.access(top, os.W_OK | os.X_OK):
        raise BenchError(f"{option} {path}: cannot be written, no write permission in {top}")


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call write(f) on a temp file beside `path`, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        make_public(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    def copy(f: BinaryIO) -> None:
        with open(src, "rb") as s:
            shutil.copyfileobj(s, f)

    atomic_write(dest, copy)
