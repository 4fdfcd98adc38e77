"""RunConfig: one fully resolved training+evaluation run, and how it is read from YAML.

Each area owns its own section (bench.data.config, bench.train.config,
bench.metrics.config); this file composes them and turns every validation failure
into one BenchError that names the file and the dotted key path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_serializer, field_validator, model_validator

import gaugan.models  # noqa: F401  (registers every model)
from bench.atomic import atomic_write_text  # noqa: F401  (re-exported)
from bench.data.config import DataConfig
from bench.errors import BenchError
from bench.metrics.config import EvalConfig
from bench.schema import Strict
from bench.train.config import TrainConfig
from gaugan.registry import DISCRIMINATORS, ENCODERS, GENERATORS, Registry, UnknownNameError

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"


def _build_registered(registry: Registry, value: Any) -> Any:
    """{'arch': name, **options} -> the registered config dataclass, extras rejected."""
    if value is None or dataclasses.is_dataclass(value):
        return value
    if not isinstance(value, dict) or "arch" not in value:
        raise ValueError(f"expected a mapping with 'arch' (one of: {', '.join(registry.names())})")
    options = dict(value)
    name = options.pop("arch")
    try:
        cls = registry.config_class(name)
    except UnknownNameError as e:
        raise ValueError(str(e)) from None
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} for {registry.kind} {name!r}; "
            f"valid: {', '.join(sorted(valid))}"
        )
    from pydantic import TypeAdapter

    return TypeAdapter(cls).validate_python(options)


def _dump_registered(value: Any) -> dict | None:
    if value is None:
        return None
    return {"arch": type(value).arch, **dataclasses.asdict(value)}


class ModelConfig(Strict):
    """Generator, discriminator and (optional) encoder, each a registered variant."""

    generator: Any = Field(default_factory=lambda: {"arch": "spade"}, validate_default=True)
    discriminator: Any = Field(
        default_factory=lambda: {"arch": "spade_multiscale"}, validate_default=True
    )
    encoder: Any = None
    # Weight init of a fresh training run (gaugan.init): "official" as the family's
    # official training runs it (SPADE/Concat: xavier-normal gain 0.02, spectral-norm
    # weights keep PyTorch's default as on the official GPU path; pix2pix / pix2pixHD:
    # normal(0, 0.02)), "official_cpu" SPADE's init reaching spectral-norm weights too
    # (the official code run on the CPU), "pytorch" PyTorch's default init.
    init: Literal["official", "official_cpu", "pytorch"] = "official"

    @field_validator("generator", mode="before")
    @classmethod
    def _g(cls, v):
        return _build_registered(GENERATORS, v)

    @field_validator("discriminator", mode="before")
    @classmethod
    def _d(cls, v):
        return _build_registered(DISCRIMINATORS, v)

    @field_validator("encoder", mode="before")
    @classmethod
    def _e(cls, v):
        return _build_registered(ENCODERS, v)

    @field_serializer("generator", "discriminator", "encoder")
    def _ser(self, v):
        return _dump_registered(v)

    @model_validator(mode="after")
    def _consistent(self):
        """Options of G, D and E that must agree; a mismatch would crash mid-training."""
        g, d, e = self.generator, self.discriminator, self.encoder
        use_vae = getattr(g, "use_vae", False)
        if use_vae and e is None:
            raise ValueError("generator.use_vae is true but no encoder is set (encoder: {arch: conv_vae})")
        if e is not None and not use_vae:
            raise ValueError(f"an encoder is set but generator {type(g).arch!r} has use_vae false")
        if e is not None and getattr(e, "z_dim", None) != getattr(g, "z_dim", None):
            raise ValueError(f"encoder.z_dim {e.z_dim} != generator.z_dim {getattr(g, 'z_dim', None)}")
        g_in, d_in = getattr(g, "label_input", "onehot"), getattr(d, "label_input", "onehot")
        if g_in != d_in:
            raise ValueError(f"generator.label_input {g_in!r} != discriminator.label_input {d_in!r}")
        return self


class RunConfig(Strict):
    name: str = "run"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        """Hash of the resolved config: identical configs share it, any change alters it."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ---------------------------------------------------------------- loading helpers


def resolve_path(path: str | os.PathLike, subdir: str = "") -> Path:
    """Look a config up as given, then under experiments/ (and experiments/<subdir>/)."""
    p = Path(path)
    candidates = [p, EXPERIMENTS_DIR / p]
    if subdir:
        candidates.append(EXPERIMENTS_DIR / subdir / p)
    for c in candidates:
        if c.is_file():
            return c
    raise BenchError(f"{path}: file not found (looked in ., {EXPERIMENTS_DIR})")


def read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise BenchError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise BenchError(f"{path}: not a UTF-8 text file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise BenchError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BenchError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def format_validation_error(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {key}: {msg}")
    return "\n".join(lines)


def set_dotted(d: dict, dotted: str, value: Any) -> None:
    """d['a']['b']['c'] = value for 'a.b.c'; a mapping value replaces the whole subtree."""
    keys = dotted.split(".")
    node = d
    for k in keys[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {} if nxt is None else nxt
            if not isinstance(nxt, dict):
                raise BenchError(f"--set {dotted}: {k!r} is not a mapping")
            node[k] = nxt
        node = nxt
    node[keys[-1]] = value


def parse_set(items: list[str]) -> list[tuple[str, Any]]:
    """--set KEY=VALUE pairs; VALUE is parsed as YAML (numbers, bools, lists)."""
    out = []
    for item in items:
        if "=" not in item:
            raise BenchError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out.append((k.strip(), yaml.safe_load(v)))
        except yaml.YAMLError:
            raise BenchError(f"--set {item!r}: the value is not valid YAML") from None
    return out


def validate_run_config(data: dict, source: str) -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise BenchError(format_validation_error(source, e)) from None


def load_run_config(path: str | os.PathLike, overrides: list[str] | None = None) -> RunConfig:
    p = resolve_path(path, "presets")
    data = read_yaml(p)
    for k, v in parse_set(overrides or []):
        set_dotted(data, k, v)
    return validate_run_config(data, str(p))


def save_run_config(cfg: RunConfig, path: Path) -> None:
    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
