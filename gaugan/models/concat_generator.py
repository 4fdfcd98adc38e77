"""The "Concat" / instance-norm baseline: GauGAN's decoder with SPADE replaced by plain
instance norm, the label map fed at the input only (the 3x3 conv on the downsampled map).

It is the model the SPADE paper argues against (Sec. 3.1): a label map that enters
only through conv -> norm loses its information where it is uniform, because
instance norm subtracts the (uniform) mean. Block layout, widths, spectral norm and
upsampling schedule are those of SPADEGenerator, so the two differ only in the norm.

Choices:
- Instance norm without affine parameters, as the official non-SPADE norm layers
  (get_nonspade_norm_layer 'instance') and pix2pixHD: the comparison then isolates
  the learned modulation, with no unconditional scale/shift in its place.
- The input conv pads by replicating the border instead of with zeros. With zero
  padding a uniform map gives a non-uniform conv output at the border, so class
  identity would leak through a padding artifact; with replicate padding the conv is
  translation-equivariant, as the chapter's argument assumes. Same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.layers.norms import ParamFreeInstanceNorm
from gaugan.layers.spade_resblock import LRELU_SLOPE
from gaugan.layers.spectral import maybe_spectral
from gaugan.models.checks import expect_channels
from gaugan.models.spade_generator import (
    NUM_UP,
    _check_choice,
    _up,
    decoder_blocks,
    latent_size,
)
from gaugan.registry import GENERATORS, BuildContext


class NormResBlock(nn.Module):
    """SPADEResBlock with each SPADE replaced by a label-independent norm (same names)."""

    def __init__(self, fin: int, fout: int, norm: type[nn.Module], spectral: bool):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmid = min(fin, fout)
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmid, 3, padding=1), spectral)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmid, fout, 3, padding=1), spectral)
        self.norm_0, self.norm_1 = norm(fin), norm(fmid)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), spectral)
            self.norm_s = norm(fin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x), LRELU_SLOPE))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx), LRELU_SLOPE))
        return x_s + dx


class ConcatGenerator(nn.Module):
    def __init__(
        self,
        semantic_nc: int,
        image_size: tuple[int, int],
        output_nc: int = 3,
        ngf: int = 64,
        num_upsampling_layers: str = "normal",
        spectral: bool = True,
    ):
        super().__init__()
        self.semantic_nc = semantic_nc
        _check_choice("num_upsampling_layers", num_upsampling_layers, tuple(NUM_UP))
        self.num_upsampling_layers = num_upsampling_layers
        self.sh, self.sw = latent_size(image_size, num_upsampling_layers)
        nf = ngf
        self.fc = nn.Conv2d(semantic_nc, 16 * nf, 3, padding=1, padding_mode="replicate")

        def block(fin: int, fout: int) -> NormResBlock:
            return NormResBlock(fin, fout, ParamFreeInstanceNorm, spectral)

        self.blocks = decoder_blocks(nf, num_upsampling_layers)
        for name, fin, fout, _ in self.blocks:
            self.add_module(name, block(fin, fout))
        self.conv_img = nn.Conv2d(self.blocks[-1][2], output_nc, 3, padding=1)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """seg: (N, semantic_nc, H, W) one-hot map -> (N, 3, H, W). z is not used
        (accepted so every generator has the same call signature)."""
        expect_channels(seg, self.semantic_nc, "Concat generator label map")
        x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode="nearest"))
        for name, _, _, upsample in self.blocks:
            x = getattr(self, name)(_up(x) if upsample else x)
        return torch.tanh(self.conv_img(F.leaky_relu(x, LRELU_SLOPE)))


@GENERATORS.register("concat")
@dataclass
class ConcatGeneratorConfig:
    ngf: int = 64
    num_upsampling_layers: str = "normal"  # normal | more | most
    spectral: bool = True

    def __post_init__(self):
        _check_choice("num_upsampling_layers", self.num_upsampling_layers, tuple(NUM_UP))
        if self.ngf < 1:
            raise ValueError(f"ngf={self.ngf} must be >= 1")

    def build(self, ctx: BuildContext) -> ConcatGenerator:
        return ConcatGenerator(
            semantic_nc=ctx.semantic_nc,
            image_size=ctx.image_size,
            output_nc=ctx.output_nc,
            ngf=self.ngf,
            num_upsampling_layers=self.num_upsampling_layers,
            spectral=self.spectral,
        )
