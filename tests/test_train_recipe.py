"""The official training recipe: each family's weight init, and D once on cat(fake, real)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from bench.data.registry import dataset_info
from bench.train import ddp
from bench.train.networks import build_stage
from bench.train.objective import Objective
from bench.train.recipes import D_ON_CONCAT, family
from bench.train.schedule import FIXED, GLOBAL
from bench.train.tiny import TINY_MODELS, tiny_config
from gaugan.init import init_family, init_pix2pix, init_pix2pixhd, init_spade
from gaugan.models.multiscale_discriminator import MultiscaleDiscriminator

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


class Zoo(nn.Module):
    """Large layers (tight sample statistics) of every kind the init rules name."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(256, 128, 3)  # fan_in 2304, fan_out 1152
        self.convt = nn.ConvTranspose2d(128, 64, 4)
        self.linear = nn.Linear(1024, 512)
        self.sn_conv = spectral_norm(nn.Conv2d(256, 128, 3))
        self.bn = nn.BatchNorm2d(8192)
        self.inorm = nn.InstanceNorm2d(64, affine=True)
        self.free_bn = nn.BatchNorm2d(16, affine=False)


def xavier_std(w: torch.Tensor, gain: float) -> float:
    fan_in, fan_out = w.shape[1] * w[0, 0].numel(), w.shape[0] * w[0, 0].numel()
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def close(x: float, ref: float, rel: float = 0.02) -> bool:
    return abs(x - ref) <= rel * abs(ref)


def check_norms(z: Zoo) -> None:
    assert close(z.bn.weight.mean().item(), 1.0, 0.002) and close(z.bn.weight.std().item(), 0.02, 0.03)
    assert torch.all(z.bn.bias == 0)
    # InstanceNorm2d is no 'BatchNorm2d': PyTorch's ones / zeros stay.
    assert torch.all(z.inorm.weight == 1) and torch.all(z.inorm.bias == 0)


@pytest.mark.parametrize("spectral_weights", [False, True])
def test_spade_init_is_xavier_gain_002(spectral_weights):
    torch.manual_seed(0)
    z = Zoo()
    sn_before = z.sn_conv.weight_orig.detach().clone()
    init_spade(z, spectral_weights=spectral_weights)
    for m in (z.conv, z.convt, z.linear):
        w = m.weight.detach()
        assert abs(w.mean().item()) < 0.05 * xavier_std(w, 0.02)
        assert close(w.std().item(), xavier_std(w, 0.02)), type(m).__name__
        assert torch.all(m.bias == 0)
    w = z.sn_conv.weight_orig.detach()
    if spectral_weights:  # the official code run on the CPU: xavier reaches weight_orig
        assert close(w.std().item(), xavier_std(w, 0.02))
    else:  # the official GPU path: init lands in a stale copy, the raw weight is PyTorch's
        assert torch.equal(w, sn_before)
    assert torch.all(z.sn_conv.bias == 0)  # a real parameter: zeroed either way
    check_norms(z)


def test_official_spade_gpu_path_misses_spectral_weights():
    """Why "official" leaves spectral-norm weights alone: the official create_network
    moves the net (.cuda()) before init_weights, which writes m.weight.data. A dtype move
    goes through the same Module._apply (param.data = new tensor) and shows the effect."""
    torch.manual_seed(0)
    conv = spectral_norm(nn.Conv2d(4, 4, 3))
    assert conv.weight.data_ptr() == conv.weight_orig.data_ptr()  # shared before the move
    conv = conv.double()
    before = conv.weight_orig.detach().clone()
    nn.init.xavier_normal_(conv.weight.data, gain=0.02)  # what official init_func does
    assert torch.equal(conv.weight_orig.detach(), before)


def test_pix2pix_init_is_normal_002():
    torch.manual_seed(0)
    z = Zoo()
    init_pix2pix(z)
    for m in (z.conv, z.convt, z.linear):
        assert close(m.weight.std().item(), 0.02) and abs(m.weight.mean().item()) < 1e-3
        assert torch.all(m.bias == 0)
    check_norms(z)


def test_pix2pixhd_init_keeps_conv_bias_and_linear():
    torch.manual_seed(0)
    z = Zoo()
    bias = z.conv.bias.detach().clone()
    linear = z.linear.weight.detach().clone()
    init_pix2pixhd(z)
    for m in (z.conv, z.convt):
        assert close(m.weight.std().item(), 0.02) and abs(m.weight.mean().item()) < 1e-3
    assert torch.equal(z.conv.bias.detach(), bias)  # weights_init leaves conv biases
    assert torch.equal(z.linear.weight.detach(), linear)  # and Linear layers ('Conv' only)
    check_norms(z)


