"""`bench inspect` on the official presets prints the official parameter counts (DESIGN.md)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from bench.cli import app

runner = CliRunner()


def inspect_json(target: str) -> list[dict]:
    res = runner.invoke(app, ["inspect", target, "--json", "--no-flops"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize(
    "preset, expected",
    [
        # DESIGN.md, measured on the official implementations.
        ("presets/gaugan_ade20k.yaml", {"params_G": 96_492_483, "params_D": 5_836_930}),
        ("presets/gaugan_ade20k_vae.yaml", {"params_E": 10_463_424, "params_D": 5_836_930}),
        ("presets/pix2pix_facades.yaml", {"params_G": 54_413_955, "params_D": 2_768_705}),
    ],
)
def test_presets_match_official_counts(preset, expected):
    (row,) = inspect_json(preset)
    for key, value in expected.items():
        assert row[key] == value, (preset, key)


def test_pix2pixhd_global_count():
    # pix2pixHD global generator, 36 input channels (Cityscapes 35 labels + instance edges).
    from bench.config import load_run_config
    from bench.inspect import model_cost

    cfg = load_run_config("presets/pix2pixhd_cityscapes.yaml", ["model.generator={arch: pix2pixhd_global}"])
    assert model_cost(cfg, count_flops=False)["params_G"] == 182_546_755


def test_flops_are_counted_per_image():
    from bench.config import RunConfig
    from bench.inspect import model_cost

    cfg = RunConfig.model_validate({"data": {"image_size": 32}, "model": {"generator": {"arch": "spade", "ngf": 8}}})
    one = model_cost(cfg)["flops_G"]
    cfg2 = RunConfig.model_validate({"data": {"image_size": 64}, "model": {"generator": {"arch": "spade", "ngf": 8}}})
    four = model_cost(cfg2)["flops_G"]
    # Convolutions dominate: 4x the pixels is close to 4x the FLOPs.
    assert one > 0 and 3.5 < four / one < 4.5


def test_unknown_model_exits_2(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"model": {"generator": {"arch": "nope"}}}))
    res = runner.invoke(app, ["inspect", str(p)])
    assert res.exit_code == 2
    assert "unknown generator 'nope'" in res.output and "valid:" in res.output
    assert "Traceback" not in res.output
