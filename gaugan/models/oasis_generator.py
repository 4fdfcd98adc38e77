"""OASIS generator (Sushko et al., ICLR 2021): SPADE resblocks, 3D noise, no encoder.

As boschresearch/OASIS models/generator.py (official names fc, body.0..body.5, conv_img):
    z ~ N(0, I) of z_dim (64) per image, broadcast over H x W and concatenated in front
    of the one-hot label map ("3D noise": seg' = cat(z, seg), semantic_nc + z_dim channels)
    fc        seg' resized (nearest) to (sh, sw) -> 3x3 conv -> 16 ch
    body.i    SPADE resblock conditioned on seg' (SPADE hidden 128, spectral norm on the
              block convs), widths 16,16,16,8,4,2,1 x ch; 2x nearest upsampling after
              every block but the last
    conv_img  LeakyReLU(0.2) -> 3x3 conv -> 3 -> tanh
(sh, sw) = (H, W) / 2**(num_res_blocks - 1): 8x8 for 256x256 with 6 blocks. Official
defaults: channels_G 64, num_res_blocks 6, z_dim 64, param_free_norm syncbatch, spade_ks 3.
The official SPADE names its param-free norm `first_norm`; ours is `param_free_norm`
(the norm has no parameters; only sync-batch running-stat buffers are renamed).
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
from gaugan.models.spade_generator import _check_choice
from gaugan.registry import GENERATORS, BuildContext


def oasis_widths(ch: int, num_res_blocks: int) -> list[int]:
    """Channels before/after each block: [16,16,16,8,4,2,1] x ch for 6 blocks (official
    list; fewer blocks take its last num_res_blocks + 1 entries, ending at ch)."""
    full = [16, 16, 16, 8, 4, 2, 1]
    if not 1 <= num_res_blocks <= 6:
        raise ValueError(f"num_res_blocks={num_res_blocks} must be in 1..6 (official widths)")
    return [m * ch for m in full[-num_res_blocks - 1:]]


class OASISGenerator(nn.Module):
    def __init__(self, semantic_nc: int, image_size: tuple[int, int], output_nc: int = 3,
                 ch: int = 64, num_res_blocks: int = 6, z_dim: int = 64,
                 norm: type[nn.Module] = PARAM_FREE_NORMS["syncbatch"], spectral: bool = True,
                 spade_hidden: int = 128, spade_kernel: int = 3, backend: str = "eager"):
        super().__init__()
        self.semantic_nc, self.z_dim, self.num_res_blocks = semantic_nc, z_dim, num_res_blocks
        h, w = image_size
        f = 2 ** (num_res_blocks - 1)
        if h % f or w % f:
            raise ValueError(f"image size {h}x{w} (HxW) needs H and W multiples of 2**"
                             f"(num_res_blocks - 1) = {f}")
        self.sh, self.sw = h // f, w // f
        widths = oasis_widths(ch, num_res_blocks)
        cond_nc = semantic_nc + z_dim
        self.fc = nn.Conv2d(cond_nc, widths[0], 3, padding=1)
        self.body = nn.ModuleList(
            SPADEResBlock(widths[i], widths[i + 1], cond_nc, norm=norm, spectral=spectral,
                          spade_hidden=spade_hidden, spade_kernel=spade_kernel, backend=backend)
            for i in range(num_res_blocks))
        self.conv_img = nn.Conv2d(widths[-1], output_nc, 3, padding=1)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """seg: (N, semantic_nc, H, W) one-hot; z: (N, z_dim) or None (drawn from N(0, I),
        as the official forward always does) -> (N, 3, H, W)."""
        expect_channels(seg, self.semantic_nc, "OASIS generator label map")
        if self.z_dim > 0:
            if z is None:
                z = torch.randn(seg.shape[0], self.z_dim, device=seg.device, dtype=seg.dtype)
            z = z.view(z.shape[0], self.z_dim, 1, 1).expand(-1, -1, *seg.shape[2:])
            seg = torch.cat([z, seg], 1)
        x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode="nearest"))
        for i, block in enumerate(self.body):
            x = block(x, seg)
            if i < self.num_res_blocks - 1:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
        return torch.tanh(self.conv_img(F.leaky_relu(x, LRELU_SLOPE)))


@GENERATORS.register("oasis")
@dataclass
class OASISGeneratorConfig:
    """Official OASIS defaults (config.py): channels_G 64, num_res_blocks 6, z_dim 64
    (0 = the --no_3dnoise ablation), syncbatch param-free norm, spade_ks 3, spectral norm."""

    ch: int = 64
    num_res_blocks: int = 6
    z_dim: int = 64
    norm: str = "syncbatch"
    spectral: bool = True
    spade_hidden: int = 128
    spade_kernel: int = 3
    backend: str = "eager"
    # Decay of the EMA generator that evaluation uses (bench.train.oasis); official 0.9999
    # (ADE20K, COCO-Stuff), 0.999 (Cityscapes); 0 = no EMA (official --no_EMA).
    ema_decay: float = 0.9999

    def __post_init__(self):
        _check_choice("norm", self.norm, tuple(PARAM_FREE_NORMS))
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay={self.ema_decay} must be in [0, 1)")
        _check_choice("backend", self.backend, BACKENDS)
        oasis_widths(1, self.num_res_blocks)
        for key in ("ch", "spade_hidden"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}={getattr(self, key)} must be >= 1")
        if self.z_dim < 0:
            raise ValueError(f"z_dim={self.z_dim} must be >= 0")

    def build(self, ctx: BuildContext) -> OASISGenerator:
        return OASISGenerator(ctx.semantic_nc, ctx.image_size, ctx.output_nc, ch=self.ch,
                              num_res_blocks=self.num_res_blocks, z_dim=self.z_dim,
                              norm=PARAM_FREE_NORMS[self.norm], spectral=self.spectral,
                              spade_hidden=self.spade_hidden, spade_kernel=self.spade_kernel,
                              backend=self.backend)
