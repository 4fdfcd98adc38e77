"""GauGAN model library: official parameter counts, SPADE equation, the chapter's argument.

Expected parameter counts come from closed-form formulas written from the official
NVlabs/SPADE code (generator.py, architecture.py, normalization.py, encoder.py,
discriminator.py), not from running our modules; the formulas are first pinned to
the counts measured on the official implementation (DESIGN.md table).
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

import gaugan.models  # noqa: F401  (registers every model)
from gaugan.layers.norms import ParamFreeBatchNorm, ParamFreeInstanceNorm
from gaugan.layers.spade import SPADE
from gaugan.layers.spade_resblock import SPADEResBlock
from gaugan.layers.spectral import maybe_spectral
from gaugan.models.encoder import reparameterize
from gaugan.registry import DISCRIMINATORS, ENCODERS, GENERATORS, BuildContext

# ------------------------------------------------------------ closed-form references


def conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def spade_ref(norm_nc: int, label_nc: int, hidden: int = 128, k: int = 3) -> int:
    # mlp_shared (label -> hidden), mlp_gamma and mlp_beta (hidden -> norm_nc); all with bias.
    return conv(label_nc, hidden, k) + 2 * conv(hidden, norm_nc, k)


def resblock_ref(fin: int, fout: int, label_nc: int) -> int:
    fmid = min(fin, fout)
    n = (
        conv(fin, fmid, 3)
        + conv(fmid, fout, 3)
        + spade_ref(fin, label_nc)
        + spade_ref(fmid, label_nc)
    )
    if fin != fout:  # learned shortcut: 1x1 conv without bias, plus its own SPADE
        n += conv(fin, fout, 1, bias=False) + spade_ref(fin, label_nc)
    return n


def generator_ref(
    label_nc: int, ngf: int, mode: str, hw: tuple[int, int], use_vae: bool = False, z_dim: int = 256
) -> int:
    num_up = {"normal": 5, "more": 6, "most": 7}[mode]
    sw = hw[1] // 2**num_up  # official: sw = crop_size // 2**num_up, sh = round(sw / aspect)
    sh = round(sw / (hw[1] / hw[0]))
    nf = ngf
    fc = z_dim * 16 * nf * sh * sw + 16 * nf * sh * sw if use_vae else conv(label_nc, 16 * nf, 3)
    widths = [(16, 16)] * 3 + [(16, 8), (8, 4), (4, 2), (2, 1)]
    blocks = sum(resblock_ref(a * nf, b * nf, label_nc) for a, b in widths)
    final_nc = nf
    if mode == "most":
        blocks += resblock_ref(nf, nf // 2, label_nc)
        final_nc = nf // 2
    return fc + blocks + conv(final_nc, 3, 3)


def discriminator_ref(input_nc: int, ndf: int = 64, n_layers: int = 4, num_d: int = 2) -> int:
    n = conv(input_nc, ndf, 4)  # first layer: plain conv with bias
    nf = ndf
    for _ in range(1, n_layers):  # middle: spectral conv, bias removed before instance norm
        nf_prev, nf = nf, min(nf * 2, 512)
        n += conv(nf_prev, nf, 4, bias=False)
    n += conv(nf, 1, 4)
    return num_d * n


def encoder_ref(ngf: int = 64, s0: int = 4, z_dim: int = 256) -> int:
    widths = [3, ngf, 2 * ngf, 4 * ngf, 8 * ngf, 8 * ngf, 8 * ngf]
    convs = sum(conv(a, b, 3, bias=False) for a, b in itertools.pairwise(widths))
    return convs + 2 * (8 * ngf * s0 * s0 * z_dim + z_dim)


def concat_ref(label_nc: int, ngf: int, mode: str) -> int:
    """SPADE generator minus every SPADE's parameters (plain instance norm has none)."""
    nf = ngf
    widths = [(16, 16)] * 3 + [(16, 8), (8, 4), (4, 2), (2, 1)]
    if mode == "most":
        widths.append((1, 0.5))
    n = conv(label_nc, 16 * nf, 3)
    for a, b in widths:
        fin, fout = int(a * nf), int(b * nf)
        fmid = min(fin, fout)
        n += conv(fin, fmid, 3) + conv(fmid, fout, 3) + (fin * fout if fin != fout else 0)
    return n + conv(int(widths[-1][1] * nf), 3, 3)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_meta(registry, name: str, ctx: BuildContext, **options) -> torch.nn.Module:
    """Full-size model on the meta device: shapes without memory or init cost."""
    with torch.device("meta"):
        return registry.build(name, ctx, **options)


