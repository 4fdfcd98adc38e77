"""`bench data check`: layouts detected and counted; bad input -> BenchError naming the
file, exit status 2 through the CLI."""

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from bench.cli import app
from bench.data.check import check_folder, detect_dataset
from bench.data.config import DataConfig
from bench.data.fixtures import make_layout
from bench.data.registry import build_dataset
from bench.errors import BenchError

LAYOUTS = ["facades", "cmp", "ade20k", "cocostuff", "cityscapes", "folder"]


@pytest.mark.parametrize("name", LAYOUTS)
def test_detects_layout_and_counts(name, tmp_path):
    fx = make_layout(name, tmp_path / name, n=3)
    assert detect_dataset(fx["root"]) == name
    out = check_folder(fx["root"])
    split = out["splits"]["train"]
    assert out["layout"] == name and split["pairs"] == 3
    assert split["sizes"] == {"32x24": 3}
    # classes present: the fixture's raw ids after the loader's decoding
    raw = np.unique(np.concatenate([r.ravel() for r in fx["labels"]]))
    decoded = {"cmp": raw - 1, "ade20k": raw[raw > 0] - 1,
               "cocostuff": raw[raw != 255]}.get(name, raw)
    if name == "facades":  # JPEG blends colours at block edges: extra classes snap in there
        assert set(decoded.tolist()) <= set(split["classes_present"]) <= set(range(12))
    else:
        assert split["classes_present"] == sorted(decoded.tolist())


def test_synthetic_folder_uses_its_meta(tmp_path):
    from bench.data.synthetic import write_synthetic

    out = check_folder(write_synthetic(tmp_path / "s", n=4, size=32, seed=0))
    assert out["layout"] == "folder" and out["num_classes"] == 11 and out["use_instance"]


def test_missing_folder(tmp_path):
    with pytest.raises(BenchError, match="nope: data folder not found"):
        check_folder(tmp_path / "nope")
    (tmp_path / "README.md").write_text("")
    with pytest.raises(BenchError, match="README.md: a file, not a data folder"):
        check_folder(tmp_path / "README.md")


def _folder(tmp_path):
    return make_layout("folder", tmp_path / "f", n=2)


def test_photo_without_label(tmp_path):
    fx = _folder(tmp_path)
    (fx["root"] / "labels" / "img1.png").unlink()
    with pytest.raises(BenchError, match=r"img1\.jpg: photo without a label"):
        check_folder(fx["root"])


def test_label_without_photo(tmp_path):
    fx = _folder(tmp_path)
    (fx["root"] / "images" / "img0.jpg").unlink()
    with pytest.raises(BenchError, match=r"img0\.png: label without a photo"):
        check_folder(fx["root"])


def test_label_id_out_of_range(tmp_path):
    fx = make_layout("cityscapes", tmp_path / "c", n=2)
    bad = sorted((fx["root"] / "gtFine").rglob("*_labelIds.png"))[1]
    ids = np.asarray(Image.open(bad)).copy()
    ids[0, 0] = 40
    Image.fromarray(ids).save(bad)
    with pytest.raises(BenchError, match=rf"{bad.name}: label id 40 is out of range; valid ids are 0\.\.34"):
        check_folder(fx["root"])
    cfg = DataConfig(dataset="cityscapes", root=str(fx["root"]), image_size=24)
    ds = build_dataset(cfg, "train")  # the loader refuses it too, naming the file
    with pytest.raises(BenchError, match=bad.name):
        ds[1]


def test_folder_ids_checked_against_num_classes(tmp_path):
    fx = _folder(tmp_path)  # ids 0..4
    cfg = DataConfig(dataset="folder", root=str(fx["root"]), num_classes=3, image_size=24)
    with pytest.raises(BenchError, match=r"img0\.png: label id 4 is out of range; valid ids are 0\.\.2"):
        build_dataset(cfg, "train")[0]


def test_mismatched_sizes(tmp_path):
    fx = _folder(tmp_path)
    lab = fx["root"] / "labels" / "img0.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(lab)
    with pytest.raises(BenchError, match=r"img0\.png: label size 10x10 does not match photo .*img0\.jpg size 32x24"):
        check_folder(fx["root"])


def test_colour_label_refused(tmp_path):
    fx = _folder(tmp_path)
    lab = fx["root"] / "labels" / "img0.png"
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(lab)
    with pytest.raises(BenchError, match=r"img0\.png: expected a single-channel label-id image"):
        check_folder(fx["root"])


def test_unknown_layout(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(BenchError, match="cannot tell the data layout.*facades"):
        check_folder(tmp_path / "x")


def test_cli_exit_codes(tmp_path):
    fx = _folder(tmp_path)
    ok = CliRunner().invoke(app, ["data", "check", str(fx["root"])])
    assert ok.exit_code == 0, ok.output
    (fx["root"] / "labels" / "img1.png").unlink()
    bad = CliRunner().invoke(app, ["data", "check", str(fx["root"])])
    assert bad.exit_code == 2 and "img1.jpg" in bad.output
    assert "Traceback" not in bad.output
    missing = CliRunner().invoke(app, ["data", "check", str(tmp_path / "none")])
    assert missing.exit_code == 2


def test_cli_synth(tmp_path):
    r = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / "s"), "--n", "3",
                                 "--size", "32"])
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "s" / "images").iterdir())) == 3
    r = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / "t"), "--n", "3",
                                 "--size", "600"])
    assert r.exit_code == 2 and "600" in r.output and not (tmp_path / "t").exists()
