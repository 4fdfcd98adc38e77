"""The order in which training examples are seen: deterministic, resumable, shardable.

Global batch k of a run is a pure function of (seed, k): epoch e = k // batches_per_epoch
uses the permutation torch.randperm(n, generator seeded with seed + e) and a flip bit per
position from the same generator. Rank r of a world of size W takes every W-th example of
each global batch, so a DDP run sees exactly the examples of the single-process run with
the same global batch. Nothing depends on worker processes or on global RNG state, so the
data position in a checkpoint is just the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from bench.errors import BenchError


@dataclass
class DataOrder:
    """An iterable of per-rank index batches [(dataset index, flip), ...] (a batch_sampler)."""

    num_examples: int
    global_batch: int
    seed: int
    flip: bool = True
    rank: int = 0
    world_size: int = 1
    start_batch: int = 0  # the global batch to begin with (the training step on resume)

    def __post_init__(self):
        if self.global_batch % self.world_size:
            raise BenchError(
                f"data.batch_size: {self.global_batch} is not divisible by the "
                f"{self.world_size} processes (it is the global batch, split evenly)"
            )
        if self.num_examples < self.global_batch:
            raise BenchError(
                f"data.batch_size: {self.global_batch} is larger than the training set "
                f"({self.num_examples} examples)"
            )
        self.batches_per_epoch = self.num_examples // self.global_batch  # drop_last

    def _epoch(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        perm = torch.randperm(self.num_examples, generator=g)
        flips = torch.rand(self.num_examples, generator=g) < 0.5
        return perm, flips & self.flip

    def batch(self, k: int) -> list[tuple[int, bool]]:
        """This rank's share of global batch k."""
        epoch, j = divmod(k, self.batches_per_epoch)
        perm, flips = self._epoch(epoch)
        sl = slice(j * self.global_batch + self.rank, (j + 1) * self.global_batch, self.world_size)
        return list(zip(perm[sl].tolist(), flips[sl].tolist()))

    def state_dict(self) -> dict:
        return {"seed": self.seed, "global_batch": self.global_batch,
                "num_examples": self.num_examples, "next_batch": self.start_batch}

    def __iter__(self):
        k = self.start_batch
        while True:  # infinite: the trainer stops by step count
            yield self.batch(k)
            k += 1


class FlipView(Dataset):
    """Wraps a data set so that item (index, flip) is the item, mirrored left-right if flip."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.info = dataset.info

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, bool]) -> dict:
        index, flip = key
        item = self.dataset[index]
        if not flip:
            return item
        out = dict(item)
        for k in ("label", "image", "instance"):
            if k in out:
                out[k] = torch.flip(out[k], dims=[-1])  # W is the last axis of every map
        return out
