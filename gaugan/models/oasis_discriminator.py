"""OASIS discriminator (Sushko et al., ICLR 2021): a U-Net semantic segmentation network
with N + 1 outputs per pixel (the N classes of the label map and "fake").

As boschresearch/OASIS models/discriminator.py (official names body_down, body_up,
layer_up_last). It sees the image only, never the label map. Channels
[3, 128, 128, 256, 256, 512, 512] (x width/64 here; official width 64):
    body_down.i  residual block ch[i] -> ch[i+1], 2x average-pool down (6 blocks)
    body_up.0    ch[6] -> ch[5], 2x nearest up
    body_up.i    2 ch[6-i] -> ch[5-i] on cat(skip from body_down, x), up   (i = 1..4)
    body_up.5    2 ch[1] -> 64, up;   layer_up_last 1x1 conv 64 -> N + 1
Residual block: [LeakyReLU(0.2)] [up] conv3x3 -> LeakyReLU(0.2) -> conv3x3 [avg-pool],
shortcut [up] 1x1 conv (with bias) when channels change [avg-pool]; the first block has
no leading activation and pools before its shortcut conv. Spectral norm on every conv
but the last. Output (N, label_nc + 1, H, W) logits; channel 0 is "fake".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.layers.spectral import maybe_spectral
from gaugan.models.checks import expect_channels
from gaugan.registry import DISCRIMINATORS, BuildContext

SLOPE = 0.2


class OASISResBlockD(nn.Module):
    def __init__(self, fin: int, fout: int, up_or_down: int, first: bool = False, spectral: bool = True):
        super().__init__()
        self.up_or_down, self.first = up_or_down, first
        self.learned_shortcut = fin != fout
        self.conv1 = maybe_spectral(nn.Conv2d(fin, fout, 3, 1, 1), spectral)
        self.conv2 = maybe_spectral(nn.Conv2d(fout, fout, 3, 1, 1), spectral)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, 1, 0), spectral)

    def _sample(self, x: torch.Tensor) -> torch.Tensor:
        if self.up_or_down > 0:
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.avg_pool2d(x, 2) if self.up_or_down < 0 else x

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.first or self.up_or_down > 0:  # pool (first) or upsample before the 1x1 conv
            x = self._sample(x)
        if self.learned_shortcut:
            x = self.conv_s(x)
        if not self.first and self.up_or_down < 0:
            x = self._sample(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dx = x
        if not self.first:
            dx = F.leaky_relu(dx, SLOPE)
            if self.up_or_down > 0:
                dx = self._sample(dx)
        dx = self.conv2(F.leaky_relu(self.conv1(dx), SLOPE))
        if self.up_or_down < 0:
            dx = self._sample(dx)
        return self.shortcut(x) + dx


class OASISDiscriminator(nn.Module):
    label_conditioned = False  # D(image): it predicts the label map instead of reading it

    def __init__(self, num_classes: int, image_size: tuple[int, int], input_nc: int = 3,
                 width: int = 64, num_res_blocks: int = 6, spectral: bool = True):
        """num_classes: label channels N (with don't-care); the output has N + 1."""
        super().__init__()
        if not 2 <= num_res_blocks <= 6:
            raise ValueError(f"num_res_blocks={num_res_blocks} must be in 2..6 (official channels)")
        h, w = image_size
        if h % 2**num_res_blocks or w % 2**num_res_blocks:
            raise ValueError(f"image size {h}x{w} (HxW) needs H and W multiples of 2**"
                             f"num_res_blocks = {2**num_res_blocks}")
        self.input_nc, self.num_classes = input_nc, num_classes
        k = width / 64
        ch = [input_nc] + [int(c * k) for c in (128, 128, 256, 256, 512, 512)]
        n = num_res_blocks
        self.body_down = nn.ModuleList(
            OASISResBlockD(ch[i], ch[i + 1], -1, first=i == 0, spectral=spectral) for i in range(n))
        up = [OASISResBlockD(ch[n], ch[n - 1], 1, spectral=spectral)]
        for i in range(1, n - 1):
            up.append(OASISResBlockD(2 * ch[n - i], ch[n - 1 - i], 1, spectral=spectral))
        up.append(OASISResBlockD(2 * ch[1], width, 1, spectral=spectral))
        self.body_up = nn.ModuleList(up)
        self.layer_up_last = nn.Conv2d(width, num_classes + 1, 1, 1, 0)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """image: (N, 3, H, W) -> logits (N, num_classes + 1, H, W)."""
        expect_channels(image, self.input_nc, "OASIS discriminator image")
        x, skips = image, []
        for block in self.body_down:
            x = block(x)
            skips.append(x)
        x = self.body_up[0](x)
        for i in range(1, len(self.body_down)):
            x = self.body_up[i](torch.cat([skips[-i - 1], x], 1))
        return self.layer_up_last(x)


@DISCRIMINATORS.register("oasis_unet")
@dataclass
class OASISDiscriminatorConfig:
    """Official OASIS D: 6 down + 6 up residual blocks, spectral norm, N + 1 outputs
    (N = the label channels, instance edge map excluded). width 64 is the official
    size (channels 128..512); smaller widths scale every channel."""

    width: int = 64
    num_res_blocks: int = 6
    spectral: bool = True
    # Its loss (bench.train.oasis): LabelMix weight (official 10 ADE20K / COCO-Stuff,
    # 5 Cityscapes; 0 turns it off) and the class-balanced real loss.
    lambda_labelmix: float = 10.0
    class_balance: bool = True

    def __post_init__(self):
        if self.width < 1:
            raise ValueError(f"width={self.width} must be >= 1")
        if self.lambda_labelmix < 0:
            raise ValueError(f"lambda_labelmix={self.lambda_labelmix} must be >= 0")

    def build(self, ctx: BuildContext) -> OASISDiscriminator:
        return OASISDiscriminator(ctx.label_nc, ctx.image_size, ctx.output_nc, width=self.width,
                                  num_res_blocks=self.num_res_blocks, spectral=self.spectral)
