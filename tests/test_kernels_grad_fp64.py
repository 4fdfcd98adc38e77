"""One G forward + backward of a small GauGAN generator in fp32 under each SPADE backend
(eager, compile, auto) against an fp64 eager reference.

Every run starts from a copy of one generator state: in training mode each forward
advances spectral norm's power iteration (and batch norm's running statistics), so
running the backends one after another on the same module compares different weights
(the n-th run sees n power iterations), which reads as a backend drifting further
from the reference the later it runs.

Error of a gradient: max |g - g_fp64| / max |g_fp64| (normalised by its magnitude).

compile vs auto: on the CPU auto is the compile path (backend.AUTO_CPU), the same
compiled functions. Their numbers still depend on the compile cache's history: a
compiled function's first build is for static shapes, its first recompile (another
resolution of the generator) makes shapes dynamic, and a later call of a shape the
static graph served now runs the dynamic graph, whose loops sum in another order
(~1e-5 relative). So the first compile run differs from every later one, whichever
backend name asked for it; once warm, compile and auto agree bit for bit.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from gaugan.kernels import backend as kb
from gaugan.kernels import set_spade_backend
from gaugan.models.spade_generator import SPADEGeneratorConfig
from gaugan.registry import BuildContext

# fp32 against fp64 through ~20 layers. Measured worst (fc.weight, the first conv: its
# gradient passes every norm's mean-removing projection): eager 8.1e-5, compile 5.3e-5,
# auto 5.3e-5. A wrong weight or path is off by 1e-2 and more.
REL_TOL = 5e-4
ZERO = 1e-9  # a gradient below ZERO x the network's largest is structurally zero
NC, SIZE = 5, 32


def _generator():
    torch.manual_seed(0)
    cfg = SPADEGeneratorConfig(ngf=4, spade_hidden=8, norm="batch")  # 32x32: 1x1 bottom
    return cfg.build(BuildContext(semantic_nc=NC, image_size=(SIZE, SIZE), output_nc=3)).train()


def _inputs():
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, NC, (2, SIZE, SIZE), generator=g)
    seg = F.one_hot(labels, NC).permute(0, 3, 1, 2).float()
    dout = torch.randn(2, 3, SIZE, SIZE, generator=g)
    return seg, dout


def _grads(base, backend: str, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    G = copy.deepcopy(base).to(dtype)
    set_spade_backend(G, backend)
    seg, dout = _inputs()
    out = G(seg.to(dtype))
    (out * dout.to(dtype)).sum().backward()
    return {n: p.grad.detach().double() for n, p in G.named_parameters()}


def rel_errors(grads: dict, ref: dict) -> dict[str, float]:
    """Per parameter max |g - g_fp64| / max |g_fp64|. A parameter whose true gradient is
    zero (a bias right before a param-free norm, which cancels it: fp64 gives ~1e-20)
    has no scale of its own: its error is taken relative to the largest gradient of the
    network instead (its fp32 value must be noise at that scale)."""
    scale = max(r.abs().max().item() for r in ref.values())
    out = {}
    for n, r in ref.items():
        own = r.abs().max().item()
        out[n] = (grads[n] - r).abs().max().item() / (own if own > ZERO * scale else scale)
    return out


def test_eager_fp32_gradients_match_fp64():
    base = _generator()
    ref = _grads(base, "eager", torch.float64)
    err = rel_errors(_grads(base, "eager", torch.float32), ref)
    assert max(err.values()) < REL_TOL, max(err.items(), key=lambda kv: kv[1])


def test_copies_start_from_the_same_spectral_state():
    """The pitfall the other tests avoid: a second forward on the same module sees
    another spectral-norm weight (one more power iteration)."""
    base = _generator()
    seg, _ = _inputs()
    a = _grads(base, "eager", torch.float32)
    assert all(torch.equal(a[n], b) for n, b in _grads(base, "eager", torch.float32).items())
    G = copy.deepcopy(base)
    first = G(seg).detach()
    assert not torch.equal(G(seg).detach(), first)  # u advanced: same input, other output


@pytest.mark.slow
@pytest.mark.skipif(not kb.compile_runs_on("cpu"), reason="torch.compile cannot build here")
def test_compile_and_auto_gradients_match_fp64_and_each_other():
    base = _generator()
    ref = _grads(base, "eager", torch.float64)
    errors = {}
    grads = {}
    _grads(base, "compile", torch.float32)  # warm the compile cache (see the module doc)
    for backend in ("eager", "compile", "auto"):
        grads[backend] = _grads(base, backend, torch.float32)
        errors[backend] = rel_errors(grads[backend], ref)
    worst = {b: max(e.items(), key=lambda kv: kv[1]) for b, e in errors.items()}
    print("\nmax relative gradient error vs fp64 eager:", worst)
    for b, (name, e) in worst.items():
        assert e < REL_TOL, f"{b}: {name} {e:.2e}"
    # On the CPU auto resolves to the compile path: warm, the same numbers bit for bit.
    assert kb.AUTO_CPU == "compile"
    for n in ref:
        assert torch.equal(grads["auto"][n], grads["compile"][n]), n
