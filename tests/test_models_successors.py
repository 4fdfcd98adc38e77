"""CLADE, CLADE-ICPE and OASIS: official parameter counts, equations, losses, training.

Counts: closed forms written here from the official code (tzt101/CLADE
models/networks/{normalization,architecture,generator}.py; boschresearch/OASIS
models/{generator,discriminator,norms}.py), layer by layer, independent of gaugan's
modules; the models built on the meta device must equal them, and at the published
configurations they are pinned to the unit (`bench inspect` prints the same).
"""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

import gaugan.models  # noqa: F401
from gaugan import oasis_losses as L
from gaugan.layers.clade import CLADE, _icpe_one, icpe_map
from gaugan.layers.norms import PARAM_FREE_NORMS
from gaugan.registry import DISCRIMINATORS, GENERATORS, BuildContext

# ------------------------------------------------------------------ closed forms


def conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def clade_layer(c: int, label_nc: int, inst: bool, icpe: bool) -> int:
    # ClassAffine weight + bias (label_nc x C each); inst_conv 1x1 1->1; dist convs 2->1 x2
    return 2 * label_nc * c + (2 if inst else 0) + (2 * conv(2, 1, 1) if icpe else 0)


def clade_block(fin: int, fout: int, label_nc: int, inst: bool, icpe: bool) -> int:
    a, fmid = (1 if inst else 0), min(fin, fout)
    n = conv(fin + a, fmid, 3) + conv(fmid + a, fout, 3)
    n += clade_layer(fin, label_nc, inst, icpe) + clade_layer(fmid, label_nc, inst, icpe)
    if fin != fout:
        n += conv(fin + a, fout, 1, bias=False) + clade_layer(fin, label_nc, inst, icpe)
    return n


