"""Launchers: where each run's job executes.

  local            in this process, one run after another (default)
  torchrun[:N]     as local, but training runs under DDP in a `torchrun` subprocess with
                   N processes (default: the CUDA device count, or 1 without CUDA)
  submitit[:C]     a job array through submitit's AutoExecutor; C picks its cluster
                   (slurm, local, debug; default: SLURM when present, else local)
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from bench.errors import BenchError
from bench.experiment.job import run_one
from bench.experiment.resolve import PlannedRun
from bench.experiment.schema import Profile
from bench.experiment.state import RunState

LAUNCHERS = ("local", "torchrun", "torchrun:N", "submitit", "submitit:slurm", "submitit:local",
             "submitit:debug")


def parse_launcher(spec: str) -> tuple[str, object]:
    kind, _, arg = spec.partition(":")
    if kind == "local" and not arg:
        return "local", None
    if kind == "torchrun":
        if not arg:
            import torch

            return "torchrun", max(1, torch.cuda.device_count())
        if arg.isdigit() and int(arg) > 0:
            return "torchrun", int(arg)
    if kind == "submitit" and arg in ("", "slurm", "local", "debug"):
        return "submitit", arg or None
    raise BenchError(f"--launcher {spec!r}: valid: {', '.join(LAUNCHERS)}")


def _banner(pr: PlannedRun, state: RunState) -> None:
    verb = {RunState.NEW: "train", RunState.RESUME: "resume", RunState.TRAINED: "evaluate"}[state]
    print(f"== {verb} {pr.variant} seed {pr.seed} -> {pr.run_dir}", flush=True)


def run_local(todo: list[PlannedRun], states: dict[Path, RunState], device: str | None,
              nproc: int | None) -> list[PlannedRun]:
    """Runs one after another; returns the failed ones (the others still run).

    A BenchError (bad input found late, e.g. by the data loader) stops everything: it
    would fail every run the same way.
    """
    failed = []
    took: list[float] = []
    for i, pr in enumerate(todo):
        _banner(pr, states[pr.run_dir])
        t0 = time.perf_counter()
        try:
            run_one(pr.run_dir, device=device, nproc=nproc)
        except BenchError:
            raise
        except Exception:  # noqa: BLE001  (recorded in error.txt; the other runs go on)
            traceback.print_exc()
            failed.append(pr)
        took.append(time.perf_counter() - t0)
        print(remaining_line(took, todo, states, i + 1), flush=True)
    return failed


def _fmt_time(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def remaining_line(took: list[float], todo: list[PlannedRun], states: dict[Path, RunState],
                   done: int) -> str:
    """The up-front estimate, updated from the measured time of the runs finished so far:
    runs that still train are estimated from the runs that trained (evaluation-only runs
    from their own kind)."""
    kinds = [states[pr.run_dir] is not RunState.TRAINED for pr in todo]
    left = len(todo) - done
    line = f"== {done}/{len(todo)} runs done in {_fmt_time(sum(took))}"
    if not left:
        return line
    est = 0.0
    for trains in kinds[done:]:
        same = [t for t, k in zip(took, kinds) if k == trains] or took
        est += sum(same) / len(same)
    return f"{line}; {left} to go, estimated {_fmt_time(est)} more (measured speed)"


def run_submitit(todo: list[PlannedRun], profile: Profile, out: Path, device: str | None,
                 cluster: str | None) -> list[PlannedRun]:
    """One job per run as a submitit job array; waits for all and returns the failed ones."""
    try:
        import submitit
    except ImportError:
        raise BenchError("--launcher submitit: the submitit package is not installed "
                         "(pip install -e '.[cluster]')") from None
    executor = submitit.AutoExecutor(folder=out / "submitit", cluster=cluster)
    s = profile.slurm
    params = {"timeout_min": s.timeout_min, "gpus_per_node": s.gpus_per_node,
              "cpus_per_task": s.cpus_per_task, "mem_gb": s.mem_gb, "name": f"bench-{out.name}"}
    if s.partition is not None:
        params["slurm_partition"] = s.partition
    executor.update_parameters(**params)
    jobs = executor.map_array(run_one, [str(pr.run_dir) for pr in todo], [device] * len(todo))
    print(f"submitted {len(jobs)} job(s): {', '.join(str(j.job_id) for j in jobs)}", flush=True)
    failed = []
    for pr, job in zip(todo, jobs):
        try:
            job.result()
        except Exception as e:  # noqa: BLE001  (submitit wraps the job's own exception)
            print(f"run {pr.variant}/seed{pr.seed} failed: {e}")
            failed.append(pr)
    return failed
