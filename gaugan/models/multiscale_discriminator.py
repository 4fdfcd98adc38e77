"""GauGAN's multi-scale PatchGAN discriminator (official MultiscaleDiscriminator with
NLayerDiscriminator subnets), returning every intermediate feature for feature matching.

Each scale k sees the input average-pooled k times (3x3, stride 2, padding 1,
count_include_pad=False). One scale, n_layers = 4, nf = ndf:

    model0  4x4 conv s2  in -> nf            + bias, LeakyReLU(0.2)   (no norm, no spectral)
    model1  4x4 conv s2  nf -> 2nf           norm, LeakyReLU(0.2)
    model2  4x4 conv s2  2nf -> 4nf          norm, LeakyReLU(0.2)
    model3  4x4 conv s1  4nf -> 8nf          norm, LeakyReLU(0.2)    (last middle layer: stride 1)
    model4  4x4 conv s1  8nf -> 1            + bias                   (the patch prediction)

Widths are capped at 512; padding is 2 (ceil((4 - 1) / 2)), as official. "norm" on a
middle layer is the official norm_D 'spectralinstance': spectral norm on the conv, no
conv bias (the norm cancels it), then instance norm without affine. Official names:
discriminator_<k>.model<j>.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.layers.spectral import maybe_spectral
from gaugan.models.checks import expect_channels
from gaugan.registry import DISCRIMINATORS, BuildContext

NORMS = ("instance", "batch", "none")


class NLayerDiscriminator(nn.Module):
    def __init__(
        self,
        input_nc: int,
        ndf: int = 64,
        n_layers: int = 4,
        norm: str = "instance",
        spectral: bool = True,
    ):
        super().__init__()
        kw, pad = 4, 2
        layers = [[nn.Conv2d(input_nc, ndf, kw, stride=2, padding=pad), nn.LeakyReLU(0.2)]]
        nf = ndf
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            conv = nn.Conv2d(nf_prev, nf, kw, stride=stride, padding=pad, bias=norm == "none")
            layer: list[nn.Module] = [maybe_spectral(conv, spectral)]
            if norm == "instance":
                layer.append(nn.InstanceNorm2d(nf, affine=False))
            elif norm == "batch":  # official 'batch' in D is affine
                layer.append(nn.BatchNorm2d(nf, affine=True))
            # Official wraps (conv, norm) in its own Sequential: keep the nesting for names.
            block = nn.Sequential(*layer) if norm != "none" else layer[0]
            layers.append([block, nn.LeakyReLU(0.2)])
        layers.append([nn.Conv2d(nf, 1, kw, stride=1, padding=pad)])
        for j, layer in enumerate(layers):
            self.add_module(f"model{j}", nn.Sequential(*layer))

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> list[torch.Tensor]:
        """x: (N, C, H, W) -> output of every group; the last is the (N, 1, h, w) prediction.

        With `label` (N / r, L, H, W): x holds only the image channels of r equal groups
        that share that label map, and the first conv sees cat([label, x]) through
        shared_label_conv."""
        feats = []
        for j, module in enumerate(self.children()):
            if j == 0 and label is not None:
                conv, act = module
                x = act(shared_label_conv(conv, label, x))
            else:
                x = module(x)
            feats.append(x)
        return feats


def shared_label_conv(conv: nn.Conv2d, label: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """conv(cat([label repeated r times, image], channels)) without the repeat or the cat.

    label (N, L, H, W), image (r*N, 3, H, W) -> (r*N, out, h, w). The conv is linear in
    its input channels, so it splits into the label part, computed once for the r groups
    (fake and real share it), plus the image part. For GauGAN's D on 151 labels the label
    part is most of the first layer, the largest conv of D; its input gradient (never
    needed: label maps take no gradient) is no longer computed either. Same math, other
    rounding (two sums, then one add), so speed modes only (MultiscaleDiscriminator)."""
    nl = label.shape[1]
    w = conv.weight  # (out, L + 3, k, k): label channels first, as in cat([label, image])
    y = conv._conv_forward(image, w[:, nl:], conv.bias)  # (r*N, out, h, w)
    y_label = conv._conv_forward(label, w[:, :nl], None)  # (N, out, h, w)
    return (y.unflatten(0, (-1, y_label.shape[0])) + y_label).flatten(0, 1)


def _pool(x: torch.Tensor) -> torch.Tensor:
    """The official downsampling between scales."""
    return F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)


class MultiscaleDiscriminator(nn.Module):
    takes_shared_label = True  # label may be one map per group of images (objective.py)

    def __init__(
        self,
        input_nc: int,
        num_D: int = 2,
        n_layers: int = 4,
        ndf: int = 64,
        norm: str = "instance",
        spectral: bool = True,
    ):
        super().__init__()
        self.input_nc = input_nc  # label channels + image channels
        # Speed modes set this (bench.train.speed.prepare): first convs via shared_label_conv.
        self.share_label_conv = False
        for k in range(num_D):
            self.add_module(
                f"discriminator_{k}", NLayerDiscriminator(input_nc, ndf, n_layers, norm, spectral)
            )

    def forward(self, label: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        """label: (N, semantic_nc, H, W) one-hot; image: (N, 3, H, W) in [-1, 1], or
        (r*N, 3, H, W): r groups of N images, each group with the same label maps (the
        SPADE objective's one call on cat([fake, real])).

        Returns one list per scale (finest first) of intermediate features; the last
        entry of each list is that scale's patch prediction.
        """
        r, rest = divmod(image.shape[0], label.shape[0])
        if rest or r == 0:
            raise ValueError(f"multi-scale discriminator: {image.shape[0]} images for "
                             f"{label.shape[0]} label maps (need a multiple)")
        expect_channels(label, self.input_nc - image.shape[1],
                        "multi-scale discriminator label+image (its label map)")
        if not self.share_label_conv:  # the official input: one cat, label repeated
            image, label = torch.cat([torch.cat([label] * r) if r > 1 else label, image], 1), None
        out = []
        for k, d in enumerate(self.children()):
            if k > 0:  # pooling is per channel: pooling the parts = pooling their cat
                image = _pool(image)
                label = None if label is None else _pool(label)
            out.append(d(image, label))
        return out


@DISCRIMINATORS.register("spade_multiscale")
@dataclass
class MultiscaleDiscriminatorConfig:
    num_D: int = 2
    n_layers: int = 4
    ndf: int = 64
    spectral: bool = True
    norm: str = "instance"  # instance | batch | none  (official norm_D 'spectralinstance')

    def __post_init__(self):
        if self.norm not in NORMS:
            raise ValueError(f"norm={self.norm!r} is not valid; valid: {', '.join(NORMS)}")
        for key in ("num_D", "n_layers", "ndf"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}={getattr(self, key)} must be >= 1")

    def build(self, ctx: BuildContext) -> MultiscaleDiscriminator:
        return MultiscaleDiscriminator(
            ctx.semantic_nc + ctx.output_nc,
            self.num_D,
            self.n_layers,
            self.ndf,
            self.norm,
            self.spectral,
        )
