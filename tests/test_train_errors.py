"""Bad input to the trainer: one BenchError naming the file or key; exit 2 from the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.config import save_run_config
from bench.errors import BenchError
from bench.train.checkpoint import load_checkpoint, load_generator
from bench.train.tiny import tiny_config
from bench.train.trainer import train_from_config, train_run


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """A 1-step run folder (config.yaml, checkpoint.pt, ...)."""
    run = tmp_path_factory.mktemp("run")
    cfg = tiny_config("gaugan", data_root, steps=1)
    train_run(cfg, run)
    return cfg, run


def test_missing_config_file(tmp_path):
    with pytest.raises(BenchError, match="nope.yaml: file not found"):
        train_from_config(tmp_path / "nope.yaml")
    result = CliRunner().invoke(app, ["train", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "nope.yaml" in result.output


def test_resume_without_checkpoint(data_root, tmp_path):
    cfg = tiny_config("gaugan", data_root, steps=1)
    with pytest.raises(BenchError, match=r"checkpoint\.pt: checkpoint not found .*drop --resume"):
        train_run(cfg, tmp_path / "empty", resume=True)
    assert not (tmp_path / "empty" / "scalars.jsonl").exists()  # nothing written


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not_a_checkpoint"])
def test_corrupt_checkpoint(trained, tmp_path, damage):
    cfg, run = trained
    data = (run / "checkpoint.pt").read_bytes()
    bad = tmp_path / "checkpoint.pt"
    if damage == "garbage":
        bad.write_bytes(b"this is not a checkpoint")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    else:
        import torch

        torch.save({"weights": torch.zeros(2)}, bad)
    with pytest.raises(BenchError, match=str(bad)):
        load_checkpoint(bad)
    with pytest.raises(BenchError, match="checkpoint"):
        train_run(cfg, tmp_path, resume=True)
    with pytest.raises(BenchError):
        load_generator(tmp_path, "cpu")


def test_resume_with_another_config_names_the_keys(trained, data_root):
    _, run = trained
    other = tiny_config("gaugan", data_root, steps=2, sets={"train.lr_g": 3e-4})
    with pytest.raises(BenchError, match="train.lr_g"):
        train_run(other, run, resume=True)


def test_cli_train_resume_and_images_per_s(trained, data_root, tmp_path):
    cfg, _ = trained
    path = tmp_path / "tiny.yaml"
    save_run_config(cfg, path)
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(path), "--out", str(out), "--steps", "1"])
    assert result.exit_code == 0, result.output
    assert "images/s" in result.output
    result = runner.invoke(app, ["train", str(path), "--out", str(out), "--steps", "2", "--resume",
                                 "--set", "train.log_every=2"])
    assert result.exit_code == 2 and "train.log_every" in result.output  # another config
    result = runner.invoke(app, ["train", str(path), "--out", str(out), "--steps", "2", "--resume"])
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "train_stats.json").read_text())
    assert stats["steps"] == 2 and stats["steps_this_run"] == 1 and stats["peak_memory_mb"] > 0


def test_vgg_weights_missing(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # no VGG19 file there
    cfg = tiny_config("gaugan", data_root, steps=1,
                      sets={"train.losses.vgg_if_missing": "error", "train.losses.lambda_vgg": 10.0})
    with pytest.raises(BenchError, match=r"vgg19-dcbb9e9d\.pth.*torch_home"):
        train_run(cfg, tmp_path / "error")
    cfg = tiny_config("gaugan", data_root, steps=1, sets={"train.losses.vgg_if_missing": "disable"})
    stats = train_run(cfg, tmp_path / "disable")
    assert stats["vgg_loss"].startswith("disabled: vgg19-dcbb9e9d.pth missing")
    recorded = json.loads((tmp_path / "disable" / "train_stats.json").read_text())
    assert recorded["vgg_loss"] == stats["vgg_loss"]


def test_encoder_without_vae_generator(data_root, tmp_path):
    # Rejected when the config is read, before any training or file is written.
    with pytest.raises(BenchError, match="use_vae"):
        cfg = tiny_config("gaugan", data_root, steps=1,
                          sets={"model.encoder": {"arch": "conv_vae", "ngf": 2, "z_dim": 8,
                                                  "resize_to": 128}})
        train_run(cfg, tmp_path)
    assert not any(tmp_path.iterdir())
