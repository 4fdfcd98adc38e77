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
