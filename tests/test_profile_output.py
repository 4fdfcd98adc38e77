"""`bench profile` writes into an ignored folder (runs/profile) unless --out says otherwise,
never into the committed reports/."""

from __future__ import annotations

import inspect
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.profile import output, spade

REPO = Path(__file__).resolve().parent.parent


def test_default_output_folder_is_ignored_by_git():
    assert output.DEFAULT_OUT.parts[0] == "runs" and "reports" not in output.DEFAULT_OUT.parts
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    for path in (output.DEFAULT_OUT / "spade_cpu_float32_quick.csv",
                 output.DEFAULT_OUT / "cpu" / "spade_cpu_float32_targets.json"):
        r = subprocess.run(["git", "check-ignore", "-q", str(path)], check=False, cwd=REPO)
        assert r.returncode == 0, f"{path} is not ignored by git"


def test_no_profile_entry_point_defaults_to_reports():
    from bench.cli import profile_spade as cli_profile

    assert inspect.signature(spade.profile_spade).parameters["out"].default is None
    assert inspect.signature(cli_profile).parameters["out"].default.default is None
    for mod in ("cpu_figures", "summary", "train_throughput"):
        src = (REPO / "bench" / "profile" / f"{mod}.py").read_text()
        assert 'else "reports' not in src and 'default=Path("reports' not in src, mod


def test_profile_spade_writes_under_runs_profile(tmp_path, monkeypatch):
    """The real entry point with the sweep stubbed out (no timing): files land in
    ./runs/profile of the working folder, and --out moves them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spade, "run_sweep", lambda *a, **k: ([], 1.0))
    spade.profile_spade(device="cpu", quick=True)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["runs/profile/spade_cpu_float32_quick.csv",
                       "runs/profile/spade_cpu_float32_quick.json"]

    from typer.testing import CliRunner

    from bench.cli import app

    r = CliRunner().invoke(app, ["profile", "spade", "--device", "cpu", "--quick",
                                 "--out", "elsewhere"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "elsewhere" / "spade_cpu_float32_quick.json").is_file()
