"""Where the pairs of each on-disk layout live: find_pairs(name, root, split) -> [Pair].

  facades     <root>/train/*.jpg, <root>/test/*.jpg (pix2pix; "val" reads test/, else val/)
  cmp         CMP base: <stem>.jpg + <stem>.png|.bmp (ids 1..12) in <root>/{train,val}/, or
              all in <root> itself, where every 10th pair (sorted) is "val", the rest "train"
  ade20k      <root>/images/{training,validation}/*.jpg + annotations/.../*.png
  cocostuff   <root>/{train,val}_img, _label, _inst (the NVlabs/SPADE sample layout)
  cityscapes  <root>/leftImg8bit/<split>/<city>/*_leftImg8bit.png +
              gtFine/<split>/<city>/*_gtFine_labelIds.png, *_gtFine_instanceIds.png
  folder      <root>/[<split>/]images/*, labels/*.png (label ids), instances/*.png optional;
              without <root>/<split>/, the one folder serves both splits
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.data.pairs import Pair
from bench.errors import BenchError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
LABEL_EXTS = (".png", ".bmp")
LAYOUTS = ("facades", "cmp", "ade20k", "cocostuff", "cityscapes", "folder")


def natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def _files(folder: Path, exts: tuple[str, ...], recursive: bool = False) -> list[Path]:
    if not folder.is_dir():
        raise BenchError(f"{folder}: folder not found")
    it = folder.rglob("*") if recursive else folder.iterdir()
    return sorted((p for p in it if p.is_file() and p.suffix.lower() in exts), key=natural_key)


def _by_stem(files: list[Path], folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for f in files:
        if f.stem in out:
            raise BenchError(f"{f}: two files share the name {f.stem!r} in {folder}")
        out[f.stem] = f
    return out


def match_stems(images: list[Path], label_dir: Path, inst_dir: Path | None,
                encoding: str, label_exts=LABEL_EXTS) -> list[Pair]:
    """Pair every photo with the label (and instance) file of the same stem."""
    labels = _by_stem(_files(label_dir, label_exts), label_dir)
    insts = _by_stem(_files(inst_dir, LABEL_EXTS), inst_dir) if inst_dir is not None else {}
    stems = {p.stem for p in images}
    for stem, lab in labels.items():
        if stem not in stems:
            raise BenchError(f"{lab}: label without a photo (no {stem}.* among the photos)")
    pairs = []
    for img in images:
        if img.stem not in labels:
            raise BenchError(f"{img}: photo without a label (no {img.stem}.png in {label_dir})")
        inst = None
        if inst_dir is not None:
            if img.stem not in insts:
                raise BenchError(f"{img}: photo without an instance map "
                                 f"(no {img.stem}.png in {inst_dir})")
            inst = insts[img.stem]
        pairs.append(Pair(img, labels[img.stem], inst, encoding))
    return pairs


def _nonempty(pairs: list[Pair], where: Path) -> list[Pair]:
    if not pairs:
        raise BenchError(f"{where}: no image/label pairs found")
    return pairs


def facades_pairs(root: Path, split: str) -> list[Pair]:
    folder = root / "train"
    if split == "val":
        folder = root / "test" if (root / "test").is_dir() else root / "val"
    files = _files(folder, (".jpg", ".jpeg", ".png"))
    return _nonempty([Pair(f, f, None, "facades") for f in files], folder)


def _cmp_folder(root: Path, split: str) -> Path:
    split_dirs = any((root / s).is_dir() for s in ("train", "val"))
    return root / split if split_dirs else root


def cmp_pairs(root: Path, split: str) -> list[Pair]:
    folder = _cmp_folder(root, split)
    images = _files(folder, (".jpg", ".jpeg"))
    pairs = match_stems(images, folder, None, "cmp", label_exts=(".png", ".bmp"))
    if folder == root:  # one flat folder: a fixed 9:1 split by sorted position
        pairs = [p for i, p in enumerate(pairs) if (i % 10 == 9) == (split == "val")]
    return _nonempty(pairs, folder)


def ade20k_pairs(root: Path, split: str) -> list[Pair]:
    sub = "training" if split == "train" else "validation"
    images = _files(root / "images" / sub, (".jpg",))
    return _nonempty(match_stems(images, root / "annotations" / sub, None, "ade20k"), root)


def cocostuff_pairs(root: Path, split: str, use_instance: bool) -> list[Pair]:
    images = _files(root / f"{split}_img", IMAGE_EXTS)
    inst = root / f"{split}_inst" if use_instance else None
    return _nonempty(match_stems(images, root / f"{split}_label", inst, "cocostuff"), root)


def cityscapes_pairs(root: Path, split: str, use_instance: bool) -> list[Pair]:
    img_dir, gt_dir = root / "leftImg8bit" / split, root / "gtFine" / split
    images = _files(img_dir, (".png",), recursive=True)
    gt = {p.name: p for p in _files(gt_dir, (".png",), recursive=True)}
    pairs = []
    for img in images:
        key = "_".join(img.name.split("_")[:3])  # city_seq_frame
        lab, inst = gt.get(f"{key}_gtFine_labelIds.png"), gt.get(f"{key}_gtFine_instanceIds.png")
        if lab is None:
            raise BenchError(f"{img}: photo without a label ({key}_gtFine_labelIds.png "
                             f"not under {gt_dir})")
        if use_instance and inst is None:
            raise BenchError(f"{img}: photo without an instance map "
                             f"({key}_gtFine_instanceIds.png not under {gt_dir})")
        pairs.append(Pair(img, lab, inst if use_instance else None, "cityscapes"))
    return _nonempty(pairs, img_dir)


def folder_pairs(root: Path, split: str, use_instance: bool) -> list[Pair]:
    base = root / split if (root / split / "images").is_dir() else root
    images = _files(base / "images", IMAGE_EXTS)
    inst = base / "instances" if use_instance else None
    return _nonempty(match_stems(images, base / "labels", inst, "ids"), base)


def split_folder(name: str, root: Path, split: str) -> Path:
    """The folder whose presence means that `split` exists in this layout."""
    root = Path(root)
    if name == "facades":
        return root / ("train" if split == "train" else
                       "test" if (root / "test").is_dir() else "val")
    if name == "ade20k":
        return root / "images" / ("training" if split == "train" else "validation")
    if name == "cocostuff":
        return root / f"{split}_img"
    if name == "cityscapes":
        return root / "leftImg8bit" / split
    if name == "folder":
        return root / split / "images" if (root / split / "images").is_dir() else root / "images"
    return _cmp_folder(root, split)


def find_pairs(name: str, root: Path, split: str, use_instance: bool = False) -> list[Pair]:
    root = Path(root)
    if not root.is_dir():
        raise BenchError(f"{root}: data folder not found (data.root for dataset {name!r})")
    if name == "facades":
        return facades_pairs(root, split)
    if name == "cmp":
        return cmp_pairs(root, split)
    if name == "ade20k":
        return ade20k_pairs(root, split)
    if name == "cocostuff":
        return cocostuff_pairs(root, split, use_instance)
    if name == "cityscapes":
        return cityscapes_pairs(root, split, use_instance)
    if name == "folder":
        return folder_pairs(root, split, use_instance)
    raise BenchError(f"dataset {name!r}: valid layouts are {', '.join(LAYOUTS)}")
