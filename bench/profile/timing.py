"""Timing helpers: median milliseconds of a callable, and the device's copy bandwidth.

CUDA: triton.testing.do_bench (warm-up, L2 flush, CUDA events) when Triton is
present, else CUDA events. CPU: perf_counter around whole calls after warm-up.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ms(fn: Callable[[], object], device: torch.device, quick: bool = False) -> float:
    """Median ms per call of fn (already warmed up once by the caller or not)."""
    if device.type == "cuda":
        try:
            from triton.testing import do_bench

            return float(do_bench(fn, warmup=10 if quick else 25, rep=40 if quick else 100,
                                  return_mode="median"))
        except ImportError:
            return _cuda_events(fn, reps=10 if quick else 50)
    fn()  # warm-up (allocator, caches)
    budget = 0.4 if quick else 1.5  # seconds per measurement
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def _cuda_events(fn: Callable[[], object], reps: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def copy_bandwidth_gbs(device: torch.device, quick: bool = False) -> float:
    """GB/s of a device copy of a large tensor (read + write bytes / time): the roofline."""
    numel = (64 if device.type == "cpu" else 512) * 2**20 // 4  # 64 MiB CPU, 512 MiB GPU (fp32)
    if quick:
        numel //= 2
    src = torch.randn(numel, device=device)
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src), device, quick)
    return 2 * src.numel() * src.element_size() / (ms * 1e-3) / 1e9
