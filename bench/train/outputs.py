"""What a run writes while it trains: scalars.jsonl (+ TensorBoard), sample grids, progress."""

from __future__ import annotations

import json
import os
import sys
import time
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


# Seconds between two progress lines when stdout is not a terminal (a log file, a pipe,
# a batch job); BENCH_PROGRESS_EVERY overrides it, 0 turns the lines off.
PROGRESS_EVERY_S = 30.0


def progress_every() -> float:
    try:
        return float(os.environ.get("BENCH_PROGRESS_EVERY", PROGRESS_EVERY_S))
    except ValueError:
        return PROGRESS_EVERY_S


def show_progress() -> bool:
    """A live progress bar only for a person at a terminal (not pipes, not pytest)."""
    return sys.stdout.isatty() and "PYTEST_CURRENT_TEST" not in os.environ


def _duration(s: float) -> str:
    s = round(s)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class ProgressLines:
    """One plain line every `every` seconds (and at the last step): step/total, images/s,
    elapsed, ETA and the latest values; for output that no person watches live.

    The rate counts the steps since the first update (the first step's warm-up and
    allocation excluded), so it is this session's speed, resumed or not.
    """

    def __init__(self, label: str, total: int, start: int, images_per_step: int,
                 every: float | None = None, write=None, clock=time.monotonic):
        self.label, self.total, self.per_step = label, total, images_per_step
        self.every = progress_every() if every is None else every
        self.write = write or (lambda line: print(line, flush=True))
        self.clock = clock
        self.t0 = clock()
        self.last = self.t0
        self.mark: tuple[int, float] | None = None  # (step, time) of the first update
        self.start = start

    def update(self, step: int, values=None) -> None:
        """values: the latest values, or a function returning them (called only when a line
        is printed, e.g. to avoid a device sync per step)."""
        now = self.clock()
        if self.mark is None:
            self.mark = (step, now)
        if self.every <= 0 or (now - self.last < self.every and step < self.total):
            return
        self.last = now
        self.write(self.line(step, now, (values() if callable(values) else values) or {}))

    def line(self, step: int, now: float, values: dict[str, float]) -> str:
        s0, t0 = self.mark or (self.start, self.t0)
        rate = (step - s0) / (now - t0) if step > s0 and now > t0 else None
        ips = f"{rate * self.per_step:.2f} images/s" if rate else "images/s n/a"
        eta = _duration((self.total - step) / rate) if rate else "n/a"
        pct = 100.0 * step / self.total if self.total else 100.0
        extra = " ".join(f"{k} {v:.3g}" for k, v in values.items() if k != "images_per_s")
        return (f"{self.label} step {step}/{self.total} ({pct:.0f}%), {ips}, elapsed "
                f"{_duration(now - self.t0)}, ETA {eta}" + (f", {extra}" if extra else ""))


class Progress:
    """A rich progress bar on a terminal, plain lines at a steady interval elsewhere
    (ProgressLines), nothing when disabled. update() may be called every step."""

    def __init__(self, total: int, start: int, enabled: bool, images_per_step: int = 1,
                 label: str = "train", bar: bool | None = None, every: float | None = None):
        self.bar = self.lines = None
        self.values: dict[str, float] = {}
        if not enabled:
            return
        if bar if bar is not None else show_progress():
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
            )
            self.bar.start()
            self.task = self.bar.add_task(label, total=total, completed=start, info="")
        else:
            self.lines = ProgressLines(label, total, start, images_per_step, every=every)

    def update(self, step: int, values: dict[str, float] | None = None) -> None:
        if values is not None:
            self.values = values
        if self.bar is not None:
            info = " ".join(f"{k} {v:.3g}" for k, v in self.values.items())
            self.bar.update(self.task, completed=step, info=info)
        elif self.lines is not None:
            self.lines.update(step, self.values)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
