"""Loaders of every real layout on tiny fixture folders: contract shapes, official
don't-care handling, instance edges, resizing and reproducible flips."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from bench.data.base import semantic_input
from bench.data.config import DataConfig
from bench.data.fixtures import make_layout
from bench.data.registry import build_dataset, dataset_info
from bench.data.transforms import flip_decision, instance_edges

LAYOUTS = ["facades", "cmp", "ade20k", "cocostuff", "cityscapes", "folder"]
H, W = 24, 32


def cfg_for(name, root, **kw):
    extra = {"num_classes": 5} if name == "folder" else {}
    return DataConfig(dataset=name, root=str(root), image_size=H, aspect_ratio=W / H,
                      flip=False, **extra, **kw)


def official_ids(name, raw):
    """The label ids NVlabs/SPADE's Pix2pixDataset (+ subclass postprocess) produces."""
    t = torch.from_numpy(raw).float()
    nc = {"ade20k": 150, "cocostuff": 182}.get(name)
    if nc is not None:
        t[t == 255] = nc  # pix2pix_dataset: 'unknown' 255 -> label_nc
    if name == "ade20k":  # ade20k postprocess: shift down, -1 -> label_nc
        t = t - 1
        t[t == -1] = 150
    if name == "cmp":
        t = t - 1
    return t.long()


def official_edges(inst):
    """A pixel is an edge where the max and min over its 4-neighbourhood differ."""
    cross = ndimage.generate_binary_structure(2, 1)
    return ndimage.maximum_filter(inst, footprint=cross, mode="nearest") != \
        ndimage.minimum_filter(inst, footprint=cross, mode="nearest")


@pytest.mark.parametrize("name", LAYOUTS)
def test_contract_shapes_dtypes_ranges(name, tmp_path):
    fx = make_layout(name, tmp_path / name, n=3, size=(H, W))
    ds = build_dataset(cfg_for(name, fx["root"]), "train")
    assert len(ds) == 3 and ds.info == dataset_info(cfg_for(name, fx["root"]))
    batch = torch.utils.data.default_collate([ds[i] for i in range(3)])
    assert batch["image"].shape == (3, 3, H, W) and batch["image"].dtype == torch.float32
    assert -1 <= batch["image"].min() and batch["image"].max() <= 1
    assert batch["label"].shape == (3, H, W) and batch["label"].dtype == torch.int64
    assert batch["label"].min() >= 0 and batch["label"].max() < ds.info.label_channels
    assert ("instance" in batch) == ds.info.use_instance
    x = semantic_input(batch, ds.info)
    assert x.shape == (3, ds.info.semantic_nc, H, W)
    assert sorted(batch["path"]) == sorted(str(f) for f in fx["files"])


@pytest.mark.parametrize("name", ["cmp", "ade20k", "cocostuff", "cityscapes", "folder"])
def test_label_ids_and_dontcare_as_official(name, tmp_path):
    fx = make_layout(name, tmp_path / name, n=2, size=(H, W))
    ds = build_dataset(cfg_for(name, fx["root"]), "train")
    for i, raw in enumerate(fx["labels"]):
        assert torch.equal(ds[i]["label"], official_ids(name, raw))


def test_dontcare_ids_and_channels():
    info = {n: dataset_info(DataConfig(dataset=n)) for n in LAYOUTS[:5]}
    assert (info["ade20k"].dontcare_id, info["ade20k"].semantic_nc) == (150, 151)
    assert (info["cocostuff"].dontcare_id, info["cocostuff"].semantic_nc) == (182, 184)
    assert (info["cityscapes"].dontcare_id, info["cityscapes"].semantic_nc) == (None, 36)
    assert info["facades"].semantic_nc == 12 and info["cmp"].semantic_nc == 12


@pytest.mark.parametrize("name", ["cocostuff", "cityscapes", "folder"])
def test_instance_edges_as_official(name, tmp_path):
    fx = make_layout(name, tmp_path / name, n=2, size=(H, W))
    ds = build_dataset(cfg_for(name, fx["root"], use_instance=True), "train")
    for i, inst in enumerate(fx["instances"]):
        edge = ds[i]["instance"]
        assert edge.shape == (1, H, W)
        np.testing.assert_array_equal(edge[0].numpy().astype(bool), official_edges(inst))


