"""Generator snapshots along training, so metrics can be plotted against images seen.

The trainer saves `snapshots/step_XXXXXX.pt` = {"step", "stage", "G", "E"} at
`train.snapshots` evenly spaced steps (the last one is the final step). Evaluation
scores every snapshot (bench.metrics.curve), which shows whether a ranking is stable
or only reflects a short budget. Generator weights only: small, and never resumed from.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bench.atomic import atomic_write
from bench.errors import BenchError

SNAPSHOTS = "snapshots"


def snapshot_steps(total_steps: int, count: int) -> list[int]:
    """`count` evenly spaced steps in 1..total_steps, the last one total_steps.

    snapshot_steps(120, 4) == [30, 60, 90, 120]; fewer when total_steps < count."""
    if count <= 0 or total_steps <= 0:
        return []
    return sorted({max(1, round(k * total_steps / count)) for k in range(1, count + 1)})


def snapshot_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / SNAPSHOTS / f"step_{step:06d}.pt"


def save_snapshot(run_dir: Path, step: int, stage: str, G, E) -> Path:
    path = snapshot_path(run_dir, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"step": step, "stage": stage, "G": G.state_dict(),
             "E": E.state_dict() if E is not None else None}
    atomic_write(path, lambda f: torch.save(state, f))
    return path


def list_snapshots(run_dir: Path) -> list[Path]:
    folder = Path(run_dir) / SNAPSHOTS
    return sorted(folder.glob("step_*.pt")) if folder.is_dir() else []


def load_snapshot(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (truncated or foreign file)
        raise BenchError(f"{path}: corrupt or unreadable snapshot ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or not {"step", "G", "E"} <= state.keys():
        raise BenchError(f"{path}: not a bench generator snapshot")
    return state
