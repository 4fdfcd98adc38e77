"""Run folders -> results.csv (one tidy row per run) and env.json.

Columns: experiment, profile, variant, seed, status, one column per metric id (empty
when unavailable; the reason stays in the run's metrics.json), cost (params_G/D/E,
flops_G), speed (train_images_per_s, peak_mem_mb), wall times, config_hash, run_dir.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bench.experiment.files import write_text_if_changed
from bench.experiment.resolve import PlannedRun
from bench.experiment.schema import HIGHER_IS_BETTER
from bench.experiment.state import read_harness

RESULTS = "results.csv"
FIXED = ["experiment", "profile", "variant", "seed", "status"]
# mod_*_G: the SPADE / CLADE modulation layers' parameters and FLOPs (0 without them)
COST = ["params_G", "params_D", "params_E", "flops_G", "mod_params_G", "mod_flops_G"]
SPEED = ["train_images_per_s", "peak_mem_mb", "train_wall_s", "eval_wall_s", "wall_s"]
TAIL = ["config_hash", "run_dir"]

# train_stats.json key -> results column (the first key present wins)
_STAT_KEYS = {
    "train_images_per_s": ("images_per_s", "train_images_per_s", "imgs_per_s"),
    "peak_mem_mb": ("peak_mem_mb", "peak_memory_mb", "max_mem_mb"),
}


def read_metrics(run_dir: Path) -> dict[str, dict]:
    """metric id -> record {"value": float | None, "reason": ..., "produced_by": ...}."""
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    if isinstance(data.get("metrics"), dict):
        data = data["metrics"]
    return {k: v for k, v in data.items() if isinstance(v, dict) and "value" in v}


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def metric_order(ids: set[str]) -> list[str]:
    known = [m for m in HIGHER_IS_BETTER if m in ids]
    return known + sorted(ids - set(known))


def run_row(pr: PlannedRun, experiment: str, profile: str, out: Path) -> dict:
    d = pr.run_dir
    metrics = read_metrics(d)
    harness = read_harness(d)
    stats = read_json(d / "train_stats.json")
    if metrics:
        status = "complete"
    elif harness.get("status") == "failed":
        status = "failed"
    elif (d / "checkpoint.pt").exists():
        status = "incomplete"
    else:
        status = "not_started"
    row = {"experiment": experiment, "profile": profile, "variant": pr.variant, "seed": pr.seed,
           "status": status}
    row.update({m: r.get("value") for m, r in metrics.items()})
    row.update({k: harness.get("cost", {}).get(k) for k in COST})
    for col, keys in _STAT_KEYS.items():
        row[col] = next((stats[k] for k in keys if stats.get(k) is not None), None)
    row["train_wall_s"] = harness.get("train_wall_s")
    row["eval_wall_s"] = harness.get("eval_wall_s")
    walls = [row["train_wall_s"], row["eval_wall_s"]]
    row["wall_s"] = sum(w for w in walls if w is not None) if any(w is not None for w in walls) else None
    row["config_hash"] = pr.config_hash
    row["run_dir"] = str(d.relative_to(out)) if d.is_relative_to(out) else str(d)
    return row


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_results(plan: list[PlannedRun], experiment: str, profile: str, out: Path) -> Path:
    rows = [run_row(pr, experiment, profile, out) for pr in plan]
    metric_ids = set().union(*(set(r) for r in rows)) - set(FIXED + COST + SPEED + TAIL)
    columns = FIXED + metric_order(metric_ids) + COST + SPEED + TAIL
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: _cell(r.get(c)) for c in columns})
    path = Path(out) / RESULTS
    write_text_if_changed(path, buf.getvalue())
    return path
