"""Which on-disk layout a data root is in: detect_layout(dataset, root) -> (layout, reason).

A data set may come in more than one layout: Cityscapes in its own leftImg8bit/ + gtFine/
tree or in pix2pixHD's train_label/ + train_img/ folders (NVIDIA/pix2pixHD datasets/
cityscapes); a generic folder as images/ + labels/ or in pix2pixHD's folders. The first
layout of the data set whose marker folders exist is chosen; the reason names them, and
find_pairs prints it once per process on stderr. When none fits, the BenchError lists
every layout tried and what each expects, so a user can fix the folder in one go.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.errors import BenchError

TITLES = {"facades": "facades (pix2pix)", "cmp": "CMP base", "ade20k": "ADE20K",
          "cocostuff": "COCO-Stuff (SPADE)", "cityscapes": "Cityscapes", "pix2pixhd": "pix2pixHD",
          "folder": "folder"}
EXPECTS = {
    "facades": "train/ and test/ (or val/) of *.jpg, photo left half, colour label map right half",
    "cmp": "<stem>.jpg + <stem>.png|.bmp (ids 1..12) in train/ and val/, or in the root itself",
    "ade20k": "images/{training,validation}/*.jpg + annotations/{training,validation}/*.png",
    "cocostuff": "{train,val}_img/ + {train,val}_label/ (+ {train,val}_inst/), paired by file stem",
    "cityscapes": "leftImg8bit/<split>/<city>/*_leftImg8bit.png + gtFine/<split>/<city>/"
                  "*_gtFine_labelIds.png (+ *_gtFine_instanceIds.png)",
    "pix2pixhd": "train_label/ + train_img/ (+ train_inst/), test_label/ (+ test_img/, "
                 "test_inst/), paired by sorted file name",
    "folder": "images/ + labels/ (+ instances/), in the root or in train/ and val/",
}
# The layouts each data set may be stored in, in the order they are tried.
DATASET_LAYOUTS = {
    "facades": ("facades",), "cmp": ("cmp",), "ade20k": ("ade20k",), "cocostuff": ("cocostuff",),
    "cityscapes": ("cityscapes", "pix2pixhd"), "folder": ("folder", "pix2pixhd"),
}
PIX2PIXHD_DIRS = tuple(f"{p}_{k}" for p in ("train", "test", "val") for k in ("label", "img", "inst"))
_announced: set[tuple[str, str]] = set()


def _dirs(root: Path, names) -> list[str]:
    return [f"{n}/" for n in names if (root / n).is_dir()]


def markers(layout: str, root: Path) -> list[str]:
    """The folders (or files) that mark `layout` under root; empty when it does not fit."""
    if layout == "facades":
        return [f"{s}/*.jpg" for s in ("train", "test", "val") if any((root / s).glob("*.jpg"))]
    if layout == "cmp":
        split = [f"{s}/*.jpg" for s in ("train", "val") if any((root / s).glob("*.jpg"))]
        return split or (["*.jpg"] if any(root.glob("*.jpg")) else [])
    if layout == "ade20k":
        return _dirs(root, ("images/training", "images/validation"))
    if layout == "cocostuff":
        return _dirs(root, ("train_img", "train_label", "val_img", "val_label")) \
            if _dirs(root, ("train_img", "val_img")) else []
    if layout == "cityscapes":
        return _dirs(root, ("leftImg8bit", "gtFine"))
    if layout == "pix2pixhd":  # a label folder of some phase is what pix2pixHD reads first
        return _dirs(root, PIX2PIXHD_DIRS) if _dirs(root, ("train_label", "test_label", "val_label")) \
            else []
    if layout == "folder":
        return _dirs(root, ("images", "train/images", "val/images"))
    raise ValueError(f"unknown layout {layout!r}")


def detect_layout(dataset: str, root: Path) -> tuple[str, str]:
    """(layout, "layout X (a/, b/ found)") of dataset `dataset` stored under root."""
    root = Path(root)
    if dataset not in DATASET_LAYOUTS:
        raise BenchError(f"dataset {dataset!r}: valid data sets with a folder are "
                         f"{', '.join(DATASET_LAYOUTS)}")
    for layout in DATASET_LAYOUTS[dataset]:
        found = markers(layout, root)
        if found:
            return layout, f"layout {TITLES[layout]} ({', '.join(found)} found)"
    tried = "; ".join(f"{TITLES[lay]} expects {EXPECTS[lay]}" for lay in DATASET_LAYOUTS[dataset])
    raise BenchError(f"{root}: no layout of dataset {dataset!r} fits this folder; tried: {tried}")


def announce(root: Path, reason: str) -> None:
    """Say once per process and root which layout was chosen (stderr: stdout stays data)."""
    key = (str(Path(root).resolve()), reason)
    if key not in _announced:
        _announced.add(key)
        print(f"{root}: {reason}", file=sys.stderr)
