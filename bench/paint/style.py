"""Style codes z for generators that take one (GauGAN with its VAE encoder; OASIS noise).

A style is one of two sources, or a walk between two:
    seed   z ~ N(0, I) drawn from its own generator seeded by the number: the same seed
           gives the same style on every stroke (a "random style" is a new seed)
    photo  the encoder's mean mu of an uploaded reference photo (no sampling noise, so
           the panel does not flicker while painting)
    mix    slerp(z_a, z_b, t): spherical, because a straight line between two Gaussian
           samples passes through codes of unusually small norm that the generator
           never saw in training (the middle of the walk would wash out)
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

MAX_SEED = 2**31 - 1


class StyleSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["seed", "photo"] = "seed"
    seed: int = Field(0, ge=0, le=MAX_SEED)
    photo: str | None = None  # an id answered by POST /api/photo (kind "photo")


class Style(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: StyleSource = StyleSource()
    b: StyleSource | None = None  # with b: the walk from a (t = 0) to b (t = 1)
    t: float = Field(0.0, ge=0.0, le=1.0)


def seeded_z(seed: int, z_dim: int) -> torch.Tensor:
    """(z_dim,) ~ N(0, I), a pure function of the seed (its own generator, global RNG
    untouched)."""
    return torch.randn(z_dim, generator=torch.Generator().manual_seed(seed))


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation of two codes (linear where they are almost parallel)."""
    if t <= 0.0:
        return a
    if t >= 1.0:
        return b
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-4:
        return (1 - t) * a + t * b
    s = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / s) * a + (torch.sin(t * omega) / s) * b
