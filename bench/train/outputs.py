"""What a run writes while it trains: scalars.jsonl (+ TensorBoard), sample grids, progress."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from PIL import Image


class ScalarLog:
    """One JSON line per logged step in scalars.jsonl; mirrored to TensorBoard if installed.

    On resume from a checkpoint after step k, lines of steps after k (logged by the
    interrupted run past its last checkpoint) are dropped first: no step appears twice.
    """

    def __init__(self, run_dir: Path, resume_step: int = 0):
        self.path = Path(run_dir) / "scalars.jsonl"
        if resume_step and self.path.exists():
            keep = [ln for ln in self.path.read_text().splitlines()
                    if ln.strip() and json.loads(ln)["step"] <= resume_step]
            self.path.write_text("".join(ln + "\n" for ln in keep))
        elif not resume_step:
            self.path.write_text("")
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            purge = resume_step + 1 if resume_step else None  # TensorBoard drops later events
            self.tb = SummaryWriter(log_dir=str(Path(run_dir) / "tb"), purge_step=purge)
        except ImportError:  # tensorboard is an optional extra
            pass

    def write(self, step: int, values: dict[str, float]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps({"step": step, **values}) + "\n")
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def colorize(label: torch.Tensor, palette) -> torch.Tensor:
    """(N, H, W) class ids -> (N, 3, H, W) colours in [-1, 1] from the data set's palette."""
    lut = torch.tensor(palette, dtype=torch.float32, device=label.device) / 127.5 - 1.0
    ids = label.long().clamp(0, lut.shape[0] - 1)
    return lut[ids].permute(0, 3, 1, 2).contiguous()


def save_sample_grid(path: Path, label_rgb: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> None:
    """One row per example: label map | generated | real. All (N, 3, H, W) in [-1, 1];
    2-pixel white gutters. PIL, not torchvision, so the trainer need not import it."""
    n, _, h, w = real.shape
    pad = 2
    grid = torch.ones(3, pad + n * (h + pad), pad + 3 * (w + pad))
    for i in range(n):
        for j, img in enumerate((label_rgb, fake, real)):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            grid[:, y:y + h, x:x + w] = img[i].detach().float().cpu().clamp(-1, 1) * 0.5 + 0.5
    array = (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)


def show_progress() -> bool:
    """A live progress bar only for a person at a terminal (not pipes, not pytest)."""
    return sys.stdout.isatty() and "PYTEST_CURRENT_TEST" not in os.environ


class Progress:
    """A rich progress bar with the latest losses and images/s; silent when disabled."""

    def __init__(self, total: int, start: int, enabled: bool):
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
            )
            self.bar.start()
            self.task = self.bar.add_task("train", total=total, completed=start, info="")

    def update(self, step: int, values: dict[str, float]) -> None:
        if self.bar is not None:
            info = " ".join(f"{k} {v:.3g}" for k, v in values.items())
            self.bar.update(self.task, completed=step, info=info)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
