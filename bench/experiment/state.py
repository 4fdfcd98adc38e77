"""Where one planned run stands, read from its folder, and the harness's own record of it.

A run folder is complete when metrics.json exists (its config.yaml matching the plan);
trained when train_stats.json records all train.steps; resumable when checkpoint.pt exists; else new.
A folder whose config differs from the plan in the `eval` section only (a new segmenter,
metric list or sample count) is re-evaluated: training never reads that section, so its
checkpoints and snapshots stay valid; the old metrics.json is kept as metrics.prev.json.
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
    REEVAL = "re-eval"  # only the eval section changed: adopt it (adopt_eval_change), re-score


def _saved_config(run_dir: Path) -> dict | None:
    try:
        return yaml.safe_load((run_dir / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None


def eval_only_change(pr: PlannedRun) -> bool:
    """True when the folder's config.yaml equals the plan's config except in `eval`."""
    saved = _saved_config(pr.run_dir)
    if not isinstance(saved, dict):
        return False
    try:
        saved_cfg = validate_run_config(saved, str(pr.run_dir / "config.yaml"))
    except BenchError:
        return False
    a, b = saved_cfg.to_dict(), pr.cfg.to_dict()
    for d in (a, b):
        d.pop("eval", None)
        d.pop("device", None)  # left out of the config hash too
    return a == b


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
            if eval_only_change(pr):
                return RunState.REEVAL
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


def adopt_eval_change(pr: PlannedRun) -> RunState:
    """Take the plan's eval section into a REEVAL folder: metrics.json -> metrics.prev.json
    (kept, not lost), the plan's config.yaml written atomically; returns the new state
    (trained or resume). Call with the output folder's lock held."""
    from bench.config import save_run_config

    metrics = pr.run_dir / "metrics.json"
    if metrics.is_file():
        metrics.replace(pr.run_dir / "metrics.prev.json")
    save_run_config(pr.cfg, pr.run_dir / "config.yaml")
    return run_state(pr)


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
