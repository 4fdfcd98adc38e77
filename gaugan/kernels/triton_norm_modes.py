"""Statistics modes of the fused norm-modulate op (shared by the op and its fake)."""

from __future__ import annotations

# instance: per (n, c) plane; batch: per channel over N, H, W (training batch norm);
# given: per-channel running statistics passed in (eval batch norm).
MODES = ("instance", "batch", "given")


def stats_size(mode: str, n: int, c: int) -> int:
    """Length of the fp32 mean / rstd vectors."""
    return n * c if mode == "instance" else c
