"""What every data set gives the rest of the harness.

A data set is a torch Dataset whose items are dicts:
    "label":    LongTensor (H, W), class ids 0..num_classes-1, or `dontcare_id`
    "image":    FloatTensor (3, H, W) in [-1, 1]   (only when the split has photos)
    "instance": FloatTensor (1, H, W) edge map in {0, 1}   (only when use_instance)
    "path":     str, the photo's file, or the label map's without a photo (for messages)
and which carries `.info: DatasetInfo` and `.has_photos: bool`. A split of label maps
only (pix2pixHD's test_label/ + test_inst/) has has_photos False: its items have no
"image"; it serves generation, never training or scoring (which compare with photos).

Build one with bench.data.registry.build_dataset(cfg, split). Training sets mirror item i
in epoch e when bench.data.transforms.flip_decision(ds.flip_seed, e, i) (set `flip_seed`,
call `set_epoch`); a trainer that flips by itself sets `ds.flip = False`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    num_classes: int  # real classes, ids 0..num_classes-1
    class_names: tuple[str, ...] = ()
    # Id of the "don't care" label as the official code keeps it: an extra one-hot
    # channel for the generator; ignored by the segmentation metrics. None: no such label.
    dontcare_id: int | None = None
    use_instance: bool = False
    palette: tuple[tuple[int, int, int], ...] = field(default=())  # RGB per class, for display

    @property
    def label_channels(self) -> int:
        """One-hot channels (classes plus the don't-care channel when present)."""
        return self.num_classes + (1 if self.dontcare_id is not None else 0)

    @property
    def semantic_nc(self) -> int:
        """Generator input channels: one-hot classes (+ don't-care) (+ instance edges)."""
        return self.label_channels + (1 if self.use_instance else 0)


def semantic_input(batch: dict, info: DatasetInfo) -> torch.Tensor:
    """(N, semantic_nc, H, W) float one-hot label map (+ instance edge channel)."""
    label = batch["label"]
    onehot = F.one_hot(label.long(), info.label_channels).permute(0, 3, 1, 2).float()
    if info.use_instance:
        onehot = torch.cat([onehot, batch["instance"].float()], dim=1)
    return onehot
