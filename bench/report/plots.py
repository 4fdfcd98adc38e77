"""Figures (PNG, matplotlib Agg): metric bars with 95% CI error bars, quality vs cost
(Pareto), training curves from scalars.jsonl."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bench.experiment.files import write_bytes_if_changed
from bench.experiment.schema import HIGHER_IS_BETTER
from bench.report.load import ReportData
from bench.report.stats import mean_ci
from bench.report.tables import label, unit

METADATA = {"Software": None}  # no version stamp: the same results give the same bytes


def variant_color(data: ReportData, variant: str) -> str:
    """One colour per variant in every panel and figure, so one legend serves them all
    even where a variant has no line (pix2pix logs no feature-matching loss)."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return cycle[data.variants.index(variant) % len(cycle)]


def _save(fig, path: Path) -> Path:
    """PNG bytes written atomically, and only when they differ from the file on disk."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata=METADATA)
    plt.close(fig)
    write_bytes_if_changed(path, buf.getvalue())
    return path


def metric_bars(data: ReportData, path: Path) -> Path | None:
    metrics = [m for m in data.metrics if any(data.values(v, m) for v in data.variants)]
    if not metrics:
        return None
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    x = np.arange(len(data.variants))
    for ax, m in zip(axes.flat, metrics):
        sums = [mean_ci(data.values(v, m).values()) for v in data.variants]
        means = [s.mean if s else np.nan for s in sums]
        errs = [s.half if s and s.half is not None else 0.0 for s in sums]
        ax.bar(x, means, yerr=errs, capsize=4, color="#8fb3d9", edgecolor="#35618f")
        for i, v in enumerate(data.variants):  # each seed as a dot
            pts = list(data.values(v, m).values())
            ax.plot([i] * len(pts), pts, "k.", ms=4)
        ax.set_xticks(x, data.variants, rotation=20, ha="right")
        ax.set_title(label(m))
        ax.set_ylabel(unit(m), fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("Mean over seeds, error bars: 95% CI; dots: single seeds", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def pareto_front(points: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """Indices of the points no other point beats on both cost (lower) and quality."""
    front = []
    for i, (c, q) in enumerate(points):
        dominated = any(
            (c2 <= c and (q2 >= q if higher_is_better else q2 <= q)) and (c2, q2) != (c, q)
            for j, (c2, q2) in enumerate(points) if j != i
        )
        if not dominated:
            front.append(i)
    return front


# results.csv cost column -> (axis label with its unit, divisor to that unit)
COST_AXES = {
    "flops_G": ("GFLOPs per image (G forward)", 1e9),
    "params_G": ("parameters of G (millions)", 1e6),
    "params_D": ("parameters of D (millions)", 1e6),
    "train_images_per_s": ("training images/s", 1.0),
    "peak_mem_mb": ("peak memory (MB)", 1.0),
    "wall_s": ("wall time per run (s)", 1.0),
    "train_wall_s": ("training wall time per run (s)", 1.0),
}
# scalars.jsonl key -> panel title with its unit
SCALAR_LABELS = {
    "g_gan": "G: GAN loss", "g_feat": "G: feature matching (× λ_feat)",
    "g_vgg": "G: VGG19 perceptual (× λ_vgg)", "g_kl": "G: KL (× λ_kl)", "g_l1": "G: L1 (× λ_l1)",
    "d_fake": "D: loss on generated", "d_real": "D: loss on real",
    "images_per_s": "throughput (images/s)", "lr_g": "G learning rate", "lr_d": "D learning rate",
}


def label_offsets(pts: list[tuple[float, float]], log_x: bool = False,
                  near: float = 0.08) -> list[tuple[int, int]]:
    """Text offsets (points) for the point labels of a scatter: above right, or below right
    when a point already labelled above lies within `near` of the axes' span in x and y
    (two variants of about the same cost and score would print over each other)."""
    xs = [math.log(p[0]) if log_x and p[0] > 0 else p[0] for p in pts]
    ys = [p[1] for p in pts]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    out: list[tuple[int, int]] = []
    for i in range(len(pts)):
        crowded = any(out[j] == (6, 4) and abs(xs[i] - xs[j]) / span_x < near
                      and abs(ys[i] - ys[j]) / span_y < near for j in range(i))
        out.append((6, -10) if crowded else (6, 4))
    return out


def pareto_plot(data: ReportData, path: Path) -> Path | None:
    metric = data.options.get("primary_metric", "miou")
    cost = data.options.get("cost", "flops_G")
    if metric not in data.results or cost not in data.results:
        return None
    pts, names, errs = [], [], []
    for v in data.variants:
        q, c = mean_ci(data.values(v, metric).values()), mean_ci(data.values(v, cost).values())
        if q is None or c is None:
            continue
        pts.append((c.mean / COST_AXES.get(cost, ("", 1.0))[1], q.mean))
        names.append(v)
        errs.append(q.half or 0.0)
    if not pts:
        return None
    hib = HIGHER_IS_BETTER.get(metric, True)
    front = set(pareto_front(pts, hib))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    log_x = min(p[0] for p in pts) > 0 and max(p[0] for p in pts) / min(p[0] for p in pts) > 20
    offsets = label_offsets(pts, log_x)
    for i, ((c, q), n, e) in enumerate(zip(pts, names, errs)):
        ax.errorbar([c], [q], yerr=[e], fmt="o", capsize=4,
                    color="#c0392b" if i in front else "#7f8c8d")
        ax.annotate(n, (c, q), textcoords="offset points", xytext=offsets[i], fontsize=8)
    fr = sorted(pts[i] for i in front)
    ax.plot([p[0] for p in fr], [p[1] for p in fr], "--", color="#c0392b", lw=1)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(COST_AXES.get(cost, (cost, 1.0))[0])
    ax.set_ylabel(label(metric))
    ax.set_title("Quality vs cost (red: Pareto-optimal)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def read_scalars(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "scalars.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by Ctrl-C
    return out


def training_curves(data: ReportData, path: Path, max_keys: int = 6) -> Path | None:
    logs = {v: [read_scalars(d) for d in data.run_dirs(v)] for v in data.variants}
    keys: list[str] = []
    for runs in logs.values():
        for rows in runs:
            for r in rows:
                for k, val in r.items():
                    if k != "step" and isinstance(val, (int, float)) and k not in keys:
                        keys.append(k)
    keys = sorted(keys, key=lambda k: k.startswith("lr"))[:max_keys]  # losses before lrs
    if not keys:
        return None
    cols = min(3, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3 * nrows), squeeze=False)
    for ax, k in zip(axes.flat, keys):
        for v, runs in logs.items():
            by_step: dict[int, list[float]] = {}
            for rows in runs:
                for r in rows:
                    if isinstance(r.get(k), (int, float)):
                        by_step.setdefault(int(r["step"]), []).append(float(r[k]))
            if by_step:
                steps = sorted(by_step)
                ax.plot(steps, [np.mean(by_step[s]) for s in steps], label=v, lw=1.2,
                        color=variant_color(data, v))
        ax.set_title(SCALAR_LABELS.get(k, k), fontsize=9)
        ax.set_xlabel("training step")
        ax.set_ylabel("images/s" if k == "images_per_s" else "learning rate" if k.startswith("lr")
                      else "loss (weighted)", fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Training curves (mean over seeds)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
