"""AutocastSpectralNorm (gaugan/layers/spectral.py) against torch's own spectral-norm hook,
the reference the official SPADE code uses: same weights, buffers and outputs, and the
gradient of the paper's W / sigma(W) with u, v held constant."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import spectral_norm

from gaugan.layers.spectral import AutocastSpectralNorm, autocast_spectral

BF16 = torch.bfloat16
LAYERS = {
    "conv": (lambda: nn.Conv2d(6, 8, 3, padding=1), (3, 6, 9, 9)),
    "conv_transpose": (lambda: nn.ConvTranspose2d(6, 8, 3), (3, 6, 5, 5)),
    "linear": (lambda: nn.Linear(10, 7), (4, 10)),
}


def _pair(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    make, shape = LAYERS[kind]
    ref = spectral_norm(make())
    fast = copy.deepcopy(ref)
    assert autocast_spectral(fast) == 1
    return ref, fast, torch.randn(shape)


def _train_steps(m: nn.Module, x: torch.Tensor, autocast: bool, steps: int = 3):
    """Two forwards per step in one graph (the GAN pattern), backward, then SGD; returns
    each step's outputs and weight_orig gradients."""
    outs, grads = [], []
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(steps):
        with torch.autocast("cpu", dtype=BF16, enabled=autocast):
            y1, y2 = m(x), m(x * 0.5)
        loss = y1.float().square().mean() - y2.float().mean()
        opt.zero_grad()
        loss.backward()
        outs.append(y1.detach())
        grads.append(m.weight_orig.grad.clone())
        opt.step()
    return outs, grads


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_autocast_outputs_buffers_equal_torch_and_grads_match(kind):
    ref, fast, x = _pair(kind)
    ro, rg = _train_steps(ref, x, autocast=True)
    fo, fg = _train_steps(fast, x, autocast=True)
    assert ro[0].dtype == BF16 and torch.equal(ro[0], fo[0])  # same weights: bit-identical
    for a, b in zip(ro[1:], fo[1:]):  # after updates by gradients that differ in last bits
        assert torch.allclose(a.float(), b.float(), rtol=1e-2, atol=1e-2)
    for a, b in zip(rg, fg):  # same gradient up to the order of fp32 sums
        assert (a - b).abs().max() <= 1e-5 * a.abs().max()
    # u, v follow W, whose updates differ by the gradients' last bits
    assert torch.allclose(ref.weight_u, fast.weight_u, rtol=0, atol=1e-5)
    assert torch.allclose(ref.weight_v, fast.weight_v, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_fp32_path_is_torch_hook_bit_for_bit(kind):
    ref, fast, x = _pair(kind, seed=1)
    ro, rg = _train_steps(ref, x, autocast=False)
    fo, fg = _train_steps(fast, x, autocast=False)
    for a, b in zip(ro + rg, fo + fg):
        assert torch.equal(a, b)
    assert torch.equal(ref.weight_u, fast.weight_u) and torch.equal(ref.weight_v, fast.weight_v)


def test_gradient_is_the_papers_formula_in_fp64():
    """dL/dW_orig for W = W_orig / (u^T W_orig v): checked against fp64 autograd of that
    expression written out by hand (not torch's hook), with the hook's u and v."""
    ref, fast, x = _pair("conv", seed=2)
    w0 = fast.weight_orig.detach().clone()
    g_out = torch.randn(3, 8, 9, 9)
    with torch.autocast("cpu", dtype=BF16):
        y = fast(x)
    (y.float() * g_out).sum().backward()
    u, v = fast.weight_u.double(), fast.weight_v.double()  # after this forward's iteration
    w = w0.double().requires_grad_(True)
    sigma = u @ (w.reshape(8, -1) @ v)
    # the bf16 conv's weight gradient, taken as given: dL/dW for the conv input in bf16
    xb = x.to(BF16).double()
    yref = torch.nn.functional.conv2d(xb, (w / sigma), fast.bias.double(), padding=1)
    (yref * g_out.double()).sum().backward()
    got, want = fast.weight_orig.grad.double(), w.grad
    # bf16 activations and weights in the conv backward: agreement to bf16 precision
    assert (got - want).abs().max() <= 2e-2 * want.abs().max()
    # and the sigma term matters: without it the error would be this much larger
    no_sigma = torch.autograd.grad((torch.nn.functional.conv2d(
        xb, w / sigma.detach(), fast.bias.double(), padding=1) * g_out.double()).sum(), w)[0]
    assert (no_sigma - want).abs().max() > 5 * (got - want).abs().max()


def test_channels_last_input_gives_channels_last_weight_and_same_output():
    ref, fast, x = _pair("conv", seed=3)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=BF16):
        a, b = ref(x), fast(x)
    assert fast.weight.dtype == BF16
    assert fast.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(a, b)


def test_eval_mode_keeps_buffers_and_state_dict_is_torchs():
    ref, fast, x = _pair("conv", seed=4)
    ref.eval(), fast.eval()
    u0 = fast.weight_u.clone()
    with torch.autocast("cpu", dtype=BF16):
        a, b = ref(x), fast(x)
    assert torch.equal(a, b) and torch.equal(fast.weight_u, u0)  # no power iteration
    assert list(ref.state_dict()) == list(fast.state_dict())
    back = spectral_norm(nn.Conv2d(6, 8, 3, padding=1))
    back.load_state_dict(fast.state_dict())  # checkpoints load into torch's hook
    assert isinstance(next(iter(fast._forward_pre_hooks.values())), AutocastSpectralNorm)