# ------------------------------------------------------------ parameter counts


def test_reference_formulas_reproduce_official_measurements():
    assert generator_ref(151, 64, "normal", (256, 256)) == 96_492_483
    assert discriminator_ref(151 + 3) == 5_836_930
    assert encoder_ref() == 10_463_424


def test_design_table_counts():
    ctx = BuildContext(semantic_nc=151, image_size=(256, 256))
    assert count(build_meta(GENERATORS, "spade", ctx)) == 96_492_483
    assert count(build_meta(DISCRIMINATORS, "spade_multiscale", ctx)) == 5_836_930
    assert count(build_meta(ENCODERS, "conv_vae", ctx)) == 10_463_424


OFFICIAL_CONFIGS = [
    # (name, semantic_nc, (H, W), num_upsampling_layers, use_vae)
    ("ade20k", 151, (256, 256), "normal", False),
    ("ade20k_vae", 151, (256, 256), "normal", True),
    ("cityscapes", 36, (256, 512), "more", False),  # 35 + instance edges, crop 512, aspect 2
    ("cityscapes_vae", 36, (256, 512), "more", True),
    ("cocostuff", 184, (256, 256), "normal", False),  # 182 + dontcare + instance edges
    ("cocostuff_vae", 184, (256, 256), "normal", True),
    ("facades", 13, (256, 256), "normal", False),  # official facades label_nc 13
    ("most_512", 151, (512, 512), "most", False),
]


@pytest.mark.parametrize(
    "name,nc,hw,mode,vae", OFFICIAL_CONFIGS, ids=[c[0] for c in OFFICIAL_CONFIGS]
)
def test_generator_and_discriminator_counts_match_official_formula(name, nc, hw, mode, vae):
    ctx = BuildContext(semantic_nc=nc, image_size=hw)
    g = build_meta(GENERATORS, "spade", ctx, num_upsampling_layers=mode, use_vae=vae)
    assert count(g) == generator_ref(nc, 64, mode, hw, use_vae=vae)
    assert count(build_meta(DISCRIMINATORS, "spade_multiscale", ctx)) == discriminator_ref(nc + 3)


def test_vae_changes_only_fc():
    ctx = BuildContext(semantic_nc=151, image_size=(256, 256))
    seg_g = build_meta(GENERATORS, "spade", ctx)
    vae_g = build_meta(GENERATORS, "spade", ctx, use_vae=True)
    # fc: Conv2d(151, 1024, 3) vs Linear(256, 1024 * 8 * 8); the rest is identical.
    assert count(seg_g) - count(seg_g.fc) == count(vae_g) - count(vae_g.fc)
    assert count(vae_g.fc) == 256 * 1024 * 64 + 1024 * 64
    assert count(seg_g.fc) == 151 * 1024 * 9 + 1024


@pytest.mark.parametrize(
    "mode,hw", [("normal", (256, 256)), ("more", (256, 512)), ("most", (256, 256))]
)
def test_concat_generator_count(mode, hw):
    ctx = BuildContext(semantic_nc=36, image_size=hw)
    g = build_meta(GENERATORS, "concat", ctx, num_upsampling_layers=mode)
    assert count(g) == concat_ref(36, 64, mode)


