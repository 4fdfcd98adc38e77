"""The experiment YAML: a base run config, profiles, seeds, variants, a baseline.

Resolution of one run (see resolve.py):
    base -> profile overrides -> variant overrides -> the variant's overrides for
    that profile -> --set overrides -> seed/name/device -> validated RunConfig

Overrides are mappings of dotted keys to values (`train.steps: 50`); a mapping value
replaces the whole subtree (`model.generator: {arch: concat}`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from bench.config import format_validation_error, read_yaml
from bench.errors import BenchError
from bench.schema import Strict

REQUIRED_PROFILES = ("smoke", "cpu", "gpu")

# Better direction of each metric id: True when higher is better.
HIGHER_IS_BETTER = {
    "miou": True,
    "pixel_acc": True,
    "fid": False,
    "kid": False,
    "lpips": False,
    "lpips_diversity": True,
    "fd_oracle": False,
    "kid_oracle": False,
}


def _check_dotted_keys(overrides: dict[str, Any]) -> dict[str, Any]:
    for key in overrides:
        if not key or any(not part for part in key.split(".")):
            raise ValueError(f"bad dotted key {key!r}")
    return overrides


class SlurmOptions(Strict):
    """Passed to submitit's AutoExecutor (only with --launcher submitit)."""

    partition: str | None = None
    timeout_min: int = 60
    gpus_per_node: int = 0
    cpus_per_task: int = 2
    mem_gb: int = 16


class Profile(Strict):
    description: str = ""
    seeds: list[int] | None = None  # None: the experiment's seeds
    overrides: dict[str, Any] = Field(default_factory=dict)
    # Wall-clock estimate of one run (train + eval) on the machine the profile targets;
    # only used to print the plan.
    est_seconds_per_run: float | None = None
    slurm: SlurmOptions = Field(default_factory=SlurmOptions)

    @field_validator("overrides")
    @classmethod
    def _keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_dotted_keys(v)


class Variant(Strict):
    name: str
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict)
    # Per-profile overrides applied after `overrides` (e.g. widths that differ by profile
    # for an architecture the base does not use).
    profile_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c in "-_." for c in v):
            raise ValueError(f"variant name {v!r}: use letters, digits, '-', '_', '.'")
        return v

    @field_validator("overrides")
    @classmethod
    def _keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_dotted_keys(v)


class ReportOptions(Strict):
    # Metric ids shown, in this order (None: every metric in the results).
    metrics: list[str] | None = None
    # Quality axis of the Pareto plot and the metric the grid caption cites.
    primary_metric: str = "miou"
    # Cost axis of the Pareto plot: a results.csv column.
    cost: str = "flops_G"
    grid_maps: int = 4  # fixed validation maps shown in the image grid


class Experiment(Strict):
    name: str
    description: str = ""
    # An inline RunConfig mapping, or a path (as given, then relative to this file,
    # then under experiments/ and experiments/presets/) to a run config YAML.
    base: dict[str, Any] | str = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [0])
    profiles: dict[str, Profile]
    variants: list[Variant]
    baseline: str
    report: ReportOptions = Field(default_factory=ReportOptions)
    # The file it was read from: error messages name it, a `base` path is found next to it.
    _source: Path = PrivateAttr(default=Path("<experiment>"))

    @property
    def source(self) -> Path:
        return self._source

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or "/" in v or v.startswith("."):
            raise ValueError(f"experiment name {v!r}: a plain folder name is needed")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if not v or len(set(v)) != len(v):
            raise ValueError("needs at least one seed, no repeats")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Experiment:
        missing = [p for p in REQUIRED_PROFILES if p not in self.profiles]
        if missing:
            raise ValueError(f"profiles: missing {', '.join(missing)} (required: "
                             f"{', '.join(REQUIRED_PROFILES)})")
        names = [v.name for v in self.variants]
        if not names:
            raise ValueError("variants: at least one variant is needed")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"variants: duplicate name(s) {', '.join(dupes)}")
        if self.baseline not in names:
            raise ValueError(f"baseline: {self.baseline!r} is not a variant; valid: "
                             f"{', '.join(names)}")
        for v in self.variants:
            unknown = sorted(set(v.profile_overrides) - set(self.profiles))
            if unknown:
                raise ValueError(f"variants.{v.name}.profile_overrides: unknown profile(s) "
                                 f"{', '.join(unknown)}; valid: {', '.join(self.profiles)}")
        for pname, p in self.profiles.items():
            if p.seeds is not None and (not p.seeds or len(set(p.seeds)) != len(p.seeds)):
                raise ValueError(f"profiles.{pname}.seeds: needs at least one seed, no repeats")
        known = set(HIGHER_IS_BETTER)
        for m in self.report.metrics or []:
            if m not in known:
                raise ValueError(f"report.metrics: unknown metric {m!r}; valid: "
                                 f"{', '.join(sorted(known))}")
        return self

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def seeds_for(self, profile: str) -> list[int]:
        p = self.profiles[profile]
        return list(p.seeds) if p.seeds is not None else list(self.seeds)


def load_experiment(path: Path) -> Experiment:
    """Read and validate; every error names the file and the key path."""
    data = read_yaml(path)
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as e:
        raise BenchError(format_validation_error(str(path), e)) from None
    exp._source = Path(path)
    return exp
