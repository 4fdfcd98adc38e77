"""Atomic writes that leave a file alone when its content would not change.

A re-run of a finished experiment then changes nothing on disk, not even mtimes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.config import atomic_write_text


def write_text_if_changed(path: Path, text: str) -> bool:
    path = Path(path)
    if path.is_file() and path.read_text() == text:
        return False
    atomic_write_text(path, text)
    return True


def write_bytes_if_changed(path: Path, data: bytes) -> bool:
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
