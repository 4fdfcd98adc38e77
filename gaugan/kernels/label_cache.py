"""The label map resized once per resolution and shared by the SPADE layers there.

Every SPADE layer of a generator resizes the same label map to its own resolution;
several layers share a resolution. The cache is keyed on the label tensor itself
(identity and in-place version counter) plus the requested form; an entry dies with
its label tensor (weak reference), so nothing outlives the forward pass's input.
Skipped while torch.compile traces (no real tensors) and for maps that need grad.
"""

from __future__ import annotations

import weakref
from typing import Callable, Hashable

import torch
import torch.nn.functional as F
from torch import Tensor

_CACHE: dict[int, tuple[weakref.ref, int, dict[Hashable, object]]] = {}


def cached(segmap: Tensor, key: Hashable, make: Callable[[], object]) -> object:
    """make(), computed once per (segmap tensor, version, key)."""
    if torch.compiler.is_compiling() or segmap.requires_grad:
        return make()
    sid = id(segmap)
    entry = _CACHE.get(sid)
    if entry is None or entry[0]() is not segmap or entry[1] != segmap._version:
        ref = weakref.ref(segmap, lambda _, sid=sid: _CACHE.pop(sid, None))
        entry = (ref, segmap._version, {})
        _CACHE[sid] = entry
    values = entry[2]
    if key not in values:
        values[key] = make()
    return values[key]


def resized(segmap: Tensor, size: tuple[int, int]) -> Tensor:
    """F.interpolate(segmap, size, mode='nearest'), shared across layers."""
    size = tuple(int(s) for s in size)
    return cached(segmap, ("resized", size), lambda: F.interpolate(segmap, size=size, mode="nearest"))


def onehot_labels(segmap: Tensor) -> Tensor | None:
    """(N, H, W) int64 class ids if segmap (N, K, H, W) is exactly one-hot, else None."""

    def make():
        is_binary = bool(((segmap == 0) | (segmap == 1)).all())
        if not is_binary or not bool((segmap.sum(1) == 1).all()):
            return None
        return segmap.argmax(1)

    return cached(segmap, "labels", make)


def resized_labels(segmap: Tensor, labels: Tensor, size: tuple[int, int]) -> Tensor:
    """Nearest resize of class ids: the same source pixels as resizing the one-hot map."""
    size = tuple(int(s) for s in size)

    def make():
        if tuple(labels.shape[1:]) == size:
            return labels
        return F.interpolate(labels[:, None].float(), size=size, mode="nearest")[:, 0].long()

    return cached(segmap, ("labels", size), make)
