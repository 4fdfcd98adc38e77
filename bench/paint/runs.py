"""Find the runs the painter can show: every (variant, seed) folder with a checkpoint.

RUN_DIR is either one run folder (checkpoint.pt inside) or an experiment output folder
of `bench run` (RUN_DIR/<variant>/seed<N>/checkpoint.pt). Variants keep the order of
the experiment's experiment.json when it is there (baseline first, as the report).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.errors import BenchError

CHECKPOINT = "checkpoint.pt"
SEED_DIR = re.compile(r"^seed(\d+)$")


@dataclass(frozen=True)
class RunRef:
    variant: str
    seed: int
    path: Path  # the run folder (holds checkpoint.pt)


def _seed_of(run: Path) -> int:
    """The run's seed: config.yaml's `seed`, else the seed<N> folder name, else 0."""
    try:
        seed = yaml.safe_load((run / "config.yaml").read_text()).get("seed")
        if isinstance(seed, int):
            return seed
    except (OSError, yaml.YAMLError, AttributeError):
        pass
    m = SEED_DIR.match(run.name)
    return int(m.group(1)) if m else 0


def _variant_of(run: Path, root: Path) -> str:
    """runs/x/spade/seed0 under runs/x -> "spade"; a lone run folder (or a variant's
    folder of seeds) given as RUN_DIR -> that variant folder's own name."""
    folder = run.parent if SEED_DIR.match(run.name) else run  # the variant's folder
    if folder == root or not folder.is_relative_to(root):
        return folder.name
    return folder.relative_to(root).as_posix()


def _variant_order(root: Path) -> list[str]:
    try:
        snap = json.loads((root / "experiment.json").read_text())
        return [v["name"] for v in snap["experiment"]["variants"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def find_runs(run_dir: str | Path) -> list[RunRef]:
    """Every run under run_dir, sorted by (variant order, seed); BenchError when none."""
    root = Path(run_dir).expanduser()
    if not root.is_dir():
        raise BenchError(f"{root}: folder not found (give an experiment output folder of "
                         "`bench run`, e.g. runs/spade_vs_in-cpu, or one run folder)")
    root = root.resolve()  # `bench paint .` inside a run folder still names its variant
    if (root / CHECKPOINT).is_file():
        paths = [root]
    else:  # <variant>/seed<N>/ as bench run lays them out, or any nesting up to 3 deep
        paths = sorted({p.parent for depth in ("*", "*/*", "*/*/*")
                        for p in root.glob(f"{depth}/{CHECKPOINT}")})
    if not paths:
        raise BenchError(f"{run_dir}: no {CHECKPOINT} in it or in its <variant>/seed<N>/ "
                         f"folders (train it first: bench run EXPERIMENT.yaml --out {run_dir})")
    refs = [RunRef(_variant_of(p, root), _seed_of(p), p) for p in paths]
    order = _variant_order(root)
    rank = {name: i for i, name in enumerate(order)}
    refs.sort(key=lambda r: (rank.get(r.variant, len(order)), r.variant, r.seed))
    seen: dict[tuple[str, int], Path] = {}
    for r in refs:
        if (r.variant, r.seed) in seen:
            raise BenchError(f"{r.path}: variant {r.variant!r} seed {r.seed} also in "
                             f"{seen[(r.variant, r.seed)]}; point bench paint at one of them")
        seen[(r.variant, r.seed)] = r.path
    return refs
