"""Image grid on fixed validation maps: label map | each variant | real photo.

Images are the PNGs evaluation wrote (run_dir/eval/fake/NNNNNN.png, eval/real/...), from
each variant's lowest complete seed, so map i is the same label map in every column. The
label map is eval/label/NNNNNN.png when evaluation wrote one, else it is re-read from the
validation set and coloured with the data set's palette.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from bench.report.load import ReportData
from bench.report.plots import _save, plt


def _png(path: Path) -> np.ndarray | None:
    return np.asarray(Image.open(path).convert("RGB")) if path.is_file() else None


def _label_from_data(run_dir: Path, index: int) -> np.ndarray | None:
    """Colour the index-th validation label map (None when the data cannot be read)."""
    import yaml

    from bench.config import validate_run_config
    from bench.data.registry import build_dataset, dataset_info
    from bench.errors import BenchError

    try:
        path = run_dir / "config.yaml"
        cfg = validate_run_config(yaml.safe_load(path.read_text()), str(path))
        ds = build_dataset(cfg.data, "val")
        palette = np.asarray(dataset_info(cfg.data).palette, dtype=np.uint8)
        label = ds[index]["label"].numpy()
    except (BenchError, OSError, IndexError):
        return None
    return palette[np.clip(label, 0, len(palette) - 1)]


def _first_complete(data: ReportData, variant: str) -> Path | None:
    df = data.results
    rows = df[(df["variant"] == variant) & (df["status"] == "complete")].sort_values("seed")
    return data.out / rows["run_dir"].iloc[0] if len(rows) else None


def image_grid(data: ReportData, path: Path) -> Path | None:
    n_maps = int(data.options.get("grid_maps", 4))
    runs = {v: _first_complete(data, v) for v in data.variants}
    runs = {v: d for v, d in runs.items() if d is not None and (d / "eval" / "fake").is_dir()}
    if not runs or n_maps < 1:
        return None
    any_run = next(iter(runs.values()))
    n_maps = min(n_maps, len(list((any_run / "eval" / "fake").glob("*.png"))))
    if n_maps == 0:
        return None
    cols = ["label map"] + list(runs) + ["real photo"]
    label_cache: list[np.ndarray | None] = []
    for i in range(n_maps):
        name = f"{i:06d}.png"
        lab = _png(any_run / "eval" / "label" / name)
        label_cache.append(lab if lab is not None else _label_from_data(any_run, i))
    fig, axes = plt.subplots(n_maps, len(cols), figsize=(1.7 * len(cols), 1.7 * n_maps),
                             squeeze=False)
    for i in range(n_maps):
        name = f"{i:06d}.png"
        images = [label_cache[i]] + [_png(d / "eval" / "fake" / name) for d in runs.values()]
        images.append(_png(any_run / "eval" / "real" / name))
        for j, img in enumerate(images):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if img is not None:
                ax.imshow(img, interpolation="nearest")
            else:
                ax.text(0.5, 0.5, "n/a", ha="center", va="center", transform=ax.transAxes)
            if i == 0:
                ax.set_title(cols[j], fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
