"""Scoring protocols: Cityscapes labelIds -> the 19 trainIds (cityscapesScripts labels.py),
one-line protocol per data set, and mIoU computed under it."""

import torch

from bench.data import cityscapes_ids
from bench.data.config import DataConfig
from bench.data.protocol import eval_protocol, protocol
from bench.data.registry import dataset_info
from bench.metrics.segmentation import confusion_matrix, scores

# Written out by hand from cityscapesScripts/helpers/labels.py (id -> trainId).
HAND = {0: 255, 1: 255, 2: 255, 3: 255, 4: 255, 5: 255, 6: 255, 7: 0, 8: 1, 9: 255, 10: 255,
        11: 2, 14: 255, 17: 5, 18: 255, 21: 8, 23: 10, 24: 11, 26: 13, 29: 255, 30: 255,
        31: 16, 33: 18}


def info(name, **kw):
    return dataset_info(DataConfig(dataset=name, **kw))


def test_cityscapes_table_against_hand_written_entries():
    table = cityscapes_ids.LABEL_TO_TRAIN
    assert len(table) == 35  # labelIds 0..34 (SPADE's label_nc 35)
    for label_id, train_id in HAND.items():
        assert table[label_id] == train_id, label_id
    assert table[34] == 255
    assert sorted(set(table) - {255}) == list(range(19))  # each trainId exactly once
    assert sum(t != 255 for t in table) == 19
    mapped = cityscapes_ids.to_train_ids(torch.tensor([[7, 26, 0], [33, 6, 99]]))
    assert mapped.tolist() == [[0, 13, 255], [18, 255, 255]]


def test_protocol_lines():
    assert protocol(info("cityscapes")) == "Cityscapes: 19 trainId classes (labelIds mapped, void ignored)"
    assert protocol(info("ade20k")) == "ADE20K: 150 classes, 'other' (0) ignored"
    assert protocol(info("cocostuff")) == "COCO-Stuff: 182 classes, 255 (unlabeled) ignored"
    assert protocol(info("facades")) == "facades: 12 CMP classes"
    assert protocol(info("synthetic")) == "synthetic: 11 classes"
    assert protocol(info("folder", num_classes=5)) == "folder: 5 classes"
    # the ignored ids are the data sets' don't-care ids, as the loaders produce them
    assert eval_protocol(info("ade20k")).ignore_index == 150
    assert eval_protocol(info("cocostuff")).ignore_index == 182
    assert eval_protocol(info("facades")).ignore_index is None


def test_cityscapes_miou_scores_train_ids_and_ignores_void():
    p = eval_protocol(info("cityscapes"))
    gt = torch.tensor([7, 7, 26, 26, 0, 4, 9, 33])  # road road car car | void void parking bike
    pred = torch.tensor([7, 7, 26, 8, 26, 7, 7, 0])  # last: bicycle predicted as void
    s = scores(confusion_matrix(p.apply(pred), p.apply(gt), p.num_classes, p.ignore_index))
    # scored pixels: road x2 (right), car x2 (one as sidewalk), bicycle (missed)
    assert s["pixels_scored"] == 5 and s["pixel_acc"] == 3 / 5
    iou = s["iou_per_class"]
    assert len(iou) == 19 and iou[0] == 1.0 and iou[13] == 1 / 2 and iou[1] == 0.0 and iou[18] == 0.0
    assert s["miou"] == (1.0 + 0.5 + 0.0 + 0.0) / 4