def test_official_state_dict_names():
    ctx = BuildContext(semantic_nc=5, image_size=(64, 64))
    g = GENERATORS.build("spade", ctx, ngf=4).state_dict()
    for key in [
        "fc.weight",
        "head_0.conv_0.weight_orig",
        "head_0.conv_0.weight_u",
        "up_0.conv_s.weight_orig",
        "up_0.norm_s.mlp_shared.0.weight",
        "up_3.norm_1.mlp_gamma.weight",
        "G_middle_1.norm_0.mlp_beta.bias",
        "conv_img.bias",
    ]:
        assert key in g, key
    d = DISCRIMINATORS.build("spade_multiscale", ctx, ndf=4).state_dict()
    for key in [
        "discriminator_0.model0.0.weight",
        "discriminator_0.model1.0.0.weight_orig",
        "discriminator_1.model3.0.0.weight_orig",
        "discriminator_1.model4.0.bias",
    ]:
        assert key in d, key
    e = ENCODERS.build("conv_vae", ctx, ngf=4).state_dict()
    for key in ["layer1.0.weight_orig", "layer6.0.weight_orig", "fc_mu.weight", "fc_var.bias"]:
        assert key in e, key


# ------------------------------------------------------------ forward / backward

MINE = {
    ("generator", "spade"): {"ngf": 4, "spade_hidden": 16},
    ("generator", "concat"): {"ngf": 4},
    ("discriminator", "spade_multiscale"): {"ndf": 8},
    ("encoder", "conv_vae"): {"ngf": 4, "resize_to": 128},
}
REGISTRIES = {"generator": GENERATORS, "discriminator": DISCRIMINATORS, "encoder": ENCODERS}


def _one_hot(n: int, nc: int, hw: tuple[int, int], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, nc, (n, *hw), generator=g)
    return F.one_hot(labels, nc).permute(0, 3, 1, 2).float()


@pytest.mark.parametrize("kind,name", list(MINE), ids=[f"{k}-{n}" for k, n in MINE])
def test_forward_backward_64(kind, name):
    torch.manual_seed(0)
    nc, hw = 6, (64, 64)
    ctx = BuildContext(semantic_nc=nc, image_size=hw)
    model = REGISTRIES[kind].build(name, ctx, **MINE[(kind, name)])
    seg, image = _one_hot(2, nc, hw), torch.rand(2, 3, *hw) * 2 - 1
    if kind == "generator":
        out = model(seg)
        assert out.shape == (2, 3, *hw)
        loss = out.square().mean()
    elif kind == "discriminator":
        out = model(seg, image)
        assert len(out) == 2 and all(len(scale) == 5 for scale in out)
        assert out[0][-1].shape[:2] == (2, 1)
        loss = sum(scale[-1].mean() for scale in out)
    else:
        mu, logvar = model(image)
        assert mu.shape == logvar.shape == (2, 256)
        loss = reparameterize(mu, logvar).square().mean()
    assert torch.isfinite(loss)
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


def test_vae_generator_uses_z():
    torch.manual_seed(0)
    ctx = BuildContext(semantic_nc=4, image_size=(64, 128))  # aspect 2
    g = GENERATORS.build("spade", ctx, ngf=4, spade_hidden=16, use_vae=True, norm="instance").eval()
    seg = _one_hot(1, 4, (64, 128))
    z1, z2 = torch.randn(1, 256), torch.randn(1, 256)
    with torch.no_grad():
        a, a2, b = g(seg, z1), g(seg, z1), g(seg, z2)
    assert a.shape == (1, 3, 64, 128)
    assert torch.equal(a, a2)
    assert (a - b).abs().max() > 1e-3


# ------------------------------------------------------------ bad input


def test_image_size_not_divisible_is_a_clear_error():
    with pytest.raises(ValueError, match=r"multiples of 2\*\*6 = 64"):
        GENERATORS.build("spade", BuildContext(6, (96, 200)), ngf=4, num_upsampling_layers="more")
    with pytest.raises(ValueError, match="multiples of"):
        GENERATORS.build("concat", BuildContext(6, (48, 48)), ngf=4)


@pytest.mark.parametrize(
    "registry,name,options,valid",
    [
        (GENERATORS, "spade", {"num_upsampling_layers": "lots"}, "normal, more, most"),
        (GENERATORS, "spade", {"norm": "group"}, "instance, batch, syncbatch"),
        (GENERATORS, "concat", {"num_upsampling_layers": "x"}, "normal, more, most"),
        (DISCRIMINATORS, "spade_multiscale", {"norm": "layer"}, "instance, batch, none"),
        (ENCODERS, "conv_vae", {"resize_to": 100}, "multiple of 64"),
    ],
)
def test_invalid_options_list_valid_values(registry, name, options, valid):
    with pytest.raises(ValueError, match=valid):
        registry.config_class(name)(**options)


