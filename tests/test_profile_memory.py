"""bench.profile.memory: the peak of one call above what was live at its start."""

from __future__ import annotations

import torch

from bench.profile.memory import peak_memory


def test_cpu_peak_follows_the_live_tensors():
    held = torch.ones(2**20)  # 4 MB live before the call: not counted

    def call():
        a = torch.ones(16 * 2**20)  # 64 MB, touched
        b = a * 2  # another 64 MB while a is live: peak 128 MB
        return float(b[0])

    out = peak_memory(call, torch.device("cpu"))
    assert 120 <= out["peak_mb"] <= 140, out
    small = peak_memory(lambda: float(torch.ones(2**18).sum()), torch.device("cpu"))  # 1 MB
    assert small["peak_mb"] < 8, small
    assert held.sum() == 2**20
