"""`bench data check PATH`: detect a data folder's layout, read every pair, report.

Fatal problems (missing folder, photo without label, label id out of range, sizes that
do not match, unreadable file) raise BenchError naming the file: the CLI exits 2.
Other findings (a missing split, classes absent, mixed photo sizes) are listed as notes.

A generic `folder` carries no class count; put a meta.json with "classes": [...] in it
(as the synthetic set does) to have ids checked against it; without one, ids 0..254
are accepted and 255 counts as don't-care.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.data.config import DataConfig
from bench.data.detect import EXPECTS, TITLES, announce, detect_layout
from bench.data.layouts import LAYOUTS, find_pairs, instance_folder, split_folder
from bench.data.pairs import read_pair
from bench.data.registry import dataset_info
from bench.errors import BenchError

SPLITS = ("train", "val")
SHARES_UP_TO = 40  # classes: a per-class share table is printed for data sets this small


def _label_names(root: Path) -> list[str]:
    return [p.name for d in ("train_label", "test_label", "val_label") if (root / d).is_dir()
            for p in (root / d).iterdir()]


def detect_dataset(root: Path) -> str:
    """Guess the data set from the folder names (see bench.data.layouts)."""
    if (root / "images" / "training").is_dir() or (root / "annotations" / "training").is_dir():
        return "ade20k"
    labels = _label_names(root)
    if any(n.endswith("_gtFine_labelIds.png") for n in labels):
        return "cityscapes"  # pix2pixHD's datasets/cityscapes
    if (root / "test_label").is_dir():
        return "folder"  # pix2pixHD layout with plain label ids
    if any((root / f"{s}_img").is_dir() for s in SPLITS):
        return "cocostuff"
    if (root / "leftImg8bit").is_dir() or (root / "gtFine").is_dir():
        return "cityscapes"
    if (root / "images").is_dir() or any((root / s / "images").is_dir() for s in SPLITS):
        return "folder"
    if any((root / s).is_dir() and any((root / s).glob("*.jpg")) for s in ("train", "test", "val")):
        if not any(any((root / s).glob("*.png")) for s in ("train", "test", "val")
                   if (root / s).is_dir()):
            return "facades"
        return "cmp"
    if any(root.glob("*.jpg")):
        return "cmp"
    tried = "; ".join(f"{TITLES[k]}: {v}" for k, v in EXPECTS.items())
    raise BenchError(f"{root}: cannot tell the data layout; pass --dataset "
                     f"(valid: {', '.join(LAYOUTS)}). Layouts tried: {tried}")


def _folder_classes(root: Path) -> tuple[str, ...] | None:
    """Class names of a generic folder from its meta.json, if it has one."""
    meta = root / "meta.json"
    if not meta.is_file():
        return None
    try:
        names = json.loads(meta.read_text())["classes"]
        assert isinstance(names, list) and names
        return tuple(str(n) for n in names)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BenchError(f"{meta}: expected JSON with a non-empty 'classes' list") from None


def check_split(name: str, root: Path, split: str, info) -> dict:
    pairs = find_pairs(name, root, split, use_instance=info.use_instance)
    counts = np.zeros(info.label_channels, dtype=np.int64)
    sizes: Counter = Counter()
    ambiguous = far = photos = 0
    for pair in pairs:
        if name == "facades":
            from bench.data.facades import read_facade_details

            rgb, ids, amb, far_mask = read_facade_details(pair.image)
            ambiguous, far = ambiguous + int(amb.sum()), far + int(far_mask.sum())
        else:
            rgb, ids, _ = read_pair(pair, info)
        if rgb is not None:
            photos += 1
            sizes[f"{rgb.shape[1]}x{rgb.shape[0]}"] += 1
        counts += np.bincount(ids.ravel(), minlength=info.label_channels)[:info.label_channels]
    total = int(counts.sum())
    present = [int(i) for i in np.flatnonzero(counts[:info.num_classes])]
    out = {"pairs": len(pairs), "photos": photos, "has_photos": photos == len(pairs),
           "sizes": dict(sizes), "pixels": total,
           "classes_present": present, "class_pixels": counts[:info.num_classes].tolist(),
           "class_share": (counts[:info.num_classes] / max(total, 1)).tolist(),
           "dontcare_share": (float(counts[info.dontcare_id]) / total
                              if info.dontcare_id is not None and total else 0.0)}
    if name == "facades":
        out["ambiguous_share"] = ambiguous / max(total, 1)
        out["far_share"] = far / max(total, 1)  # > facades.README_FAR from every colour
    return out


def check_folder(path, dataset: str | None = None) -> dict:
    """Validate a data folder and print counts, classes present and notes."""
    root = Path(path)
    if not root.is_dir():
        what = "a file, not a data folder" if root.exists() else "data folder not found"
        raise BenchError(f"{root}: {what}")
    name = dataset or detect_dataset(root)
    if name not in LAYOUTS:
        raise BenchError(f"--dataset {name!r}: valid layouts are {', '.join(LAYOUTS)}")
    layout, reason = detect_layout(name, root)
    announce(root, reason)
    cfg = DataConfig(dataset=name, root=str(root))
    class_names = None
    if name == "folder":  # class count from meta.json, else ids 0..254 and 255 = don't-care
        class_names = _folder_classes(root)
        cfg.num_classes = len(class_names) if class_names else 255
        cfg.contain_dontcare = class_names is None
        cfg.use_instance = any(instance_folder(layout, root, s).is_dir() for s in SPLITS)
    info = dataset_info(cfg)
    if class_names:
        info = dataclasses.replace(info, class_names=class_names)
    splits, notes, seen = {}, [], {}
    for split in SPLITS:
        folder = split_folder(layout, root, split)
        if not folder.is_dir():
            notes.append(f"split {split!r}: {folder} not found")
            continue
        if folder in seen:  # one flat folder serves both splits
            notes.append(f"split {split!r}: same folder as {seen[folder]!r}")
            continue
        seen[folder] = split
        splits[split] = check_split(name, root, split, info)
        splits[split]["folder"] = str(folder.relative_to(root))
    if not splits:
        raise BenchError(f"{root}: no split found for layout {name!r} ({'; '.join(notes)})")
    for split, s in splits.items():
        absent = info.num_classes - len(s["classes_present"])
        if absent and info.num_classes <= 40:
            notes.append(f"split {split!r}: {absent} of {info.num_classes} classes never appear")
        if len(s["sizes"]) > 1:
            notes.append(f"split {split!r}: photos of {len(s['sizes'])} different sizes "
                         "(resized to data.image_size when loaded)")
        if not s["has_photos"]:
            notes.append(f"split {split!r}: label maps only, no photos: usable to generate "
                         "images, not to train or evaluate (bench eval --data-root FOLDER "
                         "scores a run on a folder whose val split has photos)")
    from bench.data.protocol import protocol

    scoring = protocol(info)
    _print(root, f"{name}, {TITLES[layout]} layout", info, splits, notes)
    Console().print(f"scored as: {scoring}")
    return {"layout": layout, "dataset": name, "layout_reason": reason, "root": str(root),
            "num_classes": info.num_classes, "use_instance": info.use_instance,
            "protocol": scoring, "splits": splits, "notes": notes}


def _print(root, title, info, splits, notes) -> None:
    console = Console()
    t = Table(title=f"{root}  ({title}, {info.num_classes} classes"
                    f"{', instances' if info.use_instance else ''})")
    facades = any("ambiguous_share" in s for s in splits.values())
    cols = ["split", "pairs", "photo sizes", "classes present", "don't-care"]
    cols += ["ambiguous", "> 40 from palette"] if facades else []
    for col in cols:
        t.add_column(col)
    for split, s in splits.items():
        sizes = ", ".join(f"{k} ({v})" for k, v in sorted(s["sizes"].items(), key=lambda x: -x[1])[:3])
        dc = f"{100 * s['dontcare_share']:.1f}%" if info.dontcare_id is not None else "-"
        label = split if s.get("folder") in (None, split) else f"{split} ({s['folder']}/)"
        row = [label, str(s["pairs"]), sizes or "none (label maps only)",
               f"{len(s['classes_present'])}/{info.num_classes}", dc]
        if facades:
            row += [f"{100 * s['ambiguous_share']:.1f}%", f"{100 * s['far_share']:.1f}%"]
        t.add_row(*row)
    console.print(t)
    names = info.class_names
    name_of = lambda i: f"{i}:{names[i]}" if i < len(names) else str(i)
    if info.num_classes <= SHARES_UP_TO:  # one row per class: its share of label pixels
        shares = Table(title="share of label pixels per class")
        shares.add_column("class")
        for split in splits:
            shares.add_column(split, justify="right")
        for i in range(info.num_classes):
            shares.add_row(name_of(i), *(f"{100 * s['class_share'][i]:.1f}%" for s in splits.values()))
        console.print(shares)
    else:
        for split, s in splits.items():
            shown = [name_of(i) for i in s["classes_present"]]
            console.print(f"[bold]{split}[/] classes present: " + " ".join(shown[:60])
                          + (" ..." if len(shown) > 60 else ""))
    for n in notes:
        console.print(f"[yellow]note:[/] {n}")
    if facades:
        from bench.data.facades import FAR_DISTANCE, README_FAR

        console.print(f"ambiguous: label pixels near a palette boundary or far (> {FAR_DISTANCE:g})"
                      f" from every palette colour (bench.data.facades); > {README_FAR:g} from "
                      "palette: the README's figure")
