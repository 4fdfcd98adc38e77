"""Small command-line fixes: `bench inspect --profile`, flags and --device in --help."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bench.cli import app

runner = CliRunner()


def test_inspect_takes_a_profile_and_says_which_it_used():
    r = runner.invoke(app, ["inspect", "ablations/spade_vs_in.yaml", "--profile", "smoke",
                            "--json", "--no-flops"])
    assert r.exit_code == 0, r.output
    assert "spade_vs_in: profile smoke (--profile; profiles: smoke, cpu, gpu)" in r.stderr
    rows = json.loads(r.stdout)
    smoke = {row["variant"]: row["params_G"] for row in rows}
    r = runner.invoke(app, ["inspect", "ablations/spade_vs_in.yaml", "--profile", "cpu", "--json",
                            "--no-flops"])
    cpu = {row["variant"]: row["params_G"] for row in json.loads(r.stdout)}
    assert smoke["spade"] < cpu["spade"]  # ngf 4 against ngf 16
    r = runner.invoke(app, ["inspect", "presets/gaugan_ade20k.yaml", "--profile", "cpu"])
    assert r.exit_code == 2 and "a run config has no profiles" in r.output


def test_help_shows_flags_without_a_type_and_describes_device():
    for cmd in (["run"], ["train"], ["eval"], ["inspect"], ["profile", "spade"]):
        r = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "120"})
        assert r.exit_code == 0 and "<bool>" not in r.output, (cmd, r.output)
        if cmd != ["inspect"]:
            line = next(ln for ln in r.output.splitlines() if "--device" in ln)
            assert "cuda" in line, (cmd, line)
    r = runner.invoke(app, ["inspect", "--help"], env={"COLUMNS": "120"})
    assert "--no-flops" in r.output


def test_the_wrapper_script_explains_a_missing_environment(tmp_path):
    """scripts/bench runs .venv/bin/bench; without .venv it says how to set it up (exit 2)."""
    import shutil
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "bench"
    (tmp_path / "scripts").mkdir()
    shutil.copy(script, tmp_path / "scripts" / "bench")
    r = subprocess.run(["bash", str(tmp_path / "scripts" / "bench"), "--help"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "scripts/setup.sh" in r.stderr and ".venv/bin/bench" in r.stderr