# ------------------------------------------------------------ SPADE equation


@pytest.mark.parametrize("norm", [ParamFreeInstanceNorm, ParamFreeBatchNorm])
@pytest.mark.parametrize("slope", [None, 0.2])
def test_spade_matches_paper_equation(norm, slope):
    torch.manual_seed(0)
    n, c, nc, h, w = 2, 5, 4, 6, 7
    layer = SPADE(c, nc, norm=norm, hidden=8, kernel_size=3)
    x = torch.randn(n, c, h, w) * 3 + 1
    seg = _one_hot(n, nc, (2 * h, 2 * w))
    out = layer(x, seg, negative_slope=slope)

    # Independent: statistics by hand, nearest 2x downsampling by slicing.
    dims = (2, 3) if norm is ParamFreeInstanceNorm else (0, 2, 3)
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased, as in the norms
    x_hat = (x - mean) / torch.sqrt(var + 1e-5)
    m = seg[:, :, ::2, ::2]
    shared = layer.mlp_shared[0]
    actv = torch.relu(F.conv2d(m, shared.weight, shared.bias, padding=1))
    gamma = F.conv2d(actv, layer.mlp_gamma.weight, layer.mlp_gamma.bias, padding=1)
    beta = F.conv2d(actv, layer.mlp_beta.weight, layer.mlp_beta.bias, padding=1)
    expected = x_hat * (1 + gamma) + beta
    if slope is not None:
        expected = torch.where(expected > 0, expected, slope * expected)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_spade_resblock_composition():
    """out = conv_s(norm_s(x)) + conv_1(lrelu(norm_1(conv_0(lrelu(norm_0(x)))))), fmid = min."""
    torch.manual_seed(0)
    blk = SPADEResBlock(6, 4, label_nc=3, spade_hidden=8).eval()  # eval: fixed spectral u
    x, seg = torch.randn(2, 6, 8, 8), _one_hot(2, 3, (8, 8))
    out = blk(x, seg)
    assert blk.conv_0.weight.shape[0] == 4 and blk.conv_s.bias is None

    def lrelu(t):
        return torch.where(t > 0, t, 0.2 * t)

    def conv(m, t):
        return F.conv2d(t, m.weight, m.bias, padding=m.padding)

    shortcut = conv(blk.conv_s, blk.norm_s(x, seg))  # no activation on the shortcut
    dx = conv(blk.conv_0, lrelu(blk.norm_0(x, seg)))
    dx = conv(blk.conv_1, lrelu(blk.norm_1(dx, seg)))
    torch.testing.assert_close(out, shortcut + dx)
    same = SPADEResBlock(4, 4, label_nc=3, spade_hidden=8, spectral=False)
    assert not hasattr(same, "conv_s") and not hasattr(same.conv_0, "weight_orig")


# ------------------------------------------------------------ the chapter's argument


def _uniform(cls: int, nc: int, hw: tuple[int, int]) -> torch.Tensor:
    seg = torch.zeros(1, nc, *hw)
    seg[:, cls] = 1
    return seg


