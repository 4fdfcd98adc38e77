"""The shapes `bench profile spade` sweeps: (level, (N, C, H, W), layout).

Full (GPU): channels 128..1024, resolutions 32..256, batch 4..16 (a GauGAN generator
at 256x256 runs 1024 channels at 8..32 px and 64..128 channels at 128..256 px),
sized to finish in about two minutes on an H100 per dtype, compile time included.
Quick: one shape per level, under a minute on 2 CPU cores.
"""

from __future__ import annotations

Shape = tuple[int, int, int, int]

FULL: list[tuple[str, Shape, str]] = [
    ("norm", (8, 128, 256, 256), "contiguous"),
    ("norm", (8, 256, 128, 128), "contiguous"),
    ("norm", (8, 256, 128, 128), "channels_last"),
    ("norm", (8, 256, 256, 256), "contiguous"),
    ("norm", (16, 256, 128, 128), "contiguous"),
    ("norm", (8, 512, 64, 64), "contiguous"),
    ("norm", (8, 512, 64, 64), "channels_last"),
    ("norm", (8, 1024, 32, 32), "contiguous"),
    ("spade", (4, 128, 256, 256), "channels_last"),
    ("spade", (8, 256, 128, 128), "channels_last"),
    ("spade", (8, 512, 64, 64), "channels_last"),
    ("spade", (8, 1024, 32, 32), "channels_last"),
    ("resblock", (8, 256, 128, 128), "channels_last"),
    ("resblock", (8, 1024, 32, 32), "channels_last"),
    ("fusion:merged_conv", (8, 256, 128, 128), "channels_last"),
    ("fusion:onehot_gather", (8, 256, 128, 128), "channels_last"),
    # CLADE (contiguous NCHW: its kernel's layout): the norm step and the whole layer,
    # at the spade level's shapes, for the speed and peak-memory comparison with SPADE
    ("clade_norm", (8, 256, 128, 128), "contiguous"),
    ("clade_norm", (8, 1024, 32, 32), "contiguous"),
    ("spade", (8, 256, 128, 128), "contiguous"),
    ("clade", (8, 256, 128, 128), "contiguous"),
    ("clade", (8, 1024, 32, 32), "contiguous"),
]

QUICK: list[tuple[str, Shape, str]] = [
    ("norm", (4, 64, 128, 128), "contiguous"),  # the CPU target shape
    ("spade", (2, 64, 32, 32), "contiguous"),
    ("resblock", (2, 64, 16, 16), "contiguous"),
    ("fusion:merged_conv", (2, 64, 32, 32), "contiguous"),
    ("fusion:onehot_gather", (2, 64, 32, 32), "contiguous"),
    ("clade_norm", (4, 64, 128, 128), "contiguous"),
    ("clade", (2, 64, 32, 32), "contiguous"),
]

# Label channels of the SPADE inputs: ADE20K's 151 on the GPU sweep, fewer in quick.
LABEL_NC_FULL = 151
LABEL_NC_QUICK = 36
