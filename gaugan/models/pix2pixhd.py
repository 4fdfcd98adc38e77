"""pix2pixHD baselines (Wang et al., CVPR 2018): global generator, local enhancer,
multi-scale discriminator.

Architecture, defaults and module nesting follow NVIDIA/pix2pixHD models/networks.py
(GlobalGenerator, LocalEnhancer, ResnetBlock, MultiscaleDiscriminator with
getIntermFeat), so parameter counts match to the unit and official state_dicts load
unchanged. Norm: the official `--norm instance`, i.e. InstanceNorm2d(affine=False).

Input: the one-hot label map plus the instance edge channel (ctx.semantic_nc; the
data set adds the edge map). The optional instance-wise feature encoder
(`--instance_feat` / `--label_feat`) is not implemented: it is off in the published
label-only configurations.

Coarse-to-fine (official schedule): train `pix2pixhd_global` (ngf 64) at half
resolution; build `pix2pixhd_local` (ngf 32, whose global part has ngf 64), load the
trained global weights with `load_global_state_dict`, train only
`outer_enhancer_parameters()` for niter_fix_global epochs, then everything jointly.

Initialisation: modules are built with PyTorch's defaults; the trainer applies the
official weights_init (gaugan.init.init_pix2pixhd) per the run's `model.init`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gaugan.layers.norms import ParamFreeInstanceNorm
from gaugan.models.pix2pix import require_at_least
from gaugan.registry import DISCRIMINATORS, GENERATORS, BuildContext


def check_generator_size(size: tuple[int, int], n_halvings: int, what: str) -> None:
    """Stride-2 convs then transposed convs restore the size only for multiples of
    2**n; the bottleneck's reflection padding (1) needs at least 2x2 there."""
    h, w = size
    multiple = 2**n_halvings
    if h % multiple or w % multiple or h < 2 * multiple or w < 2 * multiple:
        raise ValueError(
            f"{what} needs image height and width that are multiples of {multiple} "
            f"({n_halvings} halvings) and at least {2 * multiple} (a 2x2 bottleneck for its "
            f"reflection-padded resblocks); got {h}x{w}"
        )


