"""Training one run folder under DDP: `torchrun --nproc-per-node=N -m bench.train.ddp`.

The trainer's DDP entry (bench.train.ddp) joins the process group torchrun sets up (gloo
on CPU, NCCL on CUDA); rank 0 writes the checkpoint, scalars and train_stats.json.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def torchrun_command(run_dir: Path, nproc: int, resume: bool, device: str | None) -> list[str]:
    # This interpreter's torchrun (same venv), else the module it runs.
    exe = Path(sys.executable).parent / "torchrun"
    head = [str(exe)] if exe.is_file() else [sys.executable, "-m", "torch.distributed.run"]
    cmd = head + ["--standalone", f"--nproc-per-node={nproc}", "-m", "bench.train.ddp",
                  str(Path(run_dir) / "config.yaml"), "--out", str(run_dir)]
    if resume:
        cmd.append("--resume")
    if device is not None:
        cmd += ["--device", device]
    return cmd


def train_with_torchrun(run_dir: Path, nproc: int, resume: bool, device: str | None) -> None:
    cmd = torchrun_command(run_dir, nproc, resume, device)
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd)
    try:
        rc = proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached torchrun too (same process group): let the trainer write its
        # checkpoint and exit rather than killing it mid-write.
        proc.wait()
        raise
    if rc != 0:
        raise RuntimeError(f"torchrun exited with status {rc}: {' '.join(cmd)}")
