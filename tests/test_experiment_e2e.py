"""End to end with the real trainer and evaluator: `bench run` on shipped experiments'
smoke profiles, resuming a run killed mid-training, and a re-run that changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.config import EXPERIMENTS_DIR
from bench.experiment.resolve import resolve_plan
from bench.experiment.schema import load_experiment

runner = CliRunner()
SHIPPED = sorted(p.stem for p in (EXPERIMENTS_DIR / "ablations").glob("*.yaml"))
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One oracle / statistics cache for the module (the oracle trains once per data set)."""
    return tmp_path_factory.mktemp("bench_cache")


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def scalar_steps(run_dir: Path) -> list[int]:
    return [json.loads(ln)["step"] for ln in (run_dir / "scalars.jsonl").read_text().splitlines()]


def test_spade_vs_in_smoke_resumes_then_reruns_as_a_no_op(tmp_path, cache, monkeypatch):
    from bench.config import save_run_config
    from bench.train import trainer

    monkeypatch.setenv("BENCH_CACHE", str(cache))
    out = tmp_path / "out"
    exp = load_experiment(EXPERIMENTS_DIR / "ablations" / "spade_vs_in.yaml")
    plan = resolve_plan(exp, "smoke", out)
    spade = next(p for p in plan if p.variant == "spade")
    steps = spade.cfg.train.steps
    # A run killed mid-training: a checkpoint at step 2 of `steps`, no metrics.json.
    save_run_config(spade.cfg, spade.run_dir / "config.yaml")
    trainer.train_run(spade.cfg, spade.run_dir, until=2)
    assert not (spade.run_dir / "metrics.json").exists()

    calls = []
    real_train = trainer.train_run

    def spy(cfg, run_dir, resume=False, device=None):
        calls.append((Path(run_dir).parent.name, resume))
        return real_train(cfg, run_dir, resume=resume, device=device)

    monkeypatch.setattr(trainer, "train_run", spy)
    r = runner.invoke(app, ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(calls) == [("concat", False), ("spade", True)]
    logged = scalar_steps(spade.run_dir)
    assert logged == sorted(set(logged)) and logged[-1] == steps  # continued, no step twice
    assert json.loads((spade.run_dir / "train_stats.json").read_text())["steps"] == steps
    results = (out / "results.csv").read_text()
    assert results.count(",complete,") == 2
    for name in ("report.md", "report.html", "env.json", "figures/grid.png"):
        assert (out / name).is_file()
    metrics = json.loads((spade.run_dir / "metrics.json").read_text())["metrics"]
    assert metrics["miou"]["value"] is not None

    # Re-run: nothing trains or evaluates, not a byte or an mtime changes.
    before = files(out)
    monkeypatch.setattr(trainer, "train_run", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr("bench.metrics.evaluate.evaluate_run",
                        lambda *a, **k: pytest.fail("evaluated again"))
    t0 = time.perf_counter()
    r = runner.invoke(app, ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 runs: 2 complete, 0 to do" in r.output
    assert files(out) == before
    print(f"re-run took {time.perf_counter() - t0:.1f} s")


@pytest.mark.slow
def test_ctrl_c_mid_training_then_rerun_continues(tmp_path, cache):
    """A real SIGINT to `bench run` while it trains: exit 130, checkpoint kept, resumed."""
    out = tmp_path / "out"
    env = {**os.environ, "BENCH_CACHE": str(cache)}
    cmd = [sys.executable, "-m", "bench.cli", "run", "ablations/spade_vs_in.yaml", "--profile",
           "smoke", "--out", str(out), "--set", "train.steps=40", "--set", "train.ckpt_every=2"]
    cmd = [sys.executable, "-c", "from bench.cli import app; app()"] + cmd[3:]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    ckpt = out / "spade" / "seed0" / "checkpoint.pt"
    deadline = time.time() + 240
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert ckpt.exists(), proc.communicate()[0]
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=240)[0]
    assert proc.returncode == 130, output
    harness = json.loads((ckpt.parent / "harness.json").read_text())
    assert harness["status"] == "interrupted"
    assert not (ckpt.parent / "metrics.json").exists()
    first = scalar_steps(ckpt.parent)

    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resume spade seed 0" in proc.stdout
    steps = scalar_steps(ckpt.parent)
    assert steps[: len(first)] == first[: len(steps)] or steps[0] == first[0]
    assert steps == sorted(set(steps)) and steps[-1] == 40


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "spade_vs_in"])
def test_smoke_profile_of_every_shipped_experiment(name, tmp_path, cache, monkeypatch):
    from bench.data.registry import SHARED_FACADES

    if "facades" in name and not SHARED_FACADES.is_dir():
        pytest.skip(f"no facades copy at {SHARED_FACADES}")
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    r = runner.invoke(app, ["run", f"ablations/{name}.yaml", "--profile", "smoke",
                            "--out", str(tmp_path / name)])
    assert r.exit_code == 0, r.output
    text = (tmp_path / name / "results.csv").read_text()
    assert ",failed," not in text and ",complete," in text
    assert (tmp_path / name / "report.html").is_file()


@pytest.mark.slow
def test_torchrun_launcher_trains_under_ddp(tmp_path, cache, monkeypatch):
    """Each training as `torchrun --nproc-per-node=2 -m bench.train.ddp` (gloo on CPU)."""
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    out = tmp_path / "ddp"
    r = runner.invoke(app, ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke", "--out",
                            str(out), "--device", "cpu", "--launcher", "torchrun:2"])
    assert r.exit_code == 0, r.output
    for variant in ("spade", "concat"):
        stats = json.loads((out / variant / "seed0" / "train_stats.json").read_text())
        assert stats["world_size"] == 2 and stats["backend"] == "gloo"
    assert (out / "results.csv").read_text().count(",complete,") == 2
