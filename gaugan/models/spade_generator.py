"""GauGAN generator (Park et al., 2019): SPADE residual blocks on a coarse-to-fine decoder.

Layout (official names; nf = ngf; "up" is 2x nearest upsampling):

    fc          label map resized to (sh, sw) -> 3x3 conv -> 16nf     (no VAE)
                or z (z_dim) -> Linear -> 16nf * sh * sw, reshaped     (VAE)
    head_0      16nf -> 16nf                  at (sh, sw)
    up, G_middle_0 16nf -> 16nf
    [up if more/most], G_middle_1 16nf -> 16nf
    up, up_0 16nf -> 8nf;  up, up_1 8nf -> 4nf;  up, up_2 4nf -> 2nf;  up, up_3 2nf -> nf
    [most: up, up_4 nf -> nf/2]
    conv_img    LeakyReLU(0.2) -> 3x3 conv -> output_nc -> tanh

So the image is (sh, sw) * 2**num_up with num_up = 5 / 6 / 7 for normal / more / most.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.kernels.backend import BACKENDS
from gaugan.layers.norms import PARAM_FREE_NORMS
from gaugan.layers.spade_resblock import LRELU_SLOPE, SPADEResBlock
from gaugan.models.checks import expect_channels
from gaugan.registry import GENERATORS, BuildContext

NUM_UP = {"normal": 5, "more": 6, "most": 7}


def _check_choice(key: str, value: str, valid) -> None:
    if value not in valid:
        raise ValueError(f"{key}={value!r} is not valid; valid: {', '.join(valid)}")


def latent_size(image_size: tuple[int, int], num_upsampling_layers: str) -> tuple[int, int]:
    """(sh, sw): the bottom resolution for an (H, W) image.

    The official code computes sw = crop_size // 2**num_up and sh = round(sw / aspect),
    which silently yields a different image size when W or H is not divisible by
    2**num_up; here that is an error instead.
    """
    h, w = image_size
    n = NUM_UP[num_upsampling_layers]
    if h % 2**n or w % 2**n:
        raise ValueError(
            f"image size {h}x{w} (HxW) cannot be produced with num_upsampling_layers="
            f"{num_upsampling_layers!r}: H and W must be multiples of 2**{n} = {2**n}"
        )
    return h // 2**n, w // 2**n


class SPADEGenerator(nn.Module):
    def __init__(
        self,
        semantic_nc: int,
        image_size: tuple[int, int],
        output_nc: int = 3,
        ngf: int = 64,
        num_upsampling_layers: str = "normal",
        norm: type[nn.Module] = PARAM_FREE_NORMS["syncbatch"],
        spectral: bool = True,
        spade_hidden: int = 128,
        spade_kernel: int = 3,
        use_vae: bool = False,
        z_dim: int = 256,
        backend: str = "eager",
    ):
        super().__init__()
        self.semantic_nc = semantic_nc
        _check_choice("num_upsampling_layers", num_upsampling_layers, tuple(NUM_UP))
        self.num_upsampling_layers = num_upsampling_layers
        self.sh, self.sw = latent_size(image_size, num_upsampling_layers)
        self.ngf, self.use_vae, self.z_dim = ngf, use_vae, z_dim
        nf = ngf

        if use_vae:
            self.fc = nn.Linear(z_dim, 16 * nf * self.sh * self.sw)
        else:
            self.fc = nn.Conv2d(semantic_nc, 16 * nf, 3, padding=1)

        def block(fin: int, fout: int) -> SPADEResBlock:
            return SPADEResBlock(
                fin,
                fout,
                semantic_nc,
                norm=norm,
                spectral=spectral,
                spade_hidden=spade_hidden,
                spade_kernel=spade_kernel,
                backend=backend,
            )

        self.blocks = decoder_blocks(nf, num_upsampling_layers)
        for name, fin, fout, _ in self.blocks:
            self.add_module(name, block(fin, fout))
        self.conv_img = nn.Conv2d(self.blocks[-1][2], output_nc, 3, padding=1)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """seg: (N, semantic_nc, H, W) one-hot map; z: (N, z_dim) or None -> (N, 3, H, W).

        With use_vae and z None, z is drawn from N(0, I) (as official: random style).
        """
        expect_channels(seg, self.semantic_nc, "SPADE generator label map")
        if self.use_vae:
            if z is None:
                z = torch.randn(seg.shape[0], self.z_dim, device=seg.device, dtype=seg.dtype)
            x = self.fc(z).view(-1, 16 * self.ngf, self.sh, self.sw)
        else:
            x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode="nearest"))

        for name, _, _, upsample in self.blocks:
            x = getattr(self, name)(_up(x) if upsample else x, seg)
        return torch.tanh(self.conv_img(F.leaky_relu(x, LRELU_SLOPE)))


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


def decoder_blocks(ngf: int, num_upsampling_layers: str) -> list[tuple[str, int, int, bool]]:
    """(name, fin, fout, upsample first) of the decoder's residual blocks, bottom to top.

    Official names and widths (16, 16, 16, 8, 4, 2, 1) x ngf; G_middle_1 upsamples only
    with 'more'/'most', and 'most' adds up_4 at ngf/2. Shared by the Concat decoder.
    """
    more = num_upsampling_layers in ("more", "most")
    nf = ngf
    blocks = [
        ("head_0", 16 * nf, 16 * nf, False),
        ("G_middle_0", 16 * nf, 16 * nf, True),
        ("G_middle_1", 16 * nf, 16 * nf, more),
        ("up_0", 16 * nf, 8 * nf, True),
        ("up_1", 8 * nf, 4 * nf, True),
        ("up_2", 4 * nf, 2 * nf, True),
        ("up_3", 2 * nf, nf, True),
    ]
    if num_upsampling_layers == "most":
        blocks.append(("up_4", nf, nf // 2, True))
    return blocks


@GENERATORS.register("spade")
@dataclass
class SPADEGeneratorConfig:
    """Official default norm_G is 'spectralspadesyncbatch3x3': spectral=True,
    norm='syncbatch', spade_kernel=3. Sync-batch norm equals batch norm on one process."""

    ngf: int = 64
    num_upsampling_layers: str = "normal"  # normal | more | most
    norm: str = "syncbatch"  # key of gaugan.layers.norms.PARAM_FREE_NORMS
    spectral: bool = True
    spade_hidden: int = 128
    spade_kernel: int = 3
    use_vae: bool = False
    z_dim: int = 256
    backend: str = "eager"  # eager | compile | triton | auto (gaugan.kernels)

    def __post_init__(self):
        _check_choice("num_upsampling_layers", self.num_upsampling_layers, tuple(NUM_UP))
        _check_choice("norm", self.norm, tuple(PARAM_FREE_NORMS))
        _check_choice("backend", self.backend, BACKENDS)
        if self.spade_kernel % 2 != 1 or self.spade_kernel < 1:
            raise ValueError(f"spade_kernel={self.spade_kernel} must be a positive odd number")
        for key in ("ngf", "spade_hidden", "z_dim"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}={getattr(self, key)} must be >= 1")

    def build(self, ctx: BuildContext) -> SPADEGenerator:
        return SPADEGenerator(
            semantic_nc=ctx.semantic_nc,
            image_size=ctx.image_size,
            output_nc=ctx.output_nc,
            ngf=self.ngf,
            num_upsampling_layers=self.num_upsampling_layers,
            norm=PARAM_FREE_NORMS[self.norm],
            spectral=self.spectral,
            spade_hidden=self.spade_hidden,
            spade_kernel=self.spade_kernel,
            use_vae=self.use_vae,
            z_dim=self.z_dim,
            backend=self.backend,
        )
