"""Every model family trains through the real trainer (registry models, synthetic data)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from bench.build import build_networks
from bench.data.registry import dataset_info
from bench.train.checkpoint import load_checkpoint, load_generator
from bench.train.tiny import TINY_MODELS, tiny_config
from bench.train.trainer import train_run

EXPECTED_LOSSES = {  # the G-step terms each family's objective must log
    "gaugan": {"g_gan", "g_feat"},
    "gaugan_vae": {"g_gan", "g_feat", "g_kl"},
    "concat": {"g_gan", "g_feat"},
    "pix2pix": {"g_gan", "g_l1"},
    "pix2pixhd": {"g_gan", "g_feat"},
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


@pytest.mark.parametrize("family", [f for f in TINY_MODELS if f != "pix2pixhd"])
def test_family_trains_two_steps(family, data_root, tmp_path, monkeypatch):
    cfg = tiny_config(family, data_root, steps=2)
    seen = []  # pix2pix: channels of what G is fed
    from gaugan.models import pix2pix

    forward = pix2pix.UNetGenerator.forward
    monkeypatch.setattr(pix2pix.UNetGenerator, "forward",
                        lambda self, x: seen.append(x.shape[1]) or forward(self, x))
    torch.manual_seed(cfg.seed)
    init = build_networks(cfg, dataset_info(cfg.data)).G.state_dict()  # what step 0 holds
    stats = train_run(cfg, tmp_path)
    assert stats["steps"] == 2 and stats["vgg_loss"] != "on"  # no VGG19 file in tests
    rows = [json.loads(ln) for ln in (tmp_path / "scalars.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    losses = {k for k in rows[-1] if k.startswith("g_")}
    assert losses == EXPECTED_LOSSES[family]
    assert all(math.isfinite(r[k]) for r in rows for k in r if k.startswith(("g_", "d_")))
    assert (tmp_path / "samples" / "step_000002.png").is_file()
    assert (tmp_path / "config.yaml").is_file() and (tmp_path / "train_stats.json").is_file()
    G, E, cfg2, info = load_generator(tmp_path, "cpu")
    assert not G.training and info["step"] == 2 and cfg2 == cfg
    assert (E is not None) == (family == "gaugan_vae")
    trained = G.state_dict()
    assert init.keys() == trained.keys()
    assert any(not torch.equal(init[k], trained[k]) for k in init if init[k].is_floating_point())
    if family == "pix2pix":  # label_input "color": the RGB rendering, not the one-hot map
        assert set(seen) == {3} and dataset_info(cfg.data).semantic_nc != 3


def test_pix2pixhd_coarse_to_fine(data_root, tmp_path):
    # global_steps 2 (16x16 global generator), fix_global_steps 1, then joint.
    cfg = tiny_config("pix2pixhd", data_root, steps=4)
    train_run(cfg, tmp_path, until=2)
    coarse = load_checkpoint(tmp_path)
    assert coarse["stage"] == "global" and "model.1.weight" in coarse["G"]
    assert not any(k.startswith("model1_") for k in coarse["G"])  # the global generator alone
    samples = sorted((tmp_path / "samples").glob("*.png"))
    from PIL import Image
    assert Image.open(samples[-1]).size[1] < 4 * (32 + 2)  # half-size grid in the coarse stage

    train_run(cfg, tmp_path, resume=True, until=3)
    fixed = load_checkpoint(tmp_path)
    assert fixed["stage"] == "fixed_global"
    kept = [k for k in fixed["G"] if k.startswith("model.")]
    assert kept and all(torch.equal(fixed["G"][k], coarse["G"][k]) for k in kept)  # loaded, frozen

    train_run(cfg, tmp_path, resume=True)
    joint = load_checkpoint(tmp_path)
    assert joint["stage"] == "joint" and joint["step"] == 4
    assert any(not torch.equal(joint["G"][k], fixed["G"][k]) for k in kept)  # now trained
    assert load_generator(tmp_path, "cpu")[0].n_local_enhancers == 1
