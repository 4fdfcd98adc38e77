"""Metrics along training: generator snapshots at evenly spaced steps, each scored by
`bench eval` into metrics.json's "curve" (the last point is the final evaluation)."""

import json

import torch

from bench.metrics.evaluate import evaluate_run
from bench.train.snapshots import list_snapshots, load_snapshot, snapshot_steps
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run


def test_snapshot_steps_are_evenly_spaced_and_end_at_the_last_step():
    assert snapshot_steps(120, 4) == [30, 60, 90, 120]
    assert snapshot_steps(800, 5) == [160, 320, 480, 640, 800]
    assert snapshot_steps(10, 3) == [3, 7, 10]
    assert snapshot_steps(2, 5) == [1, 2]  # fewer steps than points: no duplicates
    assert snapshot_steps(100, 0) == [] and snapshot_steps(0, 4) == []


def test_snapshot_equals_the_weights_of_a_run_stopped_there(tmp_path):
    """The snapshot at step 2 of a 4-step run holds exactly the G a run stopped at step 2
    has (same seed): snapshots do not disturb training, and they are what they say."""
    sets = {"train.snapshots": 2, "eval.metrics": ["miou", "pixel_acc"], "eval.oracle_steps": 2,
            "eval.oracle_width": 4, "eval.batch_size": 4}
    cfg = tiny_config("gaugan", tmp_path / "data", steps=4, sets=sets)
    train_run(cfg, tmp_path / "full")
    train_run(cfg, tmp_path / "half", until=2)
    snaps = list_snapshots(tmp_path / "full")
    assert [p.name for p in snaps] == ["step_000002.pt", "step_000004.pt"]
    half = torch.load(tmp_path / "half" / "checkpoint.pt", weights_only=False)
    early = load_snapshot(snaps[0])
    assert early["step"] == 2
    for k, v in half["G"].items():
        assert torch.equal(early["G"][k], v), k
    full = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)
    late = load_snapshot(snaps[1])
    assert all(torch.equal(late["G"][k], v) for k, v in full["G"].items())


def test_eval_writes_one_curve_point_per_snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    sets = {"train.snapshots": 3, "eval.metrics": ["miou", "pixel_acc", "fd_oracle"],
            "eval.oracle_steps": 2, "eval.oracle_width": 4, "eval.batch_size": 4}
    cfg = tiny_config("gaugan", tmp_path / "data", steps=3, sets=sets)
    run = tmp_path / "run"
    train_run(cfg, run)
    result = evaluate_run(run, device="cpu")
    curve = json.loads((run / "metrics.json").read_text())["curve"]
    assert [p["step"] for p in curve] == [1, 2, 3]
    assert [p["images_seen"] for p in curve] == [2, 4, 6]  # batch 2
    assert curve[-1]["epochs"] == 6 / 8  # 8 synthetic training pairs
    # the last point is the final evaluation; earlier ones score other weights
    assert curve[-1]["metrics"] == {k: e["value"] for k, e in result["metrics"].items()}
    assert set(curve[0]["metrics"]) == {"miou", "pixel_acc", "fd_oracle"}
    assert curve[0]["metrics"]["fd_oracle"] != curve[-1]["metrics"]["fd_oracle"]
