"""A device this machine lacks is refused before anything is printed or written."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from bench.errors import BenchError
from bench.experiment import env

runner = CliRunner()


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cuda_without_cuda_is_refused_before_the_plan(no_cuda, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke",
                            "--device", "cuda", "--out", str(out)])
    assert r.exit_code == 2
    assert "--device 'cuda': CUDA is not available on this machine" in r.output
    assert "experiment spade_vs_in" not in r.output  # the plan was not printed
    assert not out.exists()  # nothing written


def test_a_device_in_the_experiment_is_checked_too(no_cuda, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke",
                            "--set", "device=cuda:1", "--out", str(out)])
    assert r.exit_code == 2 and "(variant spade): device 'cuda:1'" in r.output
    assert not out.exists()


def test_check_device(no_cuda, monkeypatch):
    for ok in (None, "auto", "cpu"):
        env.check_device(ok)
    for bad, msg in (("gpu", "valid choices are auto, cpu, cuda, cuda:N"),
                     ("cuda", "CUDA is not available"), ("cuda:0", "CUDA is not available")):
        with pytest.raises(BenchError, match=msg):
            env.check_device(bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    env.check_device("cuda:0")
    with pytest.raises(BenchError, match="1 CUDA device"):
        env.check_device("cuda:1")
