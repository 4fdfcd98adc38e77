"""SPADE backends and block fusions against the eager reference, same state_dict.

Triton runs under TRITON_INTERPRET=1 without CUDA (set before the kernel module is
imported). Tolerances: 1e-4 abs/rel in fp32 (the fused paths sum in another order).
"""

from __future__ import annotations

import logging
import os

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gaugan.kernels import backend as kb  # noqa: E402
from gaugan.kernels import label_cache  # noqa: E402
from gaugan.kernels.block_fusions import FUSIONS, BlockFusions, merged_conv, onehot_conv  # noqa: E402
from gaugan.kernels.torch_norm import norm_modulate  # noqa: E402
from gaugan.layers.norms import ParamFreeBatchNorm, ParamFreeInstanceNorm, ParamFreeSyncBatchNorm  # noqa: E402
from gaugan.layers.spade import SPADE  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
TOL = dict(atol=1e-4, rtol=1e-4)
N, C, H, W, LABEL_NC = 2, 3, 5, 7, 4


def _seg(n=N, h=H, w=W, label_nc=LABEL_NC, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, label_nc, (n, h, w), generator=g)
    return F.one_hot(labels, label_nc).permute(0, 3, 1, 2).float().to(DEVICE)


def _pair(backend, norm=ParamFreeInstanceNorm, label_nc=LABEL_NC):
    """An eager SPADE with random weights, and a `backend` SPADE loaded from its state_dict."""
    torch.manual_seed(0)
    ref = SPADE(C, label_nc, norm=norm, hidden=8).to(DEVICE)
    other = SPADE(C, label_nc, norm=norm, hidden=8, backend=backend).to(DEVICE)
    other.load_state_dict(ref.state_dict())  # strict: same names, shapes, buffers
    return ref, other


def _run(layer, x, seg, slope):
    x = x.detach().clone().requires_grad_()
    out = layer(x, seg, negative_slope=slope)
    dout = torch.linspace(-1, 1, out.numel(), device=DEVICE).view_as(out)
    grads = torch.autograd.grad(out, [x, *layer.parameters()], dout)
    return out, grads


def _assert_same(ref, other, x, seg, slope=0.2):
    out_r, g_r = _run(ref, x, seg, slope)
    out_o, g_o = _run(other, x, seg, slope)
    torch.testing.assert_close(out_o, out_r, **TOL)
    for a, b in zip(g_o, g_r):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("fusions", [FUSIONS["cpu"], BlockFusions(False, False, False)])
def test_triton_backend_equals_eager_with_the_same_state_dict(layout, fusions, monkeypatch):
    monkeypatch.setitem(FUSIONS, DEVICE.type, fusions)
    ref, tri = _pair("triton")
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    x = (torch.randn(N, C, H, W, device=DEVICE) * 2 + 1).to(memory_format=fmt)
    _assert_same(ref, tri, x, _seg())
    _assert_same(ref, tri, x, _seg(h=3, w=4), slope=None)  # label map at another resolution


@pytest.mark.parametrize("norm", [ParamFreeBatchNorm, ParamFreeSyncBatchNorm])
def test_batch_norm_running_statistics_follow_nn_batchnorm(norm):
    """Training: batch statistics, running_mean/var/num_batches_tracked updated as
    nn.BatchNorm2d does; eval: running statistics (the kernel's "given" mode)."""
    ref, tri = _pair("triton", norm=norm)
    for step in range(2):
        x = torch.randn(N, C, H, W, device=DEVICE) * (step + 1) + step
        _assert_same(ref, tri, x, _seg(seed=step))  # each call updates the running stats once
    for name, buf in ref.param_free_norm.named_buffers():
        torch.testing.assert_close(dict(tri.param_free_norm.named_buffers())[name], buf, **TOL)
    ref.eval(), tri.eval()
    _assert_same(ref, tri, torch.randn(N, C, H, W, device=DEVICE), _seg(seed=5))


@pytest.mark.parametrize("mode", ["instance", "batch", "given"])
def test_compile_path_math_equals_eager(mode):
    """The function the compile backend compiles, run as plain torch, against nn norms."""
    torch.manual_seed(0)
    x, gamma, beta = torch.randn(N, C, H, W) + 2, torch.randn(N, C, H, W), torch.randn(N, C, H, W)
    norm = nn.InstanceNorm2d(C) if mode == "instance" else nn.BatchNorm2d(C, affine=False)
    rm, rv = torch.randn(C), torch.rand(C) + 0.5
    if mode == "given":
        norm.running_mean, norm.running_var = rm.clone(), rv.clone()
        norm.eval()
    out, _, _ = norm_modulate(x, torch.cat([gamma, beta], 1), mode, rm, rv, 1e-5, 0.2)
    torch.testing.assert_close(out, F.leaky_relu(norm(x) * (1 + gamma) + beta, 0.2), **TOL)