def test_instance_norm_erases_uniform_label_map_spade_keeps_it():
    """Park et al. 2019, Sec. 3.1: a single-label map that enters through conv -> instance
    norm is normalized to zero whatever the label; SPADE re-injects the label after it.

    Checked on the models' own input path (fc, then head_0.norm_0), in float64. The
    whole Concat generator is label-independent on such maps only in exact arithmetic:
    every later map is then constant too, and instance norm turns rounding noise on a
    constant map into O(1) values, so its full output is not a usable check.
    """
    torch.manual_seed(0)
    nc, hw = 5, (64, 64)
    ctx = BuildContext(semantic_nc=nc, image_size=hw)
    concat = GENERATORS.build("concat", ctx, ngf=4).double().eval()  # eval: fixed spectral u
    spade = GENERATORS.build("spade", ctx, ngf=4, spade_hidden=16, norm="instance").double().eval()
    maps = [_uniform(k, nc, hw).double() for k in range(nc)]
    with torch.no_grad():
        c_in = [concat.fc(F.interpolate(m, size=(concat.sh, concat.sw))) for m in maps]
        c_path = [concat.head_0.norm_0(x) for x in c_in]
        s_in = [spade.fc(F.interpolate(m, size=(spade.sh, spade.sw))) for m in maps]
        s_path = [spade.head_0.norm_0(x, m) for x, m in zip(s_in, maps)]
        s_out = [spade(m) for m in maps]
    for k in range(1, nc):
        assert (c_in[k] - c_in[0]).abs().max() > 1e-2  # the conv does see the label ...
        torch.testing.assert_close(c_path[k], torch.zeros_like(c_path[k]), rtol=0, atol=1e-6)
        assert (s_path[k] - s_path[0]).abs().max() > 1e-2  # ... SPADE keeps it
        assert (s_out[k] - s_out[0]).abs().max() > 1e-2


# ------------------------------------------------------------ spectral norm


def test_spectral_norm_largest_singular_value_is_one():
    torch.manual_seed(0)
    conv2d = maybe_spectral(torch.nn.Conv2d(8, 16, 3), True)
    x = torch.randn(1, 8, 5, 5)
    sigma_raw = torch.linalg.svdvals(conv2d.weight_orig.detach().reshape(16, -1))[0]
    assert abs(sigma_raw.item() - 1) > 0.1  # the raw weight is not already normalized
    for _ in range(50):  # one power iteration per training-mode forward
        conv2d(x)
    w = conv2d.weight.detach().reshape(16, -1)
    assert torch.linalg.svdvals(w)[0].item() == pytest.approx(1.0, abs=1e-3)
    assert not hasattr(maybe_spectral(torch.nn.Conv2d(2, 2, 1), False), "weight_orig")


# ------------------------------------------------------------ presets

PRESETS = [  # (file, semantic_nc, (H, W), num_upsampling_layers, use_vae)
    ("gaugan_ade20k", 151, (256, 256), "normal", False),
    ("gaugan_ade20k_vae", 151, (256, 256), "normal", True),
    ("gaugan_cityscapes", 36, (256, 512), "more", False),
    ("gaugan_cocostuff", 184, (256, 256), "normal", False),
    ("gaugan_facades", 12, (256, 256), "normal", False),
]


@pytest.mark.parametrize("name,nc,hw,mode,vae", PRESETS, ids=[p[0] for p in PRESETS])
def test_presets_build_official_counts(name, nc, hw, mode, vae):
    from bench.build import build_networks
    from bench.config import EXPERIMENTS_DIR, load_run_config
    from bench.data.registry import dataset_info

    cfg = load_run_config(EXPERIMENTS_DIR / "presets" / f"{name}.yaml")
    with torch.device("meta"):
        nets = build_networks(cfg, dataset_info(cfg.data))
    assert count(nets.G) == generator_ref(nc, 64, mode, hw, use_vae=vae)
    assert count(nets.D) == discriminator_ref(nc + 3)
    assert (nets.E is not None) == vae
    if vae:
        assert count(nets.E) == encoder_ref()


@pytest.mark.parametrize("arch", ["spade", "concat"])
def test_label_channel_mismatch_is_a_clear_error(arch):
    from gaugan.registry import GENERATORS, BuildContext

    ctx = BuildContext(semantic_nc=5, image_size=(64, 64))
    G = GENERATORS.build(arch, ctx, ngf=8)
    with pytest.raises(ValueError, match=r"expected a \(N, 5, H, W\) tensor, got \(1, 4, 64, 64\)"):
        G(torch.zeros(1, 4, 64, 64))


def test_discriminator_channel_mismatch_is_a_clear_error():
    from gaugan.registry import DISCRIMINATORS, BuildContext

    D = DISCRIMINATORS.build("spade_multiscale", BuildContext(semantic_nc=5, image_size=(64, 64)), ndf=8)
    with pytest.raises(ValueError, match="label\\+image"):
        D(torch.zeros(1, 4, 64, 64), torch.zeros(1, 3, 64, 64))
