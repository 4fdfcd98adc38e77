"""Fused SPADE paths: a Triton kernel (CUDA) and a torch.compile path (any device).

- op.py: gaugan::spade_norm_mod, the norm statistics + modulation + LeakyReLU as
  one custom op with a Triton forward and backward (triton_norm.py).
- torch_norm.py / compiled.py: the same step in torch ops, under torch.compile.
- block_fusions.py: merged gamma/beta conv, one-hot conv as a gather.
- label_cache.py: the label map resized once per resolution.
- backend.py: which path a SPADE layer runs (eager | compile | triton | auto).
Importing this package never needs Triton; the kernels load on first use.
"""

from __future__ import annotations

import torch.nn as nn

from gaugan.kernels.backend import BACKENDS, check_backend


def set_spade_backend(model: nn.Module, backend: str) -> int:
    """Set `backend` on every SPADE layer of `model`; returns how many were set."""
    from gaugan.layers.spade import SPADE

    check_backend(backend)
    count = 0
    for m in model.modules():
        if isinstance(m, SPADE):
            m.backend = backend
            count += 1
    return count


__all__ = ["BACKENDS", "check_backend", "set_spade_backend"]
