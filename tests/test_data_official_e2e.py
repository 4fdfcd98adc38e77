"""The official sample layouts end to end: pix2pixHD's datasets/cityscapes and SPADE's
datasets/coco_stuff pass `bench data check`, train 2 steps and evaluate; a val split of
label maps only exits 2 with a clear message and writes nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.data.fixtures import make_pix2pixhd_cityscapes, make_spade_coco_stuff
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run

runner = CliRunner()
EVAL = {"eval.metrics": ["miou", "pixel_acc"], "eval.oracle_steps": 2, "eval.oracle_width": 4,
        "eval.oracle_batch_size": 2, "eval.batch_size": 2}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))


def train_tiny(tmp_path, dataset, root, aspect):
    cfg = tiny_config("gaugan", tmp_path, steps=2, sets={
        "data.dataset": dataset, "data.root": str(root), "data.aspect_ratio": aspect, **EVAL})
    run = tmp_path / "run"
    train_run(cfg, run)
    return run


def check_ok(root):
    r = runner.invoke(app, ["data", "check", str(root)])
    assert r.exit_code == 0, r.output
    return r


def test_pix2pixhd_cityscapes_sample(tmp_path):
    fx = make_pix2pixhd_cityscapes(tmp_path / "cityscapes", n_train=3, n_test=2)
    r = check_ok(fx["root"])
    assert "layout pix2pixHD" in r.stderr and "label maps only" in r.stdout
    run = train_tiny(tmp_path, "cityscapes", fx["root"], 2.0)
    # its val split (test_label/ + test_inst/) has no photos: nothing to score against
    r = runner.invoke(app, ["eval", str(run)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "has label maps but no photos" in r.output and "--data-root" in r.output
    assert not (run / "metrics.json").exists() and not (run / "eval").exists()
    assert not list(run.glob(".eval.*"))
    # the same layout with test_img/: evaluated through --data-root
    other = make_pix2pixhd_cityscapes(tmp_path / "with_photos", n_train=3, n_test=2,
                                      test_img=True, seed=1)
    check_ok(other["root"])
    r = runner.invoke(app, ["eval", str(run), "--data-root", str(other["root"])])
    assert r.exit_code == 0, r.output
    # another folder's scores go beside the run's own results, never over them
    assert not (run / "metrics.json").exists()
    out = run / "eval_on" / other["root"].name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data_root"] == str(other["root"].resolve())
    miou = metrics["metrics"]["miou"]
    assert miou["value"] is not None and 0 <= miou["value"] <= 1
    assert miou["protocol"] == "Cityscapes: 19 trainId classes (labelIds mapped, void ignored)"
    assert len(miou["details"]["iou_per_class"]) == 19
    assert len(list((out / "eval" / "real").glob("*.png"))) == 2


def test_spade_coco_stuff_sample(tmp_path):
    fx = make_spade_coco_stuff(tmp_path / "coco_stuff", n_train=3, n_val=2)
    r = check_ok(fx["root"])
    assert "layout COCO-Stuff (SPADE)" in r.stderr and "COCO-Stuff: 182 classes" in r.stdout
    run = train_tiny(tmp_path, "cocostuff", fx["root"], 1.0)
    r = runner.invoke(app, ["eval", str(run)])
    assert r.exit_code == 0, r.output
    m = json.loads((run / "metrics.json").read_text())["metrics"]
    assert m["miou"]["value"] is not None
    assert m["pixel_acc"]["protocol"] == "COCO-Stuff: 182 classes, 255 (unlabeled) ignored"


def test_eval_data_root_bad_input(tmp_path):
    fx = make_spade_coco_stuff(tmp_path / "coco_stuff", n_train=2, n_val=1)
    run = train_tiny(tmp_path, "cocostuff", fx["root"], 1.0)
    for bad, says in ((tmp_path / "nope", "folder not found"),
                      (tmp_path, "no layout of dataset 'cocostuff' fits")):
        r = runner.invoke(app, ["eval", str(run), "--data-root", str(bad)])
        assert r.exit_code == 2 and says in r.output and "Traceback" not in r.output
        assert not (run / "metrics.json").exists() and not list(run.glob(".eval.*"))


def test_eval_help_says_where_the_data_comes_from():
    r = runner.invoke(app, ["eval", "--help"])
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    for needle in ("data.dataset and data.root", "config.yaml", "split \"val\"", "--data-root",
                   "has no effect"):
        assert needle in text, needle
