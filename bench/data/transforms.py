"""Per-item transforms: resize, deterministic flip, instance edges, tensors.

Flips are reproducible without any global RNG: item i in epoch e is flipped when
flip_decision(flip_seed, e, i) is true. The trainer sets `dataset.flip_seed` (e.g. to the
run seed) and calls `dataset.set_epoch(e)`; the result does not depend on the number of
DataLoader workers, on DDP sharding or on where a resumed run starts.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def target_size(image_size: int, aspect_ratio: float) -> tuple[int, int]:
    """(H, W) the models see: H = image_size, W = round(H * aspect_ratio)."""
    return image_size, round(image_size * aspect_ratio)


def resize_nearest(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w) integer map, sampling pixel centres."""
    h, w = ids.shape
    H, W = size
    if (h, w) == (H, W):
        return ids
    rows = np.minimum(((np.arange(H) + 0.5) * h / H).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(W) + 0.5) * w / W).astype(np.int64), w - 1)
    return ids[rows[:, None], cols[None, :]]


def resize_image(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an (h, w, 3) uint8 photo (PIL, antialiased when shrinking)."""
    H, W = size
    if rgb.shape[:2] == (H, W):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((W, H), Image.BICUBIC))


def instance_edges(inst: np.ndarray) -> np.ndarray:
    """(h, w) bool: True where the instance id differs from a 4-neighbour
    (the official SPADE get_edges rule, applied to the resized instance map)."""
    edge = np.zeros(inst.shape, dtype=bool)
    dx = inst[:, 1:] != inst[:, :-1]  # horizontal neighbours differ
    dy = inst[1:, :] != inst[:-1, :]  # vertical neighbours differ
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    return edge


def flip_decision(flip_seed: int, epoch: int, index: int) -> bool:
    """Whether item `index` is mirrored in `epoch`: a fair coin seeded by all three."""
    return bool(np.random.default_rng([flip_seed & 0xFFFFFFFF, epoch, index]).random() < 0.5)


def to_item(rgb: np.ndarray | None, ids: np.ndarray, edges: np.ndarray | None, path: str) -> dict:
    """Arrays -> the contract item (bench.data.base): image in [-1, 1], label Long.
    rgb None (a label map without a photo): the item has no "image"."""
    # np.array copies: arrays may be read-only views (PIL buffers, flips).
    item = {"label": torch.from_numpy(np.array(ids, dtype=np.int64)), "path": path}
    if rgb is not None:
        image = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).float()
        item["image"] = image / 127.5 - 1.0
    if edges is not None:
        item["instance"] = torch.from_numpy(np.array(edges, dtype=np.float32))[None]
    return item
