"""Where the pairs of each on-disk layout live: find_pairs(name, root, split) -> [Pair].

  facades     <root>/train/*.jpg, <root>/test/*.jpg (pix2pix; "val" reads test/, else val/)
  cmp         CMP base: <stem>.jpg + <stem>.png|.bmp (ids 1..12) in <root>/{train,val}/, or
              all in <root> itself, where every 10th pair (sorted) is "val", the rest "train"
  ade20k      <root>/images/{training,validation}/*.jpg + annotations/.../*.png
  cocostuff   <root>/{train,val}_img, _label, _inst (the NVlabs/SPADE sample layout)
  cityscapes  <root>/leftImg8bit/<split>/<city>/*_leftImg8bit.png +
              gtFine/<split>/<city>/*_gtFine_labelIds.png, *_gtFine_instanceIds.png
  pix2pixhd   <root>/{train,test}_label/, _img/, _inst/ (NVIDIA/pix2pixHD datasets/cityscapes),
              paired by sorted file name; "val" reads val_* if present, else test_*. A phase
              without _img/ (pix2pixHD's test split) gives pairs without photos.
              For data sets cityscapes (labelIds) and folder (label ids).
  folder      <root>/[<split>/]images/*, labels/*.png (label ids), instances/*.png optional;
              without <root>/<split>/, the one folder serves both splits
A data set with two layouts (cityscapes, folder) is looked up by bench.data.detect.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.data.detect import announce, detect_layout
from bench.data.pairs import Pair
from bench.errors import BenchError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
LABEL_EXTS = (".png", ".bmp")
LAYOUTS = ("facades", "cmp", "ade20k", "cocostuff", "cityscapes", "folder")  # data sets with folders


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


def pix2pixhd_phase(root: Path, split: str) -> str:
    """pix2pixHD's phase folder prefix: train, or for "val" val_* if present, else test_*."""
    if split == "train":
        return "train"
    return "val" if (root / "val_label").is_dir() else "test"


def pair_key(name: str) -> str:
    """What must agree between files paired by position: Cityscapes names by
    city_sequence_frame (as NVlabs/SPADE's cityscapes paths_match), others by stem."""
    stem = Path(name).stem
    if stem.endswith(("_leftImg8bit", "_gtFine_labelIds", "_gtFine_instanceIds")):
        return "_".join(stem.split("_")[:3])
    return stem


def _by_position(labels: list[Path], others: list[Path], folder: Path, what: str) -> None:
    """pix2pixHD pairs sorted lists by position: same count, and where the names share
    keys at all, the same key at every position (else a file is missing in one folder)."""
    label_dir = labels[0].parent
    if len(others) != len(labels):
        raise BenchError(f"{label_dir}: {len(labels)} label maps but {len(others)} {what} in "
                         f"{folder}; pix2pixHD pairs them by sorted file name, so both folders "
                         "need the same files")
    keys = [pair_key(p.name) for p in labels], [pair_key(p.name) for p in others]
    if set(keys[0]) & set(keys[1]):
        for lab, other, k1, k2 in zip(labels, others, *keys):
            if k1 != k2:
                raise BenchError(f"{lab}: paired by sorted position with {other}, but the names "
                                 f"differ ({k1!r} vs {k2!r}); a file is missing or extra in "
                                 f"{label_dir} or {folder}")


def pix2pixhd_pairs(root: Path, split: str, use_instance: bool, encoding: str) -> list[Pair]:
    phase = pix2pixhd_phase(root, split)
    label_dir, img_dir, inst_dir = (root / f"{phase}_{k}" for k in ("label", "img", "inst"))
    by_name = lambda files: sorted(files, key=lambda p: p.name)  # pix2pixHD: plain sorted()
    labels = by_name(_files(label_dir, LABEL_EXTS))
    if not labels:
        raise BenchError(f"{label_dir}: no label maps found")
    photos = by_name(_files(img_dir, IMAGE_EXTS)) if img_dir.is_dir() else None
    if photos is None and split == "train":
        raise BenchError(f"{img_dir}: folder not found; training needs the photos "
                         f"(pix2pixHD layout: {phase}_label/ + {phase}_img/)")
    insts = by_name(_files(inst_dir, LABEL_EXTS)) if use_instance else None
    if photos is not None:
        _by_position(labels, photos, img_dir, "photos")
    if insts is not None:
        _by_position(labels, insts, inst_dir, "instance maps")
    return [Pair(photos[i] if photos else None, lab, insts[i] if insts else None, encoding)
            for i, lab in enumerate(labels)]


def split_folder(layout: str, root: Path, split: str) -> Path:
    """The folder whose presence means that `split` exists in this layout."""
    root = Path(root)
    if layout == "facades":
        return root / ("train" if split == "train" else
                       "test" if (root / "test").is_dir() else "val")
    if layout == "ade20k":
        return root / "images" / ("training" if split == "train" else "validation")
    if layout == "cocostuff":
        return root / f"{split}_img"
    if layout == "cityscapes":
        return root / "leftImg8bit" / split
    if layout == "pix2pixhd":  # labels, not photos: a split may be label maps only
        return root / f"{pix2pixhd_phase(root, split)}_label"
    if layout == "folder":
        return root / split / "images" if (root / split / "images").is_dir() else root / "images"
    return _cmp_folder(root, split)


def instance_folder(layout: str, root: Path, split: str) -> Path | None:
    """Where a generic layout keeps the split's instance maps (None: it has none)."""
    if layout == "folder":
        return split_folder(layout, root, split).parent / "instances"
    if layout == "pix2pixhd":
        return Path(root) / f"{pix2pixhd_phase(Path(root), split)}_inst"
    return None


def find_pairs(name: str, root: Path, split: str, use_instance: bool = False) -> list[Pair]:
    """The pairs of data set `name` under root; the layout is detected (and said on stderr)."""
    root = Path(root)
    if not root.is_dir():
        raise BenchError(f"{root}: data folder not found (data.root for dataset {name!r})")
    if name not in LAYOUTS:
        raise BenchError(f"dataset {name!r}: valid layouts are {', '.join(LAYOUTS)}")
    layout, reason = detect_layout(name, root)
    announce(root, reason)
    if layout == "facades":
        return facades_pairs(root, split)
    if layout == "cmp":
        return cmp_pairs(root, split)
    if layout == "ade20k":
        return ade20k_pairs(root, split)
    if layout == "cocostuff":
        return cocostuff_pairs(root, split, use_instance)
    if layout == "cityscapes":
        return cityscapes_pairs(root, split, use_instance)
    if layout == "pix2pixhd":
        return pix2pixhd_pairs(root, split, use_instance, "cityscapes" if name == "cityscapes" else "ids")
    return folder_pairs(root, split, use_instance)
