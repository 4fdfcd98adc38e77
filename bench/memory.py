"""Peak memory of one call above what was live at its start, on CUDA or the CPU; and
RssSampler, the process's peak resident set size over a stretch of code (a training run).

CUDA: torch.cuda.max_memory_allocated above the call's start (the caching allocator's
own bookkeeping: exact). CPU: the peak resident set size above the call's start,
sampled every ms from /proc/self/statm, with glibc's mmap threshold at 64 KiB during
the call (each tensor its own mapping, unmapped when freed, so the RSS follows the live
tensors); without glibc the allocator caches freed blocks and the figure is a lower bound.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable

import torch

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def peak_memory(call: Callable[[], object], device: torch.device) -> dict:
    """Run `call` once; {"peak_mb": MB above the start, "peak_kind": how it was measured}."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        call()
        torch.cuda.synchronize(device)
        return {"peak_mb": (torch.cuda.max_memory_allocated(device) - before) / 2**20,
                "peak_kind": "cuda max_memory_allocated above the call's start"}
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
        libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024)
    sampler = RssSampler()
    try:
        with sampler:
            call()
    finally:
        if libc is not None:  # back to a fixed threshold at glibc's dynamic maximum
            libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
            libc.malloc_trim(0)
    kind = "cpu peak RSS above the call's start" + ("" if libc else " (allocator caching: a lower bound)")
    return {"peak_mb": sampler.peak_mb, "peak_kind": kind}


def _libc():
    """glibc (for mallopt / malloc_trim), or None elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both must exist
        return libc
    except (OSError, AttributeError):
        return None


class RssSampler:
    """Peak resident set size while inside, polled every `interval` s from /proc/self/statm:
    `peak_mb` above the start, `peak_rss_mb` absolute (None where /proc is missing).

    Unlike ru_maxrss (the process's high-water mark since it started) this is the peak of
    this stretch only, so runs trained one after another in one process each get their own."""

    def __init__(self, interval: float = 0.001):
        self.interval = interval
        self.peak_mb = self.peak_rss_mb = None

    def __enter__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = self._rss()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self.page
        except OSError:
            return 0

    def _poll(self):
        while not self.stop.wait(self.interval):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self._rss())
        self.peak_mb = (self.peak - self.start) / 2**20 if self.start else None
        self.peak_rss_mb = self.peak / 2**20 if self.start else None
        return False
