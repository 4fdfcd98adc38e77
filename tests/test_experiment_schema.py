"""Experiment YAML: strict validation, override order, and exit 2 on every kind of bad input
with nothing of earlier runs touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bench.cli import app
from bench.config import EXPERIMENTS_DIR
from bench.errors import BenchError
from bench.experiment.resolve import resolve_plan
from bench.experiment.schema import load_experiment

SHIPPED = sorted((EXPERIMENTS_DIR / "ablations").glob("*.yaml"))
runner = CliRunner()


def minimal() -> dict:
    return {
        "name": "tiny",
        "base": {"data": {"image_size": 64}, "model": {"generator": {"arch": "spade", "ngf": 8}}},
        "seeds": [0, 1],
        "profiles": {
            "smoke": {"seeds": [3], "overrides": {"train.steps": 2, "model.generator.ngf": 4}},
            "cpu": {"overrides": {"train.steps": 5}},
            "gpu": {},
        },
        "variants": [
            {"name": "a"},
            {"name": "b", "overrides": {"model.generator.arch": "concat"},
             "profile_overrides": {"smoke": {"model.generator.ngf": 2}}},
        ],
        "baseline": "a",
    }


def write(tmp_path: Path, data, name="exp.yaml") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return p


def test_override_order_base_profile_variant_set(tmp_path):
    exp = load_experiment(write(tmp_path, minimal()))
    plan = resolve_plan(exp, "smoke", tmp_path / "out", sets=["train.steps=9"])
    assert [(p.variant, p.seed) for p in plan] == [("a", 3), ("b", 3)]  # profile seeds win
    a, b = (p.cfg for p in plan)
    assert a.model.generator.ngf == 4  # profile over base
    assert type(b.model.generator).arch == "concat" and b.model.generator.ngf == 2  # variant last
    assert a.train.steps == b.train.steps == 9  # --set over everything
    assert a.data.image_size == 64 and a.seed == 3
    assert plan[0].run_dir == tmp_path / "out" / "a" / "seed3"
    cpu = resolve_plan(exp, "cpu", tmp_path / "out")
    assert [p.seed for p in cpu] == [0, 1, 0, 1]  # the experiment's seeds
    assert cpu[0].cfg.model.generator.ngf == 8


def test_mapping_override_replaces_the_subtree(tmp_path):
    data = minimal()
    data["variants"][1]["overrides"] = {"model.generator": {"arch": "concat"}}
    data["variants"][1]["profile_overrides"] = {}
    exp = load_experiment(write(tmp_path, data))
    b = resolve_plan(exp, "smoke", tmp_path)[1].cfg
    assert type(b.model.generator).arch == "concat" and b.model.generator.ngf == 64  # default


def test_config_hash_ignores_device_only(tmp_path):
    exp = load_experiment(write(tmp_path, minimal()))
    h = lambda **kw: [p.config_hash for p in resolve_plan(exp, "smoke", tmp_path, **kw)]
    assert h() == h(device="cpu")
    assert h() != h(sets=["train.steps=3"])
    assert len(set(h())) == 2  # the variants differ


@pytest.mark.parametrize(
    "change, needles",
    [
        (lambda d: d.update(colour="red"), ["colour: unknown key"]),
        (lambda d: d["profiles"]["cpu"].update(overides={}), ["profiles.cpu.overides: unknown key"]),
        (lambda d: d.update(seeds="many"), ["seeds"]),
        (lambda d: d["variants"][0].update(overrides=[1, 2]), ["variants.0.overrides"]),
        (lambda d: d.update(baseline="c"), ["baseline: 'c' is not a variant; valid: a, b"]),
        (lambda d: d["profiles"].pop("gpu"), ["missing gpu"]),
        (lambda d: d["variants"].append({"name": "a"}), ["duplicate name(s) a"]),
        (lambda d: d["variants"][1].update(profile_overrides={"tpu": {}}),
         ["unknown profile(s) tpu"]),
    ],
)
def test_bad_experiment_names_file_and_key(tmp_path, change, needles):
    data = minimal()
    change(data)
    p = write(tmp_path, data)
    with pytest.raises(BenchError) as e:
        load_experiment(p)
    assert str(p) in str(e.value)
    for n in needles:
        assert n in str(e.value)


@pytest.mark.parametrize(
    "change, needles",
    [
        (lambda d: d["variants"][1]["overrides"].update({"model.generator.arch": "stylegan"}),
         ["variant b", "model.generator", "unknown generator 'stylegan'; valid:"]),
        (lambda d: d["profiles"]["smoke"]["overrides"].update({"train.stepz": 1}),
         ["profile smoke", "train.stepz: unknown key"]),
        (lambda d: d["profiles"]["smoke"]["overrides"].update({"train.steps": "lots"}),
         ["train.steps"]),
    ],
)
def test_bad_resolved_config_names_variant_and_key(tmp_path, change, needles):
    data = minimal()
    change(data)
    exp = load_experiment(write(tmp_path, data))
    with pytest.raises(BenchError) as e:
        resolve_plan(exp, "smoke", tmp_path)
    for n in [str(tmp_path / "exp.yaml")] + needles:
        assert n in str(e.value)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiments_resolve_in_every_profile(path, tmp_path):
    exp = load_experiment(path)
    assert {"smoke", "cpu", "gpu"} <= set(exp.profiles)
    for profile in exp.profiles:
        plan = resolve_plan(exp, profile, tmp_path)
        assert len({p.config_hash for p in plan}) == len(plan)  # no two runs alike


def test_shipped_gpu_profiles_are_paper_sized():
    for path in SHIPPED:
        exp = load_experiment(path)
        for pr in resolve_plan(exp, "gpu", Path("x")):
            assert pr.cfg.data.image_size == 256, (path.name, pr.variant)


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def earlier_run(tmp_path):
    """An output folder as an earlier `bench run` left it (results the test writes)."""
    out = tmp_path / "out"
    (out / "a" / "seed3").mkdir(parents=True)
    (out / "a" / "seed3" / "metrics.json").write_text('{"metrics": {}}')
    (out / "results.csv").write_text("experiment,variant\ntiny,a\n")
    return out


BAD_INPUTS = {
    "unknown_key": (lambda d: d.update(colour=1), "colour: unknown key"),
    "wrong_type": (lambda d: d["profiles"]["smoke"].update(seeds="x"), "profiles.smoke.seeds"),
    "unknown_baseline": (lambda d: d.update(baseline="zzz"), "baseline: 'zzz' is not a variant"),
    "unknown_model": (lambda d: d["variants"][0].update(overrides={"model.generator.arch": "gan9"}),
                      "unknown generator 'gan9'"),
    "missing_data_folder": (
        lambda d: d["base"].update(data={"dataset": "facades", "root": "/nonexistent/facades"}),
        "data.root"),
    "unreadable_yaml": ("name: [unclosed\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_and_touches_nothing(tmp_path, earlier_run, case):
    change, needle = BAD_INPUTS[case]
    if isinstance(change, str):
        p = write(tmp_path, change)
    else:
        data = minimal()
        change(data)
        p = write(tmp_path, data)
    before = _tree_digest(earlier_run)
    r = runner.invoke(app, ["run", str(p), "--profile", "smoke", "--out", str(earlier_run)])
    assert r.exit_code == 2, r.output
    assert needle in r.output and str(p) in r.output
    assert "Traceback" not in r.output
    assert _tree_digest(earlier_run) == before


def test_missing_experiment_file_exits_2(tmp_path):
    r = runner.invoke(app, ["run", str(tmp_path / "nope.yaml"), "--profile", "smoke"])
    assert r.exit_code == 2 and "nope.yaml: file not found" in r.output


def test_unknown_profile_and_launcher_exit_2(tmp_path):
    p = write(tmp_path, minimal())
    r = runner.invoke(app, ["run", str(p), "--profile", "tpu", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "'tpu' is not a profile; valid: cpu, gpu, smoke" in r.output
    r = runner.invoke(app, ["run", str(p), "--launcher", "mpi", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "--launcher 'mpi'" in r.output
    assert not (tmp_path / "o").exists()


def test_model_that_cannot_take_the_image_size_exits_2_before_anything(tmp_path):
    data = minimal()
    data["variants"][1]["overrides"] = {
        "model.generator": {"arch": "pix2pix_unet256"},
        "model.discriminator": {"arch": "pix2pix_patch"}}
    data["variants"][1]["profile_overrides"] = {}
    p = write(tmp_path, data)
    r = runner.invoke(app, ["run", str(p), "--profile", "smoke", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert "variant b" in r.output and "pix2pix_unet256" in r.output
    assert not (tmp_path / "o").exists()
