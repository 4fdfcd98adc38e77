"""A missing weight file is explained once per process; summaries say "n/a (weights
missing)"; `bench weights status` fits 80 columns and gives each missing file's URL."""

from __future__ import annotations

import types

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from bench.metrics import weights
from bench.metrics.evaluate import _print_summary
from bench.metrics.generate import Generated
from bench.metrics.registry import EvalContext, compute_metrics

IDS = ["fid", "kid", "lpips", "lpips_diversity"]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty TORCH_HOME and a process that has explained nothing yet."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(weights, "_explained", set())
    return tmp_path / "torch" / "hub" / "checkpoints"


def _context(tmp_path) -> EvalContext:
    """Enough of an evaluation for metric functions that stop at their weight files."""
    img = torch.zeros(3, 3, 16, 16, dtype=torch.uint8)
    gen = Generated(img, img, torch.zeros(3, 16, 16, dtype=torch.long), None)
    cfg = types.SimpleNamespace(eval=types.SimpleNamespace(kid_subset_size=1000, kid_subsets=10,
                                                           batch_size=4))
    return EvalContext(cfg=cfg, info=None, device=torch.device("cpu"), gen=gen,
                       fake_dir=tmp_path / "fake", real_dir=tmp_path / "real",
                       real_cache_name="test", multimodal=True)


def _summary(run_dir, ctx) -> None:
    result = {"num_maps": 3, "image_size": [16, 16], "seconds": {"total": 1.0},
              "metrics": compute_metrics(ctx, IDS)}
    _print_summary(run_dir, result)


def test_two_evaluations_explain_each_missing_file_once(fresh, tmp_path, capsys):
    for run in ("run_a", "run_b"):  # two runs of one `bench run` process
        _summary(tmp_path / run, _context(tmp_path / run))
    out, err = capsys.readouterr()
    # one block per missing file, with file, folder, URL and both commands
    assert err.count("weights missing: weights-inception-2015-12-05-6726825d.pth") == 1
    assert err.count("weights missing: alexnet-owt-7be5be79.pth") == 1
    assert err.count("bench weights fetch inception") == 1
    assert err.count("bench weights fetch alexnet") == 1
    assert err.count("bench weights import FILE") == 2
    assert err.count(str(fresh)) == 2
    assert weights.INCEPTION.url in err and weights.ALEXNET.url in err
    # the per-run summaries: short, no folder repeated
    assert out.count("n/a (weights missing)") == 2 * len(IDS)
    assert str(fresh) not in out


def test_the_vgg_loss_and_the_metrics_share_the_once(fresh, tmp_path, capsys):
    from bench.train.objective import Objective
    from bench.train.recipes import D_LOSS_SCALE

    losses = types.SimpleNamespace(gan_mode="hinge", lambda_vgg=10.0, vgg_if_missing="disable",
                                   lambda_feat=10.0, lambda_kl=0.0, lambda_l1=0.0)
    cfg = types.SimpleNamespace(train=types.SimpleNamespace(losses=losses))
    family = next(iter(D_LOSS_SCALE))
    objectives = [Objective(cfg, family, torch.device("cpu")) for _ in range(2)]  # two runs
    assert all(o.vgg is None and o.vgg_status.startswith("disabled") for o in objectives)
    err = capsys.readouterr().err
    assert err.count("weights missing: vgg19-dcbb9e9d.pth") == 1
    assert err.count("bench weights fetch vgg19") == 1
    assert "VGG19 perceptual loss is turned off" in err
    assert weights.VGG19.url in err

    _summary(tmp_path / "run", _context(tmp_path / "run"))
    err = capsys.readouterr().err
    assert "vgg19" not in err and err.count("bench weights fetch inception") == 1


def test_wrong_checksum_is_explained_as_such(fresh, tmp_path, capsys):
    fresh.mkdir(parents=True)
    (fresh / weights.INCEPTION.file).write_bytes(b"not it")
    _summary(tmp_path / "run", _context(tmp_path / "run"))
    out, err = capsys.readouterr()
    assert "not the standard weights: weights-inception" in err
    assert "bench weights fetch inception (replaces it)" in err
    assert "n/a (not the standard weights)" in out


def test_status_fits_80_columns_and_gives_missing_urls(fresh):
    r = CliRunner().invoke(app, ["weights", "status"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(len(ln) for ln in lines) <= 80, [ln for ln in lines if len(ln) > 80]
    joined = "".join(r.output.split())  # a URL wrapped at '/' reads whole again
    for wf in (weights.INCEPTION, weights.ALEXNET, weights.VGG19):
        assert wf.url in joined and wf.file in r.output
    assert r.output.count("MISSING") == 3
    flat = " ".join(r.output.split())
    assert "bench weights fetch inception alexnet vgg19 (or --all)" in flat
    assert "bench weights import FILE" in flat


def test_status_in_a_pipe_keeps_urls_whole(fresh):
    r = CliRunner().invoke(app, ["weights", "status"])
    assert r.exit_code == 0
    for wf in (weights.INCEPTION, weights.ALEXNET, weights.VGG19):
        assert any(ln.strip() == f"url:       {wf.url}".strip() for ln in r.output.splitlines())
    assert "present, checksum ok" in r.output  # lpips' linear layers ship in its package


@pytest.mark.parametrize("width", [40, 60, 80, 100])
def test_fields_wrap_to_any_width(width):
    long_path = "/very/long/" + "folder_name/" * 12 + "checkpoints"
    for value in (long_path, weights.INCEPTION.url, "words " * 30, "x" * 150):
        lines = weights._field("folder", value, width)
        assert all(len(ln) <= width for ln in lines)
        text = "".join(ln[weights._LABEL:] for ln in lines)
        assert text.replace(" ", "") == value.replace(" ", "")  # nothing lost
