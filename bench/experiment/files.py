"""Atomic writes that leave a file alone when its content would not change.

A re-run of a finished experiment then changes nothing on disk, not even mtimes.
"""

from __future__ import annotations

from pathlib import Path

from bench.atomic import atomic_write_bytes


def write_bytes_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` atomically unless the file already holds it; True if written."""
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


def write_text_if_changed(path: Path, text: str) -> bool:
    return write_bytes_if_changed(path, text.encode("utf-8"))
