"""Where one planned run stands, read from its folder, and the harness's own record of it.

A run folder is complete when metrics.json exists (its config.yaml matching the plan);
trained when train_stats.json records all train.steps; resumable when checkpoint.pt exists; else new.
harness.json (written here, atomically) keeps wall times, status and the environment.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import yaml

from bench.config import atomic_write_text, validate_run_config
from bench.errors import BenchError
from bench.experiment.resolve import PlannedRun, config_hash

HARNESS = "harness.json"


class RunState(str, Enum):
    COMPLETE = "complete"  # metrics.json present: skip
    TRAINED = "trained"  # train_stats.json present: evaluate only
    RESUME = "resume"  # checkpoint.pt present: continue training, then evaluate
    NEW = "new"


def saved_config_hash(run_dir: Path) -> str | None:
    path = run_dir / "config.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text())
        return config_hash(validate_run_config(data, str(path)))
    except (yaml.YAMLError, BenchError):
        return "unreadable"


def _trained_steps(run_dir: Path) -> int:
    """Steps recorded by train_stats.json (also written when training stopped early)."""
    try:
        return int(json.loads((run_dir / "train_stats.json").read_text())["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def run_state(pr: PlannedRun) -> RunState:
    """Raises BenchError if the folder holds a run of a different config (never overwritten)."""
    d = pr.run_dir
    has_results = any((d / f).exists() for f in ("metrics.json", "train_stats.json", "checkpoint.pt"))
    if has_results:
        saved = saved_config_hash(d)
        if saved != pr.config_hash:
            raise BenchError(
                f"{d}: holds a run of a different config (config.yaml hash {saved}, the plan's "
                f"{pr.config_hash}); nothing was changed. Use --out NEW_DIR, or delete that folder "
                "to redo it.")
    if (d / "metrics.json").is_file():
        return RunState.COMPLETE
    if (d / "checkpoint.pt").is_file() and _trained_steps(d) >= pr.cfg.train.steps:
        return RunState.TRAINED
    if (d / "checkpoint.pt").is_file():
        return RunState.RESUME
    return RunState.NEW


def read_harness(run_dir: Path) -> dict:
    path = Path(run_dir) / HARNESS
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def write_harness(run_dir: Path, record: dict) -> None:
    atomic_write_text(Path(run_dir) / HARNESS, json.dumps(record, indent=2, sort_keys=True) + "\n")
