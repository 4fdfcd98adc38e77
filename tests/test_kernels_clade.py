"""The fused CLADE norm (Triton, and its torch twin) against eager PyTorch, every gradient.

Without CUDA the Triton kernels run under TRITON_INTERPRET=1 (set before anything imports
triton) on tiny odd shapes in fp32. The reference is eager float64: nn.InstanceNorm2d /
nn.BatchNorm2d, then x_hat * W[label] + B[label] and the LeakyReLU, differentiated by
autograd; the tables' gradients are accumulated per class by the kernel's atomics.
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gaugan.kernels.clade_op import clade_norm_mod, clade_norm_torch, clade_norm_triton  # noqa: E402
from gaugan.kernels.op import triton_runs_on  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SHAPE = (2, 3, 5, 7)  # N, C, H, W: odd sizes
K = 4  # classes (one of them absent from the labels: its gradient must stay 0)
EPS = 1e-5
needs_triton = pytest.mark.skipif(not triton_runs_on(DEVICE), reason="Triton unavailable")


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = SHAPE
    x = torch.randn(SHAPE, generator=g) * 2 + 3
    labels = torch.randint(0, K - 1, (n, h, w), generator=g)
    weight = torch.rand(K, c, generator=g) + 0.5
    bias = 0.5 * torch.randn(K, c, generator=g)
    dout = torch.randn(SHAPE, generator=g)
    run_mean, run_var = torch.randn(c, generator=g), torch.rand(c, generator=g) + 0.5
    return x, labels, weight, bias, dout, run_mean, run_var


def _reference(x, labels, weight, bias, dout, mode, slope, run_mean, run_var):
    x, weight, bias = (t.double().requires_grad_() for t in (x, weight, bias))
    if mode == "instance":
        xh = F.instance_norm(x, eps=EPS)
    elif mode == "batch":
        xh = F.batch_norm(x, None, None, training=True, eps=EPS)
    else:
        xh = (x - run_mean.double()[None, :, None, None]) / torch.sqrt(run_var.double() + EPS)[None, :, None, None]
    gamma = weight[labels].permute(0, 3, 1, 2)
    beta = bias[labels].permute(0, 3, 1, 2)
    out = xh * gamma + beta
    if slope != 1.0:
        out = F.leaky_relu(out, slope)
    grads = torch.autograd.grad(out, (x, weight, bias), dout.double())
    return out.detach(), grads


MODES = ["instance", "batch", "given"]


@needs_triton
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("slope", [1.0, 0.2])
@pytest.mark.parametrize("entry", ["function", "op"])
def test_triton_clade_matches_eager_every_gradient(mode, slope, entry):
    x, labels, weight, bias, dout, rm, rv = _inputs()
    ref_out, (ref_dx, ref_dw, ref_db) = _reference(x, labels, weight, bias, dout, mode, slope, rm, rv)
    xd, wd, bd = (t.to(DEVICE).requires_grad_() for t in (x, weight, bias))
    mean_in = rm.to(DEVICE) if mode == "given" else None
    rstd_in = torch.rsqrt(rv + EPS).to(DEVICE) if mode == "given" else None
    fn = clade_norm_triton if entry == "function" else clade_norm_mod
    out, mean, rstd = fn(xd, labels.to(DEVICE), wd, bd, mean_in, rstd_in, mode, EPS, slope)
    out.backward(dout.to(DEVICE))
    tol = dict(atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out.double().cpu(), ref_out, **tol)
    torch.testing.assert_close(xd.grad.double().cpu(), ref_dx, **tol)
    torch.testing.assert_close(wd.grad.double().cpu(), ref_dw, **tol)
    torch.testing.assert_close(bd.grad.double().cpu(), ref_db, **tol)
    assert torch.all(wd.grad[K - 1] == 0) and torch.all(bd.grad[K - 1] == 0)  # absent class
    assert mean.shape == ((SHAPE[0] * SHAPE[1],) if mode == "instance" else (SHAPE[1],))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("slope", [1.0, 0.2])
def test_torch_clade_matches_eager_every_gradient(mode, slope):
    x, labels, weight, bias, dout, rm, rv = _inputs(1)
    ref_out, ref_grads = _reference(x, labels, weight, bias, dout, mode, slope, rm, rv)
    xs, ws, bs = (t.clone().requires_grad_() for t in (x, weight, bias))
    out, _, _ = clade_norm_torch(xs, labels, ws, bs, mode, rm, rv, EPS, slope)
    grads = torch.autograd.grad(out, (xs, ws, bs), dout)
    torch.testing.assert_close(out.double(), ref_out, atol=1e-4, rtol=1e-4)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got.double(), want, atol=1e-4, rtol=1e-4)


@needs_triton
@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_clade_layer_triton_backend_matches_eager(norm):
    """The CLADE layer's triton backend equals its eager path, parameters' gradients included."""
    from gaugan.layers.clade import CLADE
    from gaugan.layers.norms import PARAM_FREE_NORMS

    torch.manual_seed(0)
    layer = CLADE(3, K, norm=PARAM_FREE_NORMS[norm]).to(DEVICE)
    seg = F.one_hot(torch.randint(0, K, (2, 5, 7)), K).permute(0, 3, 1, 2).float().to(DEVICE)
    x = torch.randn(SHAPE, device=DEVICE)
    outs = []
    for backend in ("eager", "triton"):
        layer.backend = backend
        layer.zero_grad()
        out = layer(x, seg, negative_slope=0.2)
        out.square().sum().backward()
        outs.append((out.detach(), layer.class_specified_affine.weight.grad.clone(),
                     layer.class_specified_affine.bias.grad.clone()))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_profile_clade_rows_have_bytes_and_roofline(monkeypatch):
    """`bench profile spade` times the CLADE norm (with its bytes and roofline) and layer."""
    from bench.profile import spade as prof

    monkeypatch.setattr(prof, "providers_for", lambda dev: ["eager"])
    monkeypatch.setattr(prof, "copy_bandwidth_gbs", lambda dev, quick: 10.0)
    monkeypatch.setattr(prof, "time_ms", lambda fn, dev, quick: (fn(), 1.0)[1])
    sweep = [("clade_norm", (2, 3, 8, 8), "contiguous"), ("clade", (2, 3, 8, 8), "contiguous")]
    rows, gbs = prof.run_sweep(torch.device("cpu"), torch.float32, True, 60, lambda m: None,
                               sweep=sweep, label_nc=5)
    prof.add_metrics(rows, gbs)
    assert [(r["level"], r["pass"]) for r in rows] == [
        ("clade_norm", "fwd"), ("clade_norm", "fwd+bwd"), ("clade", "fwd"), ("clade", "fwd+bwd")]
    assert not any(r["error"] for r in rows)
    x = 2 * 3 * 8 * 8 * 4
    assert rows[0]["bytes"] == 2 * x + 2 * 64 * 4 + 2 * 5 * 3 * 4
    assert rows[0]["roofline_ms"] == pytest.approx(rows[0]["bytes"] / 10e9 * 1e3)
    assert rows[1]["bytes"] < 10 * x + 2 * 64 * 4 + 8 * 5 * 3 * 4  # less than SPADE's 10 tensors


@pytest.mark.skipif(DEVICE.type == "cpu" and not __import__("shutil").which("g++"), reason="no C++ compiler")
def test_clade_layer_compile_backend_matches_eager():
    from gaugan.layers.clade import CLADE
    from gaugan.layers.norms import PARAM_FREE_NORMS

    torch.manual_seed(0)
    layer = CLADE(3, K, norm=PARAM_FREE_NORMS["batch"]).to(DEVICE)
    seg = F.one_hot(torch.randint(0, K, (2, 5, 7)), K).permute(0, 3, 1, 2).float().to(DEVICE)
    x = torch.randn(SHAPE, device=DEVICE)
    outs = []
    for backend in ("eager", "compile"):
        layer.backend = backend
        layer.zero_grad()
        layer.param_free_norm.reset_running_stats()
        out = layer(x, seg, negative_slope=0.2)
        out.square().sum().backward()
        norm = layer.param_free_norm
        outs.append((out.detach(), layer.class_specified_affine.weight.grad.clone(),
                     layer.class_specified_affine.bias.grad.clone(),
                     norm.running_mean.clone(), norm.running_var.clone()))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
