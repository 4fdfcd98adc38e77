"""The synthetic data set: deterministic, varied, blocky label maps, any size, cached."""

import json

import numpy as np
import pytest
import torch

from bench.data.config import DataConfig
from bench.data.registry import build_dataset, dataset_info
from bench.data.synth_scene import CLASSES
from bench.data.synthetic import VERSION, generate, write_synthetic
from bench.errors import BenchError


def test_same_seed_same_arrays_and_other_seed_differs():
    a = generate(seed=3, index=5, height=64)
    b = generate(seed=3, index=5, height=64)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = generate(seed=4, index=5, height=64)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])
    d = generate(seed=3, index=6, height=64)
    assert not np.array_equal(a[1], d[1])


def test_at_least_eight_classes_across_a_small_set():
    present = set()
    for i in range(24):
        present |= set(np.unique(generate(0, i, 48)[1]).tolist())
    assert present <= set(range(len(CLASSES)))
    assert len(present) >= 8, sorted(present)


def test_large_uniform_regions():
    """Most pixels have all four neighbours of their own class (no speckle); at 128x128
    a random label map would score ~0, a map of 10 vertical stripes ~0.86."""
    shares = []
    for i in range(8):
        ids = generate(1, i, 128)[1]
        c = ids[1:-1, 1:-1]
        same = ((c == ids[:-2, 1:-1]) & (c == ids[2:, 1:-1])
                & (c == ids[1:-1, :-2]) & (c == ids[1:-1, 2:]))
        shares.append(same.mean())
    assert min(shares) > 0.75 and np.mean(shares) > 0.85, shares


@pytest.mark.parametrize("h,w", [(32, 32), (32, 64), (77, 50), (512, 512)])
def test_any_size(h, w):
    photo, ids, inst = generate(2, 0, h, w)
    assert photo.shape == (h, w, 3) and photo.dtype == np.uint8
    assert ids.shape == inst.shape == (h, w)
    assert photo.std() > 5  # a photo, not a flat colour


def test_same_scene_at_two_sizes_has_the_same_layout():
    small = generate(0, 7, 64)[1]
    big = generate(0, 7, 128)[1]
    agree = (big[::2, ::2] == small).mean()
    assert agree > 0.9, agree


def test_one_label_map_many_photos():
    p0, ids0, _ = generate(0, 3, 64)
    p1, ids1, _ = generate(0, 3, 64, style_index=11)
    np.testing.assert_array_equal(ids0, ids1)
    assert np.abs(p0.astype(int) - p1.astype(int)).mean() > 10


@pytest.mark.parametrize("size", [31, 513])
def test_size_out_of_range_is_an_error(size, tmp_path):
    with pytest.raises(BenchError, match=str(size)):
        write_synthetic(tmp_path / "s", n=2, size=size, seed=0)
    assert not (tmp_path / "s").exists()


def test_write_synthetic_files_meta_and_subset_reproducible(tmp_path):
    out = write_synthetic(tmp_path / "s", n=5, size=32, seed=9)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 9 and meta["version"] == VERSION and meta["classes"] == list(CLASSES)
    assert len(meta["palette"]) == len(CLASSES)
    from PIL import Image

    photo, ids, inst = generate(9, 3, 32)  # item 3 alone equals item 3 of the set
    np.testing.assert_array_equal(np.asarray(Image.open(out / "images" / "000003.png")), photo)
    np.testing.assert_array_equal(np.asarray(Image.open(out / "labels" / "000003.png")), ids)
    np.testing.assert_array_equal(np.asarray(Image.open(out / "instances" / "000003.png")), inst)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    # a second call with the same parameters keeps the folder; another is refused
    write_synthetic(out, n=5, size=32, seed=9)
    with pytest.raises(BenchError, match="already exists"):
        write_synthetic(out, n=6, size=32, seed=9)


def test_parallel_writing_equals_serial(tmp_path):
    a = write_synthetic(tmp_path / "a", n=6, size=32, seed=1, workers=1)
    b = write_synthetic(tmp_path / "b", n=6, size=32, seed=1, workers=2)
    for sub in ("images", "labels"):
        for f in sorted((a / sub).iterdir()):
            assert f.read_bytes() == (b / sub / f.name).read_bytes()


def test_build_dataset_caches_and_splits_differ(tmp_path):
    cfg = DataConfig(root=str(tmp_path), image_size=32, aspect_ratio=1.5, num_train=4, num_val=3)
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert len(train) == 4 and len(val) == 3
    assert train.info == dataset_info(cfg) and train.info.num_classes == len(CLASSES)
    item = train[0]
    assert item["image"].shape == (3, 32, 48) and item["label"].shape == (32, 48)
    assert item["label"].dtype == torch.int64
    assert not torch.equal(train[0]["label"], val[0]["label"])
    folder = tmp_path / f"train-32x48-n4-s0-v{VERSION}"
    stamp = (folder / "meta.json").stat().st_mtime_ns
    again = build_dataset(cfg, "train")  # reused, not regenerated
    assert (folder / "meta.json").stat().st_mtime_ns == stamp
    assert torch.equal(again[1]["image"], train[1]["image"])


def test_synthetic_instances_on_request(tmp_path):
    cfg = DataConfig(root=str(tmp_path), image_size=32, num_train=2, num_val=1, use_instance=True)
    ds = build_dataset(cfg, "train")
    assert ds.info.semantic_nc == len(CLASSES) + 1
    inst = ds[0]["instance"]
    assert inst.shape == (1, 32, 32) and set(inst.unique().tolist()) <= {0.0, 1.0}
