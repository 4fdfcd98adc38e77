"""The runner's bookkeeping with fake training and evaluation (fast): skip complete runs,
resume interrupted ones, refuse to overwrite a different config, keep going past a failed
run, write results.csv/env.json, and the launchers' plumbing."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

from bench.errors import BenchError
from bench.experiment.runner import run_experiment
from bench.experiment.torchrun import torchrun_command

METRIC_VALUES = {"a": 0.5, "b": 0.3}


def experiment(tmp_path: Path) -> Path:
    data = {
        "name": "fake",
        "base": {"data": {"image_size": 64},
                 "model": {"generator": {"arch": "spade", "ngf": 4, "spade_hidden": 8},
                           "discriminator": {"arch": "spade_multiscale", "ndf": 4}},
                 "train": {"steps": 4}},
        "seeds": [0, 1],
        "profiles": {"smoke": {}, "cpu": {}, "gpu": {}},
        "variants": [{"name": "a"}, {"name": "b", "overrides": {"model.generator.ngf": 2}}],
        "baseline": "a",
    }
    p = tmp_path / "fake.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


class Fakes:
    """Stand-ins for train_run / evaluate_run that write what the real ones write."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.fail_on: set[str] = set()
        self.interrupt_on: set[str] = set()

    def train_run(self, cfg, run_dir, resume=False, device=None, until=None):
        run_dir = Path(run_dir)
        self.calls.append(("train", run_dir.parent.name, cfg.seed, resume))
        if run_dir.parent.name in self.fail_on:
            raise RuntimeError("loss is NaN")
        start = json.loads((run_dir / "checkpoint.pt").read_text())["step"] if resume else 0
        for step in range(start + 1, cfg.train.steps + 1):
            with (run_dir / "scalars.jsonl").open("a") as f:
                f.write(json.dumps({"step": step, "g_gan": 1.0 / step}) + "\n")
            (run_dir / "checkpoint.pt").write_text(json.dumps({"step": step}))
            if run_dir.parent.name in self.interrupt_on and step == 2:
                raise KeyboardInterrupt
        stats = {"steps": cfg.train.steps, "train_images_per_s": 10.0 + cfg.seed,
                 "peak_memory_mb": 100.0}
        (run_dir / "train_stats.json").write_text(json.dumps(stats))
        return stats

    def evaluate_run(self, run_dir, device=None):
        run_dir = Path(run_dir)
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
        variant = run_dir.parent.name
        self.calls.append(("eval", variant, cfg["seed"]))
        value = METRIC_VALUES[variant] + 0.01 * cfg["seed"]
        metrics = {"miou": {"id": "miou", "value": value, "reason": None,
                            "produced_by": "fake oracle", "reference": {"value": 0.9}},
                   "fid": {"id": "fid", "value": None, "reason": "weights missing: x.pth",
                           "produced_by": None, "reference": None}}
        (run_dir / "metrics.json").write_text(json.dumps({"metrics": metrics}))
        return metrics


