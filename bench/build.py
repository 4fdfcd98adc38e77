"""Build the networks of a run: RunConfig + DatasetInfo -> G, D, E (E may be None)."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn

from bench.data.base import DatasetInfo
from bench.errors import BenchError
from gaugan.registry import BuildContext


@dataclass
class Networks:
    G: nn.Module
    D: nn.Module
    E: nn.Module | None


def build_context(cfg, info: DatasetInfo) -> BuildContext:
    h = cfg.data.image_size
    w = int(round(h * cfg.data.aspect_ratio))
    return BuildContext(semantic_nc=info.semantic_nc, image_size=(h, w), output_nc=3,
                        use_instance=info.use_instance)


def build_modules(model_cfg, ctx: BuildContext) -> tuple[nn.Module, nn.Module, nn.Module | None]:
    """Build G, D, E; a shape the architecture cannot take becomes a BenchError."""
    built = []
    for key in ("generator", "discriminator", "encoder"):
        sub = getattr(model_cfg, key)
        try:
            built.append(sub.build(ctx) if sub is not None else None)
        except ValueError as e:
            raise BenchError(f"model.{key} ({type(sub).arch}): {e}") from None
    return built[0], built[1], built[2]


def build_networks(cfg, info: DatasetInfo) -> Networks:
    """cfg: bench.config.RunConfig. Each model config's build(ctx) makes the module."""
    return Networks(*build_modules(cfg.model, build_context(cfg, info)))
