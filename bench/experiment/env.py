"""The environment a run ran in: torch, CUDA, the CPU (model, cores, threads), the GPU when
one is used, git commit and dirty flag."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _git(*args: str) -> str | None:
    try:
        r = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10,
                           check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def device_name(device: str | None) -> str:
    dev = device or "auto"
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(dev))
    return cpu_model() if dev == "cpu" else dev


def cpu_model() -> str:
    """The CPU's marketing name (/proc/cpuinfo on Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def check_device(device: str | None, where: str = "--device") -> None:
    """Refuse a device this machine does not have, before anything is planned or written."""
    from bench.errors import BenchError

    dev = device or "auto"
    if dev in ("auto", "cpu"):
        return
    if dev != "cuda" and not (dev.startswith("cuda:") and dev[5:].isdigit()):
        raise BenchError(f"{where} {dev!r}: valid choices are auto, cpu, cuda, cuda:N")
    if not torch.cuda.is_available():
        raise BenchError(f"{where} {dev!r}: CUDA is not available on this machine (torch "
                         f"{torch.__version__}, CUDA build {torch.version.cuda or 'none'}); "
                         "use --device cpu or auto")
    if dev.startswith("cuda:") and int(dev[5:]) >= torch.cuda.device_count():
        raise BenchError(f"{where} {dev!r}: this machine has {torch.cuda.device_count()} CUDA "
                         f"device(s): cuda:0..cuda:{torch.cuda.device_count() - 1}")


def gpu_used(device: str | None) -> bool:
    dev = device or "auto"
    return torch.cuda.is_available() and (dev == "auto" or dev.startswith("cuda"))


def environment(device: str | None) -> dict:
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": cpu_model(), "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "gpu_used": gpu_used(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "device": device or "auto",
        "device_name": device_name(device),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }
