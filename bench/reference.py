"""`bench schema`: the YAML reference, generated from the config models themselves.

Every key of an experiment YAML and of a run config, with its type, default and the
comment written beside it in the model's source, plus every registered generator,
discriminator and encoder with its options. experiments/SCHEMA.md is this output
(`bench schema --write` regenerates it; a test fails when it is out of date).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from pathlib import Path

from pydantic import BaseModel

SCHEMA_MD = Path(__file__).resolve().parent.parent / "experiments" / "SCHEMA.md"
_FIELD = re.compile(r"^\s+(\w+)\s*:\s*[^=]+?(?:=.*?)?(?:#\s*(?P<tail>.*))?$")


def comments(cls: type) -> dict[str, str]:
    """field -> the comment above it (consecutive # lines) and/or beside it, from the source."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    out, above = {}, []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("#").strip())
            continue
        m = _FIELD.match(line) if not stripped.startswith(("def ", "@", "return", "class ")) else None
        if m and line.startswith("    ") and not line.startswith("     "):
            text = " ".join(above + ([m.group("tail")] if m.group("tail") else []))
            text = re.sub(r"\s*\(noqa[^)]*\)|\s*noqa.*$", "", text).strip()
            if text:
                out[m.group(1)] = text
        above = []
    return out


# Meanings of keys that carry no comment in their model's source.
EXTRA = {
    "Experiment": {
        "name": "names the output folder runs/<name>-<profile>",
        "description": "shown at the top of the report",
        "seeds": "run seeds of every variant (a profile may set its own)",
        "profiles": "named profiles (smoke, cpu, gpu, ...): `bench run --profile NAME`; the "
                    "default is gpu with CUDA, else cpu",
        "variants": "the variants compared; each is the base run config plus its overrides",
        "baseline": "the variant every other one is compared with (paired over seeds)",
        "report": "what the report shows",
    },
    "Profile": {"description": "shown by `bench run` and in the report",
                "overrides": "run config overrides for every variant in this profile",
                "slurm": "resources of `--launcher submitit` jobs"},
    "Variant": {"name": "the variant's name in tables, folders and plots",
                "description": "what the variant changes",
                "overrides": "run config overrides (nested or dotted keys)"},
    "RunConfig": {"name": "the run's name (bench run sets <experiment>-<variant>)",
                  "seed": "seeds weights, data order and noise", "data": "see `data`",
                  "model": "see `model` and Models", "train": "see `train`", "eval": "see `eval`"},
    "ModelConfig": {"generator": "see Models: `model.generator`",
                    "discriminator": "see Models: `model.discriminator`",
                    "encoder": "see Models: `model.encoder` (null: no encoder)"},
    "TrainConfig": {"steps": "optimizer steps (each one G and one D update)",
                    "lr_d": "D learning rate", "beta1": "Adam beta1", "beta2": "Adam beta2",
                    "losses": "see `train.losses`",
                    "channels_last": "override of train.speed: channels_last memory format "
                                     "(fast turns it on)",
                    "fix_global_steps": "pix2pixHD: steps with the global generator frozen",
                    "log_every": "steps between scalars.jsonl lines",
                    "sample_every": "steps between sample grids",
                    "ckpt_every": "steps between checkpoints"},
    "LossConfig": {"gan_mode": "adversarial loss of G and D"},
    "DataConfig": {"aspect_ratio": "W / H", "batch_size": "global batch (split over DDP ranks)",
                   "num_workers": "DataLoader worker processes"},
    "EvalConfig": {"oracle_batch_size": "batch of the oracle segmenter's training",
                   "batch_size": "generation batch", "kid_subsets": "KID subsets (torch-fidelity)"},
}


def _type(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type(a) for a in typing.get_args(annotation))
    if origin in (list, dict, tuple):
        args = ", ".join(_type(a) for a in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]" if args else origin.__name__
    if annotation is type(None):
        return "null"
    if annotation is typing.Any:
        return "any"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(value) -> str:
    if isinstance(value, BaseModel):
        return "(section)"
    if dataclasses.is_dataclass(value):
        return f"{{arch: {type(value).arch}}}"
    try:
        return f"`{json.dumps(value)}`"
    except TypeError:
        return f"`{value}`"


def _row(name: str, typ: str, default: str, note: str) -> str:
    return f"| `{name}` | {typ} | {default} | {note.replace('|', '/')} |"


BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "length >="))


def _bounds(field) -> str:
    """A pydantic field's range (Field(ge=..., ...)) as text, e.g. ">= 1, < 1.0"; "" if none."""
    parts = []
    for m in field.metadata:
        for attr, sign in BOUNDS:
            value = getattr(m, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return ", ".join(parts)


def model_table(model: type[BaseModel], prefix: str = "") -> list[str]:
    notes = {**EXTRA.get(model.__name__, {}), **comments(model)}
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, f in model.model_fields.items():
        if f.is_required():
            default = "required"
        elif f.default_factory is not None:
            default = _default(f.default_factory())
        else:
            default = _default(f.default)
        typ = _type(f.annotation) + (f", {b}" if (b := _bounds(f)) else "")
        rows.append(_row(prefix + name, typ, default, notes.get(name, "")))
    return rows


def dataclass_table(cls: type) -> list[str]:
    notes = comments(cls)
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = _default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = _default(f.default_factory())
        else:
            default = "required"
        rows.append(_row(f.name, _type(hints.get(f.name, f.type)), default, notes.get(f.name, "")))
    return rows


def _registry(title: str, key: str, registry) -> list[str]:
    out = [f"### `{key}`: {title}", "",
           f"`{key}: {{arch: NAME, ...options}}`; NAME one of: "
           + ", ".join(f"`{n}`" for n in registry.names()) + ".", ""]
    for name in registry.names():
        cls = registry.config_class(name)
        doc = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        out += [f"#### `arch: {name}`", ""] + ([doc, ""] if doc and not doc.startswith(cls.__name__ + "(") else [])
        fields = [f for f in dataclasses.fields(cls) if f.name != "arch"]
        out += (dataclass_table(cls) if fields else ["(no options)"]) + [""]
    return out


def schema_markdown() -> str:
    import bench.config  # noqa: F401  (registers every model)
    from bench.config import ModelConfig, RunConfig
    from bench.data.config import DataConfig
    from bench.experiment.schema import Experiment, Profile, ReportOptions, SlurmOptions, Variant
    from bench.metrics.config import EvalConfig
    from bench.train.config import LossConfig, TrainConfig
    from gaugan.registry import DISCRIMINATORS, ENCODERS, GENERATORS

    intro = ("Generated from the config models by `bench schema --write` (do not edit: "
             "`tests/test_schema_reference.py` fails when this file is out of date). Unknown "
             "keys and wrong types are errors that name the file and the key.")
    kinds = ("An **experiment** YAML (`experiments/ablations/*.yaml`, run by `bench run`) has "
             "a `base` run config, `variants` that override it and `profiles` (smoke / cpu / "
             "gpu) that override both; a **run config** (`bench train`, "
             "`experiments/presets/*.yaml`, and every run folder's `config.yaml`) is one fully "
             "resolved run. Overrides are nested mappings or dotted keys "
             "(`model.generator.ngf: 16`), the same keys as `--set KEY=VALUE`.")
    out = ["# Experiment and run config reference", "", intro, "", kinds, "",
           "## Experiment YAML", ""]
    out += model_table(Experiment) + [""]
    for title, model in (("`profiles.NAME`", Profile), ("`profiles.NAME.slurm`", SlurmOptions),
                         ("`variants[]`", Variant), ("`report`", ReportOptions)):
        out += [f"### {title}", ""] + model_table(model) + [""]
    out += ["## Run config", ""] + model_table(RunConfig) + [""]
    for title, model in (("`data`", DataConfig), ("`model`", ModelConfig), ("`train`", TrainConfig),
                         ("`train.losses`", LossConfig), ("`eval`", EvalConfig)):
        out += [f"### {title}", ""] + model_table(model) + [""]
    out += ["## Models", ""]
    out += _registry("generators", "model.generator", GENERATORS)
    out += _registry("discriminators", "model.discriminator", DISCRIMINATORS)
    out += _registry("encoders", "model.encoder", ENCODERS)
    return "\n".join(out).rstrip() + "\n"


def write_schema(path: Path = SCHEMA_MD) -> Path:
    from bench.experiment.files import write_text_if_changed

    write_text_if_changed(path, schema_markdown())
    return path
