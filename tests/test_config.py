"""Run config validation: unknown keys, wrong types and unknown models are one clear error."""

from __future__ import annotations

import pytest
import yaml

from bench.config import RunConfig, load_run_config, set_dotted, validate_run_config
from bench.errors import BenchError


def write(tmp_path, data, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def test_defaults_are_gaugan():
    cfg = RunConfig()
    assert type(cfg.model.generator).arch == "spade"
    assert type(cfg.model.discriminator).arch == "spade_multiscale"
    assert (cfg.train.lr_g, cfg.train.lr_d, cfg.train.beta1, cfg.train.beta2) == (1e-4, 4e-4, 0.0, 0.9)


def test_round_trip_through_yaml(tmp_path):
    cfg = RunConfig()
    p = write(tmp_path, cfg.to_dict())
    again = load_run_config(p)
    assert again.to_dict() == cfg.to_dict()
    assert again.fingerprint() == cfg.fingerprint()


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"trian": {}}, "trian: unknown key"),
        ({"train": {"steps": "many"}}, "train.steps"),
        ({"data": {"dataset": "imagenet"}}, "data.dataset"),
        ({"model": {"generator": {"arch": "stylegan"}}}, "unknown generator 'stylegan'; valid:"),
        ({"model": {"generator": {"arch": "spade", "ngff": 3}}}, "unknown key(s) ngff"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, data, needle):
    p = write(tmp_path, data)
    with pytest.raises(BenchError) as e:
        load_run_config(p)
    assert str(p) in str(e.value)
    assert needle in str(e.value)


@pytest.mark.parametrize(
    "section, key, value",
    [
        # each would have crashed mid-run (modulo by zero, torch's optimizer check) or, for
        # eval, after every run of an experiment had trained; or trained nonsense silently
        ("train", "steps", 0), ("train", "log_every", 0), ("train", "sample_every", 0),
        ("train", "ckpt_every", 0), ("train", "lr_g", -1e-4), ("train", "lr_d", 0.0),
        ("train", "beta1", -0.1), ("train", "beta2", 1.0), ("train", "decay_start", -1),
        ("train", "global_steps", -1), ("train", "fix_global_steps", -1),
        ("train.losses", "lambda_feat", -1.0), ("train.losses", "lambda_vgg", -1.0),
        ("train.losses", "lambda_kl", -0.05), ("train.losses", "lambda_l1", -100.0),
        ("eval", "batch_size", 0), ("eval", "oracle_steps", 0), ("eval", "oracle_width", 0),
        ("eval", "oracle_batch_size", 0), ("eval", "num_samples", 0),
        ("eval", "diversity_samples", -1), ("eval", "kid_subset_size", 1),
        ("eval", "kid_subsets", 0), ("eval", "oracle_tta_scales", [1.0, 0.0]),
    ],
)
def test_out_of_range_values_are_one_clear_error(tmp_path, section, key, value):
    data: dict = {}
    set_dotted(data, f"{section}.{key}", value)
    p = write(tmp_path, data)
    with pytest.raises(BenchError) as e:
        load_run_config(p)
    assert f"{section}.{key}" in str(e.value) and str(p) in str(e.value)


def test_overrides_apply_dotted_keys(tmp_path):
    p = write(tmp_path, {})
    cfg = load_run_config(p, ["train.steps=7", "model.generator={arch: concat}"])
    assert cfg.train.steps == 7
    assert type(cfg.model.generator).arch == "concat"


def test_mapping_override_replaces_subtree():
    d = {"model": {"generator": {"arch": "spade", "ngf": 8}}}
    set_dotted(d, "model.generator", {"arch": "concat"})
    assert d["model"]["generator"] == {"arch": "concat"}


def test_unreadable_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train: [unclosed")
    with pytest.raises(BenchError, match="not valid YAML"):
        load_run_config(p)


def test_missing_file():
    with pytest.raises(BenchError, match="file not found"):
        load_run_config("does/not/exist.yaml")


def test_validate_reports_every_problem():
    with pytest.raises(BenchError) as e:
        validate_run_config({"seed": "x", "oops": 1}, "inline")
    msg = str(e.value)
    assert "inline: seed" in msg and "inline: oops: unknown key" in msg


@pytest.mark.parametrize(
    "model, needle",
    [
        ({"generator": {"arch": "spade", "use_vae": True}}, "no encoder is set"),
        ({"encoder": {"arch": "conv_vae"}}, "use_vae false"),
        (
            {"generator": {"arch": "spade", "use_vae": True, "z_dim": 64}, "encoder": {"arch": "conv_vae"}},
            "encoder.z_dim 256 != generator.z_dim 64",
        ),
        (
            {"generator": {"arch": "pix2pix_unet256", "label_input": "color"}, "discriminator": {"arch": "pix2pix_patch"}},
            "label_input",
        ),
    ],
)
def test_inconsistent_models_are_rejected(model, needle):
    with pytest.raises(BenchError, match="model") as e:
        validate_run_config({"model": model}, "inline")
    assert needle in str(e.value)


def test_non_utf8_yaml_and_bad_set_value(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(BenchError, match="UTF-8"):
        load_run_config(p)
    with pytest.raises(BenchError, match="not valid YAML"):
        load_run_config(write(tmp_path, {}), ["name=@x"])
