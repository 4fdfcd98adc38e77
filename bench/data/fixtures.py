"""Tiny on-disk data folders in every supported layout, for tests (any area's).

make_layout(name, root, n, size) writes n pairs of (h, w) photos with blocky label maps
stored the way the real data set stores them, and returns the raw label and instance
arrays it wrote so that tests can compare the loader's output with them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from bench.data.facades import PALETTE as FACADES_PALETTE

# Raw file values each layout may contain (before the loader's decoding).
RAW_VALUES = {
    "facades": np.arange(12),
    "cmp": np.arange(1, 13),
    "ade20k": np.arange(0, 151),  # 0 = "other" (don't care)
    "cocostuff": np.r_[np.arange(182), 255],  # 255 = unlabeled (don't care)
    "cityscapes": np.arange(35),
    "folder": np.arange(5),
}


def blocky(rng: np.random.Generator, values: np.ndarray, h: int, w: int, block: int) -> np.ndarray:
    """(h, w) map of random `values` in block x block squares."""
    g = rng.choice(values, size=(-(-h // block), -(-w // block)))
    return np.kron(g, np.ones((block, block), dtype=g.dtype))[:h, :w]


def _photo(rng, h, w) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def make_layout(name: str, root, n: int = 3, size: tuple[int, int] = (24, 32), seed: int = 0,
                split: str = "train") -> dict:
    """Write a tiny `name` folder under root; returns {"root", "labels", "instances", "files"}."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    h, w = size
    labels, insts, files = [], [], []
    for k in range(n):
        raw = blocky(rng, RAW_VALUES[name], h, w, block=8)
        inst = blocky(rng, np.arange(1, 6), h, w, block=4) + 1000 * raw
        labels.append(raw)
        insts.append(inst)
        if name == "facades":
            d = root / ("train" if split == "train" else "test")
            d.mkdir(parents=True, exist_ok=True)
            ab = np.concatenate([np.asarray(_photo(rng, h, w)),
                                 FACADES_PALETTE[raw].astype(np.uint8)], axis=1)
            f = d / f"{k + 1}.jpg"
            Image.fromarray(ab).save(f, quality=95)
        elif name == "cmp":
            d = root / split
            d.mkdir(parents=True, exist_ok=True)
            f = d / f"cmp_b{k + 1:04d}.jpg"
            _photo(rng, h, w).save(f)
            Image.fromarray(raw.astype(np.uint8)).save(d / f"cmp_b{k + 1:04d}.png")
        elif name == "ade20k":
            sub = "training" if split == "train" else "validation"
            stem = f"ADE_{split}_{k + 1:08d}"
            for d in ("images", "annotations"):
                (root / d / sub).mkdir(parents=True, exist_ok=True)
            f = root / "images" / sub / f"{stem}.jpg"
            _photo(rng, h, w).save(f)
            Image.fromarray(raw.astype(np.uint8)).save(root / "annotations" / sub / f"{stem}.png")
        elif name == "cocostuff":
            stem = f"{k:012d}"
            for d in ("img", "label", "inst"):
                (root / f"{split}_{d}").mkdir(parents=True, exist_ok=True)
            f = root / f"{split}_img" / f"{stem}.jpg"
            _photo(rng, h, w).save(f)
            Image.fromarray(raw.astype(np.uint8)).save(root / f"{split}_label" / f"{stem}.png")
            inst = inst % 256  # the COCO-Stuff sample stores 8-bit instance maps
            insts[-1] = inst
            Image.fromarray(inst.astype(np.uint8)).save(root / f"{split}_inst" / f"{stem}.png")
        elif name == "cityscapes":
            city = "aachen" if k % 2 == 0 else "bochum"
            key = f"{city}_{k:06d}_000019"
            di, dg = root / "leftImg8bit" / split / city, root / "gtFine" / split / city
            di.mkdir(parents=True, exist_ok=True)
            dg.mkdir(parents=True, exist_ok=True)
            f = di / f"{key}_leftImg8bit.png"
            _photo(rng, h, w).save(f)
            Image.fromarray(raw.astype(np.uint8)).save(dg / f"{key}_gtFine_labelIds.png")
            Image.fromarray(inst.astype(np.uint16)).save(dg / f"{key}_gtFine_instanceIds.png")
        elif name == "folder":
            for d in ("images", "labels", "instances"):
                (root / d).mkdir(parents=True, exist_ok=True)
            f = root / "images" / f"img{k}.jpg"
            _photo(rng, h, w).save(f)
            Image.fromarray(raw.astype(np.uint8)).save(root / "labels" / f"img{k}.png")
            Image.fromarray(inst.astype(np.uint16)).save(root / "instances" / f"img{k}.png")
        else:
            raise ValueError(f"unknown layout {name!r}")
        files.append(f)
    return {"root": root, "labels": labels, "instances": insts, "files": files}


