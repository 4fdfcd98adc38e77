"""experiments/SCHEMA.md is generated from the config models and kept up to date."""

from __future__ import annotations

from typer.testing import CliRunner

from bench.cli import app
from bench.reference import SCHEMA_MD, schema_markdown


def test_the_committed_reference_is_up_to_date():
    assert SCHEMA_MD.read_text() == schema_markdown(), (
        "experiments/SCHEMA.md is out of date: run `bench schema --write`")


def test_it_names_every_section_key_and_model():
    md = schema_markdown()
    for text in ("## Experiment YAML", "### `profiles.NAME`", "### `variants[]`", "## Run config",
                 "### `train.losses`", "| `lambda_vgg` | float, >= 0.0 | `10.0` |", "#### `arch: spade`",
                 "#### `arch: pix2pix_patch`", "#### `arch: conv_vae`", "`vgg_if_missing`"):
        assert text in md


def test_bench_schema_prints_it():
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0 and r.output == schema_markdown()


def test_it_states_each_range_the_config_enforces():
    md = schema_markdown()
    for row in ("| `steps` | int, >= 1 | `1000` |", "| `aspect_ratio` | float, > 0 | `1.0` |",
                "| `beta2` | float, >= 0.0, < 1.0 | `0.9` |",
                "| `oracle_crop` | int or null, >= 16 | `null` |",
                "| `oracle_tta_scales` | list[float], length >= 1 | `[1.0]` |"):
        assert row in md, row
