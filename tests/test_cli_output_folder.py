"""An output folder that cannot be made is bad input: one clear line, exit 2, before
anything runs, and nothing written (bench.atomic.check_output_dir)."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from bench.atomic import check_output_dir
from bench.cli import app
from bench.errors import BenchError

COMMANDS = {  # each with --out OUT appended
    "run": ["run", "ablations/spade_vs_in.yaml", "--profile", "smoke", "--dry-run"],
    "train": ["train", "presets/gaugan_synthetic_cpu.yaml", "--steps", "1"],
    "profile spade": ["profile", "spade", "--device", "cpu", "--quick"],
    "profile train": ["profile", "train", "--device", "cpu", "--quick"],
    "data synth": ["data", "synth", "--n", "2", "--size", "32"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_folder_under_a_file_exits_2_and_writes_nothing(command, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    out = blocker / "out"
    result = CliRunner().invoke(app, [*COMMANDS[command], "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"--out {out}: cannot be created, {blocker} is not a folder" in result.output
    assert "Traceback" not in result.output
    assert sorted(tmp_path.rglob("*")) == before and blocker.read_text() == "keep me"


def test_check_output_dir_accepts_new_and_existing_folders_and_creates_nothing(tmp_path):
    check_output_dir(tmp_path)  # exists
    check_output_dir(tmp_path / "new" / "deeper")  # made later, below a writable folder
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("")
    with pytest.raises(BenchError, match="exists and is not a folder"):
        check_output_dir(tmp_path / "f")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through folder permissions")
def test_check_output_dir_refuses_a_read_only_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(BenchError, match="no write permission"):
            check_output_dir(ro / "out")
    finally:
        ro.chmod(0o755)