def test_init_mode_pytorch_and_unknown():
    torch.manual_seed(0)
    a = Zoo()
    torch.manual_seed(0)
    b = Zoo()
    init_family(b, "gaugan", "pytorch")
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    with pytest.raises(ValueError, match="init mode"):
        init_family(b, "gaugan", "kaiming")


def stage_state(cfg, name=None) -> dict:
    torch.manual_seed(cfg.seed)
    info = dataset_info(cfg.data)
    name = name or "single"
    st = build_stage(cfg, info, name, CPU, ddp.Dist(), False)
    return {"G": st.G.state_dict(), "D": st.D.state_dict(),
            "E": st.E.state_dict() if st.E is not None else {}}


def fresh_state(cfg, fam) -> dict:
    """build_networks with the same seed, then the init by hand (the reference)."""
    from bench.build import build_networks

    torch.manual_seed(cfg.seed)
    nets = build_networks(cfg, dataset_info(cfg.data))
    for m in (nets.G, nets.D, nets.E):
        if m is not None and fam is not None:
            init_family(m, fam, cfg.model.init)
    return {"G": nets.G.state_dict(), "D": nets.D.state_dict(),
            "E": nets.E.state_dict() if nets.E is not None else {}}


def assert_same(a: dict, b: dict) -> None:
    for net, state in a.items():
        assert state.keys() == b[net].keys(), net
        for k, v in state.items():
            assert torch.equal(v, b[net][k]), f"{net}.{k}"


@pytest.mark.parametrize("fam", [f for f in TINY_MODELS if f != "pix2pixhd"])
@pytest.mark.parametrize("mode", ["official", "pytorch"])
def test_build_stage_applies_the_family_init(fam, mode, data_root):
    cfg = tiny_config(fam, data_root, sets={"model.init": mode})
    got = stage_state(cfg)
    assert_same(got, stage_state(cfg))  # same seed, same weights
    # official: build_networks + the family's init; pytorch: build_networks untouched
    assert_same(got, fresh_state(cfg, family(type(cfg.model.generator).arch)
                                 if mode == "official" else None))
    if mode == "official":  # SPADE and pix2pix zero every conv bias
        assert all(torch.all(v == 0) for k, v in got["G"].items() if k.endswith(".bias"))


def test_default_init_is_official(data_root):
    assert tiny_config("gaugan", data_root).model.init == "official"


