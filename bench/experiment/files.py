"""Atomic writes that leave a file alone when its content would not change.

A re-run of a finished experiment then changes nothing on disk, not even mtimes.
"""

from __future__ import annotations

from pathlib import Path

from bench.atomic import atomic_write_bytes, atomic_write_text


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
    atomic_write_bytes(path, data)
    return True
