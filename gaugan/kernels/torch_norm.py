"""The norm-modulate step in plain torch ops: the body of the `compile` backend.

torch.compile (Inductor) turns this into one reduction loop and one pointwise loop
per statistics group on any device it supports, CPU included. Statistics are fp32.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def normalize(xf: Tensor, mode: str, mean_in: Optional[Tensor], var_in: Optional[Tensor],
              eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """The parameter-free norm shared by SPADE's and CLADE's torch paths: xf (N, C, H, W)
    fp32 -> x_hat, mean and biased var ((N, C) for "instance", (C,) for "batch"/"given")."""
    if mode == "given":
        mean, var = mean_in.float(), var_in.float()
        m, v = mean[None, :, None, None], var[None, :, None, None]
    else:
        dims = (2, 3) if mode == "instance" else (0, 2, 3)
        v, m = torch.var_mean(xf, dim=dims, correction=0, keepdim=True)
        if mode == "batch":
            mean, var = m.flatten(), v.flatten()
        else:
            mean, var = m[:, :, 0, 0], v[:, :, 0, 0]
    return (xf - m) * torch.rsqrt(v + eps), mean, var


def norm_modulate(
    x: Tensor, gb: Tensor, mode: str,
    mean_in: Optional[Tensor], var_in: Optional[Tensor], eps: float, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """x: (N, C, H, W); gb: (N, 2C, H, W) = cat(gamma, beta). Returns out, mean and biased
    var ((N, C) or (C,), fp32). Splitting gb in here lets the backward write d(gb) in one
    tensor (no slice-backward zero fill + copy outside the compiled region).

    mode: "instance" | "batch" (statistics of x) | "given" (mean_in, var_in: (C,)).
    slope: LeakyReLU slope of the output, 1.0 = no activation.
    """
    c = x.shape[1]
    gamma, beta = gb[:, :c], gb[:, c:]
    xf = x.float()
    x_hat, mean, var = normalize(xf, mode, mean_in, var_in, eps)
    out = x_hat * (1 + gamma.float()) + beta.float()
    if slope != 1.0:
        out = F.leaky_relu(out, slope)
    return out.to(torch.promote_types(x.dtype, gb.dtype)), mean, var
