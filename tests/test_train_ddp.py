"""The trainer under torchrun: 2 gloo processes on CPU against one process, same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from bench.config import save_run_config
from bench.train.checkpoint import load_checkpoint
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


def test_two_gloo_ranks_agree_and_match_one_process(data_root, tmp_path):
    # Instance norm (per-sample statistics), so sharding the batch changes nothing but
    # the order of float sums; data.batch_size 4 is the global batch (2 per rank).
    cfg = tiny_config("gaugan", data_root, steps=3,
                      sets={"data.image_size": 64, "data.batch_size": 4,
                            "model.generator.norm": "instance"})
    path = tmp_path / "tiny.yaml"
    save_run_config(cfg, path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "-m", "bench.train.ddp", str(path), "--out", str(tmp_path / "ddp")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    stats = json.loads((tmp_path / "ddp" / "train_stats.json").read_text())
    assert stats["world_size"] == 2 and stats["backend"] == "gloo" and stats["steps"] == 3
    digests = stats["rank_weight_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]  # both ranks hold the same weights
    ddp_ckpt = load_checkpoint(tmp_path / "ddp")
    assert len(ddp_ckpt["rng"]) == 2  # each rank's RNG state, for an exact resume

    train_run(cfg, tmp_path / "single")
    # Compare what the networks compute, not raw weights: a bias right before an instance
    # norm gets a zero gradient up to float noise, which Adam turns into lr-sized steps of
    # random sign; such weights differ between any two summation orders yet do not change
    # any output. Outputs on fixed inputs must agree closely.
    ckpts = {name: load_checkpoint(tmp_path / name) for name in ("ddp", "single")}
    # The same for D's prediction bias under the official init (xavier, gain 0.02): every
    # prediction starts inside the hinge margin, where the bias's gradient (fraction of
    # active fakes minus active reals) is exactly zero; only its float noise, which
    # differs between the sharded and single sums, has a sign, and Adam moves the bias
    # by lr_d * |g_t| / sqrt(v_hat_t) <= lr_d * sqrt((1 - beta2**t) / (1 - beta2)) at step t,
    # shifting every prediction alike. Bound that (two runs), then pin it.
    t = cfg.train
    bound = 2 * t.lr_d * sum(((1 - t.beta2**i) / (1 - t.beta2)) ** 0.5
                             for i in range(1, t.steps + 1))
    for key in [k for k in ckpts["single"]["D"] if _is_prediction_bias(k, ckpts["single"]["D"])]:
        moved = (ckpts["ddp"]["D"][key] - ckpts["single"]["D"][key]).abs().max().item()
        assert moved <= bound * 1.01, (key, moved, bound)
        ckpts["ddp"]["D"][key] = ckpts["single"]["D"][key]
    nets = {name: _networks(cfg, ckpt) for name, ckpt in ckpts.items()}
    torch.manual_seed(123)
    seg = torch.nn.functional.one_hot(torch.randint(0, 5, (2, 64, 64)), _semantic_nc(cfg))
    seg = seg.permute(0, 3, 1, 2).float()
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        fake = {k: G(seg) for k, (G, D) in nets.items()}
        pred = {k: D(seg, image)[-1][-1] for k, (G, D) in nets.items()}
        init_fake = _networks(cfg, None)[0](seg)
    torch.testing.assert_close(fake["ddp"], fake["single"], atol=2e-4, rtol=1e-3)
    torch.testing.assert_close(pred["ddp"], pred["single"], atol=2e-4, rtol=1e-3)
    # ... and both did train: their output moved far more than that tolerance.
    assert (fake["single"] - init_fake).abs().max() > 1e-2


def _is_prediction_bias(key: str, state: dict) -> bool:
    """discriminator_<k>.model<last>.0.bias: the bias of a scale's 1-channel output conv."""
    return key.endswith(".bias") and state[key].numel() == 1 and ".model" in key


def _semantic_nc(cfg) -> int:
    from bench.data.registry import dataset_info

    return dataset_info(cfg.data).semantic_nc


def _networks(cfg, ckpt):
    """(G, D) in eval mode with a checkpoint's weights (or the seeded initial ones)."""
    from bench.build import build_networks
    from bench.data.registry import dataset_info
    from bench.train.recipes import family
    from gaugan.init import init_family

    torch.manual_seed(cfg.seed)
    nets = build_networks(cfg, dataset_info(cfg.data))
    for m in (nets.G, nets.D):  # the trainer's init (build_stage)
        init_family(m, family(type(cfg.model.generator).arch), cfg.model.init)
    if ckpt is not None:
        nets.G.load_state_dict(ckpt["G"])
        nets.D.load_state_dict(ckpt["D"])
    return nets.G.eval(), nets.D.eval()


def test_gloo_swaps_sync_batch_norm_for_batch_norm():
    # Sync-batch norm needs CUDA; under gloo the trainer runs it as per-process batch norm.
    from bench.train.ddp import replace_sync_batchnorm
    from gaugan.layers.norms import ParamFreeBatchNorm, ParamFreeSyncBatchNorm
    from gaugan.layers.spade import SPADE

    torch.manual_seed(0)
    layer = SPADE(4, 3, norm=ParamFreeSyncBatchNorm, hidden=8)
    x, seg = torch.randn(2, 4, 8, 8), torch.rand(2, 3, 8, 8)
    expected = layer(x, seg)  # one process: sync-batch norm computes plain batch norm
    assert replace_sync_batchnorm(layer) == 1
    assert type(layer.param_free_norm) is ParamFreeBatchNorm
    torch.testing.assert_close(layer(x, seg), expected)
