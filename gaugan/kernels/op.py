"""The fused norm-modulate kernel as a PyTorch operator: gaugan::spade_norm_mod.

Registered with torch.library.custom_op, a fake (shape) implementation and an
autograd formula, so that torch.compile traces through it as one opaque node and
autograd calls the Triton backward. The Triton module is imported on first use, so
this file imports on machines without Triton.

    out, mean, rstd = spade_norm_mod(x, gb, mean_in, rstd_in, mode, eps, slope)

x: (N, C, H, W); gb: (N, 2C, H, W) = cat(gamma, beta) along channels;
mode: "instance" | "batch" | "given" (mean_in, rstd_in: fp32 (C,) running statistics);
slope: LeakyReLU slope of the output, 1.0 = no activation.
mean, rstd: fp32 statistics used ((N*C,) for instance, (C,) otherwise); not differentiable.

Callers use spade_norm_modulate (bottom): the op while torch.compile traces, a plain
autograd.Function over the same kernels otherwise (less per-call overhead).
"""

from __future__ import annotations

import os
from typing import Optional

import torch
from torch import Tensor

from gaugan.kernels.triton_norm_modes import MODES, stats_size


def triton_runs_on(device: torch.device) -> bool:
    """Triton runs on CUDA, and on the CPU only under TRITON_INTERPRET=1 (tests)."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    if device.type == "cuda":
        return True
    return device.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1"


def _check(x: Tensor, gb: Tensor, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"spade_norm_mod: unknown mode {mode!r}; valid: {', '.join(MODES)}")
    if x.dim() != 4 or gb.dim() != 4 or gb.shape[1] != 2 * x.shape[1] or (
        gb.shape[0], gb.shape[2], gb.shape[3]) != (x.shape[0], x.shape[2], x.shape[3]):
        raise ValueError(f"spade_norm_mod: x {tuple(x.shape)} needs gb (N, 2C, H, W), got {tuple(gb.shape)}")
    for t in (x, gb):
        if t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise TypeError(f"spade_norm_mod: dtype {t.dtype} unsupported (float32, float16, bfloat16)")
    if not triton_runs_on(x.device):
        raise RuntimeError(f"spade_norm_mod: Triton does not run on {x.device} here (CUDA, or the CPU "
                           "with TRITON_INTERPRET=1); use the eager or compile backend")


@torch.library.custom_op("gaugan::spade_norm_mod", mutates_args=())
def spade_norm_mod(
    x: Tensor, gb: Tensor, mean_in: Optional[Tensor], rstd_in: Optional[Tensor],
    mode: str, eps: float, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    _check(x, gb, mode)
    from gaugan.kernels.triton_launch import spade_norm_forward

    return spade_norm_forward(x, gb, mean_in, rstd_in, mode, eps, slope)


@spade_norm_mod.register_fake
def _(x, gb, mean_in, rstd_in, mode, eps, slope):
    n, c = x.shape[:2]
    out = torch.empty_like(x, dtype=torch.promote_types(x.dtype, gb.dtype))
    size = stats_size(mode, n, c)
    return out, x.new_empty(size, dtype=torch.float32), x.new_empty(size, dtype=torch.float32)


@torch.library.custom_op("gaugan::spade_norm_mod_bwd", mutates_args=())
def spade_norm_mod_bwd(
    dout: Tensor, x: Tensor, gb: Tensor, mean: Tensor, rstd: Tensor, mode: str, slope: float
) -> tuple[Tensor, Tensor]:
    from gaugan.kernels.triton_launch import spade_norm_backward

    return spade_norm_backward(dout, x, gb, mean, rstd, mode, slope)


@spade_norm_mod_bwd.register_fake
def _(dout, x, gb, mean, rstd, mode, slope):
    return torch.empty_like(x), torch.empty_like(gb)


def _setup_context(ctx, inputs, output):
    x, gb, _, _, mode, _, slope = inputs
    _, mean, rstd = output
    ctx.save_for_backward(x, gb, mean, rstd)
    ctx.mode, ctx.slope = mode, slope
    ctx.mark_non_differentiable(mean, rstd)


def _backward(ctx, dout, _dmean, _drstd):
    x, gb, mean, rstd = ctx.saved_tensors
    dx, dgb = spade_norm_mod_bwd(dout, x, gb, mean, rstd, ctx.mode, ctx.slope)
    return dx, dgb, None, None, None, None, None


spade_norm_mod.register_autograd(_backward, setup_context=_setup_context)


class _SpadeNormFunction(torch.autograd.Function):
    """The same kernels and formulas as the custom op, without the op dispatch: a
    torch.library custom op costs ~10x an autograd.Function per call in eager mode
    (measured ~85 us vs ~10 us on this CPU), which adds up over a generator's 18 layers."""

    @staticmethod
    def forward(ctx, x, gb, mean_in, rstd_in, mode, eps, slope):
        from gaugan.kernels.triton_launch import spade_norm_forward

        out, mean, rstd = spade_norm_forward(x, gb, mean_in, rstd_in, mode, eps, slope)
        ctx.save_for_backward(x, gb, mean, rstd)
        ctx.mode, ctx.slope = mode, slope
        ctx.mark_non_differentiable(mean, rstd)
        return out, mean, rstd

    @staticmethod
    def backward(ctx, dout, _dmean, _drstd):
        from gaugan.kernels.triton_launch import spade_norm_backward

        x, gb, mean, rstd = ctx.saved_tensors
        dx, dgb = spade_norm_backward(dout, x, gb, mean, rstd, ctx.mode, ctx.slope)
        return dx, dgb, None, None, None, None, None


def spade_norm_modulate(
    x: Tensor, gb: Tensor, mean_in: Optional[Tensor], rstd_in: Optional[Tensor],
    mode: str, eps: float, slope: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """spade_norm_mod for callers: the registered op while torch.compile traces (it needs
    the fake and autograd registrations), the lighter autograd.Function in eager mode."""
    if torch.compiler.is_compiling():
        return spade_norm_mod(x, gb, mean_in, rstd_in, mode, eps, slope)
    _check(x, gb, mode)
    return _SpadeNormFunction.apply(x, gb, mean_in, rstd_in, mode, eps, slope)
