"""Build the networks of a run: RunConfig + DatasetInfo -> G, D, E (E may be None)."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn

from bench.data.base import DatasetInfo
from gaugan.registry import BuildContext


@dataclass
class Networks:
    G: nn.Module
    D: nn.Module
    E: nn.Module | None


def build_context(cfg, info: DatasetInfo) -> BuildContext:
    h = cfg.data.image_size
    w = int(round(h * cfg.data.aspect_ratio))
    return BuildContext(semantic_nc=info.semantic_nc, image_size=(h, w), output_nc=3)


def build_networks(cfg, info: DatasetInfo) -> Networks:
    """cfg: bench.config.RunConfig. Each model config's build(ctx) makes the module."""
    ctx = build_context(cfg, info)
    m = cfg.model
    return Networks(
        G=m.generator.build(ctx),
        D=m.discriminator.build(ctx),
        E=m.encoder.build(ctx) if m.encoder is not None else None,
    )
