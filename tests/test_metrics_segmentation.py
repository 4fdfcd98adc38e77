"""mIoU and pixel accuracy against confusion matrices computed by hand."""

import pytest
import torch

from bench.metrics.segmentation import confusion_matrix, scores


def test_against_hand_computed_matrix():
    # 3 classes; ground truth row by row, prediction below it.
    gt = torch.tensor([[0, 0, 1, 1],
                       [2, 2, 2, 1]])
    pred = torch.tensor([[0, 1, 1, 1],
                         [2, 2, 0, 1]])
    cm = confusion_matrix(pred, gt, num_classes=3)
    # rows = gt, cols = pred: class 0: 1 right, 1 as class 1; class 1: 3 right;
    # class 2: 2 right, 1 as class 0.
    expected = torch.tensor([[1, 1, 0], [0, 3, 0], [1, 0, 2]])
    assert torch.equal(cm[:, :3], expected)
    s = scores(cm)
    # IoU0 = 1 / (2 + 2 - 1) = 1/3; IoU1 = 3 / (3 + 4 - 3) = 3/4; IoU2 = 2 / (3 + 2 - 2) = 2/3
    assert s["iou_per_class"] == pytest.approx([1 / 3, 3 / 4, 2 / 3])
    assert s["miou"] == pytest.approx((1 / 3 + 3 / 4 + 2 / 3) / 3)
    assert s["pixel_acc"] == pytest.approx(6 / 8)


def test_ignore_label_is_not_scored():
    gt = torch.tensor([0, 0, 1, 255, 255, 1])
    pred = torch.tensor([0, 1, 1, 0, 1, 1])
    s = scores(confusion_matrix(pred, gt, num_classes=2, ignore_index=255))
    # scored pixels: (0,0) (0,1) (1,1) (1,1) -> acc 3/4; IoU0 = 1/2, IoU1 = 2/3
    assert s["pixels_scored"] == 4
    assert s["pixel_acc"] == pytest.approx(3 / 4)
    assert s["miou"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_dontcare_inside_class_range_is_ignored():
    # don't-care id = num_classes (ADE20K style: 150 real classes, id 150 ignored)
    gt = torch.tensor([0, 1, 2, 2])
    pred = torch.tensor([0, 1, 0, 1])
    s = scores(confusion_matrix(pred, gt, num_classes=2, ignore_index=2))
    assert s["pixel_acc"] == 1.0 and s["miou"] == 1.0


def test_absent_classes_are_excluded_not_zero():
    # 5 classes, only 0 and 1 appear in gt and prediction: 2..4 have an empty union
    gt = torch.tensor([0, 0, 1, 1])
    pred = torch.tensor([0, 1, 1, 1])
    s = scores(confusion_matrix(pred, gt, num_classes=5))
    assert s["iou_per_class"][2:] == [None, None, None]
    assert s["classes_scored"] == 2
    assert s["miou"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_class_only_predicted_counts_as_zero_iou():
    # class 2 never in gt but predicted: union > 0, IoU 0, and it lowers the mean
    gt = torch.tensor([0, 0, 1, 1])
    pred = torch.tensor([0, 2, 1, 1])
    s = scores(confusion_matrix(pred, gt, num_classes=3))
    assert s["iou_per_class"] == pytest.approx([1 / 2, 1.0, 0.0])
    assert s["miou"] == pytest.approx(0.5)


def test_matrix_is_accumulated_over_images_not_averaged_per_image():
    gt1, pred1 = torch.tensor([0, 0, 0, 0]), torch.tensor([0, 0, 0, 0])
    gt2, pred2 = torch.tensor([1, 1]), torch.tensor([0, 1])
    cm = confusion_matrix(pred1, gt1, 2) + confusion_matrix(pred2, gt2, 2)
    s = scores(cm)
    # class 0: tp 4, union 5; class 1: tp 1, union 2
    assert s["miou"] == pytest.approx((4 / 5 + 1 / 2) / 2)
    assert s["pixel_acc"] == pytest.approx(5 / 6)


def test_prediction_outside_the_classes_is_a_miss():
    gt = torch.tensor([0, 1])
    pred = torch.tensor([7, 1])  # a segmenter with more output classes
    s = scores(confusion_matrix(pred, gt, num_classes=2))
    assert s["pixel_acc"] == pytest.approx(1 / 2)
    assert s["iou_per_class"] == pytest.approx([0.0, 1.0])
