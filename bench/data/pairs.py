"""Reading one (photo, label, instance) pair from disk, validated, and the Dataset over pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from bench.data import transforms as T
from bench.data.base import DatasetInfo
from bench.errors import BenchError


@dataclass(frozen=True)
class Pair:
    # None: a label map without a photo (pix2pixHD's test split: test_label/, test_inst/
    # only), usable to generate images but not to train or to score them.
    image: Path | None
    label: Path  # for facades the same file as image (right half)
    instance: Path | None = None
    # How label files encode ids: facades | ade20k | cocostuff | cityscapes | cmp | ids
    encoding: str = "ids"


def open_image(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
        return im
    except FileNotFoundError:
        raise BenchError(f"{path}: file not found") from None
    except OSError as e:
        raise BenchError(f"{path}: cannot read image ({e})") from None


def read_ids_file(path: Path) -> np.ndarray:
    """A label-id or instance-id image -> (h, w) int64. Colour (RGB) labels are refused."""
    im = open_image(path)
    if im.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L", "1"):
        raise BenchError(f"{path}: expected a single-channel label-id image, got mode {im.mode} "
                         "(colour label maps need a palette: use dataset facades)")
    return np.asarray(im).astype(np.int64)


def decode_ids(raw: np.ndarray, encoding: str, info: DatasetInfo, path: Path) -> np.ndarray:
    """File values -> class ids 0..num_classes-1, plus info.dontcare_id where the official
    code keeps a don't-care label. Out-of-range values are a BenchError naming the file."""
    n = info.num_classes
    if encoding == "ade20k":  # 0 = "other" -> don't-care 150; class k is stored as k + 1
        valid_max = n
        ids = np.where(raw == 0, info.dontcare_id, raw - 1)
    elif encoding == "cmp":  # CMP stores classes 1..12
        if raw.size and raw.min() < 1:
            raise BenchError(f"{path}: label id 0 found; CMP label ids are 1..{n}")
        valid_max = n
        ids = raw - 1
    else:  # cocostuff, cityscapes, ids: stored as is; 255 is "unlabeled"
        valid_max = n - 1
        ids = raw
        if info.dontcare_id is not None:
            ids = np.where(raw == 255, info.dontcare_id, raw)
    # 255 means "unlabeled" only in the layouts that store it so (not ADE20K, whose
    # don't-care is 0); anywhere else it is an id out of range like any other.
    dontcare_255 = info.dontcare_id is not None and encoding != "ade20k"
    bad = (raw > valid_max) & ~((raw == 255) & dontcare_255)
    if bad.any():
        v = int(raw[bad].max())
        lo = 1 if encoding == "cmp" else 0
        extra = " or 255 (don't care)" if info.dontcare_id is not None and encoding != "ade20k" else ""
        raise BenchError(f"{path}: label id {v} is out of range; valid ids are "
                         f"{lo}..{valid_max}{extra} for dataset {info.name!r}")
    return ids


def read_pair(pair: Pair, info: DatasetInfo
              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """-> photo (h, w, 3) uint8 or None (no photo), ids (h, w) int64, instance ids or None."""
    if pair.encoding == "facades":
        from bench.data.facades import read_facade

        rgb, ids, _ = read_facade(pair.image)
        return rgb, ids, None
    rgb = None if pair.image is None else np.asarray(open_image(pair.image).convert("RGB"))
    ids = decode_ids(read_ids_file(pair.label), pair.encoding, info, pair.label)
    if rgb is not None and ids.shape != rgb.shape[:2]:
        raise BenchError(f"{pair.label}: label size {ids.shape[1]}x{ids.shape[0]} does not match "
                         f"photo {pair.image} size {rgb.shape[1]}x{rgb.shape[0]}")
    inst = None
    if info.use_instance:
        if pair.instance is None:
            raise BenchError(f"{pair.image or pair.label}: no instance map found "
                             "(data.use_instance is true)")
        inst = read_ids_file(pair.instance)
        if inst.shape != ids.shape:
            raise BenchError(f"{pair.instance}: instance size {inst.shape[1]}x{inst.shape[0]} "
                             f"does not match label {pair.label}")
    return rgb, ids, inst


# Decoded, resized items are kept in memory when the whole split fits in this budget
# (per process): decoding a facades JPEG and snapping its colours costs ~30 ms.
CACHE_BYTES = 256 * 2**20


class PairDataset(Dataset):
    """Contract items (bench.data.base) from a list of pairs, resized to the config's size.

    Training flips follow transforms.flip_decision(flip_seed, epoch, index); the trainer
    sets `flip_seed` and calls `set_epoch`, or sets `flip = False` and flips by itself.
    `has_photos` is False for a split of label maps only: its items carry no "image".
    """

    def __init__(self, pairs: list[Pair], info: DatasetInfo, cfg, train: bool):
        self.pairs = pairs
        self.info = info
        self.has_photos = all(p.image is not None for p in pairs)
        if not self.has_photos and any(p.image is not None for p in pairs):
            raise BenchError(f"{pairs[0].label.parent}: some label maps have photos and some "
                             "do not; a split is either paired or label maps only")
        self.size = T.target_size(cfg.image_size, cfg.aspect_ratio)
        self.flip = bool(cfg.flip and train)
        self.flip_seed = 0
        self.epoch = 0
        h, w = self.size
        self._cache: dict[int, tuple] | None = {} if len(pairs) * h * w * 5 <= CACHE_BYTES else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Resized (photo uint8, ids, instance edges or None) of item `index`, not flipped."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        rgb, ids, inst = read_pair(self.pairs[index], self.info)
        rgb = T.resize_image(rgb, self.size) if rgb is not None else None
        ids = T.resize_nearest(ids, self.size)
        ids = ids.astype(np.uint8 if self.info.label_channels <= 256 else np.int16)
        edges = T.instance_edges(T.resize_nearest(inst, self.size)) if inst is not None else None
        if self._cache is not None:
            self._cache[index] = (rgb, ids, edges)
        return rgb, ids, edges

    def __getitem__(self, index: int) -> dict:
        pair = self.pairs[index]
        rgb, ids, edges = self.load(index)
        if self.flip and T.flip_decision(self.flip_seed, self.epoch, index):
            rgb, ids = (rgb[:, ::-1] if rgb is not None else None), ids[:, ::-1]
            edges = edges[:, ::-1] if edges is not None else None
        return T.to_item(rgb, ids, edges, str(pair.image or pair.label))
