"""What `bench profile spade` times: one callable per (level, provider, shape, pass).

Levels:
  norm      the norm-modulate step alone: x, gamma, beta -> LeakyReLU(IN(x) * (1 + gamma) + beta)
  spade     the whole SPADE layer (label map -> gamma, beta convs -> norm-modulate)
  resblock  gaugan.layers.spade_resblock.SPADEResBlock (two SPADE + conv, spectral norm)
  fusion:*  one block fusion against the code it replaces (merged_conv, onehot_gather)
  clade_norm  CLADE's norm step: x, labels, (K, C) tables -> LeakyReLU(IN(x) * W[l] + B[l])
  clade     the whole CLADE layer (gaugan.layers.clade.CLADE), beside the spade level
Providers: eager (reference), compile (torch.compile), triton (the fused kernel);
fusion levels use "unfused" and "fused".

`bytes` is what the step must move at the least (each input read once, each output
written once): forward x, gamma, beta in and out out = 4 tensors of x's size;
forward+backward adds x, gamma, beta, dout in and dx, dgamma, dbeta out = 10 in all.
Only the norm level is memory-bound; the conv-bearing levels have no roofline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.2  # the resblock's LeakyReLU


@dataclass
class Case:
    level: str
    provider: str
    shape: tuple[int, int, int, int]  # (N, C, H, W)
    layout: str  # contiguous | channels_last
    pass_: str  # fwd | fwd+bwd
    fn: Callable[[], object]
    bytes: int | None


def _fmt(layout: str) -> torch.memory_format:
    return torch.channels_last if layout == "channels_last" else torch.contiguous_format


def _with_backward(forward: Callable[[], torch.Tensor], inputs: list[torch.Tensor]) -> Callable[[], object]:
    """forward, then gradients w.r.t. inputs (autograd.grad: nothing accumulates across calls)."""
    grad = {}

    def run():
        out = forward()
        if "g" not in grad:
            grad["g"] = torch.randn_like(out)
        return torch.autograd.grad(out, inputs, grad["g"])

    return run


def norm_case(provider, shape, layout, pass_, device, dtype) -> Case:
    from gaugan.kernels.compiled import compiled_norm_modulate
    from gaugan.kernels.op import spade_norm_modulate

    n, c, h, w = shape
    fmt, bwd = _fmt(layout), pass_ == "fwd+bwd"
    x = torch.randn(shape, device=device, dtype=dtype).to(memory_format=fmt).requires_grad_(bwd)
    gb = (0.5 * torch.randn((n, 2 * c, h, w), device=device, dtype=dtype)).to(memory_format=fmt)
    gb.requires_grad_(bwd)
    inputs = [x, gb]
    if provider == "eager":  # eager SPADE has gamma and beta as two tensors (two convs)
        norm = nn.InstanceNorm2d(c)
        gamma, beta = (t.detach().clone().requires_grad_(bwd) for t in (gb[:, :c], gb[:, c:]))
        inputs = [x, gamma, beta]

        def fwd():
            return F.leaky_relu(norm(x) * (1 + gamma) + beta, SLOPE)
    elif provider == "compile":
        f = compiled_norm_modulate("instance", True)

        def fwd():
            return f(x, gb, "instance", None, None, 1e-5, SLOPE)[0]
    else:

        def fwd():
            return spade_norm_modulate(x, gb, None, None, "instance", 1e-5, SLOPE)[0]

    fn = _with_backward(fwd, inputs) if bwd else fwd
    nbytes = (10 if bwd else 4) * x.numel() * x.element_size()
    return Case("norm", provider, shape, layout, pass_, fn, nbytes)


def _onehot(n: int, label_nc: int, h: int, w: int, device, dtype, seed: int = 0) -> torch.Tensor:
    """A label map with blocky regions (like real ones), one-hot: (N, label_nc, H, W)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, label_nc, (n, 1, max(h // 8, 1), max(w // 8, 1)), generator=g)
    labels = F.interpolate(coarse.float(), size=(h, w), mode="nearest")[:, 0].long()
    return F.one_hot(labels, label_nc).permute(0, 3, 1, 2).to(device=device, dtype=dtype).contiguous()


def spade_case(provider, shape, layout, pass_, device, dtype, label_nc: int) -> Case:
    from gaugan.layers.spade import SPADE

    n, c, h, w = shape
    fmt, bwd = _fmt(layout), pass_ == "fwd+bwd"
    torch.manual_seed(0)
    layer = SPADE(c, label_nc, backend=provider).to(device=device, dtype=dtype, memory_format=fmt)
    x = torch.randn(shape, device=device, dtype=dtype).to(memory_format=fmt).requires_grad_(bwd)
    seg = _onehot(n, label_nc, h, w, device, dtype)

    def fwd():
        return layer(x, seg, negative_slope=SLOPE)

    fn = _with_backward(fwd, [x, *layer.parameters()]) if bwd else fwd
    return Case("spade", provider, shape, layout, pass_, fn, None)


def resblock_case(provider, shape, layout, pass_, device, dtype, label_nc: int) -> Case:
    from gaugan.kernels import set_spade_backend
    from gaugan.layers.spade_resblock import SPADEResBlock

    n, c, h, w = shape
    fmt, bwd = _fmt(layout), pass_ == "fwd+bwd"
    torch.manual_seed(0)
    block = SPADEResBlock(c, c, label_nc)  # defaults: instance norm, spectral norm, hidden 128
    set_spade_backend(block, provider)
    block = block.to(device=device, dtype=dtype, memory_format=fmt)
    x = torch.randn(shape, device=device, dtype=dtype).to(memory_format=fmt).requires_grad_(bwd)
    seg = _onehot(n, label_nc, h, w, device, dtype)

    def fwd():
        return block(x, seg)

    params = [p for p in block.parameters() if p.requires_grad]
    fn = _with_backward(fwd, [x, *params]) if bwd else fwd
    return Case("resblock", provider, shape, layout, pass_, fn, None)


def fusion_case(fusion: str, provider, shape, layout, pass_, device, dtype, label_nc: int) -> Case:
    """merged_conv: two convs vs one of 2C outputs (input: 128 hidden channels);
    onehot_gather: dense conv of the one-hot map vs the gather (to 128 channels)."""
    from gaugan.kernels.block_fusions import merged_conv, onehot_conv

    n, c, h, w = shape
    fmt, bwd = _fmt(layout), pass_ == "fwd+bwd"
    torch.manual_seed(0)
    if fusion == "merged_conv":
        ga, be = nn.Conv2d(128, c, 3, padding=1), nn.Conv2d(128, c, 3, padding=1)
        ga, be = (m.to(device=device, dtype=dtype, memory_format=fmt) for m in (ga, be))
        a = torch.randn((n, 128, h, w), device=device, dtype=dtype).to(memory_format=fmt)
        a.requires_grad_(bwd)
        params = [a, *ga.parameters(), *be.parameters()]
        if provider == "fused":
            def fwd():
                return merged_conv(a, ga, be)
        else:
            def fwd():
                return torch.cat([ga(a), be(a)], 1)
    else:
        conv = nn.Conv2d(label_nc, 128, 3, padding=1).to(device=device, dtype=dtype, memory_format=fmt)
        seg = _onehot(n, label_nc, h, w, device, dtype).to(memory_format=fmt)
        labels = seg.argmax(1)
        params = list(conv.parameters())
        if provider == "fused":
            def fwd():
                return onehot_conv(labels, conv.weight, conv.bias)
        else:
            def fwd():
                return conv(seg)
    fn = _with_backward(fwd, params) if bwd else fwd
    return Case(f"fusion:{fusion}", provider, shape, layout, pass_, fn, None)


# ---------------------------------------------------------------- CLADE (class tables)


def clade_norm_bytes(shape, elem: int, label_nc: int, bwd: bool) -> int:
    """Least traffic of the fused CLADE norm: forward x in, out out (2 tensors of x's
    size), the int32 label map and the two (K, C) tables; forward+backward adds x, dout
    in and dx out (3 more), the label map again, the tables read and their gradients
    written. No (N, 2C, H, W) gamma/beta tensor: 5 x-sized tensors instead of SPADE's 10."""
    n, c, h, w = shape
    x, labels, tables = n * c * h * w * elem, n * h * w * 4, 2 * label_nc * c * elem
    if not bwd:
        return 2 * x + labels + tables
    return 5 * x + 2 * labels + 4 * tables


def clade_norm_case(provider, shape, layout, pass_, device, dtype, label_nc: int) -> Case:
    """x, labels, tables -> LeakyReLU(IN(x) * W[label] + B[label]); eager gathers the
    (N, C, H, W) gamma and beta maps (F.embedding, as the official code)."""
    from gaugan.kernels.clade_op import clade_norm_triton, compiled_clade_norm

    n, c, h, w = shape
    bwd = pass_ == "fwd+bwd"
    x = torch.randn(shape, device=device, dtype=dtype).requires_grad_(bwd)
    labels = _onehot(n, label_nc, h, w, "cpu", torch.float32).argmax(1).to(device)
    weight = torch.rand(label_nc, c, device=device, dtype=dtype).requires_grad_(bwd)
    bias = (0.1 * torch.randn(label_nc, c, device=device, dtype=dtype)).requires_grad_(bwd)
    if provider == "eager":
        norm = nn.InstanceNorm2d(c)

        def fwd():
            gamma = F.embedding(labels, weight).permute(0, 3, 1, 2)
            beta = F.embedding(labels, bias).permute(0, 3, 1, 2)
            return F.leaky_relu(norm(x) * gamma + beta, SLOPE)
    elif provider == "compile":
        f = compiled_clade_norm()

        def fwd():
            return f(x, labels, weight, bias, "instance", None, None, 1e-5, SLOPE)[0]
    else:
        def fwd():
            return clade_norm_triton(x, labels, weight, bias, None, None, "instance", 1e-5, SLOPE)[0]

    fn = _with_backward(fwd, [x, weight, bias]) if bwd else fwd
    return Case("clade_norm", provider, shape, layout, pass_, fn,
                clade_norm_bytes(shape, x.element_size(), label_nc, bwd))


def clade_case(provider, shape, layout, pass_, device, dtype, label_nc: int) -> Case:
    """The whole CLADE layer (one-hot map -> labels -> norm + tables), the SPADE level's twin."""
    from gaugan.layers.clade import CLADE

    bwd = pass_ == "fwd+bwd"
    torch.manual_seed(0)
    n, c, h, w = shape
    layer = CLADE(c, label_nc, backend=provider).to(device=device, dtype=dtype)
    x = torch.randn(shape, device=device, dtype=dtype).requires_grad_(bwd)
    seg = _onehot(n, label_nc, h, w, device, dtype)

    def fwd():
        return layer(x, seg, negative_slope=SLOPE)

    fn = _with_backward(fwd, [x, *layer.parameters()]) if bwd else fwd
    return Case("clade", provider, shape, layout, pass_, fn, None)
