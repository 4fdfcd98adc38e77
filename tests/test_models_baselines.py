"""pix2pix and pix2pixHD baselines: official parameter counts, forward/backward, bad sizes.

Reference counts come from two independent sources: the numbers measured on the
official implementations (DESIGN.md), and closed-form counts derived here by reading
the official code (junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py,
NVIDIA/pix2pixHD models/networks.py), never from our modules.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import gaugan.models  # noqa: F401  (registers every model)
from gaugan.models.pix2pixhd import GlobalGenerator, LocalEnhancer
from gaugan.registry import DISCRIMINATORS, GENERATORS, BuildContext

G_NAMES = ["pix2pix_unet256", "pix2pix_unet128", "pix2pixhd_global", "pix2pixhd_local"]
D_NAMES = ["pix2pix_patch", "pix2pixhd_multiscale"]


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count(registry, name: str, semantic_nc: int, size: tuple[int, int], **options) -> int:
    # Built on the meta device: exact shapes, no memory, no init cost.
    with torch.device("meta"):
        return n_params(registry.build(name, BuildContext(semantic_nc, size), **options))


# ------------------------------------------------- closed forms from the official code


def unet_params(i: int, o: int, f: int, n: int) -> int:
    """UnetGenerator(input_nc=i, output_nc=o, num_downs=n, ngf=f), batch norm.

    4x4 kernels (16 weights per in/out pair); with BatchNorm2d the convs have no bias
    except the outermost transposed conv; each BatchNorm2d(c) has 2c parameters.
      innermost (8f<->8f):        down 16*64f^2, up 16*64f^2, BN 16f
      n-5 middle (8f, inner 16f): down 16*64f^2 + BN 16f, up 16*128f^2 + BN 16f
      (4f, 8f): 16*32f^2 + 16f, 16*64f^2 + 8f      (2f, 4f): 16*8f^2 + 8f, 16*16f^2 + 4f
      (f, 2f):  16*2f^2 + 4f,   16*4f^2 + 2f       outermost: 16if, 32fo + o
    """
    return (4064 + 3072 * (n - 5)) * f * f + (58 + 32 * (n - 5)) * f + 16 * i * f + 32 * f * o + o


def patchgan_params(i: int, d: int) -> int:
    """NLayerDiscriminator(input_nc=i, ndf=d, n_layers=3), batch norm: conv i->d (+bias),
    d->2d, 2d->4d, 4d->8d (no bias, BN 2c each), 8d->1 (+bias), all 4x4."""
    return 16 * i * d + d + (32 + 128 + 512) * d * d + (4 + 8 + 16) * d + 16 * 8 * d + 1


def global_params(i: int, o: int, f: int, d: int, b: int) -> int:
    """GlobalGenerator(i, o, ngf=f, n_downsampling=d, n_blocks=b), instance norm without
    affine (no norm parameters), every conv with bias:
      7x7 i->f; down 3x3 f2^k -> f2^(k+1): sum 18f^2 4^k = 6f^2(4^d-1), biases 2f(2^d-1);
      b blocks of two 3x3 convs at C = f2^d; up: transposed 3x3 convs, 6f^2(4^d-1) and
      f(2^d-1); 7x7 f->o."""
    c = f * 2**d
    return (
        49 * i * f + f
        + 12 * f * f * (4**d - 1) + 3 * f * (2**d - 1)
        + b * 2 * (9 * c * c + c)
        + 49 * f * o + o
    )  # fmt: skip


def local_params(i: int, o: int, f: int, d: int, b: int, n_local: int, b_local: int) -> int:
    """LocalEnhancer: the global generator with ngf f*2^L minus its final 7x7 conv, plus
    per enhancer n (c = f*2^(L-n)): 7x7 i->c, 3x3 c->2c, b_local blocks at 2c, transposed
    3x3 2c->c; the outermost adds the 7x7 f->o head."""
    fg = f * 2**n_local
    total = global_params(i, o, fg, d, b) - (49 * fg * o + o)
    for n in range(1, n_local + 1):
        c = f * 2 ** (n_local - n)
        total += 49 * i * c + c + 18 * c * c + 2 * c
        total += b_local * 2 * (9 * (2 * c) ** 2 + 2 * c)
        total += 18 * c * c + c
    return total + 49 * f * o + o


def multiscale_d_params(i: int, d: int, num_D: int) -> int:
    """num_D x NLayerDiscriminator(i, ndf=d, n_layers=3), instance norm, all convs 4x4
    with bias: i->d, d->2d, 2d->4d, 4d->8d, 8d->1 (widths below the 512 cap)."""
    assert 8 * d <= 512
    return num_D * (16 * i * d + d + (32 + 128 + 512) * d * d + (2 + 4 + 8) * d + 16 * 8 * d + 1)


# ------------------------------------------------------------------ counts


def test_official_counts_from_design_table():
    # Measured on the official implementations (DESIGN.md).
    assert count(GENERATORS, "pix2pix_unet256", 12, (256, 256), label_input="color") == 54_413_955
    assert count(DISCRIMINATORS, "pix2pix_patch", 12, (256, 256), label_input="color") == 2_768_705
    assert count(GENERATORS, "pix2pixhd_global", 36, (512, 1024)) == 182_546_755


def test_closed_forms_reproduce_design_table():
    # The formulas are an independent reference only if they also give the measured numbers.
    assert unet_params(3, 3, 64, 8) == 54_413_955
    assert patchgan_params(6, 64) == 2_768_705
    assert global_params(36, 3, 64, 4, 9) == 182_546_755


@pytest.mark.parametrize(
    "name, semantic_nc, size, options, expected",
    [
        # U-Net-128, colour input and one-hot input; other widths.
        ("pix2pix_unet128", 12, (128, 128), {"label_input": "color"}, unet_params(3, 3, 64, 7)),
        ("pix2pix_unet128", 12, (128, 128), {}, unet_params(12, 3, 64, 7)),
        ("pix2pix_unet256", 36, (256, 512), {"ngf": 32}, unet_params(36, 3, 32, 8)),
        # Local enhancer: published Cityscapes 2048x1024 run (--netG local --ngf 32), 36 in.
        ("pix2pixhd_local", 36, (1024, 2048), {}, local_params(36, 3, 32, 4, 9, 1, 3)),
        ("pix2pixhd_local", 36, (512, 1024), {"n_local_enhancers": 2, "ngf": 16},
         local_params(36, 3, 16, 4, 9, 2, 3)),
        ("pix2pixhd_global", 184, (256, 256), {"n_downsampling": 3, "n_blocks": 6},
         global_params(184, 3, 64, 3, 6)),
    ],
)  # fmt: skip
def test_generator_counts_match_closed_form(name, semantic_nc, size, options, expected):
    assert count(GENERATORS, name, semantic_nc, size, **options) == expected


@pytest.mark.parametrize(
    "name, semantic_nc, options, expected",
    [
        # pix2pixHD multi-scale D on Cityscapes: 35 labels + edges + 3 image channels.
        ("pix2pixhd_multiscale", 36, {}, multiscale_d_params(39, 64, 2)),
        ("pix2pixhd_multiscale", 36, {"num_D": 3}, multiscale_d_params(39, 64, 3)),
        ("pix2pix_patch", 12, {}, patchgan_params(15, 64)),
    ],
)
def test_discriminator_counts_match_closed_form(name, semantic_nc, options, expected):
    assert count(DISCRIMINATORS, name, semantic_nc, (256, 512), **options) == expected


# ------------------------------------------------------------------ forward / backward


def smallest_size(registry, name: str, **options) -> int:
    """64 where the architecture allows it; U-Nets need a multiple of 2**num_downs."""
    return max(64, registry.config_class(name)(**options).min_size())


@pytest.mark.parametrize("name", G_NAMES)
def test_generator_forward_backward(name):
    torch.manual_seed(0)
    size = smallest_size(GENERATORS, name, ngf=4)  # 256 / 128 for the U-Nets, else 64
    G = GENERATORS.build(name, BuildContext(5, (size, size)), ngf=4)
    label = F.one_hot(torch.randint(0, 5, (2, size, size)), 5).permute(0, 3, 1, 2).float()
    out = G(label)
    assert out.shape == (2, 3, size, size)
    assert torch.isfinite(out).all() and out.abs().max() <= 1  # tanh
    out.square().mean().backward()
    for pname, p in G.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", D_NAMES)
def test_discriminator_forward_backward(name):
    torch.manual_seed(0)
    D = DISCRIMINATORS.build(name, BuildContext(5, (64, 64)), ndf=8)
    label = torch.rand(2, 5, 64, 64)
    image = torch.rand(2, 3, 64, 64, requires_grad=True) * 2 - 1
    scales = D(label, image)
    assert isinstance(scales, list) and all(isinstance(s, list) for s in scales)
    for feats in scales:
        assert feats[-1].shape[1] == 1  # last = per-patch prediction
    loss = sum(f.mean() for feats in scales for f in feats)
    loss.backward()
    assert torch.isfinite(loss)
    for pname, p in D.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


def conv_out(h: int, k: int, s: int, p: int) -> int:
    return (h + 2 * p - k) // s + 1


def test_multiscale_d_shapes_follow_official_padding():
    # Official: 4x4 convs with padding ceil(3/2) = 2; 3x3/2 average pooling between scales.
    D = DISCRIMINATORS.build("pix2pixhd_multiscale", BuildContext(4, (64, 64)), ndf=8)
    scales = D(torch.rand(1, 4, 64, 64), torch.rand(1, 3, 64, 64))
    assert len(scales) == 2
    h = 64
    for feats in scales:
        assert len(feats) == 3 + 2
        expect, x = [], h
        for s in (2, 2, 2, 1, 1):
            x = conv_out(x, 4, s, 2)
            expect.append(x)
        assert [f.shape[-1] for f in feats] == expect
        h = conv_out(h, 3, 2, 1)


def test_patchgan_receptive_field_is_70():
    # One output patch sees 70x70 input pixels: perturb one input pixel and count the
    # output positions it reaches, then invert (stride 8 through the three s2 convs).
    D = DISCRIMINATORS.build("pix2pix_patch", BuildContext(1, (128, 128)), ndf=4).eval()
    label = torch.zeros(1, 1, 128, 128)
    image = torch.zeros(1, 3, 128, 128, requires_grad=True)
    pred = D(label, image)[0][-1]
    pred[0, 0, 6, 6].backward()
    rows = image.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    assert rows.max() - rows.min() + 1 == 70


# ------------------------------------------------------------------ label input


def test_colour_label_input_sets_channels_and_attribute():
    ctx = BuildContext(12, (128, 128))
    G = GENERATORS.build("pix2pix_unet128", ctx, ngf=4, label_input="color")
    D = DISCRIMINATORS.build("pix2pix_patch", ctx, ndf=4, label_input="color")
    assert (G.label_input, G.input_nc, D.label_input, D.label_nc) == ("color", 3, "color", 3)
    G1 = GENERATORS.build("pix2pix_unet128", ctx, ngf=4)
    assert (G1.label_input, G1.input_nc) == ("onehot", 12)
    for name in ("pix2pixhd_global", "pix2pixhd_local"):
        assert GENERATORS.build(name, BuildContext(12, (64, 64)), ngf=4).input_nc == 12


# ------------------------------------------------------------------ coarse to fine


def test_local_enhancer_takes_trained_global_weights():
    torch.manual_seed(0)
    local = GENERATORS.build("pix2pixhd_local", BuildContext(4, (64, 64)), ngf=4, n_blocks_global=2)
    coarse = local.make_global_generator()
    assert isinstance(coarse, GlobalGenerator) and coarse.model[1].out_channels == 8  # 2 * ngf
    local.load_global_state_dict(coarse.state_dict())
    x = torch.rand(1, 4, 32, 32)
    # The local enhancer's global part computes the global generator minus its head.
    torch.testing.assert_close(local.model(x), coarse.model[:-3](x), rtol=0, atol=0)
    # Freezing partition: global part + outermost enhancer = everything, disjoint (L = 1).
    g = {id(p) for p in local.global_parameters()}
    e = {id(p) for p in local.outer_enhancer_parameters()}
    assert not g & e and g | e == {id(p) for p in local.parameters()}


def test_local_enhancer_rejects_mismatched_global_weights():
    local = LocalEnhancer(4, ngf=4, n_blocks_global=2)
    wrong_width = GlobalGenerator(4, ngf=4, n_blocks=2)  # needs ngf 8
    with pytest.raises(ValueError, match="ngf 8"):
        local.load_global_state_dict(wrong_width.state_dict())
    with pytest.raises(ValueError, match="unexpected keys"):
        local.load_global_state_dict({"encoder.weight": torch.zeros(1)})


def test_state_dict_keys_follow_official_layout():
    # Official key names, so official checkpoints load (e.g. latest_net_G.pth).
    with torch.device("meta"):
        unet = GENERATORS.build("pix2pix_unet256", BuildContext(3, (256, 256)))
        local = GENERATORS.build("pix2pixhd_local", BuildContext(36, (64, 64)))
        msd = DISCRIMINATORS.build("pix2pixhd_multiscale", BuildContext(36, (64, 64)))
    assert unet.state_dict()["model.model.0.weight"].shape == (64, 3, 4, 4)
    assert (
        "model.model.1.model.3.model.3.model.3.model.3.model.3.model.3.model.1.weight"
        in unet.state_dict()
    )
    keys = local.state_dict().keys()
    assert {
        "model1_1.1.weight",
        "model1_2.0.conv_block.1.weight",
        "model1_2.3.weight",
        "model1_2.7.weight",
    } <= keys
    assert msd.state_dict()["scale1_layer0.0.weight"].shape == (64, 39, 4, 4)
    assert "scale0_layer4.0.bias" in msd.state_dict()


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "registry, name, size, needle",
    [
        (GENERATORS, "pix2pix_unet256", (64, 64), "multiples of 256"),
        (GENERATORS, "pix2pix_unet256", (256, 384), "multiples of 256"),
        (GENERATORS, "pix2pix_unet128", (192, 128), "multiples of 128"),
        (GENERATORS, "pix2pixhd_global", (72, 64), "multiples of 16"),
        (GENERATORS, "pix2pixhd_global", (16, 16), "at least 32"),
        (GENERATORS, "pix2pixhd_local", (48, 64), "multiples of 32"),
        (DISCRIMINATORS, "pix2pix_patch", (16, 64), "at least 24x24"),
        (DISCRIMINATORS, "pix2pixhd_multiscale", (2, 64), "at least 4x4"),
    ],
)
def test_sizes_the_architecture_cannot_take_are_rejected_at_build(registry, name, size, needle):
    with pytest.raises(ValueError) as e:
        registry.build(name, BuildContext(3, size))
    assert needle in str(e.value) and f"got {size[0]}x{size[1]}" in str(e.value)


@pytest.mark.parametrize(
    "name, good, bad", [("pix2pix_unet128", 128, 96), ("pix2pixhd_local", 64, 80)]
)
def test_bad_size_at_forward_is_a_clear_error(name, good, bad):
    G = GENERATORS.build(name, BuildContext(3, (good, good)), ngf=2)
    with pytest.raises(ValueError, match=f"got {bad}x{bad}"):
        G(torch.zeros(1, 3, bad, bad))


@pytest.mark.parametrize(
    "name, options, needle",
    [
        ("pix2pix_unet256", {"ngf": 0}, "ngf must be >= 1"),
        ("pix2pixhd_local", {"n_local_enhancers": 0}, "n_local_enhancers must be >= 1"),
    ],
)
def test_bad_config_values_are_rejected(name, options, needle):
    with pytest.raises(ValueError, match=needle):
        GENERATORS.config_class(name)(**options)


# ------------------------------------------------------------------ presets


def preset_counts(preset: str, sets: list[str] | None = None) -> tuple[int, int, int]:
    from bench.build import build_context
    from bench.config import load_run_config
    from bench.data.registry import dataset_info

    cfg = load_run_config(preset, sets)
    ctx = build_context(cfg, dataset_info(cfg.data))
    with torch.device("meta"):
        G, D = cfg.model.generator.build(ctx), cfg.model.discriminator.build(ctx)
    return ctx.semantic_nc, n_params(G), n_params(D)


def test_presets_build_the_published_networks():
    assert preset_counts("presets/pix2pix_facades.yaml") == (12, 54_413_955, 2_768_705)
    nc, g, d = preset_counts("presets/pix2pixhd_cityscapes.yaml")
    assert (nc, g, d) == (36, local_params(36, 3, 32, 4, 9, 1, 3), multiscale_d_params(39, 64, 3))
    stage1 = ["model.generator={arch: pix2pixhd_global}", "data.image_size=512"]
    assert preset_counts("presets/pix2pixhd_cityscapes.yaml", stage1)[1] == 182_546_755
