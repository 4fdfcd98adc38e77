"""pix2pixHD's own layout (train_label/, train_img/, train_inst/, test_label/, test_inst/),
layout detection and its messages, and splits of label maps without photos."""


import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from bench.data.config import DataConfig
from bench.data.detect import detect_layout
from bench.data.fixtures import (
    make_layout,
    make_pix2pixhd_cityscapes,
    make_pix2pixhd_folder,
    make_spade_coco_stuff,
)
from bench.data.layouts import find_pairs
from bench.data.registry import build_dataset
from bench.errors import BenchError


def cfg(name, root, **kw):
    extra = {"num_classes": 5} if name == "folder" else {}
    return DataConfig(dataset=name, root=str(root), image_size=32, aspect_ratio=2.0, flip=False,
                      **extra, **kw)


def test_detects_pix2pixhd_and_says_why(tmp_path):
    make_pix2pixhd_cityscapes(tmp_path / "cs")
    layout, reason = detect_layout("cityscapes", tmp_path / "cs")
    assert layout == "pix2pixhd"
    assert reason.startswith("layout pix2pixHD (train_label/, train_img/, train_inst/, test_label/")
    make_layout("cityscapes", tmp_path / "own")  # leftImg8bit/ + gtFine/ comes first
    assert detect_layout("cityscapes", tmp_path / "own")[0] == "cityscapes"
    make_pix2pixhd_folder(tmp_path / "f")
    assert detect_layout("folder", tmp_path / "f")[0] == "pix2pixhd"
    assert detect_layout("cocostuff", make_spade_coco_stuff(tmp_path / "c")["root"])[0] == "cocostuff"


def test_nothing_fits_lists_every_layout_tried(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError) as e:
        build_dataset(cfg("cityscapes", tmp_path / "empty"), "train")
    msg = str(e.value)
    assert "no layout of dataset 'cityscapes' fits" in msg
    assert "Cityscapes expects leftImg8bit/" in msg and "pix2pixHD expects train_label/ + train_img/" in msg
    r = CliRunner().invoke(app, ["data", "check", str(tmp_path / "empty"), "--dataset", "folder"])
    assert r.exit_code == 2 and "folder expects images/" in r.output and "pix2pixHD expects" in r.output
    assert "Traceback" not in r.output


def test_cityscapes_pairs_by_sorted_name_with_instances(tmp_path):
    fx = make_pix2pixhd_cityscapes(tmp_path / "cs", n_train=3, n_test=2)
    train = build_dataset(cfg("cityscapes", fx["root"]), "train")
    assert train.has_photos and len(train) == 3 and train.info.semantic_nc == 36
    for i, pair in enumerate(train.pairs):
        key = pair.label.name.replace("_gtFine_labelIds.png", "")
        assert pair.image.name == f"{key}_leftImg8bit.png"
        assert pair.instance.name == f"{key}_gtFine_instanceIds.png"
        item = train[i]
        assert torch.equal(item["label"], torch.from_numpy(fx["train"]["labels"][i]).long())
        assert item["instance"].shape == (1, 32, 64) and item["instance"].max() == 1


def test_split_without_photos_serves_generation_only(tmp_path):
    from bench.build import build_networks
    from bench.data.registry import dataset_info
    from bench.metrics.generate import generate
    from bench.train.tiny import tiny_config

    fx = make_pix2pixhd_cityscapes(tmp_path / "cs", n_train=2, n_test=3)
    val = build_dataset(cfg("cityscapes", fx["root"]), "val")  # test_label/ + test_inst/
    assert not val.has_photos and len(val) == 3
    item = val[0]
    assert "image" not in item and item["path"].endswith("_gtFine_labelIds.png")
    assert item["label"].shape == (32, 64) and item["instance"].shape == (1, 32, 64)
    run_cfg = tiny_config("gaugan", tmp_path, sets={
        "data.dataset": "cityscapes", "data.root": str(fx["root"]), "data.aspect_ratio": 2.0})
    nets = build_networks(run_cfg, dataset_info(run_cfg.data))
    gen = generate(nets.G.eval(), None, val, val.info, None, 0, 0, 2, torch.device("cpu"),
                   tmp_path / "out")
    assert gen.real is None and gen.fake.shape == (3, 3, 32, 64)
    assert len(list((tmp_path / "out" / "fake").glob("*.png"))) == 3
    assert not list((tmp_path / "out" / "real").glob("*.png"))


def test_training_split_needs_photos(tmp_path):
    fx = make_pix2pixhd_folder(tmp_path / "f")
    for p in (fx["root"] / "train_img").iterdir():
        p.unlink()
    (fx["root"] / "train_img").rmdir()
    with pytest.raises(BenchError, match=r"train_img: folder not found; training needs the photos"):
        build_dataset(cfg("folder", fx["root"]), "train")


def test_missing_or_misnamed_file_is_refused(tmp_path):
    fx = make_pix2pixhd_cityscapes(tmp_path / "cs", n_train=3)
    img = fx["root"] / "train_img"
    (img / "aachen_000001_000019_leftImg8bit.png").unlink()
    with pytest.raises(BenchError, match=r"3 label maps but 2 photos .*sorted file name"):
        find_pairs("cityscapes", fx["root"], "train", use_instance=True)
    (img / "aachen_000000_000019_leftImg8bit.png").rename(img / "aachen_000001_000019_leftImg8bit.png")
    (img / "zurich_000000_000019_leftImg8bit.png").write_bytes(
        (img / "aachen_000002_000019_leftImg8bit.png").read_bytes())
    # now 3 photos again, but aachen_000000 is missing and zurich_000000 is extra
    with pytest.raises(BenchError, match=r"aachen_000000_000019_gtFine_labelIds\.png: paired by "
                                         r"sorted position with .*aachen_000001_000019"):
        find_pairs("cityscapes", fx["root"], "train", use_instance=True)


def test_folder_dataset_in_pix2pixhd_layout(tmp_path):
    fx = make_pix2pixhd_folder(tmp_path / "f", n=3, size=(24, 32))
    c = DataConfig(dataset="folder", root=str(fx["root"]), num_classes=5, image_size=24,
                   aspect_ratio=32 / 24, flip=False, use_instance=True)
    for split, phase in (("train", "train"), ("val", "test")):
        ds = build_dataset(c, split)
        assert ds.has_photos and len(ds) == 3
        for i in range(3):
            np.testing.assert_array_equal(ds[i]["label"].numpy(), fx[phase]["labels"][i])


def test_data_check_cli_says_the_layout_on_stderr(tmp_path):
    fx = make_pix2pixhd_cityscapes(tmp_path / "cs")
    r = CliRunner().invoke(app, ["data", "check", str(fx["root"])])
    assert r.exit_code == 0, r.output
    assert "layout pix2pixHD (train_label/, train_img/" in r.stderr
    assert "label maps only, no photos" in r.stdout and "Cityscapes: 19 trainId" in r.stdout
