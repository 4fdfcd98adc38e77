"""Input checks shared by the models: a wrong channel count is a clear error, not a conv crash."""

from __future__ import annotations

import torch


def expect_channels(x: torch.Tensor, expected: int, what: str) -> None:
    """Raise ValueError unless x is (N, expected, H, W)."""
    if x.dim() != 4 or x.shape[1] != expected:
        raise ValueError(
            f"{what}: expected a (N, {expected}, H, W) tensor, got {tuple(x.shape)}; "
            f"the label map's channels must equal the model's semantic_nc "
            f"(classes + don't-care + instance edges)"
        )