def spade_widths(nf: int, mode: str) -> list[tuple[int, int]]:
    w = [(16, 16), (16, 16), (16, 16), (16, 8), (8, 4), (4, 2), (2, 1)]
    out = [(a * nf, b * nf) for a, b in w]
    return out + ([(nf, nf // 2)] if mode == "most" else [])


def clade_ref(semantic_nc: int, inst: bool, icpe: bool, mode: str = "normal", nf: int = 64) -> int:
    label_nc = semantic_nc - (1 if inst else 0)
    blocks = spade_widths(nf, mode)
    n = conv(semantic_nc, 16 * nf, 3) + conv(blocks[-1][1], 3, 3)
    return n + sum(clade_block(a, b, label_nc, inst, icpe) for a, b in blocks)


def spade_layer(c: int, label_nc: int, hidden: int = 128) -> int:
    return conv(label_nc, hidden, 3) + 2 * conv(hidden, c, 3)


def spade_block(fin: int, fout: int, label_nc: int) -> int:
    fmid = min(fin, fout)
    n = conv(fin, fmid, 3) + conv(fmid, fout, 3) + spade_layer(fin, label_nc) + spade_layer(fmid, label_nc)
    if fin != fout:
        n += conv(fin, fout, 1, bias=False) + spade_layer(fin, label_nc)
    return n


def oasis_g_ref(semantic_nc: int, ch: int = 64, z_dim: int = 64) -> int:
    cond = semantic_nc + z_dim
    widths = [16 * ch, 16 * ch, 16 * ch, 8 * ch, 4 * ch, 2 * ch, ch]
    n = conv(cond, 16 * ch, 3) + conv(ch, 3, 3)
    return n + sum(spade_block(widths[i], widths[i + 1], cond) for i in range(6))


def oasis_d_ref(semantic_nc: int) -> int:
    def block(fin, fout):
        return conv(fin, fout, 3) + conv(fout, fout, 3) + (conv(fin, fout, 1) if fin != fout else 0)

    down = [(3, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512)]
    up = [(512, 512), (1024, 256), (512, 256), (512, 128), (256, 128), (256, 64)]
    return sum(block(a, b) for a, b in down + up) + conv(64, semantic_nc + 1, 1)


def count(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def meta(registry, name, ctx, **options):
    with torch.device("meta"):
        return registry.build(name, ctx, **options)


# (data set, semantic_nc, (H, W), upsampling, instance map) at the official configurations
CLADE_CONFIGS = [("ade20k", 151, (256, 256), "normal", False),
                 ("cityscapes", 36, (256, 512), "more", True),
                 ("cocostuff", 184, (256, 256), "normal", True)]
CLADE_OFFICIAL = {"ade20k": 71_427_267, "cityscapes": 67_901_991, "cocostuff": 72_505_383}
OASIS_CONFIGS = [("ade20k", 151, (256, 256)), ("cityscapes", 35, (256, 512)), ("cocostuff", 183, (256, 256))]
OASIS_OFFICIAL = {"ade20k": (74_314_691, 22_258_904), "cityscapes": (71_107_523, 22_251_364),
                  "cocostuff": (75_199_427, 22_260_984)}


def test_closed_forms_reproduce_the_pinned_official_counts():
    for ds, nc, _, mode, inst in CLADE_CONFIGS:
        assert clade_ref(nc, inst, False, mode) == CLADE_OFFICIAL[ds]
        assert clade_ref(nc, inst, True, mode) == CLADE_OFFICIAL[ds] + 18 * 6  # 18 layers x 6
    for ds, nc, _ in OASIS_CONFIGS:
        assert (oasis_g_ref(nc), oasis_d_ref(nc)) == OASIS_OFFICIAL[ds]


def test_clade_is_spade_without_the_conv_branch():
    """A second, coarser closed form: SPADE's G (pinned by test_models_gaugan) minus its
    18 conv branches plus 18 class tables."""
    cs = [c for fin, fout in spade_widths(64, "normal")
          for c in ([fin, min(fin, fout)] + ([fin] if fin != fout else []))]
    assert len(cs) == 18
    spade = 96_492_483
    base = spade - sum(spade_layer(c, 151) for c in cs)
    assert base + sum(2 * 151 * c for c in cs) == CLADE_OFFICIAL["ade20k"]


@pytest.mark.parametrize("ds,nc,hw,mode,inst", CLADE_CONFIGS)
@pytest.mark.parametrize("arch", ["clade", "clade_icpe"])
def test_clade_counts_match_the_closed_form(ds, nc, hw, mode, inst, arch):
    G = meta(GENERATORS, arch, BuildContext(nc, hw, 3, inst), num_upsampling_layers=mode)
    assert count(G) == clade_ref(nc, inst, arch == "clade_icpe", mode)


@pytest.mark.parametrize("ds,nc,hw", OASIS_CONFIGS)
def test_oasis_counts_match_the_closed_form(ds, nc, hw):
    ctx = BuildContext(nc, hw, 3, False)
    assert count(meta(GENERATORS, "oasis", ctx)) == oasis_g_ref(nc) == OASIS_OFFICIAL[ds][0]
    assert count(meta(DISCRIMINATORS, "oasis_unet", ctx)) == oasis_d_ref(nc) == OASIS_OFFICIAL[ds][1]


@pytest.mark.parametrize("preset,g,d", [
    ("clade_ade20k", CLADE_OFFICIAL["ade20k"], 5_836_930),
    ("clade_cityscapes", CLADE_OFFICIAL["cityscapes"], 5_601_410),
    ("clade_cocostuff", CLADE_OFFICIAL["cocostuff"], 5_904_514),
    *[(f"oasis_{ds}", *OASIS_OFFICIAL[ds]) for ds in OASIS_OFFICIAL],
])
def test_presets_inspect_to_the_official_counts(preset, g, d, capsys):
    from bench.inspect import inspect_target

    rows = inspect_target(f"presets/{preset}.yaml", as_json=True, count_flops=False)
    assert (rows[0]["params_G"], rows[0]["params_D"]) == (g, d)
    assert json.loads(capsys.readouterr().out)[0]["params_G"] == g


# ------------------------------------------------------------------ equations


def _onehot(labels: torch.Tensor, k: int) -> torch.Tensor:
    return F.one_hot(labels, k).permute(0, 3, 1, 2).float()


def test_clade_layer_equals_its_equation():
    """out = x_hat * gamma[label] + beta[label] (gamma, not 1 + gamma: the official code)."""
    torch.manual_seed(0)
    n, c, h, w, k = 2, 3, 5, 7, 4
    layer = CLADE(c, k, norm=PARAM_FREE_NORMS["instance"])
    with torch.no_grad():
        layer.class_specified_affine.bias.normal_()
    labels = torch.randint(0, k, (n, h, w))
    x = torch.randn(n, c, h, w) * 3 + 1
    out = layer(x, _onehot(labels, k))
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    x_hat = (x - mean) / torch.sqrt(var + 1e-5)
    W, B = layer.class_specified_affine.weight, layer.class_specified_affine.bias
    want = torch.empty_like(x)
    for i in range(n):
        for y in range(h):
            for xx in range(w):
                cls = labels[i, y, xx]
                want[i, :, y, xx] = x_hat[i, :, y, xx] * W[cls] + B[cls]
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)
    # official init: gamma ~ U(0, 1), beta 0
    fresh = CLADE(c, k).class_specified_affine
    assert fresh.weight.min() >= 0 and fresh.weight.max() <= 1 and torch.all(fresh.bias == 0)


def test_clade_layer_with_instance_channel_and_resize():
    """The edge channel is split off, classes come from the rest, a 1x1 conv of the edges is
    appended; the label map is resized (nearest) to x."""
    torch.manual_seed(1)
    k = 3
    layer = CLADE(2, k, instance_channel=True)
    labels = torch.randint(0, k, (1, 8, 8))
    edges = (torch.rand(1, 1, 8, 8) > 0.5).float()
    seg = torch.cat([_onehot(labels, k), edges], 1)
    x = torch.randn(1, 2, 4, 4)
    out = layer(x, seg, negative_slope=0.2)
    assert out.shape == (1, 3, 4, 4)
    small = F.interpolate(seg, size=(4, 4), mode="nearest")
    e = small[:, -1:]
    conv = layer.inst_conv
    torch.testing.assert_close(out[:, -1:], F.leaky_relu(e * conv.weight.view(()) + conv.bias, 0.2))
    x_hat = F.instance_norm(x, eps=1e-5)
    ids = small[:, :k].argmax(1)
    W, B = layer.class_specified_affine.weight, layer.class_specified_affine.bias
    want = x_hat * W[ids].permute(0, 3, 1, 2) + B[ids].permute(0, 3, 1, 2)
    torch.testing.assert_close(out[:, :2], F.leaky_relu(want, 0.2))


def test_icpe_map_by_hand():
    """Offsets from each connected component's centroid (8-connectivity), per component
    divided by its largest |offset| + 1e-5."""
    label = torch.tensor([[0, 0, 1, 0, 0]])  # class 0: two components; class 1: one pixel
    d = _icpe_one(label.numpy())
    s = 0.5 / (0.5 + 1e-5)
    assert torch.allclose(torch.from_numpy(d[1]), torch.tensor([[-s, s, 0.0, -s, s]]))
    assert (d[0] == 0).all()  # one row: no row offsets
    diag = torch.tensor([[1, 0], [0, 1]])  # diagonal pixels are one component (8-connected)
    d = _icpe_one(diag.numpy())
    assert torch.allclose(torch.from_numpy(d[0]), torch.tensor([[-s, -s], [s, s]]))
    assert torch.allclose(torch.from_numpy(d[1]), torch.tensor([[-s, s], [-s, s]]))  # class 0 too
    batch = icpe_map(torch.stack([label, label]))
    assert batch.shape == (2, 2, 1, 5) and batch.dtype == torch.float32


def test_icpe_layer_equals_its_equation():
    """gamma[label] * (1 + conv_w(D)) and beta[label] * (1 + conv_b(D)), 1x1 convs 2 -> 1."""
    torch.manual_seed(2)
    k, c = 3, 4
    layer = CLADE(c, k, icpe=True)
    aff = layer.class_specified_affine
    with torch.no_grad():
        for p in (aff.dist_conv_w.weight, aff.dist_conv_w.bias, aff.dist_conv_b.weight,
                  aff.dist_conv_b.bias, aff.bias):
            p.normal_()
    labels = torch.randint(0, k, (2, 6, 6))
    dist = icpe_map(labels)
    x = torch.randn(2, c, 6, 6)
    out = layer(x, _onehot(labels, k), dist)
    mw = 1 + (aff.dist_conv_w.weight.view(1, 2, 1, 1) * dist).sum(1, keepdim=True) + aff.dist_conv_w.bias
    mb = 1 + (aff.dist_conv_b.weight.view(1, 2, 1, 1) * dist).sum(1, keepdim=True) + aff.dist_conv_b.bias
    gamma = aff.weight[labels].permute(0, 3, 1, 2)
    beta = aff.bias[labels].permute(0, 3, 1, 2)
    torch.testing.assert_close(out, F.instance_norm(x, eps=1e-5) * gamma * mw + beta * mb)
    with pytest.raises(ValueError, match="positional"):
        layer(x, _onehot(labels, k))


# ------------------------------------------------------------------ forward / backward


TINY = {
    "clade": (GENERATORS, "clade", dict(ngf=4, norm="instance")),
    "clade_icpe": (GENERATORS, "clade_icpe", dict(ngf=4, norm="instance")),
    "oasis": (GENERATORS, "oasis", dict(ch=4, spade_hidden=8, z_dim=3, norm="instance")),
}


@pytest.mark.parametrize("name", list(TINY))
@pytest.mark.parametrize("inst", [False, True])
def test_generators_forward_backward(name, inst):
    registry, arch, opts = TINY[name]
    torch.manual_seed(0)
    nc = 6 + (1 if inst else 0)
    G = registry.build(arch, BuildContext(nc, (64, 64), 3, inst), **opts)
    labels = torch.randint(0, 6, (2, 64, 64))
    seg = _onehot(labels, 6)
    if inst:
        seg = torch.cat([seg, (torch.rand(2, 1, 64, 64) > 0.9).float()], 1)
    out = G(seg)
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1
    out.mean().backward()
    grads = [p.grad for p in G.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    if name.startswith("clade"):
        assert G.head_0.norm_0.class_specified_affine.weight.grad.abs().sum() > 0


def test_oasis_generator_noise_is_3d_and_changes_the_output():
    torch.manual_seed(0)
    G = GENERATORS.build("oasis", BuildContext(5, (64, 64)), ch=2, spade_hidden=4, z_dim=3, norm="instance")
    seg = _onehot(torch.randint(0, 5, (1, 64, 64)), 5)
    a, b = G(seg), G(seg)
    assert not torch.allclose(a, b)  # fresh z each call
    G.eval()  # (training mode runs a spectral-norm power iteration per call)
    z = torch.randn(1, 3)
    torch.testing.assert_close(G(seg, z), G(seg, z))
    assert G.fc.in_channels == 5 + 3 and G.body[0].norm_0.mlp_shared[0].in_channels == 5 + 3


def test_oasis_discriminator_forward_backward():
    torch.manual_seed(0)
    D = DISCRIMINATORS.build("oasis_unet", BuildContext(7, (64, 64), 3, True), width=4)
    assert D.num_classes == 6  # the edge channel is no class: N + 1 = 7 outputs
    img = torch.randn(2, 3, 64, 64, requires_grad=True)
    out = D(img)
    assert out.shape == (2, 7, 64, 64)
    out.square().mean().backward()
    assert img.grad is not None and all(p.grad is not None for p in D.parameters())


# ------------------------------------------------------------------ OASIS losses


def test_n_plus_1_loss_by_hand():
    # 1 image, 2 classes, 3 pixels: classes [0, 0, 1]
    label = _onehot(torch.tensor([[[0, 0, 1]]]), 2)
    logits = torch.tensor([[[[0.0, 1.0, 2.0]], [[1.0, 0.0, -1.0]], [[0.5, 0.5, 0.5]]]])  # (1, 3, 1, 3)

    def ce(px, target):
        col = [logits[0, j, 0, px].item() for j in range(3)]
        return -(col[target] - math.log(sum(math.exp(v) for v in col)))

    # real: targets class + 1 = [1, 1, 2]; weights 3 / (2 classes * count): 0.75, 0.75, 1.5
    real = (0.75 * ce(0, 1) + 0.75 * ce(1, 1) + 1.5 * ce(2, 2)) / 3
    fake = (ce(0, 0) + ce(1, 0) + ce(2, 0)) / 3
    assert L.n_plus_1_loss(logits, label, True).item() == pytest.approx(real, rel=1e-6)
    assert L.n_plus_1_loss(logits, label, False).item() == pytest.approx(fake, rel=1e-6)
    unbalanced = (ce(0, 1) + ce(1, 1) + ce(2, 2)) / 3
    assert L.n_plus_1_loss(logits, label, True, balance=False).item() == pytest.approx(unbalanced, rel=1e-6)
    # class 1 as don't-care: weight 0; K counts class 0 only: 3 / (1 * 2) = 1.5
    dc = (1.5 * ce(0, 1) + 1.5 * ce(1, 1)) / 3
    assert L.n_plus_1_loss(logits, label, True, dontcare=1).item() == pytest.approx(dc, rel=1e-6)
    torch.testing.assert_close(L.class_balance_weights(label), torch.tensor([[[0.75, 0.75, 1.5]]]))


def test_labelmix_mixes_by_class_as_the_paper():
    torch.manual_seed(3)
    labels = torch.randint(0, 5, (3, 8, 8))
    label = _onehot(labels, 5)
    mask = L.labelmix_mask(label)
    assert mask.shape == (3, 1, 8, 8) and set(mask.unique().tolist()) <= {0.0, 1.0}
    for c in labels.unique():  # one coin per class, shared by every image of the batch
        assert mask[:, 0][labels == c].unique().numel() == 1
    real, fake = torch.randn(3, 3, 8, 8), torch.randn(3, 3, 8, 8)
    mixed = L.labelmix(mask, fake, real)
    m = mask.bool().expand_as(real)
    assert torch.equal(mixed[m], real[m]) and torch.equal(mixed[~m], fake[~m])
    # the regulariser: MSE of D(mixed) against the same mix of D's outputs
    d_real, d_fake, d_mixed = torch.randn(3, 6, 8, 8), torch.randn(3, 6, 8, 8), torch.randn(3, 6, 8, 8)
    want = ((d_mixed - (mask * d_real + (1 - mask) * d_fake)) ** 2).mean()
    torch.testing.assert_close(L.labelmix_loss(mask, d_mixed, d_fake, d_real), want)
    assert L.labelmix_loss(mask, mask * d_real + (1 - mask) * d_fake, d_fake, d_real) == 0


def test_ema_update():
    from bench.train.oasis import EMA

    net = torch.nn.Linear(2, 2)
    ema = EMA(net, 0.9)
    before = ema.module.weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    torch.testing.assert_close(ema.module.weight, 0.9 * before + 0.1 * net.weight)
    assert not ema.module.weight.requires_grad


# ------------------------------------------------------------------ training


def _tiny(arch: str, data_root, steps: int = 2):
    from bench.config import validate_run_config

    model = {"generator": {"arch": arch, "ngf": 4, "norm": "instance"},
             "discriminator": {"arch": "spade_multiscale", "ndf": 4, "num_D": 1, "n_layers": 2}}
    train = {"steps": steps, "log_every": 1, "sample_every": 1000, "ckpt_every": 1000, "snapshots": 1}
    if arch == "oasis":
        model = {"generator": {"arch": "oasis", "ch": 4, "spade_hidden": 4, "z_dim": 2,
                               "norm": "instance", "ema_decay": 0.5},
                 "discriminator": {"arch": "oasis_unet", "width": 4}}
        train.update(losses={"gan_mode": "n_plus_1", "lambda_feat": 0.0, "lambda_vgg": 0.0,
                             "lambda_kl": 0.0}, beta2=0.999)
    data = {"name": f"tiny-{arch}", "seed": 0, "device": "cpu",
            "data": {"dataset": "synthetic", "root": str(data_root), "image_size": 64,
                     "num_train": 8, "num_val": 4, "batch_size": 2},
            "model": model, "train": train}
    return validate_run_config(data, arch)


@pytest.mark.parametrize("arch", ["clade", "oasis"])
def test_successor_trains_and_evaluates_its_generator(arch, tmp_path_factory, tmp_path):
    from bench.train.checkpoint import load_checkpoint, load_generator
    from bench.train.snapshots import list_snapshots, load_snapshot
    from bench.train.trainer import train_run

    cfg = _tiny(arch, tmp_path_factory.mktemp("synthetic"))
    stats = train_run(cfg, tmp_path)
    rows = [json.loads(ln) for ln in (tmp_path / "scalars.jsonl").read_text().splitlines()]
    keys = {k for k in rows[-1] if k.startswith(("g_", "d_"))}
    if arch == "oasis":
        assert keys == {"g_gan", "d_fake", "d_real", "d_labelmix"} and stats["family"] == "oasis"
        ckpt = load_checkpoint(tmp_path)
        ema = ckpt["G_ema"]
        assert ema is not None and any(not torch.equal(ema[k], ckpt["G"][k]) for k in ema)
        G, _, _, _ = load_generator(tmp_path)
        assert all(torch.equal(v, ema[k]) for k, v in G.state_dict().items())  # EMA evaluated
        snap = load_snapshot(list_snapshots(tmp_path)[-1])
        assert all(torch.equal(snap["G"][k], ema[k]) for k in ema)
    else:
        assert {"g_gan", "g_feat", "d_fake", "d_real"} <= keys
    assert all(math.isfinite(r[k]) for r in rows for k in r if k.startswith(("g_", "d_")))


def test_modulation_overhead_at_official_ade20k():
    """The cost table's modulation shares (bench.modulation_cost), from the closed forms."""
    from bench.modulation_cost import official_ade20k

    res = official_ade20k()
    spade, clade = res["spade"], res["clade"]
    assert spade["base_params"] == clade["base_params"] == res["clade_icpe"]["base_params"]
    assert spade["mod_params"] == 96_492_483 - spade["base_params"] == 28_370_304
    assert clade["mod_params"] == CLADE_OFFICIAL["ade20k"] - clade["base_params"] == 3_305_088
    assert spade["base_flops"] == clade["flops"] and clade["mod_flops"] == 0
    assert spade["layers"] == clade["layers"] == 18
    assert round(100 * spade["params_overhead"], 2) == 41.65
    assert round(100 * clade["params_overhead"], 2) == 4.85


def test_oasis_resume_is_exact_ema_included(tmp_path_factory, tmp_path):
    from bench.train.checkpoint import load_checkpoint
    from bench.train.trainer import train_run

    cfg = _tiny("oasis", tmp_path_factory.mktemp("synthetic"), steps=2)
    train_run(cfg, tmp_path / "a")
    train_run(cfg, tmp_path / "b", until=1)
    train_run(cfg, tmp_path / "b", resume=True)
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for key in ("G", "D", "G_ema"):
        assert a[key].keys() == b[key].keys()
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key