def test_instance_edges_small_cases():
    inst = np.array([[1, 1, 1, 1],
                     [1, 2, 2, 1],
                     [1, 1, 1, 1]])
    np.testing.assert_array_equal(instance_edges(inst), official_edges(inst))
    assert not instance_edges(np.zeros((3, 3), int)).any()


def test_facades_snapping_recovers_fixture_ids(tmp_path):
    fx = make_layout("facades", tmp_path / "f", n=2, size=(H, W))
    ds = build_dataset(cfg_for("facades", fx["root"]), "train")
    for i, raw in enumerate(fx["labels"]):
        # JPEG blurs colour edges: the centres of the 8x8 label blocks must come back
        agree = ds[i]["label"].numpy() == raw
        for r in (3, 4):
            for c in (3, 4):
                assert agree[r::8, c::8].all(), (r, c, agree)


def test_resize_nearest_labels_and_aspect(tmp_path):
    fx = make_layout("folder", tmp_path / "f", n=1, size=(H, W))
    cfg = DataConfig(dataset="folder", root=str(fx["root"]), num_classes=5, image_size=12,
                     aspect_ratio=2.0, flip=False)
    item = build_dataset(cfg, "train")[0]
    assert item["image"].shape == (3, 12, 24) and item["label"].shape == (12, 24)
    # labels resized nearest, as PIL's NEAREST (pixel centres): no blended ids
    ref = Image.fromarray(fx["labels"][0].astype(np.uint8)).resize((24, 12), Image.NEAREST)
    assert torch.equal(item["label"], torch.from_numpy(np.asarray(ref).astype(np.int64)))


def test_flips_reproducible_and_controlled_by_seed_and_epoch(tmp_path):
    fx = make_layout("folder", tmp_path / "f", n=8, size=(H, W))
    cfg = DataConfig(dataset="folder", root=str(fx["root"]), num_classes=5, image_size=H,
                     aspect_ratio=W / H, flip=True)
    a, b = build_dataset(cfg, "train"), build_dataset(cfg, "train")
    a.flip_seed = b.flip_seed = 7
    for i in range(8):
        assert torch.equal(a[i]["label"], b[i]["label"])
        flipped = flip_decision(7, 0, i)
        raw = torch.from_numpy(fx["labels"][i])
        assert torch.equal(a[i]["label"], raw.flip(-1) if flipped else raw)
    decisions = lambda s, e: [flip_decision(s, e, i) for i in range(64)]
    assert 16 < sum(decisions(7, 0)) < 48
    assert decisions(7, 0) != decisions(7, 1) and decisions(7, 0) != decisions(8, 0)
    assert not any(build_dataset(cfg, "val").flip for _ in [0])  # no flips in validation


def test_splits(tmp_path):
    make_layout("ade20k", tmp_path / "a", n=2, size=(H, W), split="train")
    make_layout("ade20k", tmp_path / "a", n=1, size=(H, W), split="val", seed=1)
    cfg = cfg_for("ade20k", tmp_path / "a")
    assert len(build_dataset(cfg, "train")) == 2 and len(build_dataset(cfg, "val")) == 1
    make_layout("facades", tmp_path / "f", n=2, size=(H, W), split="val")  # facades: test/
    assert len(build_dataset(cfg_for("facades", tmp_path / "f"), "val")) == 2


def test_decoded_items_are_cached_and_unchanged(tmp_path, monkeypatch):
    from bench.data import pairs

    fx = make_layout("facades", tmp_path / "f", n=2, size=(H, W))
    cfg = DataConfig(dataset="facades", root=str(fx["root"]), image_size=H, aspect_ratio=W / H,
                     flip=True)
    ds = build_dataset(cfg, "train")
    ds.flip_seed = 3
    first = [ds[i] for i in range(2)]
    calls = []
    monkeypatch.setattr(pairs, "read_pair", lambda *a: calls.append(a))
    again = [ds[i] for i in range(2)]  # from memory: no file is read again
    assert calls == []
    for a, b in zip(first, again):
        assert torch.equal(a["label"], b["label"]) and torch.equal(a["image"], b["image"])
    ds.set_epoch(1)  # other flips, same underlying data
    for i in range(2):
        flipped = flip_decision(3, 1, i) != flip_decision(3, 0, i)
        expect = first[i]["label"].flip(-1) if flipped else first[i]["label"]
        assert torch.equal(ds[i]["label"], expect)
