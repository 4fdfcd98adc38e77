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
                 "### `train.losses`", "| `lambda_vgg` | float | `10.0` |", "#### `arch: spade`",
                 "#### `arch: pix2pix_patch`", "#### `arch: conv_vae`", "`vgg_if_missing`"):
        assert text in md


def test_bench_schema_prints_it():
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0 and r.output == schema_markdown()
