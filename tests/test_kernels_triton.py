"""The fused norm-modulate op (Triton) against eager PyTorch.

Without CUDA the kernels run under TRITON_INTERPRET=1 (set here, before anything
imports the kernel module) on tiny odd shapes, fp32 and fp16. With CUDA the same
tests run compiled on the GPU. The reference is eager PyTorch (nn.InstanceNorm2d /
nn.BatchNorm2d, then the modulation and LeakyReLU) in float64 on the same inputs.
Tolerances: fp32 1e-4 (abs and rel), fp16 1e-2 abs + 1e-2 rel (one fp16 rounding of
values of order 1, plus fp16 gamma/beta/dout inputs).
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gaugan.kernels.op import spade_norm_mod, spade_norm_modulate, triton_runs_on  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
TOL = {torch.float32: dict(atol=1e-4, rtol=1e-4), torch.float16: dict(atol=1e-2, rtol=1e-2)}
SHAPE = (2, 3, 5, 7)  # N, C, H, W: odd sizes, C not a power of two
EPS = 1e-5


def _inputs(dtype, layout, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = SHAPE
    x = torch.randn(SHAPE, generator=g) * 2 + 3  # a non-zero mean tests the shifted sums
    gb = 0.5 * torch.randn((n, 2 * c, h, w), generator=g)
    dout = torch.randn(SHAPE, generator=g)
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    return [t.to(DEVICE, dtype).to(memory_format=fmt) for t in (x, gb, dout)]


def _running_stats(c):
    g = torch.Generator().manual_seed(1)
    return torch.randn(c, generator=g).to(DEVICE), (torch.rand(c, generator=g) + 0.5).to(DEVICE)


def _eager(x, gb, mode, slope):
    """The eager SPADE math in float64: norm(x) * (1 + gamma) + beta, LeakyReLU."""
    c = x.shape[1]
    if mode == "instance":
        norm = nn.InstanceNorm2d(c, eps=EPS)
    else:
        norm = nn.BatchNorm2d(c, eps=EPS, affine=False).to(DEVICE).double()
        if mode == "given":
            norm.running_mean, norm.running_var = (t.double() for t in _running_stats(c))
            norm.eval()
    out = norm(x) * (1 + gb[:, :c]) + gb[:, c:]
    return out if slope == 1.0 else F.leaky_relu(out, slope)


def _force_variant(monkeypatch, variant):
    """Force one kernel variant (whole plane in registers / looped plane / split over
    pixel chunks), with tiles of 16 pixels so that every loop runs several trips and the
    split variant uses several chunks. channels_last never takes the plane variant."""
    from gaugan.kernels import triton_launch

    monkeypatch.setattr(triton_launch, "MAX_TILE", 16)
    if variant in ("plane", "looped"):
        monkeypatch.setattr(triton_launch, "MIN_FUSED_PROGRAMS", 0)
        if variant == "looped":
            monkeypatch.setattr(triton_launch, "PLANE_MAX", {"fwd": 0, "bwd": 0})
    else:
        monkeypatch.setattr(triton_launch, "MIN_FUSED_PROGRAMS", 10**9)
        monkeypatch.setattr(triton_launch, "TARGET_PROGRAMS", 10**6)


# Only instance norm has the plane and looped variants; batch / given always split.
CASES = [(mode, variant) for mode in ("instance", "batch", "given")
         for variant in (("plane", "looped", "split") if mode == "instance" else ("split",))]
# The LeakyReLU (slope 0.2) everywhere; no activation (slope 1.0) in fp32.
DTYPE_SLOPES = [(torch.float32, 0.2), (torch.float32, 1.0), (torch.float16, 0.2)]


@pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")
@pytest.mark.parametrize("mode,variant", CASES)
@pytest.mark.parametrize("dtype,slope", DTYPE_SLOPES)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_forward_and_every_gradient_match_eager(mode, variant, dtype, slope, layout, monkeypatch):
    _force_variant(monkeypatch, variant)
    x, gb, dout = _inputs(dtype, layout)
    x.requires_grad_()
    gb.requires_grad_()
    mean_in = rstd_in = None
    if mode == "given":
        mean_in, var_in = _running_stats(x.shape[1])
        rstd_in = torch.rsqrt(var_in + EPS)
    out, _, _ = spade_norm_mod(x, gb, mean_in, rstd_in, mode, EPS, slope)
    dx, dgb = torch.autograd.grad(out, (x, gb), dout)

    x64 = x.detach().double().requires_grad_()
    gb64 = gb.detach().double().requires_grad_()
    ref = _eager(x64, gb64, mode, slope)
    rdx, rdgb = torch.autograd.grad(ref, (x64, gb64), dout.double())

    assert out.dtype == dtype and dx.dtype == dtype and dgb.dtype == dtype
    assert out.is_contiguous(memory_format=torch.channels_last) == (layout == "channels_last")
    torch.testing.assert_close(out.double(), ref, **TOL[dtype])
    torch.testing.assert_close(dx.double(), rdx, **TOL[dtype])
    torch.testing.assert_close(dgb.double(), rdgb, **TOL[dtype])


@pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")
@pytest.mark.parametrize("variant", ["plane", "looped", "split"])
def test_statistics_are_the_norms_own(variant, monkeypatch):
    _force_variant(monkeypatch, variant)
    x, gb, _ = _inputs(torch.float32, "contiguous")
    _, mean, rstd = spade_norm_mod(x, gb, None, None, "instance", EPS, 1.0)
    var, m = torch.var_mean(x.double(), dim=(2, 3), correction=0)
    torch.testing.assert_close(mean.double(), m.flatten(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(rstd.double(), torch.rsqrt(var + EPS).flatten(), atol=1e-4, rtol=1e-4)
    _, mean, _ = spade_norm_mod(x, gb, None, None, "batch", EPS, 1.0)
    torch.testing.assert_close(mean.double(), x.double().mean((0, 2, 3)), atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")
def test_registrations_pass_opcheck():
    """Schema, fake (meta) function and autograd registration agree with the real op."""
    x, gb, _ = _inputs(torch.float32, "contiguous")
    torch.library.opcheck(spade_norm_mod, (x.requires_grad_(), gb.requires_grad_(), None, None,
                                           "instance", EPS, 0.2))


@pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")
def test_torch_compile_traces_through_the_op():
    """fullgraph=True: the op is one traced node (fake impl), backward via its autograd."""
    x, gb, dout = _inputs(torch.float32, "contiguous")
    x.requires_grad_()
    gb.requires_grad_()

    def f(x, gb):
        return spade_norm_mod(x, gb, None, None, "instance", EPS, 0.2)[0] * 2

    compiled = torch.compile(f, backend="aot_eager", fullgraph=True)
    out = compiled(x, gb)
    grads = torch.autograd.grad(out, (x, gb), dout)
    ref = f(x, gb)
    rgrads = torch.autograd.grad(ref, (x, gb), dout)
    torch.testing.assert_close(out, ref)
    for a, b in zip(grads, rgrads):
        torch.testing.assert_close(a, b)


def test_unsupported_dtype_and_bad_shapes_are_clear_errors():
    x, gb, _ = _inputs(torch.float32, "contiguous")
    with pytest.raises(TypeError, match="float64"):
        spade_norm_mod(x.double(), gb.double(), None, None, "instance", EPS, 1.0)
    with pytest.raises(ValueError, match=r"needs gb \(N, 2C, H, W\)"):
        spade_norm_mod(x, gb[:, :3], None, None, "instance", EPS, 1.0)
    with pytest.raises(ValueError, match="valid: instance, batch, given"):
        spade_norm_mod(x, gb, None, None, "group", EPS, 1.0)


@pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")
@pytest.mark.parametrize("mode", ["instance", "batch"])
def test_eager_entry_point_equals_the_registered_op(mode):
    """spade_norm_modulate (autograd.Function outside torch.compile) == the custom op."""
    x, gb, dout = _inputs(torch.float32, "channels_last")
    results = []
    for fn in (spade_norm_mod, spade_norm_modulate):
        xi, gbi = x.clone().requires_grad_(), gb.clone().requires_grad_()
        out, mean, rstd = fn(xi, gbi, None, None, mode, EPS, 0.2)
        results.append((out, mean, rstd, *torch.autograd.grad(out, (xi, gbi), dout)))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
