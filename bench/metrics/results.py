"""One metric value in metrics.json, always with the same keys (torch-fidelity style).

metrics.json = {
  "format": 1, "run": ..., "step": ..., "split": "val", "image_size": [H, W],
  "num_maps": N, "multimodal": bool, "images": {"fake": "eval/fake", "real": "eval/real", ...},
  "metrics": {id: ENTRY, ...},                       # only the ids the config asked for
  "reference": {"real_images": {"miou": ENTRY, "pixel_acc": ENTRY}},   # segmenter on real photos
  "segmenter": {...}, "seconds": {...},
}
ENTRY = {
  "id", "name" (display name, never a standard name for a substitute),
  "value" (float or null), "std" (KID only, else null), "reason" (why null, else null),
  "produced_by" (weight file + sha256, or "trained oracle <fingerprint>"),
  "feature_extractor", "num_samples", "image_size", "split",
  "reference" (the same metric on real photos, {"value", ...}, or null), "details" (dict),
  "protocol" (mIoU / pixel accuracy: how the data set is scored, one line from
              bench.data.protocol, e.g. "Cityscapes: 19 trainId classes (...)"; else null),
}
"""

from __future__ import annotations

NAMES = {
    "miou": "mIoU",
    "pixel_acc": "pixel accuracy",
    "fid": "FID",
    "kid": "KID",
    "lpips": "LPIPS",
    "lpips_diversity": "LPIPS diversity",
    "fd_oracle": "FD (oracle features)",
    "kid_oracle": "KID (oracle features)",
}


def entry(metric_id: str, value: float | None, *, produced_by: str | None,
          feature_extractor: str | None, num_samples: int, image_size: tuple[int, int],
          split: str, reason: str | None = None, std: float | None = None,
          reference: dict | None = None, details: dict | None = None,
          protocol: str | None = None) -> dict:
    if value is None and not reason:
        raise ValueError(f"{metric_id}: a null value needs a reason")
    return {
        "id": metric_id,
        "name": NAMES.get(metric_id, metric_id),
        "value": None if value is None else float(value),
        "std": None if std is None else float(std),
        "reason": reason if value is None else None,
        "produced_by": produced_by,
        "feature_extractor": feature_extractor,
        "num_samples": int(num_samples),
        "image_size": list(image_size),
        "split": split,
        "reference": reference,
        "details": details or {},
        "protocol": protocol,
    }
