"""Read an experiment's output folder: results.csv, experiment.json and per-run files.

Numbers come from results.csv; from the run folders come only what a CSV cannot hold:
why a metric is unavailable, what produced it, the real-images reference, training
curves and the evaluation images.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench.experiment.collect import COST, FIXED, RESULTS, SPEED, TAIL, read_metrics
from bench.train.config import LossConfig
from bench.train.effective import effective_objective


@dataclass
class ReportData:
    out: Path
    name: str
    profile: str
    baseline: str
    variants: list[str]  # in the experiment's order
    metrics: list[str]  # metric ids shown, in order
    results: pd.DataFrame  # one row per run
    reasons: dict[str, str] = field(default_factory=dict)  # metric id -> why unavailable
    produced_by: dict[str, str] = field(default_factory=dict)  # metric id -> what produced it
    segmenter: dict[str, str] = field(default_factory=dict)  # miou/pixel_acc -> segmenter name
    reference: dict[str, float] = field(default_factory=dict)  # metric id -> real-images value
    options: dict = field(default_factory=dict)  # the experiment's report options
    # per run folder: what it trained on and for how long, from its resolved files
    run_info: dict[str, dict] = field(default_factory=dict)

    def values(self, variant: str, column: str) -> dict[int, float]:
        """seed -> value for the complete runs of a variant (NaN left out)."""
        df = self.results
        rows = df[(df["variant"] == variant) & (df["status"] == "complete")]
        return {int(s): float(v) for s, v in zip(rows["seed"], rows[column])
                if column in rows and not pd.isna(v)}

    def run_dirs(self, variant: str) -> list[Path]:
        df = self.results
        return [self.out / d for d in df[df["variant"] == variant]["run_dir"]]


def _short(x) -> str:
    if isinstance(x, dict):
        return ", ".join(f"{k}: {_short(v)}" for k, v in x.items() if v is not None)
    return str(x)


def _reference(rec: dict) -> float | None:
    """The real-photo score a metric record may carry (e.g. the oracle's mIoU on real photos)."""
    for key in ("real_value", "reference", "real"):
        v = rec.get(key)
        if isinstance(v, (int, float)) and not math.isnan(v):
            return float(v)
        if isinstance(v, dict) and isinstance(v.get("value"), (int, float)):
            return float(v["value"])
    return None


def _json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def run_info(run_dir: Path) -> dict:
    """The data set, split sizes, resolution, protocol and budget of one run, from its
    resolved config.yaml, metrics.json and train_stats.json (never from the YAML's prose)."""
    import yaml

    try:
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        cfg = {}
    metrics, stats = _json(run_dir / "metrics.json"), _json(run_dir / "train_stats.json")
    data_cfg = cfg.get("data", {})
    miou = (metrics.get("metrics") or {}).get("miou") or {}
    steps = stats.get("steps")
    batch = stats.get("global_batch", data_cfg.get("batch_size"))
    train_items = stats.get("train_items", metrics.get("train_items"))
    epochs = stats.get("epochs")
    if epochs is None and steps and batch and train_items:
        epochs = steps * batch / train_items
    train_cfg = cfg.get("train") or {}
    objective = stats.get("objective")
    if not isinstance(objective, dict) and (stats or train_cfg):
        # A run folder written before train_stats.json had "objective": the same record
        # from the resolved config and the VGG status the trainer did record.
        has_encoder = (cfg.get("model") or {}).get("encoder") is not None
        losses = {**LossConfig().model_dump(), **(train_cfg.get("losses") or {})}
        objective = effective_objective(losses, has_encoder, stats.get("vgg_loss"))
        objective["derived"] = True
    return {
        "objective": objective,
        "fallbacks": stats.get("fallbacks", stats.get("notes", [])),
        "speed_mode": stats.get("speed_mode"),  # train.speed as run (None: not recorded)
        "step_order": stats.get("step_order"),  # bench.train.step order (None: not recorded)
        "peak_memory_kind": stats.get("peak_memory_kind"),
        **speed_info(run_dir, stats),
        "dataset": data_cfg.get("dataset"), "root": data_cfg.get("root"),
        "image_size": stats.get("image_size") or metrics.get("image_size"),
        "train_items": train_items, "val_maps": metrics.get("num_maps"),
        "split": metrics.get("split"), "steps": steps, "batch": batch, "epochs": epochs,
        "protocol": miou.get("protocol"),
        "num_classes": (miou.get("details") or {}).get("num_classes"),
    }


# A run's timings count as disturbed (another job shared the machine) when its per-interval
# training rates spread by more than this fraction of their median (interquartile range),
# or the load average exceeded the cores by LOAD_MARGIN.
SPREAD_LIMIT = 0.25
LOAD_MARGIN = 0.5


def speed_info(run_dir: Path, stats: dict) -> dict:
    """Least-disturbed throughput of a run: the median of the images/s of its log intervals
    (scalars.jsonl), their spread, and whether the machine looked shared."""
    rates = []
    try:
        for line in (run_dir / "scalars.jsonl").read_text().splitlines():
            v = json.loads(line).get("images_per_s") if line.strip() else None
            if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
                rates.append(float(v))
    except (OSError, json.JSONDecodeError):
        rates = []
    median = spread = None
    if rates:
        q1, median, q3 = np.percentile(rates, [25, 50, 75])
        spread = float((q3 - q1) / median) if len(rates) >= 3 and median > 0 else None
        median = float(median)
    loads = [x for x in (stats.get("load_average_start"), stats.get("load_average_end"))
             if isinstance(x, (int, float))]
    cores = stats.get("cpu_count")
    why = []
    if spread is not None and spread > SPREAD_LIMIT:
        why.append(f"per-interval rates spread {spread:.0%} of their median")
    if loads and cores and max(loads) > cores + LOAD_MARGIN:
        why.append(f"load average {max(loads):.1f} on {cores} cores")
    return {"images_per_s_median": median, "rate_spread": spread, "intervals": len(rates),
            "load_max": max(loads) if loads else None, "cpu_count": cores,
            "torch_threads": stats.get("torch_threads"), "cpu_time_s": stats.get("cpu_time_s"),
            "train_time_s": stats.get("train_time_s"), "disturbed": "; ".join(why) or None}


def load_report_data(out: Path) -> ReportData:
    out = Path(out)
    csv_path, snap_path = out / RESULTS, out / "experiment.json"
    for p in (csv_path, snap_path):
        if not p.is_file():
            raise BenchError(f"{p}: not found (is {out} the output folder of `bench run`?)")
    try:
        df = pd.read_csv(csv_path)
        snap = json.loads(snap_path.read_text())
        exp = snap["experiment"]
    except (ValueError, KeyError, pd.errors.ParserError) as e:
        raise BenchError(f"{out}: unreadable results ({type(e).__name__}: {e})") from None
    missing = [c for c in FIXED if c not in df.columns]
    if missing:
        raise BenchError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    # The report is rebuilt from the run folders (metrics.json: references and reasons;
    # config.yaml: data and budget; scalars). Without them (a committed report copied on its
    # own) it would silently lose those sections: refuse before anything is written.
    gone = [str(d) for d, st in zip(df["run_dir"], df["status"])
            if st == "complete" and not (out / str(d)).is_dir()]
    if gone:
        raise BenchError(f"{out}: {len(gone)} of the run folders results.csv names are not "
                         f"here ({', '.join(gone[:3])}{', ...' if len(gone) > 3 else ''}); "
                         "`bench report` rebuilds from them, so a report folder without its "
                         "runs is left as it is")
    metric_cols = [c for c in df.columns if c not in FIXED + COST + SPEED + TAIL]
    wanted = exp.get("report", {}).get("metrics")
    metrics = [m for m in wanted if m in metric_cols] if wanted else metric_cols
    data = ReportData(out=out, name=exp["name"], profile=snap["profile"],
                      baseline=exp["baseline"], variants=[v["name"] for v in exp["variants"]],
                      metrics=metrics, results=df, options=exp.get("report", {}))
    refs: dict[str, list[float]] = {}
    for d in df["run_dir"]:
        for mid, rec in read_metrics(out / d).items():
            if rec.get("value") is None and rec.get("reason"):
                data.reasons.setdefault(mid, str(rec["reason"]))
            if rec.get("produced_by") is not None:
                data.produced_by.setdefault(mid, _short(rec["produced_by"]))
            seg_name = (rec.get("details") or {}).get("segmenter")
            if seg_name and seg_name != "oracle":
                data.segmenter.setdefault(mid, seg_name)
            ref = _reference(rec)
            if ref is not None:
                refs.setdefault(mid, []).append(ref)
    for d in df["run_dir"]:
        data.run_info[str(d)] = run_info(out / d)
    # The oracle is trained once per data set and cached, so runs share the same value;
    # if they differ (separately trained oracles) the mean is shown.
    data.reference = {m: sum(v) / len(v) for m, v in refs.items()}
    return data
