"""VAE image encoder of GauGAN (official ConvEncoder): image -> (mu, logvar) of q(z|x).

The image is first resized (bilinear) to resize_to x resize_to (official: always
256x256, whatever the image size or aspect ratio), then six stride-2 3x3 convs
(ngf, 2, 4, 8, 8, 8 x ngf channels), each followed by instance norm and
LeakyReLU(0.2), bring it to s0 x s0 with s0 = resize_to / 64 (official: 4). Two linear
heads map the flattened 8ngf * s0 * s0 features to mu and logvar (z_dim each).

Official norm_E is 'spectralinstance': spectral norm on each conv, and the conv
bias is dropped because the following instance norm would cancel it.
Official state_dict names: layer1..layer6 (each Sequential(conv, norm)), fc_mu, fc_var.
The official code also has a 5-layer branch for crop_size < 256 which does not fit
its own 4x4 heads; we do not reproduce it (resize_to sets the depth-6 geometry).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.layers.spectral import maybe_spectral
from gaugan.registry import ENCODERS, BuildContext

NUM_LAYERS = 6


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I), sigma = exp(logvar / 2)."""
    std = torch.exp(0.5 * logvar)
    return mu + std * torch.randn_like(std)


class ConvEncoder(nn.Module):
    def __init__(
        self,
        ngf: int = 64,
        z_dim: int = 256,
        resize_to: int = 256,
        spectral: bool = True,
        input_nc: int = 3,
    ):
        super().__init__()
        self.resize_to = resize_to
        self.s0 = resize_to // 2**NUM_LAYERS
        widths = [input_nc] + [ngf * m for m in (1, 2, 4, 8, 8, 8)]
        for i in range(NUM_LAYERS):
            conv = nn.Conv2d(widths[i], widths[i + 1], 3, stride=2, padding=1, bias=False)
            norm = nn.InstanceNorm2d(widths[i + 1], affine=False)
            self.add_module(f"layer{i + 1}", nn.Sequential(maybe_spectral(conv, spectral), norm))
        feat = ngf * 8 * self.s0 * self.s0
        self.fc_mu = nn.Linear(feat, z_dim)
        self.fc_var = nn.Linear(feat, z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image: (N, 3, H, W) in [-1, 1] -> mu, logvar: (N, z_dim) each."""
        x = image
        if x.shape[2:] != (self.resize_to, self.resize_to):
            x = F.interpolate(
                x, size=(self.resize_to, self.resize_to), mode="bilinear", align_corners=False
            )
        for i in range(NUM_LAYERS):
            x = F.leaky_relu(getattr(self, f"layer{i + 1}")(x), 0.2)
        x = x.flatten(1)
        return self.fc_mu(x), self.fc_var(x)


@ENCODERS.register("conv_vae")
@dataclass
class ConvEncoderConfig:
    ngf: int = 64
    z_dim: int = 256  # must equal the generator's z_dim
    resize_to: int = 256  # official: 256; a multiple of 64, >= 128
    spectral: bool = True

    def __post_init__(self):
        if self.resize_to < 128 or self.resize_to % 64:
            raise ValueError(
                f"resize_to={self.resize_to} must be a multiple of 64 and >= 128 (six "
                f"stride-2 convs bring it to resize_to / 64, which instance norm needs > 1)"
            )
        for key in ("ngf", "z_dim"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}={getattr(self, key)} must be >= 1")

    def build(self, ctx: BuildContext) -> ConvEncoder:
        return ConvEncoder(
            ngf=self.ngf,
            z_dim=self.z_dim,
            resize_to=self.resize_to,
            spectral=self.spectral,
            input_nc=ctx.output_nc,
        )
