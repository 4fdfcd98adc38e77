"""Block-level fusions around the norm-modulate step, built from SPADE's own weights.

- merged_conv: gamma and beta convs as one conv of 2C outputs; the weights are
  torch.cat of mlp_gamma and mlp_beta (no new parameters; gradients flow back to both).
- onehot_conv: the shared conv on a one-hot label map as a gather of class
  embeddings: conv(onehot)[:, p] = bias + sum over the k x k window of
  W[:, class(p + offset), ky, kx]. Pixels outside the map read a "void" class whose
  embedding is zero, which is exactly the dense conv's zero padding.
- which fusions run where: FUSIONS, per device type, set from `bench profile spade`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class BlockFusions:
    merged_conv: bool  # gamma+beta as one conv of 2C outputs
    onehot_gather: bool  # shared conv as a gather of class embeddings (one-hot maps only)
    shared_resize: bool  # label map resized once per resolution, shared by the layers there


# Measured (bench profile spade, layer level): on the CPU the dense conv over ~150
# one-hot channels dominates and the gather wins by far; on CUDA the dense conv runs
# on tensor cores and the gather (9 embedding rows per pixel) does not pay off.
FUSIONS: dict[str, BlockFusions] = {
    "cpu": BlockFusions(merged_conv=True, onehot_gather=True, shared_resize=True),
    "cuda": BlockFusions(merged_conv=True, onehot_gather=False, shared_resize=True),
}
NO_FUSIONS = BlockFusions(merged_conv=False, onehot_gather=False, shared_resize=False)


def fusions_for(device: torch.device) -> BlockFusions:
    return FUSIONS.get(device.type, NO_FUSIONS)


def merged_conv(x: Tensor, conv_a: nn.Conv2d, conv_b: nn.Conv2d) -> Tensor:
    """cat(conv_a(x), conv_b(x)) along channels, as one conv (same padding/stride)."""
    weight = torch.cat([conv_a.weight, conv_b.weight], 0)  # (Ca + Cb, Cin, k, k)
    bias = torch.cat([conv_a.bias, conv_b.bias], 0)
    return F.conv2d(x, weight, bias, conv_a.stride, conv_a.padding, conv_a.dilation)


def onehot_conv(labels: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Dense 'same' conv (stride 1, zero padding k // 2) of one_hot(labels), as a gather.

    labels: (N, H, W) int64 class ids in [0, K); weight: (O, K, kh, kw); bias: (O,).
    Returns (N, O, H, W) in channels_last memory (the gather's natural layout).
    """
    n, h, w = labels.shape
    o, k, kh, kw = weight.shape
    void = k  # the class read outside the map; its embedding row is zero
    padded = F.pad(labels, (kw // 2, kw // 2, kh // 2, kh // 2), value=void)
    # table[(ky * kw + kx) * (K + 1) + class] = W[:, class, ky, kx]
    table = F.pad(weight.permute(2, 3, 1, 0), (0, 0, 0, 1))  # (kh, kw, K+1, O)
    table = table.reshape(kh * kw * (k + 1), o)
    idx = torch.stack(
        [padded[:, ky:ky + h, kx:kx + w] + (ky * kw + kx) * (k + 1)
         for ky in range(kh) for kx in range(kw)], dim=-1,
    )  # (N, H, W, kh*kw)
    out = F.embedding_bag(idx.reshape(-1, kh * kw), table, mode="sum")  # (N*H*W, O)
    out = out + bias
    return out.view(n, h, w, o).permute(0, 3, 1, 2)
