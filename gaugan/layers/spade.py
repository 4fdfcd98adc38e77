"""SPADE: SPatially-Adaptive (DE)normalization (Park et al., CVPR 2019, eq. 1).

    out = norm(x) * (1 + gamma(m)) + beta(m)

norm is parameter-free (instance / batch / sync-batch); gamma and beta are
per-pixel maps predicted from the label map m by a small conv net: a shared
kernel x kernel conv to `hidden` channels with ReLU, then one conv each for
gamma and beta. Parameter names follow the official implementation
(mlp_shared.0, mlp_gamma, mlp_beta), so its state_dicts load unchanged.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gaugan.layers.norms import ParamFreeInstanceNorm


class SPADE(nn.Module):
    def __init__(
        self,
        norm_nc: int,
        label_nc: int,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
        hidden: int = 128,
        kernel_size: int = 3,
        backend: str = "eager",  # eager | compile | triton | auto (gaugan.kernels)
    ):
        super().__init__()
        self.backend = backend
        pad = kernel_size // 2
        self.param_free_norm = norm(norm_nc)
        self.mlp_shared = nn.Sequential(
            nn.Conv2d(label_nc, hidden, kernel_size, padding=pad), nn.ReLU()
        )
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)

    def modulation(self, segmap: torch.Tensor, size: tuple[int, int]):
        """gamma, beta: (N, C, H, W) each, from the label map resized (nearest) to `size`."""
        seg = F.interpolate(segmap, size=size, mode="nearest")
        actv = self.mlp_shared(seg)
        return self.mlp_gamma(actv), self.mlp_beta(actv)

    def forward(
        self, x: torch.Tensor, segmap: torch.Tensor, negative_slope: float | None = None
    ) -> torch.Tensor:
        """x: (N, C, H, W) activations; segmap: (N, label_nc, H', W') one-hot label map.

        negative_slope: apply LeakyReLU(negative_slope) to the output (the resblock's
        activation), so that fused backends can do it in the same pass.
        """
        gamma, beta = self.modulation(segmap, x.shape[2:])
        out = self.param_free_norm(x) * (1 + gamma) + beta
        if negative_slope is not None:
            out = F.leaky_relu(out, negative_slope)
        return out