@pytest.mark.skipif(not kb.compile_runs_on(DEVICE.type), reason="torch.compile cannot build here")
def test_compile_backend_equals_eager():
    """One real Inductor build (forward + backward) of the compile backend."""
    ref, comp = _pair("compile")
    _assert_same(ref, comp, torch.randn(N, C, H, W, device=DEVICE) + 1, _seg())


@pytest.mark.parametrize("k", [1, 3, 5])
def test_onehot_gather_equals_dense_conv_including_borders(k):
    torch.manual_seed(0)
    conv = nn.Conv2d(LABEL_NC, 6, k, padding=k // 2)
    labels = torch.randint(0, LABEL_NC, (N, H, W))
    labels[:, 0, :] = LABEL_NC - 1  # the last class on the border rows: padding must stay zero
    onehot = F.one_hot(labels, LABEL_NC).permute(0, 3, 1, 2).float()
    dense = conv(onehot)
    gathered = onehot_conv(labels, conv.weight, conv.bias)
    torch.testing.assert_close(gathered, dense, **TOL)
    dout = torch.randn_like(dense)
    g_dense = torch.autograd.grad(dense, [conv.weight, conv.bias], dout)
    g_gather = torch.autograd.grad(gathered, [conv.weight, conv.bias], dout)
    for a, b in zip(g_gather, g_dense):
        torch.testing.assert_close(a, b, **TOL)


def test_merged_conv_equals_separate_convs():
    torch.manual_seed(0)
    a, b = nn.Conv2d(8, C, 3, padding=1), nn.Conv2d(8, C, 3, padding=1)
    x = torch.randn(N, 8, H, W, requires_grad=True)
    merged = merged_conv(x, a, b)
    separate = torch.cat([a(x), b(x)], 1)
    torch.testing.assert_close(merged, separate, **TOL)
    params = [x, *a.parameters(), *b.parameters()]
    dout = torch.randn_like(merged)
    for g1, g2 in zip(torch.autograd.grad(merged, params, dout), torch.autograd.grad(separate, params, dout)):
        torch.testing.assert_close(g1, g2, **TOL)


def test_label_map_is_resized_once_per_resolution_and_never_stale():
    seg = _seg()
    first = label_cache.resized(seg, (3, 4))
    assert label_cache.resized(seg, (3, 4)) is first  # shared by the next layer
    torch.testing.assert_close(first, F.interpolate(seg, size=(3, 4), mode="nearest"))
    seg.zero_()  # an in-place change bumps the version: recomputed
    assert label_cache.resized(seg, (3, 4)).sum() == 0
    assert label_cache.onehot_labels(seg) is None  # no longer one-hot
    assert label_cache.onehot_labels(_seg() * 0.5) is None


def test_non_onehot_label_maps_use_the_dense_conv(monkeypatch):
    """An edge-map channel makes the map non-one-hot: the gather must not be used."""
    monkeypatch.setitem(FUSIONS, DEVICE.type, FUSIONS["cpu"])
    ref, tri = _pair("triton", label_nc=LABEL_NC + 1)
    seg = torch.cat([_seg(), torch.rand(N, 1, H, W, device=DEVICE).round()], 1)
    _assert_same(ref, tri, torch.randn(N, C, H, W, device=DEVICE), seg)


def test_unsupported_cases_fall_back_to_eager_and_log(monkeypatch, caplog):
    kb._warn_once.cache_clear()
    ref, tri = _pair("triton")
    with caplog.at_level(logging.WARNING, logger="gaugan.kernels"):
        x = torch.randn(N, C, H, W, device=DEVICE, dtype=torch.float64)
        ref.double(), tri.double()
        torch.testing.assert_close(tri(x, _seg().double()), ref(x, _seg().double()))
    assert "float64 unsupported; running eager" in caplog.text
    if DEVICE.type == "cpu":
        monkeypatch.delenv("TRITON_INTERPRET")
        assert kb.resolve("triton", x.float(), tri.param_free_norm, True) == ("eager", None)
        assert "Triton does not run on cpu" in caplog.text
        assert kb.resolve("auto", x.float(), tri.param_free_norm, True)[0] in ("compile", "eager")
    affine = nn.InstanceNorm2d(C, affine=True)
    assert kb.resolve("triton", x.float(), affine, True) == ("eager", None)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: eager, compile, triton, auto"):
        SPADE(C, LABEL_NC, backend="cuda")


def test_each_compiled_variant_has_its_own_code_object():
    """Dynamo's recompile limit (8) is per code object: a generator mixes modes, activations,
    shapes and grad modes, so each (mode, activation) gets its own copy of the code."""
    from gaugan.kernels.compiled import compiled_norm_modulate

    variants = [compiled_norm_modulate(m, a) for m in ("instance", "batch", "given") for a in (True, False)]
    codes = {v._torchdynamo_orig_callable.__code__ for v in variants}
    assert len(codes) == 6
    assert compiled_norm_modulate("batch", True) is compiled_norm_modulate("batch", True)
