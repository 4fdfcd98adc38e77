"""pix2pix baselines (Isola et al., CVPR 2017): U-Net generator and 70x70 PatchGAN.

The architecture follows junyanz/pytorch-CycleGAN-and-pix2pix (models/networks.py:
UnetGenerator, UnetSkipConnectionBlock, NLayerDiscriminator) layer for layer, with
the same module nesting, so parameter counts match to the unit and the official
state_dicts load unchanged (keys `model.model.0.weight`, ... and `model.0.weight`, ...).

Label input. pix2pix was published on facades with the colour-rendered label map as
input (3 channels). `label_input="color"` builds that: the trainer then feeds the
palette-coloured label map in [-1, 1] to G and D (the modules expose `label_input`).
`label_input="onehot"` takes the one-hot map (ctx.semantic_nc channels), as every
other model in the harness does.

Sizes. A U-Net with n downsamplings halves the image n times down to a 1x1 bottleneck
and concatenates each level with its mirror, so H and W must be multiples of 2**n:
256 for `pix2pix_unet256` (n=8), 128 for `pix2pix_unet128` (n=7). We register only
the two official depths (a "unet256" with fewer levels would be misnamed); a 64x64
smoke test is therefore impossible for them, see `min_size()`.

Initialisation: modules are built with PyTorch's defaults; the trainer applies the
official init (gaugan.init.init_pix2pix) per the run's `model.init`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from gaugan.registry import DISCRIMINATORS, GENERATORS, BuildContext

LabelInput = Literal["onehot", "color"]
COLOR_NC = 3  # the colour-rendered label map is an RGB image


def require_at_least(cfg: object, **minimums: int) -> None:
    """Config sanity check: each named field >= its minimum, else one clear ValueError."""
    for field, low in minimums.items():
        value = getattr(cfg, field)
        if value < low:
            raise ValueError(f"{type(cfg).__name__}.{field} must be >= {low}, got {value}")


def label_channels(label_input: str, ctx: BuildContext) -> int:
    return COLOR_NC if label_input == "color" else ctx.semantic_nc


# ------------------------------------------------------------------ U-Net generator


class UNetLevel(nn.Module):
    """One level of the U-Net, wrapping all deeper levels (`inner`).

        x -------------------------- identity -------------------------- x
          |-- LReLU, 4x4 s2 conv, norm -- inner -- ReLU, 4x4 s2 convT, norm --|  -> cat

    The outermost level has no skip (returns the image, tanh) and no norm/LReLU at
    its input; the innermost one has no inner level and no norm after its down conv.
    Bias only where no batch norm follows (the official `use_bias` rule).
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        inner: nn.Module | None = None,
        outermost: bool = False,
        norm: type[nn.Module] = nn.BatchNorm2d,
        use_dropout: bool = False,
    ):
        super().__init__()
        self.outermost = outermost
        use_bias = issubclass(norm, nn.InstanceNorm2d)
        input_nc = outer_nc if input_nc is None else input_nc
        down = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        if outermost:
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1)
            layers = [down, inner, nn.ReLU(True), up, nn.Tanh()]
        elif inner is None:  # innermost: 1x1 bottleneck, nothing to concatenate below
            up = nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, norm(outer_nc)]
        else:
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                norm(inner_nc),
                inner,
                nn.ReLU(True),
                up,
                norm(outer_nc),
            ]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # (N, outer_nc * 2, H, W)


