"""Train (or load from the cache) the oracle segmenter of an experiment profile and print
its real-photo ceiling: mIoU and pixel accuracy on the real validation photos.

    .venv/bin/python scripts/oracle_ceiling.py EXPERIMENT PROFILE [--set KEY=VALUE ...]

Uses the first variant's resolved run config (the oracle depends only on the data and
eval sections), the same code path as `bench eval`, and prints wall time, process CPU
time and the load average, so a figure taken on a shared machine says so. Also prints
the per-class IoU and the accuracy on and off a 1-pixel band along label edges (where
resampled, JPEG-blended labels are least certain), to show where the ceiling is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch


def main() -> None:
    from bench.experiment.config import load_experiment, resolve_variants
    from bench.config import set_dotted, validate_run_config
    from bench.data.registry import build_dataset, dataset_info
    from bench.metrics.segmentation import confusion_matrix, scores
    from bench.metrics.oracle import boundary_band
    from bench.metrics.segmenters import build_segmenter

    p = argparse.ArgumentParser()
    p.add_argument("experiment")
    p.add_argument("profile")
    p.add_argument("--set", action="append", default=[], dest="sets")
    a = p.parse_args()
    from bench.config import resolve_path

    _, cfg = resolve_variants(load_experiment(resolve_path(a.experiment, "ablations")), a.profile)[0]
    data = cfg.to_dict()
    for kv in a.sets:
        k, v = kv.split("=", 1)
        set_dotted(data, k, json.loads(v) if v[:1] in "[{0123456789tfn-" else v)
    cfg = validate_run_config(data, "oracle_ceiling")
    info = dataset_info(cfg.data)
    val = build_dataset(cfg.data, "val")
    size = tuple(val[0]["image"].shape[-2:])
    load0, cpu0, t0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
    # the segmenter `bench eval` scores with (flips and scales as the eval config says)
    seg, meta = build_segmenter(cfg, info, size, torch.device("cpu"))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    path = meta.get("oracle_path")
    batch = torch.utils.data.default_collate([val[i] for i in range(len(val))])
    pred = torch.cat([seg.predict(batch["image"][i:i + 16]) for i in range(0, len(val), 16)])
    s = scores(confusion_matrix(pred, batch["label"], info.num_classes, info.dontcare_id))
    scored = batch["label"] != (-1 if info.dontcare_id is None else info.dontcare_id)
    edge = boundary_band(batch["label"], 1)
    right = pred == batch["label"]
    on, off = edge & scored, ~edge & scored
    print(json.dumps({"oracle": str(path), "members": meta.get("member_paths", [str(path)]),
                      "size": list(size), "val_photos": len(val),
                      "miou": s["miou"], "pixel_acc": s["pixel_acc"],
                      "iou_per_class": dict(zip(info.class_names or range(info.num_classes),
                                                s["iou_per_class"])),
                      "edge_band_share": on.sum().item() / max(scored.sum().item(), 1),
                      "pixel_acc_edge_band": right[on].float().mean().item(),
                      "pixel_acc_off_band": right[off].float().mean().item(),
                      "train_seconds_recorded": meta.get("train_seconds"),
                      "this_call_wall_s": wall, "this_call_cpu_s": cpu,
                      "load_start": load0, "load_end": os.getloadavg()[0],
                      "eval": cfg.eval.model_dump()}, indent=1))


if __name__ == "__main__":
    main()
