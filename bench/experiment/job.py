"""One run, start to finish: train (or resume) then evaluate, from its folder alone.

The same function serves every launcher: called in-process (local), with training in a
torchrun subprocess (torchrun), or pickled into a SLURM / local job by submitit. The
folder already holds config.yaml (written by the runner), so a job needs only its path.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

import yaml

from bench.config import validate_run_config
from bench.experiment.env import environment
from bench.experiment.resolve import PlannedRun, config_hash
from bench.experiment.state import RunState, read_harness, run_state, write_harness


def load_planned(run_dir: Path, variant: str = "", seed: int = 0) -> PlannedRun:
    path = Path(run_dir) / "config.yaml"
    cfg = validate_run_config(yaml.safe_load(path.read_text()), str(path))
    return PlannedRun(variant, seed, cfg, Path(run_dir), config_hash(cfg))


def _cost(cfg) -> dict:
    try:
        from bench.inspect import model_cost
    except ImportError:  # the lead's module not there: cost columns stay empty
        return {}
    c = model_cost(cfg)
    return {k: c.get(k) for k in ("params_G", "params_D", "params_E", "flops_G", "mod_params_G",
                                  "mod_flops_G")}


def _train(pr: PlannedRun, resume: bool, device: str | None, nproc: int | None) -> None:
    if nproc is None:
        from bench.train.trainer import train_run

        train_run(pr.cfg, pr.run_dir, resume=resume, device=device)
    else:
        from bench.experiment.torchrun import train_with_torchrun

        train_with_torchrun(pr.run_dir, nproc=nproc, resume=resume, device=device)


def run_one(run_dir: str | Path, device: str | None = None, nproc: int | None = None) -> str:
    """Train/resume and evaluate one run folder; returns its final state ("complete").

    harness.json records wall times (summed over resumed sessions), status and the
    environment. Ctrl-C marks the run "interrupted" and propagates: the trainer's last
    checkpoint stays, and the next `bench run` resumes from it.
    """
    run_dir = Path(run_dir)
    pr = load_planned(run_dir)
    rec = read_harness(run_dir)
    rec["config_hash"] = pr.config_hash
    state = run_state(pr)
    if state is RunState.COMPLETE:
        return state.value
    rec["env"] = environment(device)
    phase = "train"
    t0 = time.perf_counter()
    try:
        if not rec.get("cost"):
            rec["cost"] = _cost(pr.cfg)
        if state in (RunState.NEW, RunState.RESUME):
            rec["status"] = "training"
            write_harness(run_dir, rec)
            _train(pr, resume=state is RunState.RESUME, device=device, nproc=nproc)
            rec["train_wall_s"] = rec.get("train_wall_s", 0.0) + time.perf_counter() - t0
        phase, t0 = "eval", time.perf_counter()
        rec["status"] = "evaluating"
        write_harness(run_dir, rec)
        from bench.metrics.evaluate import evaluate_run

        evaluate_run(run_dir, device=device)
        rec["eval_wall_s"] = time.perf_counter() - t0
        rec["status"] = "complete"
        rec.pop("error", None)
        return "complete"
    except KeyboardInterrupt:
        rec[f"{phase}_wall_s"] = rec.get(f"{phase}_wall_s", 0.0) + time.perf_counter() - t0
        rec["status"] = "interrupted"
        raise
    except Exception as e:
        rec["status"] = "failed"
        rec["error"] = f"{phase}: {type(e).__name__}: {e}"
        (run_dir / "error.txt").write_text(traceback.format_exc())
        raise
    finally:
        write_harness(run_dir, rec)
