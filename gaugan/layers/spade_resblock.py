"""SPADE residual block (Park et al., 2019, Fig. 4), as in the official code.

    x_s = x                                    if fin == fout
        = conv_s(norm_s(x, seg))               otherwise (1x1 conv, no bias)
    dx  = conv_0(lrelu(norm_0(x, seg)))        fin  -> fmid = min(fin, fout)
    dx  = conv_1(lrelu(norm_1(dx, seg)))       fmid -> fout
    out = x_s + dx

Attribute names (norm_0, conv_0, norm_1, conv_1, norm_s, conv_s) are the official
ones, so official state_dicts load unchanged. Note the official shortcut has no
activation between norm_s and conv_s.
"""

from __future__ import annotations

import torch
from torch import nn

from gaugan.layers.norms import ParamFreeInstanceNorm
from gaugan.layers.spade import SPADE
from gaugan.layers.spectral import maybe_spectral

LRELU_SLOPE = 0.2


class SPADEResBlock(nn.Module):
    def __init__(
        self,
        fin: int,
        fout: int,
        label_nc: int,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
        spectral: bool = True,
        spade_hidden: int = 128,
        spade_kernel: int = 3,
        backend: str = "eager",
    ):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmid = min(fin, fout)

        def spade(nc: int) -> SPADE:
            return SPADE(
                nc,
                label_nc,
                norm=norm,
                hidden=spade_hidden,
                kernel_size=spade_kernel,
                backend=backend,
            )

        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmid, 3, padding=1), spectral)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmid, fout, 3, padding=1), spectral)
        self.norm_0 = spade(fin)
        self.norm_1 = spade(fmid)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), spectral)
            self.norm_s = spade(fin)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        """x: (N, fin, H, W); seg: (N, label_nc, H', W') one-hot map -> (N, fout, H, W)."""
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        # The LeakyReLU goes through SPADE's negative_slope so fused backends can fuse it.
        dx = self.conv_0(self.norm_0(x, seg, negative_slope=LRELU_SLOPE))
        dx = self.conv_1(self.norm_1(dx, seg, negative_slope=LRELU_SLOPE))
        return x_s + dx
