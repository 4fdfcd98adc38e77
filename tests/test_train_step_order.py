"""Each family's G/D step order (bench.train.step) against its official code, written out by hand.

pix2pix (pix2pix_model.optimize_parameters): forward once; D step on fake.detach(); G step
through the same fake against the updated D. pix2pixHD (train.py): every loss from one
forward with the D of before the update; G step, then D step. SPADE (Pix2PixTrainer):
G step, then D step on a new fake from the updated G under no_grad.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from bench.data.registry import dataset_info
from bench.train import ddp
from bench.train.networks import build_stage
from bench.train.objective import Objective
from bench.train.recipes import FAMILY_OF_GENERATOR, STEP_ORDER
from bench.train.schedule import GLOBAL
from bench.train.step import train_step
from bench.train.tiny import tiny_config

CPU = torch.device("cpu")
NO_AUTOCAST = contextlib.nullcontext


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


def make(fam: str, data_root, stage_name: str = "single", **sets):
    cfg = tiny_config(fam, data_root, sets={"train.losses.lambda_vgg": 0.0, **sets})
    torch.manual_seed(0)
    stage = build_stage(cfg, dataset_info(cfg.data), stage_name, CPU, ddp.Dist(), False)
    return cfg, stage, Objective(cfg, fam, CPU)


def inputs(stage, size: int, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    cin = next(m for m in stage.G.modules() if isinstance(m, torch.nn.Conv2d)).in_channels
    if cin == 3:  # pix2pix's colour-rendered label map
        cond = torch.rand(2, 3, size, size, generator=g) * 2 - 1
    else:
        ids = torch.randint(0, cin, (2, size // 4, size // 4), generator=g)
        cond = torch.nn.functional.one_hot(ids, cin).permute(0, 3, 1, 2).float()
        cond = torch.nn.functional.interpolate(cond, size=(size, size), mode="nearest")
    return cond, torch.rand(2, 3, size, size, generator=g) * 2 - 1


def scaler():
    return torch.amp.GradScaler("cuda", enabled=False)


def ours(stage, obj, cond, real, order) -> tuple[dict, dict]:
    torch.manual_seed(7)  # the G forward's dropout draws
    return train_step(stage, obj, cond, real, order, NO_AUTOCAST, scaler())


def weights(stage) -> dict:
    return {**{f"G.{k}": v.clone() for k, v in stage.G.state_dict().items()},
            **{f"D.{k}": v.clone() for k, v in stage.D.state_dict().items()}}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def differs(a: dict, b: dict) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a)


def g_calls(G) -> list:
    calls = []
    G.register_forward_hook(lambda m, i, o: calls.append(torch.is_grad_enabled()))
    return calls


def test_every_family_has_an_order():
    assert set(FAMILY_OF_GENERATOR.values()) <= STEP_ORDER.keys()
    assert STEP_ORDER["gaugan"] == "fresh_fake" and STEP_ORDER["oasis"] == "fresh_fake"
    assert STEP_ORDER["pix2pix"] == "d_first" and STEP_ORDER["pix2pixhd"] == "same_fake"
    with pytest.raises(ValueError, match="step order"):
        train_step(None, None, None, None, "g_twice", NO_AUTOCAST, scaler())


def test_pix2pix_updates_d_first_on_the_one_fake(data_root):
    cfg, st, obj = make("pix2pix", data_root, **{"model.generator.use_dropout": True})
    cond, real = inputs(st, cfg.data.image_size)
    calls = g_calls(st.G)
    got_g, got_d = ours(st, obj, cond, real, "d_first")
    assert calls == [True]  # one G forward, with a graph: dropout drawn once
    # the official order, by hand, on identical networks
    _, ref, _ = make("pix2pix", data_root, **{"model.generator.use_dropout": True})
    torch.manual_seed(7)
    fake = ref.G(cond)
    ref.D.requires_grad_(True)
    ref_d = obj.discriminator(ref.D, cond, fake.detach(), real)
    ref.opt_d.zero_grad()
    sum(ref_d.values()).backward()
    ref.opt_d.step()
    ref.D.requires_grad_(False)
    ref_g = obj.generator(ref.D, cond, fake, real)  # against the updated D
    ref.opt_g.zero_grad()
    sum(ref_g.values()).backward()
    ref.opt_g.step()
    assert_same(weights(st), weights(ref))
    for k in ref_g:
        assert torch.equal(got_g[k], ref_g[k]), k
    for k in ref_d:
        assert torch.equal(got_d[k], ref_d[k]), k
    # the SPADE order (G first, then a fresh fake) trains to other weights
    _, other, _ = make("pix2pix", data_root, **{"model.generator.use_dropout": True})
    ours(other, obj, cond, real, "fresh_fake")
    assert differs(weights(st), weights(other))


def test_pix2pixhd_takes_every_loss_from_one_forward(data_root):
    cfg, st, obj = make("pix2pixhd", data_root, stage_name=GLOBAL)
    cond, real = inputs(st, st.image_size[0])
    calls = g_calls(st.G)
    ours(st, obj, cond, real, "same_fake")
    assert calls == [True]
    # official train.py: all losses first (D not yet updated), then G step, then D step
    _, ref, _ = make("pix2pixhd", data_root, stage_name=GLOBAL)
    torch.manual_seed(7)
    fake = ref.G(cond)
    ref_d = obj.discriminator(ref.D, cond, fake.detach(), real)
    ref_g = obj.generator(ref.D, cond, fake, real)
    ref.opt_g.zero_grad()
    sum(ref_g.values()).backward()
    ref.opt_g.step()
    ref.opt_d.zero_grad()  # drops what the G loss left in D's .grad
    sum(ref_d.values()).backward()
    ref.opt_d.step()
    assert_same(weights(st), weights(ref))
    _, other, _ = make("pix2pixhd", data_root, stage_name=GLOBAL)
    ours(other, obj, cond, real, "fresh_fake")
    assert differs(weights(st), weights(other))


def test_gaugan_d_step_sees_the_updated_generator(data_root):
    cfg, st, obj = make("gaugan", data_root)
    cond, real = inputs(st, cfg.data.image_size)
    calls = g_calls(st.G)
    ours(st, obj, cond, real, "fresh_fake")
    assert calls == [True, False]  # the G step's forward, then a no-grad one for D
    _, ref, _ = make("gaugan", data_root)
    torch.manual_seed(7)
    ref.D.requires_grad_(False)
    ref_g = obj.generator(ref.D, cond, ref.G(cond), real)
    ref.opt_g.zero_grad()
    sum(ref_g.values()).backward()
    ref.opt_g.step()
    ref.D.requires_grad_(True)
    with torch.no_grad():
        fake = ref.G(cond)
    ref_d = obj.discriminator(ref.D, cond, fake, real)
    ref.opt_d.zero_grad()
    sum(ref_d.values()).backward()
    ref.opt_d.step()
    assert_same(weights(st), weights(ref))
    _, other, _ = make("gaugan", data_root)
    ours(other, obj, cond, real, "same_fake")
    assert differs(weights(st), weights(other))