@pytest.fixture
def fakes(monkeypatch):
    f = Fakes()
    monkeypatch.setattr("bench.train.trainer.train_run", f.train_run)
    monkeypatch.setattr("bench.metrics.evaluate.evaluate_run", f.evaluate_run)
    return f


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def read_csv(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_runs_everything_then_a_rerun_changes_nothing(tmp_path, fakes):
    exp, out = experiment(tmp_path), tmp_path / "out"
    run_experiment(exp, profile="smoke", out=out)
    assert sorted(c for c in fakes.calls if c[0] == "train") == [
        ("train", "a", 0, False), ("train", "a", 1, False),
        ("train", "b", 0, False), ("train", "b", 1, False)]
    rows = read_csv(out / "results.csv")
    assert [(r["variant"], r["seed"], r["status"]) for r in rows] == [
        ("a", "0", "complete"), ("a", "1", "complete"), ("b", "0", "complete"),
        ("b", "1", "complete")]
    assert float(rows[3]["miou"]) == pytest.approx(0.31) and rows[3]["fid"] == ""
    assert rows[1]["train_images_per_s"] == "11.0" and rows[0]["peak_mem_mb"] == "100.0"
    assert int(rows[0]["params_G"]) > int(rows[2]["params_G"]) > 0  # ngf 4 vs 2
    assert int(rows[0]["flops_G"]) > 0
    env = json.loads((out / "env.json").read_text())
    assert {"torch", "cuda", "device_name", "git_commit", "git_dirty"} <= set(env)
    assert env["config_hashes"]["a/seed0"] == rows[0]["config_hash"]
    for name in ("report.md", "report.html", "experiment.json"):
        assert (out / name).is_file()

    before = files(out)
    fakes.calls.clear()
    run_experiment(exp, profile="smoke", out=out)
    assert fakes.calls == []  # nothing trained or evaluated again
    assert files(out) == before  # not a byte, not an mtime


def test_snapshot_names_the_yaml_relative_to_the_working_folder(tmp_path, fakes, monkeypatch):
    """experiment.json is committed with reports: a YAML below the working folder is named
    relative to it (no author's home folder in the repository), any other absolutely."""
    exp = experiment(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_experiment(exp, profile="smoke", out=tmp_path / "out")
    assert json.loads((tmp_path / "out" / "experiment.json").read_text())["source"] == "fake.yaml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run_experiment(exp, profile="smoke", out=tmp_path / "out2")
    source = json.loads((tmp_path / "out2" / "experiment.json").read_text())["source"]
    assert source == str(exp.resolve())


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path, fakes):
    exp, out = experiment(tmp_path), tmp_path / "out"
    fakes.interrupt_on = {"b"}
    with pytest.raises(SystemExit) as e:
        run_experiment(exp, profile="smoke", out=out)
    assert e.value.code == 130
    b0 = out / "b" / "seed0"
    assert json.loads((b0 / "harness.json").read_text())["status"] == "interrupted"
    assert not (b0 / "metrics.json").exists()
    assert (out / "a" / "seed0" / "metrics.json").exists()  # finished before the interruption
    assert not (out / "a" / "seed1" / "checkpoint.pt").exists()  # seed-major: not started

    fakes.interrupt_on, fakes.calls = set(), []
    run_experiment(exp, profile="smoke", out=out)
    trains = [c for c in fakes.calls if c[0] == "train"]
    assert trains == [("train", "b", 0, True), ("train", "a", 1, False), ("train", "b", 1, False)]
    steps = [json.loads(ln)["step"] for ln in (b0 / "scalars.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]  # continued at step 3, not restarted


def test_trained_but_not_evaluated_is_only_evaluated(tmp_path, fakes):
    exp, out = experiment(tmp_path), tmp_path / "out"
    run_experiment(exp, profile="smoke", out=out)
    (out / "a" / "seed0" / "metrics.json").unlink()
    fakes.calls.clear()
    run_experiment(exp, profile="smoke", out=out)
    assert fakes.calls == [("eval", "a", 0)]


def test_folder_of_a_different_config_is_never_overwritten(tmp_path, fakes):
    exp, out = experiment(tmp_path), tmp_path / "out"
    run_experiment(exp, profile="smoke", out=out)
    before = files(out)
    fakes.calls.clear()
    with pytest.raises(BenchError, match="holds a run of a different config"):
        run_experiment(exp, profile="smoke", out=out, sets=["train.steps=6"])
    assert fakes.calls == [] and files(out) == before


def test_an_eval_only_change_rescores_without_retraining(tmp_path, fakes, capsys):
    exp, out = experiment(tmp_path), tmp_path / "out"
    run_experiment(exp, profile="smoke", out=out)
    a0 = out / "a" / "seed0"
    old_metrics, ckpt = (a0 / "metrics.json").read_text(), (a0 / "checkpoint.pt").read_text()
    fakes.calls.clear()
    capsys.readouterr()
    run_experiment(exp, profile="smoke", out=out, sets=["eval.oracle_steps=7"])
    assert "re-eval" in capsys.readouterr().out
    # every run scored again, none trained; the checkpoint untouched, the old scores kept
    assert sorted(fakes.calls) == [("eval", v, s) for v in "ab" for s in (0, 1)]
    assert (a0 / "checkpoint.pt").read_text() == ckpt
    assert (a0 / "metrics.prev.json").read_text() == old_metrics
    assert yaml.safe_load((a0 / "config.yaml").read_text())["eval"]["oracle_steps"] == 7
    fakes.calls.clear()
    run_experiment(exp, profile="smoke", out=out, sets=["eval.oracle_steps=7"])
    assert fakes.calls == []  # now complete under the new eval settings


def test_a_failed_run_does_not_stop_the_others(tmp_path, fakes):
    exp, out = experiment(tmp_path), tmp_path / "out"
    fakes.fail_on = {"a"}
    with pytest.raises(SystemExit) as e:
        run_experiment(exp, profile="smoke", out=out)
    assert e.value.code == 1
    rows = {(r["variant"], r["seed"]): r["status"] for r in read_csv(out / "results.csv")}
    assert rows == {("a", "0"): "failed", ("a", "1"): "failed",
                    ("b", "0"): "complete", ("b", "1"): "complete"}
    assert "loss is NaN" in (out / "a" / "seed0" / "error.txt").read_text()
    assert (out / "report.md").is_file()


@pytest.mark.parametrize("setting, needle", [
    ("eval.metrics=[miou,mIoU]", "eval.metrics: unknown metric(s) mIoU"),
    ("eval.segmenter=drn", "eval.segmenter: unknown 'drn'"),
    ("eval.segmenter=pretrained", "eval.segmenter_weights: required"),
])
def test_a_bad_eval_section_stops_the_plan_before_any_training(tmp_path, fakes, setting, needle):
    """Evaluation comes after training: its settings are checked before the first run."""
    out = tmp_path / "out"
    with pytest.raises(BenchError, match=re.escape(needle)):
        run_experiment(experiment(tmp_path), profile="smoke", out=out, sets=[setting])
    assert not out.exists() and fakes.calls == []


def test_dry_run_writes_nothing(tmp_path, fakes, capsys):
    out = tmp_path / "out"
    assert run_experiment(experiment(tmp_path), profile="smoke", out=out, dry_run=True) is None
    assert not out.exists() and fakes.calls == []
    text = capsys.readouterr().out
    assert "4 runs: 0 complete, 4 to do" in text and "b" in text


def test_submitit_debug_executor_runs_the_job_array(tmp_path, fakes):
    out = tmp_path / "out"
    run_experiment(experiment(tmp_path), profile="smoke", out=out, launcher="submitit:debug")
    assert all(r["status"] == "complete" for r in read_csv(out / "results.csv"))
    assert (out / "submitit").is_dir()


def test_submitit_missing_is_a_clear_error(tmp_path, fakes, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "submitit", None)  # import fails
    with pytest.raises(BenchError, match="submitit package is not installed"):
        run_experiment(experiment(tmp_path), profile="smoke", out=tmp_path / "o",
                       launcher="submitit")


def test_torchrun_command_runs_the_trainers_ddp_entry(tmp_path):
    cmd = torchrun_command(tmp_path / "r", nproc=2, resume=True, device="cpu")
    assert "--nproc-per-node=2" in cmd
    i = cmd.index("-m", cmd.index("--nproc-per-node=2"))
    assert cmd[i + 1] == "bench.train.ddp"
    assert cmd[i + 2] == str(tmp_path / "r" / "config.yaml")
    assert "--resume" in cmd and cmd[-2:] == ["--device", "cpu"]
    assert cmd[cmd.index("--out") + 1] == str(tmp_path / "r")


def test_a_second_run_on_the_same_folder_is_refused(tmp_path, fakes):
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".bench.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # as a running `bench run` holds it
        with pytest.raises(BenchError, match="another `bench run` is using this folder"):
            run_experiment(experiment(tmp_path), profile="smoke", out=out)
    assert fakes.calls == []


def test_plan_says_whether_the_oracle_is_cached(tmp_path, fakes, capsys, monkeypatch):
    """The plan names the oracle segmenter its evaluations need, and whether it must be
    trained first (a one-off cost outside the estimate); the file it names is the one the
    evaluation then trains and reads, at the size of the photos it scores (non-square
    here). A dry run writes nothing, not even the cache folder."""
    import torch

    from bench.data.registry import build_dataset, dataset_info
    from bench.experiment.resolve import resolve_plan
    from bench.experiment.schema import load_experiment
    from bench.metrics.oracle import load_or_train_oracle

    cache = tmp_path / "cache"
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    exp = experiment(tmp_path)
    sets = ["eval.oracle_steps=2", "eval.oracle_width=4", "eval.oracle_batch_size=2",
            "data.image_size=32", "data.aspect_ratio=2"]
    run_experiment(exp, profile="smoke", out=tmp_path / "out", sets=sets, dry_run=True)
    text = capsys.readouterr().out
    assert text.count("oracle segmenter:") == 1  # both variants share one oracle
    assert "oracle segmenter: not cached; trains once before the first evaluation (2 steps, " \
           "width 4, 32x64, fp32 on cpu)" in text
    planned = Path(text.split("then cached at ")[1].split()[0])
    assert not cache.exists()

    cfg = resolve_plan(load_experiment(exp), "smoke", tmp_path / "out", sets=sets)[0].cfg
    size = tuple(build_dataset(cfg.data, "val")[0]["image"].shape[-2:])  # what eval scores
    _, path, _ = load_or_train_oracle(cfg.data, dataset_info(cfg.data), size, cfg.eval,
                                      torch.device("cpu"))
    assert path == planned and path.is_file()
    run_experiment(exp, profile="smoke", out=tmp_path / "out", sets=sets, dry_run=True)
    assert f"oracle segmenter: cached ({planned})" in capsys.readouterr().out

    # A two-member ensemble: member 1 is the cached oracle of the same seed; member 2 is not
    run_experiment(exp, profile="smoke", out=tmp_path / "out", dry_run=True,
                   sets=[*sets, "eval.oracle_members=2"])
    text = capsys.readouterr().out
    seed = cfg.eval.seed
    assert f"oracle segmenter member 1 of 2 (seed {seed}): cached ({planned})" in text
    assert f"oracle segmenter member 2 of 2 (seed {seed + 1}): not cached; trains once" in text

    # No oracle metric (and a pretrained segmenter for mIoU): no oracle line.
    run_experiment(exp, profile="smoke", out=tmp_path / "out", dry_run=True,
                   sets=[*sets, 'eval.metrics=["fid","miou"]', "eval.segmenter=pretrained",
                         f"eval.segmenter_weights={tmp_path / 'drn.pt'}"])
    assert "oracle segmenter" not in capsys.readouterr().out
