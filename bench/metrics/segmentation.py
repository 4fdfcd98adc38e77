"""mIoU and pixel accuracy from a confusion matrix (the official protocols' way).

The confusion matrix is accumulated over the whole split, then scored once:
    IoU_c = TP_c / (TP_c + FP_c + FN_c),   mIoU = mean over classes with a non-empty union
    pixel accuracy = sum_c TP_c / (all scored pixels)
Pixels whose ground truth is the ignore (don't-care) label, or outside 0..C-1, are
not scored. A class absent from both prediction and ground truth has an empty union
and is left out of the mean rather than counted as 0 or 1.
"""

from __future__ import annotations

import numpy as np
import torch


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                     ignore_index: int | None = None) -> torch.Tensor:
    """pred, target: integer tensors of one shape -> (C, C) int64, rows = ground truth."""
    pred = pred.reshape(-1).long()
    target = target.reshape(-1).long()
    keep = (target >= 0) & (target < num_classes)
    if ignore_index is not None:
        keep &= target != ignore_index
    # A prediction outside 0..C-1 (a segmenter with extra classes) is simply wrong:
    # clamp it to no real class by counting it as a miss of the true class.
    pred, target = pred[keep], target[keep]
    valid_pred = (pred >= 0) & (pred < num_classes)
    cm = torch.bincount(target[valid_pred] * num_classes + pred[valid_pred],
                        minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    missed = torch.bincount(target[~valid_pred], minlength=num_classes)
    # Misses add to the row total (FN) but to no predicted column: keep them separately.
    return torch.cat([cm, missed[:, None]], dim=1)  # (C, C + 1): last column = "no class"


def scores(cm: torch.Tensor) -> dict:
    """(C, C+1) matrix from confusion_matrix -> miou, pixel_acc, per-class IoU (NaN if absent)."""
    cm = cm.double().numpy()
    num_classes = cm.shape[0]
    tp = np.diag(cm[:, :num_classes])
    gt = cm.sum(axis=1)  # TP + FN (including predictions outside the classes)
    predicted = cm[:, :num_classes].sum(axis=0)  # TP + FP
    union = gt + predicted - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    total = cm.sum()
    return {
        "miou": float(np.nanmean(iou)) if np.any(union > 0) else None,
        "pixel_acc": float(tp.sum() / total) if total > 0 else None,
        "iou_per_class": [None if np.isnan(v) else float(v) for v in iou],
        "classes_scored": int((union > 0).sum()),
        "pixels_scored": int(total),
    }
