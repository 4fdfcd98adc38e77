"""GPU-only checks of the fused SPADE paths (skipped without CUDA).

bf16 / fp16 / fp32 at odd, realistic sizes against the eager reference computed
in fp32 from the same inputs; Inductor tracing through the custom op; the resblock
with the triton backend. Tolerances: fp32 1e-3; fp16 2e-2; bf16 1e-1 abs / 2e-2 rel
(bf16 keeps 8 bits of mantissa: values of order 4 round by up to 0.03, and gradients
summed over a 33x45 plane in a different order differ by a few roundings).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

TOL = {torch.float32: dict(atol=1e-3, rtol=1e-3), torch.float16: dict(atol=2e-2, rtol=2e-2),
       torch.bfloat16: dict(atol=1e-1, rtol=2e-2)}


def _seg(n, label_nc, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, label_nc, (n, h // 4 + 1, w // 4 + 1), generator=g)
    labels = F.interpolate(labels[:, None].float(), size=(h, w))[:, 0].long()
    return F.one_hot(labels, label_nc).permute(0, 3, 1, 2).float().cuda()


def _force_variant(monkeypatch, variant):
    """default: the launcher's choice; plane / looped / split: forced (instance norm)."""
    from gaugan.kernels import triton_launch

    if variant in ("plane", "looped"):
        monkeypatch.setattr(triton_launch, "MIN_FUSED_PROGRAMS", 0)
        if variant == "looped":
            monkeypatch.setattr(triton_launch, "PLANE_MAX", {"fwd": 0, "bwd": 0})
    elif variant == "split":
        monkeypatch.setattr(triton_launch, "MIN_FUSED_PROGRAMS", 10**9)


CASES = [("instance", v) for v in ("default", "plane", "looped", "split")] + [
    ("batch", "default"), ("given", "default")]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("mode,variant", CASES)
def test_op_matches_eager_on_gpu(dtype, layout, mode, variant, monkeypatch):
    from gaugan.kernels.op import spade_norm_mod
    from gaugan.kernels.torch_norm import norm_modulate

    _force_variant(monkeypatch, variant)

    torch.manual_seed(0)
    n, c, h, w = 3, 67, 33, 45
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    x = (torch.randn(n, c, h, w, device="cuda") * 3 + 2).to(dtype).to(memory_format=fmt).requires_grad_()
    gb = (0.5 * torch.randn(n, 2 * c, h, w, device="cuda")).to(dtype).to(memory_format=fmt).requires_grad_()
    rm, rv = torch.randn(c, device="cuda"), torch.rand(c, device="cuda") + 0.5
    given = mode == "given"
    out, _, _ = spade_norm_mod(x, gb, rm if given else None, torch.rsqrt(rv + 1e-5) if given else None,
                               mode, 1e-5, 0.2)
    dout = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, gb), dout)
    xf, gbf = x.detach().float().requires_grad_(), gb.detach().float().requires_grad_()
    ref, _, _ = norm_modulate(xf, gbf, mode, rm, rv, 1e-5, 0.2)
    rgrads = torch.autograd.grad(ref, (xf, gbf), dout.float())
    torch.testing.assert_close(out.float(), ref, **TOL[dtype])
    for a, b in zip(grads, rgrads):
        torch.testing.assert_close(a.float(), b, **TOL[dtype])


def test_large_plane_and_many_channels():
    """A 256x256 plane (several loop trips) and 1024 channels, fp32."""
    from gaugan.kernels.op import spade_norm_mod
    from gaugan.kernels.torch_norm import norm_modulate

    for shape in [(2, 8, 256, 256), (2, 1024, 8, 8)]:
        n, c, h, w = shape
        x = torch.randn(shape, device="cuda") + 5
        gb = torch.randn(n, 2 * c, h, w, device="cuda")
        out = spade_norm_mod(x, gb, None, None, "instance", 1e-5, 1.0)[0]
        ref = norm_modulate(x, gb, "instance", None, None, 1e-5, 1.0)[0]
        torch.testing.assert_close(out, ref, **TOL[torch.float32])


def test_inductor_compiles_a_model_with_the_triton_op():
    from gaugan.layers.spade import SPADE

    torch.manual_seed(0)
    ref = SPADE(64, 12).cuda()
    tri = SPADE(64, 12, backend="triton").cuda()
    tri.load_state_dict(ref.state_dict())
    compiled = torch.compile(tri)
    x, seg = torch.randn(2, 64, 31, 33, device="cuda"), _seg(2, 12, 31, 33)
    out = compiled(x, seg, negative_slope=0.2)
    torch.testing.assert_close(out, ref(x, seg, negative_slope=0.2), **TOL[torch.float32])
    out.sum().backward()


@pytest.mark.parametrize("backend", ["triton", "auto"])  # compile: covered by the inductor test
def test_resblock_backends_match_eager_bf16_channels_last(backend):
    from gaugan.kernels import set_spade_backend
    from gaugan.layers.norms import ParamFreeBatchNorm
    from gaugan.layers.spade_resblock import SPADEResBlock

    torch.manual_seed(0)
    ref = SPADEResBlock(96, 48, 20, norm=ParamFreeBatchNorm).cuda().to(memory_format=torch.channels_last)
    fused = SPADEResBlock(96, 48, 20, norm=ParamFreeBatchNorm).cuda().to(memory_format=torch.channels_last)
    fused.load_state_dict(ref.state_dict())
    assert set_spade_backend(fused, backend) == 3
    x = torch.randn(4, 96, 35, 37, device="cuda").to(memory_format=torch.channels_last)
    seg = _seg(4, 20, 35, 37)
    outs = []
    for m in (ref, fused):
        xi = x.clone().requires_grad_()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            y = m(xi, seg)
        y.float().square().mean().backward()
        outs.append((y.float(), xi.grad.float()))
    torch.testing.assert_close(outs[1][0], outs[0][0], atol=0.15, rtol=0.05)
    torch.testing.assert_close(outs[1][1], outs[0][1], atol=0.02, rtol=0.1)
