"""The fused CLADE norm as a PyTorch operator (gaugan::clade_norm_mod), and its torch twin.

    out, mean, rstd = clade_norm_mod(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)

x: (N, C, H, W); labels: (N, H, W) int class ids; weight, bias: (K, C) class tables
(gamma, beta); mode "instance" | "batch" | "given" (mean_in, rstd_in: fp32 (C,));
slope: LeakyReLU slope, 1.0 = none. out = act((x - mean) * rstd * weight[labels] + bias[labels]).
Registered with torch.library.custom_op (fake + autograd) so torch.compile traces it as
one node; eager callers go through a plain autograd.Function over the same kernels
(cheaper per call, as gaugan.kernels.op). The Triton module loads on first use.

`clade_norm_torch` is the same computation in torch ops: the body of the "compile"
backend, where Inductor fuses the table gather into the normalisation's pointwise loop
(so the gamma/beta maps are not materialised there either).
"""

from __future__ import annotations

import functools
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gaugan.kernels.op import triton_runs_on
from gaugan.kernels.torch_norm import normalize
from gaugan.kernels.triton_norm_modes import MODES, stats_size


def _check(x: Tensor, labels: Tensor, weight: Tensor, bias: Tensor, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"clade_norm_mod: unknown mode {mode!r}; valid: {', '.join(MODES)}")
    n, c, h, w = x.shape
    if labels.shape != (n, h, w) or weight.dim() != 2 or weight.shape[1] != c or bias.shape != weight.shape:
        raise ValueError(f"clade_norm_mod: x {tuple(x.shape)} needs labels (N, H, W) and tables "
                         f"(K, C); got {tuple(labels.shape)}, {tuple(weight.shape)}, {tuple(bias.shape)}")
    if not triton_runs_on(x.device):
        raise RuntimeError(f"clade_norm_mod: Triton does not run on {x.device} here (CUDA, or the CPU "
                           "with TRITON_INTERPRET=1); use the eager or compile backend")


@torch.library.custom_op("gaugan::clade_norm_mod", mutates_args=())
def clade_norm_mod(
    x: Tensor, labels: Tensor, weight: Tensor, bias: Tensor, mean_in: Optional[Tensor],
    rstd_in: Optional[Tensor], mode: str, eps: float, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    _check(x, labels, weight, bias, mode)
    from gaugan.kernels.triton_clade import clade_forward

    return clade_forward(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)


@clade_norm_mod.register_fake
def _(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope):
    size = stats_size(mode, x.shape[0], x.shape[1])
    out = torch.empty_like(x, dtype=torch.promote_types(x.dtype, weight.dtype),
                           memory_format=torch.contiguous_format)
    return out, x.new_empty(size, dtype=torch.float32), x.new_empty(size, dtype=torch.float32)


@torch.library.custom_op("gaugan::clade_norm_mod_bwd", mutates_args=())
def clade_norm_mod_bwd(
    dout: Tensor, x: Tensor, labels: Tensor, weight: Tensor, bias: Tensor, mean: Tensor,
    rstd: Tensor, mode: str, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    from gaugan.kernels.triton_clade import clade_backward

    return clade_backward(dout, x, labels, weight, bias, mean, rstd, mode, slope)


@clade_norm_mod_bwd.register_fake
def _(dout, x, labels, weight, bias, mean, rstd, mode, slope):
    return (torch.empty_like(x, memory_format=torch.contiguous_format), torch.empty_like(weight),
            torch.empty_like(bias))


def _setup_context(ctx, inputs, output):
    x, labels, weight, bias, _, _, mode, _, slope = inputs
    _, mean, rstd = output
    ctx.save_for_backward(x, labels, weight, bias, mean, rstd)
    ctx.mode, ctx.slope = mode, slope
    ctx.mark_non_differentiable(mean, rstd)


def _backward(ctx, dout, _dmean, _drstd):
    x, labels, weight, bias, mean, rstd = ctx.saved_tensors
    dx, dw, db = clade_norm_mod_bwd(dout, x, labels, weight, bias, mean, rstd, ctx.mode, ctx.slope)
    return dx, None, dw, db, None, None, None, None, None


clade_norm_mod.register_autograd(_backward, setup_context=_setup_context)


class _CladeNormFunction(torch.autograd.Function):
    """The custom op's kernels and formulas without the op dispatch (eager mode)."""

    @staticmethod
    def forward(ctx, x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope):
        from gaugan.kernels.triton_clade import clade_forward

        out, mean, rstd = clade_forward(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)
        ctx.save_for_backward(x, labels, weight, bias, mean, rstd)
        ctx.mode, ctx.slope = mode, slope
        ctx.mark_non_differentiable(mean, rstd)
        return out, mean, rstd

    @staticmethod
    def backward(ctx, dout, _dmean, _drstd):
        from gaugan.kernels.triton_clade import clade_backward

        x, labels, weight, bias, mean, rstd = ctx.saved_tensors
        dx, dw, db = clade_backward(dout, x, labels, weight, bias, mean, rstd, ctx.mode, ctx.slope)
        return dx, None, dw, db, None, None, None, None, None


def clade_norm_triton(x, labels, weight, bias, mean_in, rstd_in, mode: str, eps: float, slope: float):
    """The op while torch.compile traces; the lighter autograd.Function in eager mode."""
    if torch.compiler.is_compiling():
        return clade_norm_mod(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)
    _check(x, labels, weight, bias, mode)
    return _CladeNormFunction.apply(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)


def clade_norm_torch(
    x: Tensor, labels: Tensor, weight: Tensor, bias: Tensor, mode: str,
    mean_in: Optional[Tensor], var_in: Optional[Tensor], eps: float, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """Plain-torch CLADE norm: out, mean and biased var (fp32; (N, C) or (C,))."""
    x_hat, mean, var = normalize(x.float(), mode, mean_in, var_in, eps)
    gamma = F.embedding(labels, weight.float()).permute(0, 3, 1, 2)  # (N, C, H, W)
    beta = F.embedding(labels, bias.float()).permute(0, 3, 1, 2)
    out = x_hat * gamma + beta
    if slope != 1.0:
        out = F.leaky_relu(out, slope)
    return out.to(torch.promote_types(x.dtype, weight.dtype)), mean, var


@functools.lru_cache(maxsize=None)
def compiled_clade_norm():
    return torch.compile(clade_norm_torch, dynamic=None)


def clade_norm_modulate(x, labels, weight, bias, mean_in, var_in, mode: str, eps: float,
                        slope: float, path: str = "triton"):
    """CLADE norm on a fused path ("triton" | "compile"): (out, mean, biased var)."""
    if path == "triton":
        rstd_in = None if var_in is None else torch.rsqrt(var_in.float() + eps)
        out, mean, rstd = clade_norm_triton(x, labels, weight, bias, mean_in, rstd_in, mode, eps, slope)
        var = rstd.pow(-2) - eps if mode == "batch" else None
        return out, mean, var
    return compiled_clade_norm()(x, labels, weight, bias, mode, mean_in, var_in, eps, slope)