class ResnetBlock(nn.Module):
    """x + [pad, 3x3 conv, norm, ReLU, pad, 3x3 conv, norm](x), reflection padding."""

    def __init__(self, dim: int, norm: type[nn.Module] = ParamFreeInstanceNorm):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def global_generator_layers(
    input_nc: int,
    output_nc: int,
    ngf: int,
    n_downsampling: int,
    n_blocks: int,
    norm: type[nn.Module],
) -> list[nn.Module]:
    """7x7 conv, n stride-2 3x3 convs (doubling), n_blocks resblocks, n 3x3 transposed
    convs (halving), 7x7 conv to the image, tanh. The last three entries are the
    output head that the local enhancer drops."""
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(input_nc, ngf, 7),
        norm(ngf),
        nn.ReLU(True),
    ]
    for i in range(n_downsampling):
        c = ngf * 2**i
        layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1), norm(c * 2), nn.ReLU(True)]
    layers += [ResnetBlock(ngf * 2**n_downsampling, norm) for _ in range(n_blocks)]
    for i in range(n_downsampling):
        c = ngf * 2 ** (n_downsampling - i)
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
            norm(c // 2),
            nn.ReLU(True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
    return layers


class GlobalGenerator(nn.Module):
    """(N, input_nc, H, W) label map -> (N, output_nc, H, W) image in [-1, 1]."""

    label_input = "onehot"

    def __init__(
        self,
        input_nc: int,
        output_nc: int = 3,
        ngf: int = 64,
        n_downsampling: int = 4,
        n_blocks: int = 9,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
    ):
        super().__init__()
        self.input_nc = input_nc
        self.n_downsampling = n_downsampling
        self.model = nn.Sequential(
            *global_generator_layers(input_nc, output_nc, ngf, n_downsampling, n_blocks, norm)
        )

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        check_generator_size(
            tuple(label.shape[-2:]), self.n_downsampling, "pix2pixHD global generator"
        )
        return self.model(label)


class LocalEnhancer(nn.Module):
    """Global generator (ngf * 2**n_local_enhancers, output head dropped) on the input
    downsampled n_local_enhancers times, refined by one enhancer per doubling:

        out_n = model{n}_2( model{n}_1(input at level n) + out_{n-1} )

    model{n}_1: 7x7 conv + stride-2 conv (front end); model{n}_2: resblocks, transposed
    conv, and for the outermost enhancer the 7x7 conv + tanh image head.
    """

    label_input = "onehot"

    def __init__(
        self,
        input_nc: int,
        output_nc: int = 3,
        ngf: int = 32,
        n_downsample_global: int = 4,
        n_blocks_global: int = 9,
        n_local_enhancers: int = 1,
        n_blocks_local: int = 3,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
    ):
        super().__init__()
        self.input_nc = input_nc
        self.n_local_enhancers = n_local_enhancers
        self.n_halvings = n_downsample_global + n_local_enhancers
        # What make_global_generator() rebuilds for the coarse stage.
        self._global_args = (
            input_nc,
            output_nc,
            ngf * 2**n_local_enhancers,
            n_downsample_global,
            n_blocks_global,
            norm,
        )
        self.model = nn.Sequential(*global_generator_layers(*self._global_args)[:-3])
        for n in range(1, n_local_enhancers + 1):
            c = ngf * 2 ** (n_local_enhancers - n)
            front = [
                nn.ReflectionPad2d(3),
                nn.Conv2d(input_nc, c, 7),
                norm(c),
                nn.ReLU(True),
                nn.Conv2d(c, c * 2, 3, stride=2, padding=1),
                norm(c * 2),
                nn.ReLU(True),
            ]
            back: list[nn.Module] = [ResnetBlock(c * 2, norm) for _ in range(n_blocks_local)]
            back += [
                nn.ConvTranspose2d(c * 2, c, 3, stride=2, padding=1, output_padding=1),
                norm(c),
                nn.ReLU(True),
            ]
            if n == n_local_enhancers:
                back += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
            setattr(self, f"model{n}_1", nn.Sequential(*front))
            setattr(self, f"model{n}_2", nn.Sequential(*back))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        check_generator_size(tuple(label.shape[-2:]), self.n_halvings, "pix2pixHD local enhancer")
        pyramid = [label]  # full resolution first
        for _ in range(self.n_local_enhancers):
            pyramid.append(self.downsample(pyramid[-1]))
        out = self.model(pyramid[-1])  # global features at the coarsest level
        for n in range(1, self.n_local_enhancers + 1):
            front, back = getattr(self, f"model{n}_1"), getattr(self, f"model{n}_2")
            out = back(front(pyramid[self.n_local_enhancers - n]) + out)
        return out

    # ---- coarse-to-fine training helpers

    def global_parameters(self) -> list[nn.Parameter]:
        """The global part (`model.*`): what load_global_state_dict fills."""
        return list(self.model.parameters())

    def outer_enhancer_parameters(self) -> list[nn.Parameter]:
        """What the official code trains during niter_fix_global (keys `model{L}_*`,
        L = n_local_enhancers); everything else stays fixed then."""
        L = self.n_local_enhancers
        return [
            *getattr(self, f"model{L}_1").parameters(),
            *getattr(self, f"model{L}_2").parameters(),
        ]

    def make_global_generator(self) -> GlobalGenerator:
        """A fresh global generator whose weights fit this enhancer's global part (for
        the coarse stage, run at 1/2**n_local_enhancers of the resolution)."""
        input_nc, output_nc, ngf, n_down, n_blocks, norm = self._global_args
        return GlobalGenerator(input_nc, output_nc, ngf, n_down, n_blocks, norm)

    def load_global_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Load a trained GlobalGenerator's state_dict (keys `model.<i>.*`) into the
        global part; its output head (the final 7x7 conv) has no counterpart and is
        skipped, as the official LocalEnhancer drops it."""
        n_kept = len(self.model)
        head = {f"model.{n_kept + 1}.weight", f"model.{n_kept + 1}.bias"}  # pad, conv, tanh
        part, unexpected = {}, []
        for key, value in state_dict.items():
            if key in head:
                continue
            if not key.startswith("model."):
                unexpected.append(key)
                continue
            part[key.removeprefix("model.")] = value
        if unexpected:
            raise ValueError(
                f"not a pix2pixHD global generator state_dict: unexpected keys {unexpected[:5]}"
            )
        try:
            self.model.load_state_dict(part, strict=True)
        except RuntimeError as e:
            raise ValueError(
                f"global generator weights do not fit this local enhancer (its global part has "
                f"ngf {self._global_args[2]}, {self._global_args[3]} downsamplings, "
                f"{self._global_args[4]} blocks): {e}"
            ) from None


@GENERATORS.register("pix2pixhd_global")
@dataclass(frozen=True)
class GlobalGeneratorConfig:
    ngf: int = 64
    n_downsampling: int = 4  # official --n_downsample_global default
    n_blocks: int = 9

    def __post_init__(self):
        require_at_least(self, ngf=1, n_downsampling=1, n_blocks=0)

    def min_size(self) -> int:
        return 2 * 2**self.n_downsampling

    def build(self, ctx: BuildContext) -> GlobalGenerator:
        check_generator_size(ctx.image_size, self.n_downsampling, "generator 'pix2pixhd_global'")
        return GlobalGenerator(
            ctx.semantic_nc, ctx.output_nc, self.ngf, self.n_downsampling, self.n_blocks
        )


@GENERATORS.register("pix2pixhd_local")
@dataclass(frozen=True)
class LocalEnhancerConfig:
    # Published Cityscapes 2048x1024 run: --netG local --ngf 32 (global part ngf 64).
    ngf: int = 32
    n_downsample_global: int = 4
    n_blocks_global: int = 9
    n_local_enhancers: int = 1
    n_blocks_local: int = 3

    def __post_init__(self):
        require_at_least(
            self,
            ngf=1,
            n_downsample_global=1,
            n_blocks_global=0,
            n_local_enhancers=1,
            n_blocks_local=0,
        )

    def min_size(self) -> int:
        return 2 * 2 ** (self.n_downsample_global + self.n_local_enhancers)

    def build(self, ctx: BuildContext) -> LocalEnhancer:
        check_generator_size(
            ctx.image_size,
            self.n_downsample_global + self.n_local_enhancers,
            "generator 'pix2pixhd_local'",
        )
        return LocalEnhancer(
            ctx.semantic_nc,
            ctx.output_nc,
            self.ngf,
            self.n_downsample_global,
            self.n_blocks_global,
            self.n_local_enhancers,
            self.n_blocks_local,
        )


# ------------------------------------------------------------------ discriminator


def patch_layers(
    input_nc: int, ndf: int, n_layers: int, norm: type[nn.Module]
) -> list[nn.Sequential]:
    """pix2pixHD's PatchGAN as n_layers + 2 groups (each group's output is a feature):
    4x4 convs with padding 2, n_layers of stride 2 (widths capped at 512), one of
    stride 1, then the 1-channel prediction. All convs have a bias."""
    groups = [
        nn.Sequential(nn.Conv2d(input_nc, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True))
    ]
    nf = ndf
    for n in range(1, n_layers + 1):
        prev, nf = nf, min(nf * 2, 512)
        stride = 2 if n < n_layers else 1
        groups.append(
            nn.Sequential(
                nn.Conv2d(prev, nf, 4, stride=stride, padding=2), norm(nf), nn.LeakyReLU(0.2, True)
            )
        )
    groups.append(nn.Sequential(nn.Conv2d(nf, 1, 4, stride=1, padding=2)))
    return groups


class MultiscaleDiscriminator(nn.Module):
    """num_D PatchGANs on the input average-pooled 0, 1, ... times (3x3, stride 2,
    count_include_pad=False). Parameters `scale{i}_layer{j}` as the official
    getIntermFeat layout; like it, the full-resolution input goes to scale num_D-1."""

    def __init__(
        self,
        label_nc: int,
        image_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        num_D: int = 2,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
    ):
        super().__init__()
        self.num_D, self.n_layers = num_D, n_layers
        self.label_nc = label_nc  # label channels in front of the image
        for i in range(num_D):
            for j, group in enumerate(patch_layers(label_nc + image_nc, ndf, n_layers, norm)):
                setattr(self, f"scale{i}_layer{j}", group)
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, label: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        """-> per scale (finest first) the n_layers + 2 outputs; the last is the prediction."""
        x = torch.cat([label, image], 1)
        result = []
        for i in range(self.num_D):
            scale = self.num_D - 1 - i
            feats, h = [], x
            for j in range(self.n_layers + 2):
                h = getattr(self, f"scale{scale}_layer{j}")(h)
                feats.append(h)
            result.append(feats)
            if i != self.num_D - 1:
                x = self.downsample(x)
        return result


@DISCRIMINATORS.register("pix2pixhd_multiscale")
@dataclass(frozen=True)
class MultiscaleDiscriminatorConfig:
    ndf: int = 64
    n_layers: int = 3
    num_D: int = 2  # official --num_D default (the published 2048x1024 run uses 3)

    def __post_init__(self):
        require_at_least(self, ndf=1, n_layers=1, num_D=1)

    def min_size(self) -> int:
        # Padding 2 never shrinks a map below 1x1, but instance norm needs more than one
        # pixel: the coarsest scale's input must be at least 2x2.
        return 2**self.num_D

    def build(self, ctx: BuildContext) -> MultiscaleDiscriminator:
        h, w = ctx.image_size
        if min(h, w) < self.min_size():
            raise ValueError(
                f"discriminator 'pix2pixhd_multiscale' (num_D {self.num_D}) needs images of at "
                f"least {self.min_size()}x{self.min_size()}; got {h}x{w}"
            )
        return MultiscaleDiscriminator(
            ctx.semantic_nc, ctx.output_nc, self.ndf, self.n_layers, self.num_D
        )