def test_pix2pixhd_stages_are_initialised_officially(data_root):
    cfg = tiny_config("pix2pixhd", data_root)
    info = dataset_info(cfg.data)
    torch.manual_seed(0)
    glob = build_stage(cfg, info, GLOBAL, CPU, ddp.Dist(), False)
    for net in (glob.G, glob.D):
        w = torch.cat([m.weight.detach().flatten() for m in net.modules()
                       if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
        assert close(w.std().item(), 0.02, 0.05), type(net).__name__
    # fixed_global: a fresh local enhancer, initialised, then the trained global part loaded
    gstate = {k: v + 1.0 for k, v in glob.G.state_dict().items()}  # recognisable weights
    torch.manual_seed(1)
    fixed = build_stage(cfg, info, FIXED, CPU, ddp.Dist(), False, global_state=gstate)
    G = fixed.G
    assert torch.equal(G.model[1].weight, gstate["model.1.weight"])
    outer = [p for n, p in G.named_parameters() if n.startswith("model1_") and p.dim() == 4]
    w = torch.cat([p.detach().flatten() for p in outer])
    assert close(w.std().item(), 0.02, 0.05)
    Dw = torch.cat([m.weight.detach().flatten() for m in fixed.D.modules()
                    if isinstance(m, nn.Conv2d)])
    assert close(Dw.std().item(), 0.02, 0.05)


# ------------------------------------------------------------ D once on cat(fake, real)


def test_d_on_concat_is_the_spade_familys():
    assert D_ON_CONCAT == {"gaugan": True, "pix2pix": False, "pix2pixhd": False}
    assert family("spade") == family("concat") == "gaugan"


def tiny_d():
    torch.manual_seed(0)
    D = MultiscaleDiscriminator(input_nc=3 + 3, num_D=2, n_layers=2, ndf=4, norm="instance",
                                spectral=True)
    return D.train()


def sn_convs(D):
    return [m for m in D.modules() if "weight_orig" in m._parameters]


def power_iteration(m) -> tuple[torch.Tensor, torch.Tensor]:
    """One power iteration from m's (u, v), as torch.nn.utils.spectral_norm does."""
    W = m.weight_orig.detach().flatten(1)
    v = F.normalize(W.t() @ m.weight_u, dim=0, eps=1e-12)
    u = F.normalize(W @ v, dim=0, eps=1e-12)
    return u, v


def reference_losses(D, cond, fake, real, lambda_feat=10.0):
    """Official SPADE: one D call on cat([cond|fake, cond|real]), halves split."""
    pred = D(torch.cat([cond, cond]), torch.cat([fake, real]))
    n = fake.shape[0]
    pf = [[t[:n] for t in s] for s in pred]
    pr = [[t[n:] for t in s] for s in pred]
    g_gan = torch.stack([-s[-1].mean() for s in pf]).mean()
    feat = sum(F.l1_loss(f, r.detach()) for sf, sr in zip(pf, pr) for f, r in zip(sf[:-1], sr[:-1]))
    d_fake = torch.stack([F.relu(1 + s[-1]).mean() for s in pf]).mean()
    d_real = torch.stack([F.relu(1 - s[-1]).mean() for s in pr]).mean()
    return {"g_gan": g_gan, "g_feat": lambda_feat * feat / len(pf)}, {"d_fake": d_fake,
                                                                       "d_real": d_real}


@pytest.mark.parametrize("step", ["generator", "discriminator"])
def test_one_power_iteration_per_step_and_losses_match_reference(step, data_root):
    cfg = tiny_config("gaugan", data_root, sets={"train.losses.lambda_vgg": 0.0})
    obj = Objective(cfg, "gaugan", CPU)
    assert obj.on_concat
    torch.manual_seed(1)
    cond = F.one_hot(torch.randint(0, 3, (2, 16, 16)), 3).permute(0, 3, 1, 2).float()
    fake, real = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    D, D_ref = tiny_d(), tiny_d()
    expected = [power_iteration(m) for m in sn_convs(D)]
    if step == "generator":
        D.requires_grad_(False)
        got = obj.generator(D, cond, fake.requires_grad_(), real)
    else:
        got = obj.discriminator(D, cond, fake, real)
    for m, (u, v) in zip(sn_convs(D), expected, strict=True):  # exactly one iteration
        torch.testing.assert_close(m.weight_u, u, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(m.weight_v, v, rtol=1e-6, atol=1e-7)
    ref_g, ref_d = reference_losses(D_ref, cond, fake.detach(), real)
    ref = ref_g if step == "generator" else ref_d
    assert got.keys() == ref.keys()
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-6, atol=1e-7, msg=k)


def test_two_calls_would_differ(data_root):
    """The reference is discriminating: separate fake/real calls (two power iterations)
    give another feature-matching value on the same batch."""
    torch.manual_seed(1)
    cond = F.one_hot(torch.randint(0, 3, (2, 16, 16)), 3).permute(0, 3, 1, 2).float()
    fake, real = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    D = tiny_d()
    pf, pr = D(cond, fake), D(cond, real)
    sep = sum(F.l1_loss(f, r) for sf, sr in zip(pf, pr) for f, r in zip(sf[:-1], sr[:-1]))
    ref_g, _ = reference_losses(tiny_d(), cond, fake, real)
    assert not torch.allclose(10 * sep / 2, ref_g["g_feat"], rtol=1e-6)


def test_baselines_call_d_separately(data_root):
    cfg = tiny_config("pix2pixhd", data_root, sets={"train.losses.lambda_vgg": 0.0})
    obj = Objective(cfg, "pix2pixhd", CPU)
    assert not obj.on_concat
    calls = []

    def D(c, x):
        calls.append(x.shape[0])
        return [[x.mean(1, keepdim=True)]]

    x = torch.randn(2, 3, 8, 8)
    obj.discriminator(D, x, x, x)
    obj.generator(D, x, x, x)
    assert calls == [2, 2, 2, 2]


def test_non_official_init_is_a_logged_departure(data_root):
    from bench.train.recipes import recipe_departures

    assert recipe_departures(tiny_config("gaugan", data_root)) == []
    got = recipe_departures(tiny_config("gaugan", data_root, sets={"model.init": "pytorch"}))
    assert got == ["model.init='pytorch' (the official gaugan code's init is 'official')"]
