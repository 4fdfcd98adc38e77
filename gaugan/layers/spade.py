"""SPADE: SPatially-Adaptive (DE)normalization (Park et al., CVPR 2019, eq. 1).

    out = norm(x) * (1 + gamma(m)) + beta(m)

norm is parameter-free (instance / batch / sync-batch); gamma and beta are
per-pixel maps predicted from the label map m by a small conv net: a shared
kernel x kernel conv to `hidden` channels with ReLU, then one conv each for
gamma and beta. Parameter names follow the official implementation
(mlp_shared.0, mlp_gamma, mlp_beta), so its state_dicts load unchanged.

`backend` picks the implementation (gaugan.kernels.backend): "eager" is the
reference below; "compile" and "triton" fuse the norm statistics, the modulation
and the LeakyReLU into one pass (plus the block fusions of
gaugan.kernels.block_fusions); "auto" picks the fastest available. Every backend
uses the same parameters and buffers, so one state_dict loads into all of them.
The backend may be changed after construction (`layer.backend = "triton"`).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gaugan.kernels import backend as kb
from gaugan.kernels import label_cache
from gaugan.kernels.block_fusions import BlockFusions, fusions_for, merged_conv, onehot_conv
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
        self.backend = kb.check_backend(backend)
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
        path, mode = kb.resolve(kb.check_backend(self.backend), x, self.param_free_norm, self.training)
        if path != "eager":
            return self._forward_fused(x, segmap, negative_slope, path, mode)
        gamma, beta = self.modulation(segmap, x.shape[2:])
        out = self.param_free_norm(x) * (1 + gamma) + beta
        if negative_slope is not None:
            out = F.leaky_relu(out, negative_slope)
        return out

    # ---- fused paths (same math as above, fewer passes over memory) ----

    def gamma_beta(self, segmap: torch.Tensor, size: tuple[int, int], fus: BlockFusions,
                   memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
        """cat(gamma, beta) along channels: (N, 2C, H, W)."""
        actv = None
        # Not while torch.compile traces a whole G (train.speed fast): the one-hot check
        # reads values (a graph break and a host sync); Inductor fuses the dense conv.
        if fus.onehot_gather and not torch.compiler.is_compiling():
            labels = label_cache.onehot_labels(segmap)
            if labels is not None:  # exactly one-hot: the shared conv is a gather
                labels = label_cache.resized_labels(segmap, labels, size)
                shared = self.mlp_shared[0]
                actv = F.relu(onehot_conv(labels, shared.weight, shared.bias))
                # the gather yields channels_last; keep the layer's layout (x's) downstream
                actv = actv.contiguous(memory_format=memory_format)
        if actv is None:
            if fus.shared_resize:
                seg = label_cache.resized(segmap, size)
            else:
                seg = F.interpolate(segmap, size=size, mode="nearest")
            actv = self.mlp_shared(seg)
        if fus.merged_conv:
            return merged_conv(actv, self.mlp_gamma, self.mlp_beta)
        return torch.cat([self.mlp_gamma(actv), self.mlp_beta(actv)], 1)

    def _forward_fused(self, x, segmap, negative_slope, path: str, mode: str) -> torch.Tensor:
        norm = self.param_free_norm
        slope = 1.0 if negative_slope is None else float(negative_slope)
        cl = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        fmt = torch.channels_last if cl else torch.contiguous_format
        gb = self.gamma_beta(segmap, x.shape[2:], fusions_for(x.device), fmt)
        mean_in = var_in = None
        if mode == "given":
            mean_in, var_in = norm.running_mean, norm.running_var
        if path == "triton":
            from gaugan.kernels.op import spade_norm_modulate

            rstd_in = None if var_in is None else torch.rsqrt(var_in.float() + norm.eps)
            out, mean, rstd = spade_norm_modulate(x, gb, mean_in, rstd_in, mode, norm.eps, slope)
            var = rstd.pow(-2) - norm.eps if mode == "batch" else None
        elif torch.compiler.is_compiling():  # inside a compiled G: trace the torch ops in
            from gaugan.kernels.torch_norm import norm_modulate

            out, mean, var = norm_modulate(x, gb, mode, mean_in, var_in, norm.eps, slope)
        else:
            from gaugan.kernels.compiled import compiled_norm_modulate

            fn = compiled_norm_modulate(mode, slope != 1.0)
            out, mean, var = fn(x, gb, mode, mean_in, var_in, norm.eps, slope)
        if mode == "batch" and self.training and norm.track_running_stats:
            update_running_stats(norm, mean, var, x.numel() // x.shape[1])
        return out


@torch.no_grad()
def update_running_stats(norm: nn.BatchNorm2d, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
    """nn.BatchNorm2d's running-statistics update, from the batch mean and biased var (C,)."""
    if count < 2:
        raise ValueError(f"Expected more than 1 value per channel when training, got {count}")
    norm.num_batches_tracked.add_(1)
    factor = norm.momentum if norm.momentum is not None else 1.0 / float(norm.num_batches_tracked)
    norm.running_mean.lerp_(mean.to(norm.running_mean.dtype), factor)
    unbiased = var * (count / (count - 1))
    norm.running_var.lerp_(unbiased.to(norm.running_var.dtype), factor)
