"""Cityscapes labelId -> trainId: the 19 classes the published numbers are scored on.

Source: mcordts/cityscapesScripts, cityscapesscripts/helpers/labels.py (the `labels`
table: columns id, trainId, ignoreInEval). Training here keeps the 35 labelIds (the
official SPADE label_nc 35); only the mIoU / pixel-accuracy scoring maps both the
ground truth and the predicted labelIds through this table and ignores IGNORE (255):
the void classes (0..6), the ignored-in-eval ones (parking 9, rail track 10, guard rail
14, bridge 15, tunnel 16, polegroup 18, caravan 29, trailer 30) and SPADE's unused 34.
"""

from __future__ import annotations

import torch

IGNORE = 255
_X = IGNORE
# Index = labelId 0..34, value = trainId (or IGNORE).
LABEL_TO_TRAIN = (
    _X, _X, _X, _X, _X, _X, _X,  # 0..6 unlabeled, ego vehicle, rectification border, out of roi, static, dynamic, ground
    0, 1, _X, _X,                # 7 road, 8 sidewalk, 9 parking, 10 rail track
    2, 3, 4, _X, _X, _X,         # 11 building, 12 wall, 13 fence, 14 guard rail, 15 bridge, 16 tunnel
    5, _X, 6, 7,                 # 17 pole, 18 polegroup, 19 traffic light, 20 traffic sign
    8, 9, 10,                    # 21 vegetation, 22 terrain, 23 sky
    11, 12,                      # 24 person, 25 rider
    13, 14, 15, _X, _X, 16, 17, 18,  # 26 car .. 28 bus, 29 caravan, 30 trailer, 31 train, 32 motorcycle, 33 bicycle
    _X,                          # 34: not a Cityscapes label; SPADE's label_nc 35 counts it
)
TRAIN_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
               "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
               "bus", "train", "motorcycle", "bicycle")


def to_train_ids(label_ids: torch.Tensor) -> torch.Tensor:
    """Integer tensor of labelIds -> trainIds; any id outside 0..34 -> IGNORE."""
    lut = torch.full((256,), IGNORE, dtype=torch.long)
    lut[:len(LABEL_TO_TRAIN)] = torch.tensor(LABEL_TO_TRAIN)
    ids = label_ids.long()
    inside = (ids >= 0) & (ids < 256)
    return torch.where(inside, lut.to(ids.device)[ids.clamp(0, 255)], IGNORE)
