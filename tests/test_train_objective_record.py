"""Each run records its effective objective (every loss term: weight or off and why), the
fallbacks that changed what ran, and how disturbed its timings may be; the report prints
the objective per variant, also for run folders written before the record existed."""

from __future__ import annotations

import json

import pytest

from bench.report.load import run_info
from bench.train.effective import effective_objective
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run
from gaugan.kernels import backend


def test_every_term_with_its_weight_or_off_and_why():
    losses = {"gan_mode": "hinge", "lambda_feat": 10.0, "lambda_vgg": 10.0, "lambda_kl": 0.05,
              "lambda_l1": 0.0}
    rec = effective_objective(losses, has_encoder=False,
                              vgg_status="disabled: vgg19-dcbb9e9d.pth missing in /w/ckpt")
    t = rec["terms"]
    assert set(t) == {"gan", "feat", "vgg", "kl", "l1"}
    assert t["gan"] == {"name": "GAN (hinge)", "weight": 1.0, "on": True, "reason": None}
    assert t["feat"]["on"] and t["feat"]["weight"] == 10.0
    assert not t["vgg"]["on"] and t["vgg"]["weight"] == 10.0
    assert t["vgg"]["reason"] == "weight file vgg19-dcbb9e9d.pth missing"
    assert t["kl"]["reason"] == "no encoder" and t["l1"]["reason"] == "lambda_l1 0"
    assert rec["summary"] == ("GAN (hinge) + FM 10 (VGG off: weight file vgg19-dcbb9e9d.pth "
                              "missing)")
    on = effective_objective(losses, has_encoder=True, vgg_status="on")
    assert on["summary"] == "GAN (hinge) + FM 10 + VGG 10 + KL 0.05"
    off = effective_objective({**losses, "lambda_vgg": 0.0}, False, "off (lambda_vgg 0)")
    assert off["terms"]["vgg"]["reason"] == "lambda_vgg 0" and "VGG" not in off["summary"]


@pytest.fixture(scope="module")
def vgg_off_run(tmp_path_factory):
    """A 2-step GauGAN run without the VGG19 file (lambda_vgg 10 asked)."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("objective")
    mp.setenv("TORCH_HOME", str(root / "torch_home"))  # no VGG19 file there
    cfg = tiny_config("gaugan", root / "data", steps=2,
                      sets={"train.losses.lambda_vgg": 10.0, "train.amp": "fp16"})
    stats = train_run(cfg, root / "run")
    mp.undo()
    return root / "run", stats


def test_train_stats_record_the_effective_objective(vgg_off_run):
    run, stats = vgg_off_run
    recorded = json.loads((run / "train_stats.json").read_text())
    obj = recorded["objective"]
    assert obj == stats["objective"]
    assert obj["terms"]["vgg"] == {"name": "VGG19 perceptual", "weight": 10.0, "on": False,
                                   "reason": "weight file vgg19-dcbb9e9d.pth missing"}
    assert obj["terms"]["feat"]["on"] and obj["terms"]["kl"]["reason"] == "no encoder"
    # a fallback that changed what ran: fp16 amp asked, ignored on the CPU
    assert any("ignored on CPU" in n for n in recorded["fallbacks"])


def test_train_stats_record_what_disturbs_timings(vgg_off_run):
    _, stats = vgg_off_run
    assert stats["cpu_time_s"] > 0
    assert stats["torch_threads"] >= 1 and stats["cpu_count"] >= 1
    for key in ("load_average_start", "load_average_end"):
        assert stats[key] is None or stats[key] >= 0
    # the run's own peak RSS (not the process's high-water mark): above the model's weights,
    # below the process's lifetime peak
    import resource

    assert stats["peak_memory_kind"].startswith("cpu process peak RSS while this run trained")
    # (statm and ru_maxrss count pages slightly differently: 2% slack)
    assert 0 < stats["peak_memory_mb"] <= 1.02 * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_spade_backend_fallbacks_are_recorded():
    import torch
    from torch import nn

    backend.reset_fallbacks()
    norm = nn.InstanceNorm2d(4, affine=True)  # affine: not fused
    assert backend.resolve("compile", torch.zeros(1, 4, 2, 2), norm, True) == ("eager", None)
    assert backend.resolve("compile", torch.zeros(1, 4, 2, 2), norm, True) == ("eager", None)
    assert backend.fallbacks() == ["SPADE compile: InstanceNorm2d is not fused; running eager"]
    backend.reset_fallbacks()
    assert backend.fallbacks() == []


def test_an_old_run_folder_gets_its_objective_derived(vgg_off_run, tmp_path):
    """Run folders trained before the record: from config.yaml and train_stats' vgg_loss."""
    import shutil

    run, _ = vgg_off_run
    old = tmp_path / "old"
    shutil.copytree(run, old)
    stats = json.loads((old / "train_stats.json").read_text())
    for key in ("objective", "fallbacks"):
        stats.pop(key)
    (old / "train_stats.json").write_text(json.dumps(stats))
    new_info, old_info = run_info(run), run_info(old)
    assert old_info["objective"]["derived"] is True
    assert old_info["objective"]["terms"] == new_info["objective"]["terms"]
    assert any("ignored on CPU" in n for n in old_info["fallbacks"])  # from "notes"
