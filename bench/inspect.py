"""`bench inspect`: parameters and FLOPs per image of each variant, without training.

Models are built on the meta device: shapes and counts without memory or compute, so
a 180M-parameter pix2pixHD is inspected in about a second.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from bench.build import build_context, build_modules
from bench.config import RunConfig, read_yaml, resolve_path, validate_run_config
from bench.errors import BenchError


def count_params(module: nn.Module | None) -> int | None:
    if module is None:
        return None
    return sum(p.numel() for p in module.parameters())


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _modulation(G: nn.Module, fn) -> tuple[int, int | None]:
    """(parameters, forward FLOPs) of G's SPADE / CLADE modulation layers (bench.modulation_cost)."""
    from bench.modulation_cost import modulation_layers, modulation_flops

    params = sum(p.numel() for m in modulation_layers(G) for p in m.parameters())
    if fn is None:
        return params, None
    with FlopCounterMode(display=False) as counter:
        fn()
    return params, modulation_flops(counter)


def model_cost(cfg: RunConfig, count_flops: bool = True) -> dict:
    """Parameters of G, D, E and forward FLOPs for one image (batch 1) of each."""
    from bench.data.registry import dataset_info

    info = dataset_info(cfg.data)
    ctx = build_context(cfg, info)
    m = cfg.model
    with torch.device("meta"):
        G, D, E = build_modules(m, ctx)
    cost = {
        "semantic_nc": ctx.semantic_nc,
        "image_size": list(ctx.image_size),
        "params_G": count_params(G),
        "params_D": count_params(D),
        "params_E": count_params(E),
        # the SPADE / CLADE layers' share (0 for generators without them)
        "mod_params_G": _modulation(G, None)[0],
    }
    if count_flops:
        for net in (G, D, E):  # inference FLOPs; batch norm on one image needs eval mode
            if net is not None:
                net.eval()
        h, w = ctx.image_size
        label_in = getattr(G, "input_nc", ctx.semantic_nc)  # pix2pix colour input: 3
        with torch.device("meta"):
            seg = torch.zeros(1, label_in, h, w)
            seg_d = torch.zeros(1, getattr(D, "label_nc", ctx.semantic_nc), h, w)
            img = torch.zeros(1, ctx.output_nc, h, w)
            # The encoder's z only changes G's first layer; G's FLOPs are counted from
            # the label map path it shares with the no-encoder model plus E separately.
            cost["flops_G"] = _flops(lambda: G(seg))
            cost["mod_flops_G"] = _modulation(G, lambda: G(seg))[1]
            # A segmentation D (OASIS) reads the image only
            d_in = (seg_d, img) if getattr(D, "label_conditioned", True) else (img,)
            cost["flops_D"] = _flops(lambda: D(*d_in))
            cost["flops_E"] = _flops(lambda: E(img)) if E is not None else None
    return cost


def _runs_of(target: str, profile: str | None = None) -> list[tuple[str, RunConfig]]:
    path = resolve_path(target, "presets")
    data = read_yaml(path)
    if "variants" in data:  # an experiment: one row per variant (its first seed)
        from bench.experiment.config import load_experiment, resolve_variants
        from bench.experiment.resolve import pick_profile

        exp = load_experiment(path)
        chosen = pick_profile(exp, profile)  # as `bench run`: gpu with CUDA, else cpu
        how = "--profile" if profile is not None else "default: gpu with CUDA, else cpu"
        print(f"{exp.name}: profile {chosen} ({how}; profiles: {', '.join(exp.profiles)})",
              file=sys.stderr)
        return resolve_variants(exp, chosen)
    if profile is not None:
        raise BenchError(f"{path}: --profile {profile!r}: a run config has no profiles "
                         "(only an experiment YAML with variants has)")
    return [(data.get("name", path.stem), validate_run_config(data, str(path)))]


def inspect_target(target: str, as_json: bool = False, count_flops: bool = True,
                   profile: str | None = None) -> list[dict]:
    rows = []
    for name, cfg in _runs_of(target, profile):
        rows.append({"variant": name, **model_cost(cfg, count_flops=count_flops)})
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return rows


def _fmt(n: int | None, unit: str = "") -> str:
    if n is None:
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n}{unit}"


def _print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="parameters and forward FLOPs per image")
    for col in ("variant", "input", "params G", "params D", "params E", "FLOPs G", "FLOPs D"):
        t.add_column(col, justify="left" if col == "variant" else "right")
    for r in rows:
        h, w = r["image_size"]
        t.add_row(
            r["variant"],
            f"{r['semantic_nc']}ch {h}x{w}",
            f"{r['params_G']:,}",
            f"{r['params_D']:,}",
            "-" if r["params_E"] is None else f"{r['params_E']:,}",
            _fmt(r.get("flops_G")),
            _fmt(r.get("flops_D")),
        )
    console = Console()
    if not console.is_terminal:  # pipes and logs: don't wrap the numbers
        console = Console(width=160)
    console.print(t)

