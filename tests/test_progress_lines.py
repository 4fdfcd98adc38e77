"""Progress where no terminal watches: a plain line at a steady interval (step/total,
images/s, elapsed, ETA), from the trainer and the oracle; the runner's estimate updated
from measured speed."""

from __future__ import annotations

import re
from pathlib import Path

from bench.experiment.launch import remaining_line
from bench.experiment.state import RunState
from bench.train.outputs import Progress, ProgressLines
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run

LINE = re.compile(r"^train step (\d+)/(\d+) \(\d+%\), (\S+ images/s|images/s n/a), "
                  r"elapsed \S+, ETA \S+")


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_lines_come_at_a_steady_interval_with_rate_and_eta():
    clock, lines = Clock(), []
    p = ProgressLines("train", total=100, start=0, images_per_step=4, every=30.0,
                      write=lines.append, clock=clock)
    for step in range(1, 101):
        clock.t += 1.0  # one step per second: 4 images/s
        p.update(step, {"g_gan": 0.5, "images_per_s": 3.9})
    # every 30 s (steps 30, 60, 90) and the last step; the rate leaves out the first step
    assert [int(LINE.match(ln).group(1)) for ln in lines] == [30, 60, 90, 100]
    assert lines[0] == ("train step 30/100 (30%), 4.00 images/s, elapsed 30s, ETA 1m10s, "
                        "g_gan 0.5")
    assert lines[-1].startswith("train step 100/100 (100%), 4.00 images/s, elapsed 1m40s, ETA 0s")


def test_interval_from_the_environment_and_zero_turns_lines_off(monkeypatch):
    monkeypatch.setenv("BENCH_PROGRESS_EVERY", "0")
    lines = []
    p = ProgressLines("oracle", total=3, start=0, images_per_step=1, write=lines.append)
    for s in (1, 2, 3):
        p.update(s)
    assert lines == []
    monkeypatch.setenv("BENCH_PROGRESS_EVERY", "5")
    assert ProgressLines("x", 1, 0, 1).every == 5.0


def test_no_terminal_means_lines_not_a_bar(monkeypatch):
    progress = Progress(10, 0, enabled=True, images_per_step=2)  # stdout is not a TTY here
    assert progress.bar is None and progress.lines is not None
    assert Progress(10, 0, enabled=False).lines is None


def test_the_trainer_prints_progress_lines_to_a_log(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_PROGRESS_EVERY", "1e-9")  # a line every step
    cfg = tiny_config("gaugan", tmp_path / "data", steps=3, sets={"train.log_every": 2})
    train_run(cfg, tmp_path / "run")
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("train step")]
    assert [int(LINE.match(ln).group(1)) for ln in lines] == [1, 2, 3]
    assert all(int(LINE.match(ln).group(2)) == 3 for ln in lines)
    assert "g_gan" in lines[-1]  # the latest logged losses ride along


def test_the_oracle_prints_progress_lines(monkeypatch):
    import torch

    from bench.metrics.oracle import train_oracle

    monkeypatch.setenv("BENCH_PROGRESS_EVERY", "1e-9")

    class Tiny(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            return {"image": torch.rand(3, 16, 16, generator=g) * 2 - 1,
                    "label": torch.randint(0, 3, (16, 16), generator=g)}

    lines = []
    train_oracle(Tiny(), 3, None, steps=3, width=4, batch_size=2, seed=0,
                 device=torch.device("cpu"), log=lines.append)
    progress = [ln for ln in lines if ln.startswith("oracle step")]
    assert [ln.split()[2] for ln in progress] == ["1/3", "2/3", "3/3"]
    assert "images/s" in progress[-1] and "ETA" in progress[-1] and "loss" in progress[-1]


def test_the_estimate_follows_measured_speed():
    class PR:
        def __init__(self, name):
            self.run_dir = Path(name)

    todo = [PR("a"), PR("b"), PR("c"), PR("d")]
    states = {Path("a"): RunState.NEW, Path("b"): RunState.NEW, Path("c"): RunState.TRAINED,
              Path("d"): RunState.NEW}
    assert remaining_line([120.0], todo, states, 1) == (
        "== 1/4 runs done in 2.0 min; 3 to go, estimated 6.0 min more (measured speed)")
    # after an evaluation-only run, later training runs are estimated from training runs
    line = remaining_line([120.0, 60.0, 10.0], todo, states, 3)
    assert line.endswith("1 to go, estimated 1.5 min more (measured speed)")
    assert remaining_line([1.0] * 4, todo, states, 4) == "== 4/4 runs done in 4 s"
