"""Spectral normalization helper (Miyato et al., 2018).

The official SPADE code wraps convs with torch.nn.utils.spectral_norm, which keeps
the raw weight as the parameter `weight_orig` and the power-iteration vectors as
buffers `weight_u`, `weight_v`. We use the same function so that parameter counts
and state_dict keys equal the official ones (torch.nn.utils.parametrizations
would rename the parameter to `parametrizations.weight.original`).

Under autocast, `autocast_spectral` swaps in a hook that computes the same thing in
fewer passes over the weight (see AutocastSpectralNorm); fp32 runs keep torch's hook.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm


def maybe_spectral(module: nn.Module, enabled: bool) -> nn.Module:
    """module with spectral norm on its `weight` when enabled, else module unchanged."""
    return spectral_norm(module) if enabled else module


class _DivideCast(torch.autograd.Function):
    """W_orig (fp32) -> W_orig / sigma stored in the autocast dtype, in one pass, with the
    gradient of torch's spectral norm: sigma = u . (W_orig v) with u, v constants, so

        dL/dW_orig = G / sigma - (<G, W_orig> / sigma^2) u v^T,   G = dL/dW.

    torch's hook writes W in fp32 and autocast then casts it for the conv; its backward
    casts G back, then runs DivBackward and the mv/dot backward: about eight passes over a
    weight-sized tensor where this takes three (G / sigma, one dot, one rank-1 update).
    The forward is bit-identical to fp32 division then the cast; the gradient equals
    torch's up to the order of the fp32 sums."""

    @staticmethod
    def forward(ctx, weight, sigma, u, v, dtype, dim, memory_format):
        out = torch.empty_like(weight, dtype=dtype, memory_format=memory_format)
        torch.div(weight, sigma, out=out)  # computed in fp32, rounded once on store
        ctx.save_for_backward(weight, sigma, u, v)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, sigma, u, v = ctx.saved_tensors
        # (1,)-shaped sigma takes part in type promotion: the quotient is computed in fp32
        # even for a bf16 grad, like torch's cast-back then divide
        g = torch.empty_like(weight, memory_format=torch.contiguous_format)
        torch.div(grad, sigma.reshape(1), out=g)  # grad may come in any layout
        c = torch.dot(g.reshape(-1), weight.reshape(-1)) / sigma  # <G, W_orig> / sigma^2
        if ctx.dim == 0:
            g.view(g.shape[0], -1).addr_(u * -c, v)
        else:  # the matrix is W permuted with `dim` first (ConvTranspose: dim 1)
            perm = [ctx.dim, *[d for d in range(g.dim()) if d != ctx.dim]]
            shape = [g.shape[d] for d in perm]
            g.permute(perm).sub_(torch.outer(u * c, v).view(shape))
        return g, None, None, None, None, None, None


class AutocastSpectralNorm(SpectralNorm):
    """torch's SpectralNorm hook, same state and numbers, faster under autocast.

    Outside autocast, when compiling, or for a non-fp32 weight it is torch's hook. Under
    autocast the power iteration runs in fp32 exactly as torch's does (CPU autocast
    leaves mv and dot in fp32 too), the mv of its last step is reused for sigma (torch
    recomputes it: same inputs, same bits), and W comes out in the autocast dtype through
    _DivideCast, ready for the conv that autocast would otherwise cast it for."""

    @classmethod
    def replacing(cls, hook: SpectralNorm) -> "AutocastSpectralNorm":
        new = cls.__new__(cls)
        new.__dict__.update(hook.__dict__)
        return new

    def __call__(self, module: nn.Module, inputs) -> None:
        weight = getattr(module, self.name + "_orig")
        dev = weight.device.type
        if (torch.compiler.is_compiling() or weight.dtype != torch.float32
                or not torch.is_autocast_enabled(dev)):
            return super().__call__(module, inputs)
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        with torch.no_grad(), torch.autocast(dev, enabled=False):
            if module.training:
                for _ in range(self.n_power_iterations):
                    v = F.normalize(torch.mv(mat.t(), u), dim=0, eps=self.eps, out=v)
                    wv = torch.mv(mat, v)
                    u = F.normalize(wv, dim=0, eps=self.eps, out=u)
                # clones: a later forward updates the buffers in place (see torch's hook)
                u, v = u.clone(), v.clone()
            else:
                wv = torch.mv(mat, v)
            sigma = torch.dot(u, wv)
        # In the layout of the input (channels_last where the one-hot map made it so): the
        # conv would otherwise copy the weight into it on every call.
        x = inputs[0] if inputs else None
        layout = (torch.channels_last if weight.dim() == 4 and isinstance(x, torch.Tensor)
                  and x.dim() == 4 and not x.is_contiguous()
                  and x.is_contiguous(memory_format=torch.channels_last)
                  else torch.contiguous_format)
        w = _DivideCast.apply(weight, sigma, u, v, torch.get_autocast_dtype(dev), self.dim,
                              layout)
        setattr(module, self.name, w)


def autocast_spectral(model: nn.Module) -> int:
    """Swap torch's spectral-norm hooks in `model` for AutocastSpectralNorm, in place
    (state_dict keys, buffers and parameters unchanged); returns how many were swapped.
    Only on convs and linears, the layers autocast casts the weight of."""
    n = 0
    for m in model.modules():
        if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            continue
        for k, hook in list(m._forward_pre_hooks.items()):
            if type(hook) is SpectralNorm:
                m._forward_pre_hooks[k] = AutocastSpectralNorm.replacing(hook)
                n += 1
    return n
