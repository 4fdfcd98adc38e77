"""The `synthetic` data set: procedural outdoor scenes, generated and cached as PNG.

Item i of a data set with seed s is a pure function of (s, i, H, W): the scene, its
style and its texture noise come from random streams seeded by (s, i, 0|1|2), so any
subset can be regenerated alone. Training items are indices 0..num_train-1, validation
items VAL_OFFSET + 0..num_val-1 (disjoint for any realistic size).

On disk (write_synthetic): images/NNNNNN.png (RGB), labels/NNNNNN.png (class ids, mode L),
instances/NNNNNN.png (16-bit instance ids), meta.json. The folder appears atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench.data.names import default_palette
from bench.data.synth_render import render, sample_style
from bench.data.synth_scene import CLASSES, make_scene
from bench.atomic import make_public
from bench.errors import BenchError

VERSION = 2  # bump when the generator changes: caches of older versions are not reused
VAL_OFFSET = 1_000_000_000
MIN_SIZE, MAX_SIZE = 32, 512
# Display colours of the label maps (sky blue, cloud white, ...), index = class id.
PALETTE = ((70, 130, 230), (230, 230, 230), (120, 90, 70), (250, 250, 255), (90, 200, 60),
           (20, 100, 30), (30, 60, 200), (240, 210, 120), (130, 130, 130), (60, 60, 60),
           (200, 60, 60))
assert len(PALETTE) == len(CLASSES)
__all__ = ["CLASSES", "PALETTE", "default_palette", "generate", "synthetic_pairs", "write_synthetic"]


def _check_size(h: int, w: int) -> None:
    for name, v in (("size", h), ("width", w)):
        if not MIN_SIZE <= v <= MAX_SIZE:
            raise BenchError(f"synthetic {name} {v}: must be between {MIN_SIZE} and {MAX_SIZE}")


def generate(seed: int, index: int, height: int, width: int | None = None, style_index: int | None = None):
    """Item `index` -> (photo (H, W, 3) uint8, class ids (H, W) int64, instance ids (H, W)).

    style_index: render the same label map with the style of another item (for grids
    showing that one label map admits many photos)."""
    width = height if width is None else width
    _check_size(height, width)
    scene = make_scene(np.random.default_rng([seed, index, 0]), height, width)
    s = index if style_index is None else style_index
    style = sample_style(np.random.default_rng([seed, s, 1]))
    photo = render(scene, style, np.random.default_rng([seed, s, 2]))
    return photo, scene.ids, scene.inst


def _write_range(args) -> None:
    folder, seed, start, lo, hi, h, w = args
    for k in range(lo, hi):
        photo, ids, inst = generate(seed, start + k, h, w)
        Image.fromarray(photo).save(folder / "images" / f"{k:06d}.png", compress_level=1)
        Image.fromarray(ids.astype(np.uint8)).save(
            folder / "labels" / f"{k:06d}.png", compress_level=1)
        Image.fromarray(inst.astype(np.uint16)).save(
            folder / "instances" / f"{k:06d}.png", compress_level=1)


def _meta(n: int, h: int, w: int, seed: int, start: int) -> dict:
    return {"dataset": "synthetic", "version": VERSION, "n": n, "height": h, "width": w,
            "seed": seed, "start_index": start, "classes": list(CLASSES),
            "palette": [list(c) for c in PALETTE]}


def is_complete(folder: Path, meta: dict) -> bool:
    try:
        return json.loads((Path(folder) / "meta.json").read_text()) == meta
    except (OSError, ValueError):
        return False


def write_synthetic(out, n: int, size: int, seed: int = 0, width: int | None = None,
                    start: int = 0, workers: int | None = None) -> Path:
    """Write n pairs of size x width (default square) into `out`, atomically.

    An existing complete folder with the same parameters is kept as it is; any other
    existing `out` is an error (nothing is overwritten)."""
    out = Path(out)
    width = size if width is None else width
    _check_size(size, width)
    if n < 1:
        raise BenchError(f"synthetic n {n}: must be at least 1")
    meta = _meta(n, size, width, seed, start)
    if is_complete(out, meta):
        print(f"{out}: already complete ({n} pairs, {size}x{width}, seed {seed})")
        return out
    if out.exists():
        raise BenchError(f"{out}: already exists and is not this synthetic set "
                         "(remove it or choose another --out)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        for sub in ("images", "labels", "instances"):
            (tmp / sub).mkdir()
        workers = workers or (min(os.cpu_count() or 1, 4) if n >= 200 else 1)
        step = -(-n // (workers * 4))
        jobs = [(tmp, seed, start, lo, min(lo + step, n), size, width) for lo in range(0, n, step)]
        if workers > 1:
            with ProcessPoolExecutor(workers) as ex:
                list(ex.map(_write_range, jobs))
        else:
            for j in jobs:
                _write_range(j)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        make_public(tmp, directory=True)  # mkdtemp makes it owner-only
        try:
            os.rename(tmp, out)
        except OSError:  # someone else (another rank) finished first
            if not is_complete(out, meta):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"{out}: wrote {n} pairs ({size}x{width}, seed {seed})")
    return out


def cache_dir(cfg, split: str) -> Path:
    """Where build_dataset keeps a split: <cfg.root or data/synthetic>/<split>-HxW-nN-sS-vV."""
    from bench.data.registry import REPO_ROOT
    from bench.data.transforms import target_size

    h, w = target_size(cfg.image_size, cfg.aspect_ratio)
    n = cfg.num_train if split == "train" else cfg.num_val
    base = Path(cfg.root).expanduser() if cfg.root else REPO_ROOT / "data" / "synthetic"
    return base / f"{split}-{h}x{w}-n{n}-s{cfg.synth_seed}-v{VERSION}"


def synthetic_pairs(cfg, split: str):
    """Pairs of the cached split, generated on first use."""
    from bench.data.pairs import Pair
    from bench.data.transforms import target_size

    h, w = target_size(cfg.image_size, cfg.aspect_ratio)
    n = cfg.num_train if split == "train" else cfg.num_val
    start = 0 if split == "train" else VAL_OFFSET
    folder = cache_dir(cfg, split)
    if not is_complete(folder, _meta(n, h, w, cfg.synth_seed, start)):
        if folder.exists():
            raise BenchError(f"{folder}: incomplete or foreign synthetic cache; remove it")
        write_synthetic(folder, n=n, size=h, seed=cfg.synth_seed, width=w, start=start)
    return [Pair(folder / "images" / f"{k:06d}.png", folder / "labels" / f"{k:06d}.png",
                 folder / "instances" / f"{k:06d}.png", "ids") for k in range(n)]