class UNetGenerator(nn.Module):
    """(N, input_nc, H, W) label map -> (N, output_nc, H, W) image in [-1, 1].

    Widths from the bottleneck up: num_downs - 4 levels of 8*ngf (dropout 0.5 on the
    num_downs - 5 that are neither innermost nor next to 4*ngf), then 4, 2, 1 x ngf.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: type[nn.Module] = nn.BatchNorm2d,
        use_dropout: bool = True,
        label_input: str = "onehot",
    ):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"U-Net needs num_downs >= 5, got {num_downs}")
        self.num_downs = num_downs
        self.input_nc = input_nc  # label channels G takes (3 for the colour map)
        self.label_input = label_input  # what the trainer feeds: "onehot" or "color"
        level = UNetLevel(ngf * 8, ngf * 8, norm=norm)  # innermost
        for _ in range(num_downs - 5):
            level = UNetLevel(ngf * 8, ngf * 8, inner=level, norm=norm, use_dropout=use_dropout)
        level = UNetLevel(ngf * 4, ngf * 8, inner=level, norm=norm)
        level = UNetLevel(ngf * 2, ngf * 4, inner=level, norm=norm)
        level = UNetLevel(ngf, ngf * 2, inner=level, norm=norm)
        self.model = UNetLevel(
            output_nc, ngf, input_nc=input_nc, inner=level, outermost=True, norm=norm
        )

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        check_multiple(
            tuple(label.shape[-2:]), 2**self.num_downs, f"U-Net with {self.num_downs} downsamplings"
        )
        return self.model(label)


def check_multiple(size: tuple[int, int], multiple: int, what: str) -> None:
    h, w = size
    if h % multiple or w % multiple or h < multiple or w < multiple:
        raise ValueError(
            f"{what} needs image height and width that are multiples of {multiple} "
            f"(it halves the image down to a 1x1 bottleneck and concatenates each level "
            f"with its mirror); got {h}x{w}"
        )


@dataclass(frozen=True)
class _UNetConfig:
    ngf: int = 64
    label_input: LabelInput = "onehot"
    use_dropout: bool = True  # the official pix2pix default (no --no_dropout)
    num_downs: ClassVar[int]

    def __post_init__(self):
        require_at_least(self, ngf=1)

    def min_size(self) -> int:
        """Smallest square image side this architecture takes."""
        return 2**self.num_downs

    def build(self, ctx: BuildContext) -> UNetGenerator:
        name = type(self).arch  # type: ignore[attr-defined]  # set by the registry
        check_multiple(ctx.image_size, 2**self.num_downs, f"generator {name!r}")
        return UNetGenerator(
            input_nc=label_channels(self.label_input, ctx),
            output_nc=ctx.output_nc,
            num_downs=self.num_downs,
            ngf=self.ngf,
            use_dropout=self.use_dropout,
            label_input=self.label_input,
        )


@GENERATORS.register("pix2pix_unet256")
@dataclass(frozen=True)
class UNet256Config(_UNetConfig):
    num_downs: ClassVar[int] = 8


@GENERATORS.register("pix2pix_unet128")
@dataclass(frozen=True)
class UNet128Config(_UNetConfig):
    num_downs: ClassVar[int] = 7


# ------------------------------------------------------------------ PatchGAN


class PatchDiscriminator(nn.Module):
    """PatchGAN: n_layers stride-2 4x4 convs, one stride-1, then a 1-channel 4x4 conv.

    n_layers=3 gives the 70x70 receptive field. Input: label and image concatenated.
    """

    def __init__(
        self,
        label_nc: int,
        image_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: type[nn.Module] = nn.BatchNorm2d,
        label_input: str = "onehot",
    ):
        super().__init__()
        self.n_layers = n_layers
        self.label_nc = label_nc  # label channels in front of the image
        self.label_input = label_input
        use_bias = issubclass(norm, nn.InstanceNorm2d)
        layers: list[nn.Module] = [
            nn.Conv2d(label_nc + image_nc, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        ]
        nf = ndf
        for n in range(1, n_layers + 1):
            prev, nf = nf, ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1  # the last of these keeps the resolution
            layers += [
                nn.Conv2d(prev, nf, 4, stride=stride, padding=1, bias=use_bias),
                norm(nf),
                nn.LeakyReLU(0.2),
            ]
        layers.append(nn.Conv2d(nf, 1, 4, stride=1, padding=1))  # logits per patch
        self.model = nn.Sequential(*layers)  # same indices as the official `model`

    def min_size(self) -> int:
        # n_layers stride-2 convs floor-halve; the two stride-1 4x4 convs each remove one.
        return 3 * 2**self.n_layers

    def forward(self, label: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        """-> [[features after each LeakyReLU..., logits (N, 1, h, w)]]: one scale, the
        same shape of result as the multi-scale discriminators (last = prediction)."""
        check_min(
            tuple(image.shape[-2:]), self.min_size(), f"PatchGAN with n_layers {self.n_layers}"
        )
        x = torch.cat([label, image], 1)
        feats = []
        for layer in self.model:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(x)
        return [feats + [x]]


def check_min(size: tuple[int, int], smallest: int, what: str) -> None:
    h, w = size
    if h < smallest or w < smallest:
        raise ValueError(
            f"{what} needs images of at least {smallest}x{smallest} "
            f"(its output would be empty); got {h}x{w}"
        )


@DISCRIMINATORS.register("pix2pix_patch")
@dataclass(frozen=True)
class PatchGANConfig:
    ndf: int = 64
    n_layers: int = 3
    label_input: LabelInput = "onehot"  # must match the generator's

    def __post_init__(self):
        require_at_least(self, ndf=1, n_layers=1)

    def min_size(self) -> int:
        return 3 * 2**self.n_layers

    def build(self, ctx: BuildContext) -> PatchDiscriminator:
        check_min(
            ctx.image_size,
            self.min_size(),
            f"discriminator 'pix2pix_patch' (n_layers {self.n_layers})",
        )
        return PatchDiscriminator(
            label_nc=label_channels(self.label_input, ctx),
            image_nc=ctx.output_nc,
            ndf=self.ndf,
            n_layers=self.n_layers,
            label_input=self.label_input,
        )
