"""`bench eval` end to end on a tiny run folder, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from bench.build import build_networks
from bench.config import save_run_config, validate_run_config
from bench.data.registry import dataset_info
from bench.errors import BenchError
from bench.metrics.evaluate import evaluate_run
from bench.train.checkpoint import save_checkpoint

ENTRY_KEYS = {"id", "name", "value", "std", "reason", "produced_by", "feature_extractor",
              "num_samples", "image_size", "split", "reference", "details", "protocol"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # empty: standard weights absent
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path


def make_run(root: Path, metrics: list[str] | None = None) -> Path:
    """A run folder as the trainer leaves it: config.yaml + checkpoint.pt (untrained, tiny)."""
    cfg = validate_run_config({
        "name": "tiny", "seed": 0, "device": "cpu",
        "data": {"dataset": "synthetic", "root": str(root / "data"), "image_size": 32,
                 "num_train": 8, "num_val": 5, "batch_size": 4},
        "model": {
            "generator": {"arch": "spade", "ngf": 4, "spade_hidden": 8, "use_vae": True, "z_dim": 8},
            "discriminator": {"arch": "spade_multiscale", "num_D": 1, "n_layers": 2, "ndf": 4},
            "encoder": {"arch": "conv_vae", "ngf": 4, "z_dim": 8, "resize_to": 128},
        },
        "eval": {"oracle_steps": 2, "oracle_width": 4, "oracle_batch_size": 4, "batch_size": 4,
                 "diversity_samples": 2, **({"metrics": metrics} if metrics else {})},
    }, "test")
    torch.manual_seed(0)
    nets = build_networks(cfg, dataset_info(cfg.data))
    run = root / "run"
    save_checkpoint({"step": 1, "config": cfg.to_dict(), "G": nets.G.state_dict(),
                     "D": nets.D.state_dict(), "E": nets.E.state_dict(), "opt_g": {}, "opt_d": {},
                     "scaler": {}, "rng": [], "data": {}}, run / "checkpoint.pt")
    save_run_config(cfg, run / "config.yaml")
    return run


def test_eval_end_to_end_is_honest_and_deterministic(env):
    run = make_run(env)
    result = evaluate_run(run, "cpu")
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk["metrics"] == result["metrics"]
    m = result["metrics"]
    assert set(m) == {"miou", "pixel_acc", "fid", "kid", "lpips", "lpips_diversity",
                      "fd_oracle", "kid_oracle"}
    for e in m.values():
        assert set(e) == ENTRY_KEYS and e["num_samples"] == 5 and e["image_size"] == [32, 32]
        assert (e["value"] is None) == (e["reason"] is not None)
    # standard weights absent: no number under a standard name
    for key in ("fid", "kid", "lpips", "lpips_diversity"):
        assert m[key]["value"] is None and "not found in" in m[key]["reason"]
    for key in ("miou", "pixel_acc", "fd_oracle", "kid_oracle"):
        assert m[key]["value"] is not None and m[key]["produced_by"].startswith("trained oracle ")
    assert 0 <= m["miou"]["reference"]["value"] <= 1
    assert m["miou"]["protocol"] == m["pixel_acc"]["protocol"] == "synthetic: 11 classes"
    assert m["fid"]["protocol"] is None
    assert result["reference"]["real_images"]["miou"]["value"] == m["miou"]["reference"]["value"]
    assert len(list((run / "eval" / "fake").glob("*.png"))) == 5
    assert len(list((run / "eval" / "real").glob("*.png"))) == 5
    assert len(list((run / "eval" / "diverse").glob("*.png"))) == 10  # 2 random-z samples per map
    assert len(list((env / "cache" / "oracle").glob("*.pt"))) == 1  # trained once, cached
    # same run, same machine -> same numbers (the oracle now comes from the cache)
    again = evaluate_run(run, "cpu")["metrics"]
    assert {k: e["value"] for k, e in again.items()} == {k: e["value"] for k, e in m.items()}


def test_missing_checkpoint_is_a_clear_error(env):
    from bench.cli import app

    run = env / "empty_run"
    run.mkdir()
    with pytest.raises(BenchError, match="checkpoint not found"):
        evaluate_run(run, "cpu")
    result = CliRunner().invoke(app, ["eval", str(run)])
    assert result.exit_code == 2 and "train the run first" in result.output
    assert "--resume" not in result.output  # bench eval has no --resume: no hint about it
    assert not (run / "metrics.json").exists()


def test_corrupt_checkpoint_writes_nothing(env):
    run = env / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"\x80\x04 definitely not a torch file")
    with pytest.raises(BenchError, match="corrupt"):
        evaluate_run(run, "cpu")
    assert not (run / "metrics.json").exists() and not (run / "eval").exists()


def test_unknown_metric_lists_valid_ids(env):
    run = make_run(env, metrics=["miou", "fidd"])
    with pytest.raises(BenchError, match="unknown metric.*fidd.*valid: miou"):
        evaluate_run(run, "cpu")
    assert not (run / "metrics.json").exists()
