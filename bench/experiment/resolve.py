"""Experiment + profile -> one validated RunConfig per (variant, seed), before anything runs.

Order of overrides (later wins):
    base -> profile.overrides -> variant.overrides -> variant.profile_overrides[profile]
    -> --set KEY=VALUE -> seed, name (and device when --device is given)
Every run of the plan is validated here, so bad input fails before any folder is made.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.config import (
    EXPERIMENTS_DIR,
    RunConfig,
    parse_set,
    read_yaml,
    set_dotted,
    validate_run_config,
)
from bench.errors import BenchError
from bench.experiment.schema import Experiment


@dataclass(frozen=True)
class PlannedRun:
    variant: str
    seed: int
    cfg: RunConfig
    run_dir: Path
    config_hash: str


def config_hash(cfg: RunConfig) -> str:
    """Hash of what determines a run's numbers: the device it runs on is left out, so a
    run finished on one device is not redone because --device was spelled differently."""
    d = cfg.to_dict()
    d.pop("device", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def load_base(exp: Experiment) -> dict[str, Any]:
    exp_path = exp.source
    if isinstance(exp.base, dict):
        return copy.deepcopy(exp.base)
    rel = Path(exp.base)
    for c in (rel, exp_path.parent / rel, EXPERIMENTS_DIR / rel, EXPERIMENTS_DIR / "presets" / rel):
        if c.is_file():
            return read_yaml(c)
    raise BenchError(f"{exp_path}: base: file {exp.base!r} not found (looked as given, next to "
                     f"the experiment, under {EXPERIMENTS_DIR} and its presets/)")


def apply_overrides(data: dict, overrides: dict[str, Any], source: str) -> None:
    for key, value in overrides.items():
        node = data
        parts = key.split(".")
        for i, k in enumerate(parts[:-1]):
            nxt = node.get(k) if isinstance(node, dict) else None
            if nxt is not None and not isinstance(nxt, dict):
                raise BenchError(f"{source}: {key}: {'.'.join(parts[:i + 1])} is not a mapping")
            node = nxt if nxt is not None else {}
        set_dotted(data, key, copy.deepcopy(value))


def pick_profile(exp: Experiment, profile: str | None) -> str:
    if profile is None:
        import torch

        profile = "gpu" if torch.cuda.is_available() else "cpu"
    if profile not in exp.profiles:
        raise BenchError(f"{exp.source}: --profile {profile!r} is not a profile; valid: "
                         f"{', '.join(exp.profiles)}")
    return profile


def resolve_plan(
    exp: Experiment,
    profile: str,
    out: Path,
    sets: list[str] | None = None,
    device: str | None = None,
) -> list[PlannedRun]:
    set_pairs = parse_set(sets or [])
    for k, _ in set_pairs:
        if k in ("seed", "name"):
            raise BenchError(f"--set {k}: set by the experiment (seeds come from the profile)")
    exp_path = exp.source
    base = load_base(exp)
    prof = exp.profiles[profile]
    plan = []
    for variant in exp.variants:
        for seed in exp.seeds_for(profile):
            data = copy.deepcopy(base)
            apply_overrides(data, prof.overrides, f"{exp_path}: profiles.{profile}.overrides")
            apply_overrides(data, variant.overrides, f"{exp_path}: variants.{variant.name}.overrides")
            apply_overrides(data, variant.profile_overrides.get(profile, {}),
                            f"{exp_path}: variants.{variant.name}.profile_overrides.{profile}")
            apply_overrides(data, dict(set_pairs), "--set")
            data["seed"] = seed
            data["name"] = f"{exp.name}-{variant.name}-seed{seed}"
            if device is not None:
                data["device"] = device
            source = f"{exp_path} (profile {profile}, variant {variant.name}, resolved config)"
            cfg = validate_run_config(data, source)
            plan.append(PlannedRun(variant.name, seed, cfg, out / variant.name / f"seed{seed}",
                                   config_hash(cfg)))
    return plan


def resolve_variants(exp: Experiment, profile: str = "cpu") -> list[tuple[str, RunConfig]]:
    """(variant name, RunConfig of its first seed) for each variant: for `bench inspect`."""
    first = exp.seeds_for(profile)[0]
    plan = resolve_plan(exp, profile, Path("runs") / exp.name)
    return [(pr.variant, pr.cfg) for pr in plan if pr.seed == first]
