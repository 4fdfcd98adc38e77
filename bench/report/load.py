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

import pandas as pd

from bench.errors import BenchError
from bench.experiment.collect import COST, FIXED, RESULTS, SPEED, TAIL, read_metrics


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
    reference: dict[str, float] = field(default_factory=dict)  # metric id -> real-images value
    options: dict = field(default_factory=dict)  # the experiment's report options

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
            ref = _reference(rec)
            if ref is not None:
                refs.setdefault(mid, []).append(ref)
    # The oracle is trained once per data set and cached, so runs share the same value;
    # if they differ (separately trained oracles) the mean is shown.
    data.reference = {m: sum(v) / len(v) for m, v in refs.items()}
    return data
