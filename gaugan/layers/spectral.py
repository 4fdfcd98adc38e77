"""Spectral normalization helper (Miyato et al., 2018).

The official SPADE code wraps convs with torch.nn.utils.spectral_norm, which keeps
the raw weight as the parameter `weight_orig` and the power-iteration vectors as
buffers `weight_u`, `weight_v`. We use the same function so that parameter counts
and state_dict keys equal the official ones (torch.nn.utils.parametrizations
would rename the parameter to `parametrizations.weight.original`).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import spectral_norm


def maybe_spectral(module: nn.Module, enabled: bool) -> nn.Module:
    """module with spectral norm on its `weight` when enabled, else module unchanged."""
    return spectral_norm(module) if enabled else module