# ----------------------------------------------------------------- the official sample folders
# File names as the official repositories ship them (read there, not invented):
#   NVIDIA/pix2pixHD datasets/cityscapes: train_img/aachen_000000_000019_leftImg8bit.png,
#     train_label/..._gtFine_labelIds.png, train_inst/..._gtFine_instanceIds.png (aachen
#     000000..000007), test_label/ + test_inst/ (frankfurt_000000_000576, ...), no test_img/.
#   NVlabs/SPADE datasets/coco_stuff: {train,val}_img/<12-digit COCO id>.jpg,
#     {train,val}_label/<id>.png, {train,val}_inst/<id>.png.
PIX2PIXHD_CITYSCAPES = {
    "train": [f"aachen_{k:06d}_000019" for k in range(8)],
    "test": ["frankfurt_000000_000576", "frankfurt_000000_001236", "frankfurt_000000_003357",
             "frankfurt_000000_011810", "frankfurt_000000_012868", "frankfurt_000001_013710"],
}
SPADE_COCO_STUFF = {
    "train": ["000000017914", "000000029286", "000000138805", "000000184101", "000000197384"],
    "val": ["000000000139", "000000001268", "000000001490", "000000001584", "000000001818"],
}


def _write_phase(root: Path, phase: str, names: list[tuple[str | None, str, str]], size, rng,
                 values: np.ndarray, inst_of) -> dict:
    """names: (photo file or None, label file, instance file) per pair, into <phase>_img/,
    <phase>_label/, <phase>_inst/. Returns the raw arrays written."""
    h, w = size
    labels, insts, files = [], [], []
    for img_name, label_name, inst_name in names:
        raw = blocky(rng, values, h, w, block=8)
        inst = inst_of(raw, blocky(rng, np.arange(1, 6), h, w, block=4))
        for kind, name, arr in (("label", label_name, raw.astype(np.uint8)), ("inst", inst_name, inst)):
            (root / f"{phase}_{kind}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / f"{phase}_{kind}" / name)
        if img_name is not None:
            (root / f"{phase}_img").mkdir(parents=True, exist_ok=True)
            _photo(rng, h, w).save(root / f"{phase}_img" / img_name)
            files.append(root / f"{phase}_img" / img_name)
        labels.append(raw)
        insts.append(inst)
    return {"labels": labels, "instances": insts, "files": files}


def make_pix2pixhd_cityscapes(root, n_train: int = 3, n_test: int = 2, size=(32, 64),
                              test_img: bool = False, seed: int = 0) -> dict:
    """pix2pixHD's datasets/cityscapes: train_{img,label,inst}/, test_{label,inst}/ (and
    test_img/ when asked), labelIds 0..33 and instanceIds (labelId * 1000 + k for the
    classes with instances, 24..33; the labelId elsewhere) as 16-bit PNGs."""
    root, rng = Path(root), np.random.default_rng(seed)
    inst_of = lambda raw, k: np.where(raw >= 24, raw * 1000 + k, raw).astype(np.uint16)
    out = {"root": root}
    for phase, n, photos in (("train", n_train, True), ("test", n_test, test_img)):
        names = [(f"{key}_leftImg8bit.png" if photos else None, f"{key}_gtFine_labelIds.png",
                  f"{key}_gtFine_instanceIds.png") for key in PIX2PIXHD_CITYSCAPES[phase][:n]]
        out[phase] = _write_phase(root, phase, names, size, rng, np.arange(34), inst_of)
    return out


def make_spade_coco_stuff(root, n_train: int = 3, n_val: int = 2, size=(32, 32), seed: int = 0
                          ) -> dict:
    """SPADE's datasets/coco_stuff: {train,val}_img/*.jpg, _label/*.png (0..181, 255
    unlabeled), _inst/*.png (8-bit instance ids, as the sample stores them)."""
    root, rng = Path(root), np.random.default_rng(seed)
    inst_of = lambda raw, k: ((raw * 7 + k) % 256).astype(np.uint8)
    out = {"root": root}
    for phase, n in (("train", n_train), ("val", n_val)):
        names = [(f"{s}.jpg", f"{s}.png", f"{s}.png") for s in SPADE_COCO_STUFF[phase][:n]]
        out[phase] = _write_phase(root, phase, names, size, rng, RAW_VALUES["cocostuff"], inst_of)
    return out


def make_pix2pixhd_folder(root, n: int = 3, size=(24, 32), test_img: bool = True, seed: int = 0
                          ) -> dict:
    """A generic data set (label ids 0..4) in pix2pixHD's folders, names that differ per
    folder only by extension (img0.jpg, img0.png)."""
    root, rng = Path(root), np.random.default_rng(seed)
    inst_of = lambda raw, k: (raw * 10 + k).astype(np.uint16)
    out = {"root": root}
    for phase, photos in (("train", True), ("test", test_img)):
        names = [(f"img{k}.jpg" if photos else None, f"img{k}.png", f"img{k}.png") for k in range(n)]
        out[phase] = _write_phase(root, phase, names, size, rng, RAW_VALUES["folder"], inst_of)
    return out
