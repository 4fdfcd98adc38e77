"""Metrics against images seen: one panel per metric, one line per variant (mean over
seeds) with its 95% CI band, from the "curve" of each run's metrics.json.

A reader sees whether a ranking holds along training or only at the end of a short
budget. Points are matched across seeds by step (every seed of a variant snapshots at
the same steps); a band needs at least two seeds at that step, and is clipped to the
values the metric can take (RANGE).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bench.report.load import ReportData
from bench.report.plots import _save, plt, variant_color
from bench.report.stats import mean_ci
from bench.report.tables import label, unit


# Values a metric can take, where bounded: a t band over 3 seeds is wide and would draw
# e.g. a negative Frechet distance. KID's unbiased estimate can be negative: not clipped.
RANGE = {"miou": (0.0, 1.0), "pixel_acc": (0.0, 1.0), "fid": (0.0, None),
         "fd_oracle": (0.0, None), "lpips": (0.0, None), "lpips_diversity": (0.0, None)}


def band(metric: str, values: list[float]) -> tuple[float, float, float]:
    """(mean, lo, hi) of one point: the 95% t interval over seeds clipped to the metric's
    range (lo = hi = mean with one seed)."""
    s = mean_ci(values)
    if s.half is None:
        return s.mean, s.mean, s.mean
    floor, ceil = RANGE.get(metric, (None, None))
    # min/max with the mean: a value rounded just past a bound keeps a band around it
    lo = s.lo if floor is None else max(s.lo, min(floor, s.mean))
    hi = s.hi if ceil is None else min(s.hi, max(ceil, s.mean))
    return s.mean, lo, hi


def read_curve(run_dir: Path) -> list[dict]:
    try:
        data = json.loads((Path(run_dir) / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        return []
    curve = data.get("curve")
    return curve if isinstance(curve, list) else []


def curve_table(data: ReportData) -> dict[str, dict[str, dict[int, dict]]]:
    """variant -> metric -> step -> {"images": int, "epochs": float, "values": [per seed]}."""
    out: dict[str, dict[str, dict[int, dict]]] = {}
    df = data.results
    for v in data.variants:
        rows = df[(df["variant"] == v) & (df["status"] == "complete")]
        for d in rows["run_dir"]:
            for p in read_curve(data.out / d):
                for m, val in p.get("metrics", {}).items():
                    if val is None or (isinstance(val, float) and math.isnan(val)):
                        continue
                    cell = out.setdefault(v, {}).setdefault(m, {}).setdefault(
                        int(p["step"]), {"images": p["images_seen"], "epochs": p["epochs"],
                                         "values": []})
                    cell["values"].append(float(val))
    return out


def metric_curves(data: ReportData, path: Path) -> Path | None:
    table = curve_table(data)
    metrics = [m for m in data.metrics if any(m in table.get(v, {}) for v in data.variants)]
    if not metrics or not any(len(table[v][m]) > 1 for v in table for m in table[v]):
        return None  # final points only: nothing to plot against training
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False)
    epochs_per_image = None
    for ax, m in zip(axes.flat, metrics):
        for v in data.variants:
            points = table.get(v, {}).get(m, {})
            if not points:
                continue
            steps = sorted(points)
            x = np.array([points[s]["images"] for s in steps], dtype=float)
            mean, lo, hi = np.array([band(m, points[s]["values"]) for s in steps]).T
            line, = ax.plot(x, mean, "o-", ms=3, lw=1.3, label=v, color=variant_color(data, v))
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
            if epochs_per_image is None and points[steps[-1]]["images"]:
                epochs_per_image = points[steps[-1]]["epochs"] / points[steps[-1]]["images"]
        ref = data.reference.get(m)
        if ref is not None:
            ax.axhline(ref, color="k", ls=":", lw=1, label="real photos")
        ax.set_title(label(m), fontsize=9)
        ax.set_xlabel("training images seen")
        ax.set_ylabel(unit(m), fontsize=8)
        ax.grid(alpha=0.3)
        if epochs_per_image:  # a second axis in epochs over the training set
            k = epochs_per_image
            sec = ax.secondary_xaxis("top", functions=(lambda i, k=k: i * k, lambda e, k=k: e / k))
            sec.set_xlabel("epochs", fontsize=8)
            sec.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Metrics along training: mean over seeds, band = 95% CI (t over seeds; "
                 "clipped to the metric's range)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
