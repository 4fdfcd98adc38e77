"""CLADE generator (Tan et al., TPAMI 2021): the GauGAN generator with CLADE in place of SPADE.

Same decoder as gaugan.models.spade_generator (official names fc, head_0, G_middle_0/1,
up_0..up_3 [up_4], conv_img; widths 16,16,16,8,4,2,1 x ngf; 'normal'/'more'/'most'),
each resblock's SPADE replaced by CLADE (gaugan.layers.clade): per-class gamma/beta
tables of size (classes incl. don't-care) x C, no conv branch. The first layer is the
same 3x3 conv of the downsampled label map (all semantic_nc channels, the instance
edge map included). With an instance edge map, each CLADE layer appends a 1x1-conv
feature of the edges, so every resblock conv takes one more input (official
SPADEResnetBlock add_channels). "clade_icpe" adds the intra-class positional encoding,
computed from the label map at the input resolution (gaugan.layers.clade.icpe_map).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.kernels.backend import BACKENDS
from gaugan.layers.clade import LRELU_SLOPE, CLADEResBlock, icpe_map
from gaugan.layers.norms import PARAM_FREE_NORMS
from gaugan.models.checks import expect_channels
from gaugan.models.spade_generator import NUM_UP, _check_choice, _up, decoder_blocks, latent_size
from gaugan.registry import GENERATORS, BuildContext


class CLADEGenerator(nn.Module):
    def __init__(
        self,
        semantic_nc: int,
        image_size: tuple[int, int],
        output_nc: int = 3,
        ngf: int = 64,
        num_upsampling_layers: str = "normal",
        norm: type[nn.Module] = PARAM_FREE_NORMS["syncbatch"],
        spectral: bool = True,
        icpe: bool = False,
        instance_channel: bool = False,
        backend: str = "eager",
    ):
        super().__init__()
        self.semantic_nc, self.icpe, self.instance_channel = semantic_nc, icpe, instance_channel
        self.label_nc = semantic_nc - (1 if instance_channel else 0)
        self.sh, self.sw = latent_size(image_size, num_upsampling_layers)
        self.fc = nn.Conv2d(semantic_nc, 16 * ngf, 3, padding=1)
        self.blocks = decoder_blocks(ngf, num_upsampling_layers)
        for name, fin, fout, _ in self.blocks:
            self.add_module(name, CLADEResBlock(fin, fout, self.label_nc, norm=norm, spectral=spectral,
                                                icpe=icpe, instance_channel=instance_channel,
                                                backend=backend))
        self.conv_img = nn.Conv2d(self.blocks[-1][2], output_nc, 3, padding=1)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                dist: torch.Tensor | None = None) -> torch.Tensor:
        """seg: (N, semantic_nc, H, W) one-hot (+ edges) -> (N, 3, H, W). dist: the ICPE map
        (N, 2, H, W); computed from seg when None (ICPE only). z is not used (no VAE)."""
        expect_channels(seg, self.semantic_nc, "CLADE generator label map")
        if self.icpe and dist is None:
            if seg.device.type == "meta":  # shapes only (bench inspect): no labels to read
                dist = seg.new_zeros(seg.shape[0], 2, *seg.shape[2:])
            else:
                dist = icpe_map(seg[:, : self.label_nc].argmax(1)).to(seg.dtype)
        x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode="nearest"))
        for name, _, _, upsample in self.blocks:
            x = getattr(self, name)(_up(x) if upsample else x, seg, dist)
        return torch.tanh(self.conv_img(F.leaky_relu(x, LRELU_SLOPE)))


@GENERATORS.register("clade")
@dataclass
class CLADEGeneratorConfig:
    """Official CLADE (tzt101/CLADE, --norm_mode clade): norm_G spectralspadesyncbatch3x3,
    ngf 64; the instance edge channel follows the data (data.use_instance)."""

    ngf: int = 64
    num_upsampling_layers: str = "normal"  # normal | more | most
    norm: str = "syncbatch"  # key of gaugan.layers.norms.PARAM_FREE_NORMS
    spectral: bool = True
    backend: str = "eager"  # eager | compile | triton | auto (gaugan.kernels)

    icpe = False  # class attribute: "clade_icpe" sets it

    def __post_init__(self):
        _check_choice("num_upsampling_layers", self.num_upsampling_layers, tuple(NUM_UP))
        _check_choice("norm", self.norm, tuple(PARAM_FREE_NORMS))
        _check_choice("backend", self.backend, BACKENDS)
        if self.ngf < 1:
            raise ValueError(f"ngf={self.ngf} must be >= 1")

    def build(self, ctx: BuildContext) -> CLADEGenerator:
        return CLADEGenerator(
            semantic_nc=ctx.semantic_nc, image_size=ctx.image_size, output_nc=ctx.output_nc,
            ngf=self.ngf, num_upsampling_layers=self.num_upsampling_layers,
            norm=PARAM_FREE_NORMS[self.norm], spectral=self.spectral, icpe=self.icpe,
            instance_channel=ctx.use_instance, backend=self.backend)


@GENERATORS.register("clade_icpe")
@dataclass
class CLADEICPEGeneratorConfig(CLADEGeneratorConfig):
    """CLADE with the intra-class positional encoding (official --add_dist)."""

    icpe = True
