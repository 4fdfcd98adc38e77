"""bench.memory: the peak of one call above what was live at its start."""

from __future__ import annotations

import time

import torch

from bench.memory import peak_memory


def test_cpu_peak_follows_the_live_tensors():
    held = torch.ones(2**20)  # 4 MB live before the call: not counted

    def call():
        a = torch.ones(16 * 2**20)  # 64 MB, touched
        b = a * 2  # another 64 MB while a is live: peak 128 MB
        time.sleep(0.1)  # both held: a 1 ms poller sees it even on a loaded machine
        return float(b[0])

    out = peak_memory(call, torch.device("cpu"))
    assert 120 <= out["peak_mb"] <= 140, out
    small = peak_memory(lambda: float(torch.ones(2**18).sum()), torch.device("cpu"))  # 1 MB
    assert small["peak_mb"] < 8, small
    assert held.sum() == 2**20


def test_rss_sampler_gives_each_stretch_its_own_peak():
    """Runs trained one after another in one process: the second, smaller one must not
    report the first one's peak (ru_maxrss, the process's high-water mark, would)."""
    import time

    from bench.memory import RssSampler

    with RssSampler(interval=0.005) as big:
        a = torch.ones(64 * 2**20)  # 256 MB, touched
        time.sleep(0.05)  # a few polls while it is live
        del a
    with RssSampler(interval=0.005) as small:
        b = torch.ones(2**18)  # 1 MB
        time.sleep(0.05)
        del b
    assert big.peak_mb >= 240, big.peak_mb
    assert small.peak_rss_mb < big.peak_rss_mb - 200, (small.peak_rss_mb, big.peak_rss_mb)
