"""How a data set's segmentation scores are computed: which ids, which ignored.

eval_protocol(info) -> Protocol (the mapping the mIoU code applies), protocol(info) -> the
one line recorded next to mIoU in metrics.json. Official protocols behind the numbers:
  Cityscapes  19 trainIds; labelIds mapped via cityscapesScripts labels.py, void -> 255 ignored
  ADE20K      150 classes; file label 0 ("other") ignored (CSAILVision sceneparsing
              evaluationCode/utils_eval.py: predictions on gt 0 are not counted)
  COCO-Stuff  182 ids (171 used); 255 ("unlabeled") ignored (the DeepLab v2 COCO-Stuff
              setup SPADE cites: N_CLASSES 182, IGNORE_LABEL 255)
Here the ADE20K "other" and the COCO-Stuff 255 arrive as the data set's don't-care id
(150, 182: bench.data.registry), which is what gets ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.data import cityscapes_ids


@dataclass(frozen=True)
class Protocol:
    text: str
    num_classes: int  # classes scored
    ignore_index: int | None  # ground truth with this id is not scored
    class_names: tuple[str, ...]
    to_scored: str = "identity"  # "identity" | "cityscapes_train_ids"

    def apply(self, ids: torch.Tensor) -> torch.Tensor:
        """Data-set ids (ground truth or prediction) -> the ids that are scored."""
        if self.to_scored == "cityscapes_train_ids":
            return cityscapes_ids.to_train_ids(ids)
        return ids


def eval_protocol(info) -> Protocol:
    n, names = info.num_classes, tuple(info.class_names)
    if info.name == "cityscapes":
        return Protocol("Cityscapes: 19 trainId classes (labelIds mapped, void ignored)",
                        len(cityscapes_ids.TRAIN_NAMES), cityscapes_ids.IGNORE,
                        cityscapes_ids.TRAIN_NAMES, "cityscapes_train_ids")
    text = {
        "ade20k": f"ADE20K: {n} classes, 'other' (0) ignored",
        "cocostuff": f"COCO-Stuff: {n} classes, 255 (unlabeled) ignored",
        "facades": f"facades: {n} CMP classes",
        "cmp": f"CMP: {n} classes",
        "synthetic": f"synthetic: {n} classes",
    }.get(info.name)
    if text is None:  # a generic folder
        text = f"{info.name}: {n} classes" + (", 255 (don't care) ignored"
                                              if info.dontcare_id is not None else "")
    return Protocol(text, n, info.dontcare_id, names)


def protocol(info) -> str:
    """The evaluation protocol of info's data set as one line."""
    return eval_protocol(info).text
