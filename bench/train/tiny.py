"""Tiny run configs (seconds per run on a CPU) for tests and smoke checks of the trainer."""

from __future__ import annotations

import copy
from pathlib import Path

from bench.config import set_dotted, validate_run_config

# name -> model section and data size: one per family, the smallest the architectures take.
TINY_MODELS: dict[str, dict] = {
    "gaugan": {  # 32x32 puts the bottom at 1x1: batch norm (instance norm needs > 1 pixel)
        "size": 32,
        "model": {"generator": {"arch": "spade", "ngf": 2, "spade_hidden": 4, "norm": "batch"},
                  "discriminator": {"arch": "spade_multiscale", "ndf": 4, "num_D": 1, "n_layers": 2}},
    },
    "gaugan_vae": {
        "size": 32,
        "model": {"generator": {"arch": "spade", "ngf": 2, "spade_hidden": 4, "norm": "batch",
                                "use_vae": True, "z_dim": 8},
                  "discriminator": {"arch": "spade_multiscale", "ndf": 4, "num_D": 1, "n_layers": 2},
                  "encoder": {"arch": "conv_vae", "ngf": 2, "z_dim": 8, "resize_to": 128}},
    },
    "concat": {  # its blocks use instance norm: the 2x2 bottom needs 64x64
        "size": 64,
        "model": {"generator": {"arch": "concat", "ngf": 4},
                  "discriminator": {"arch": "spade_multiscale", "ndf": 4, "num_D": 1, "n_layers": 2}},
    },
    "pix2pix": {  # U-Net-128 needs 128x128; the colour-rendered label map as input
        "size": 128,
        "model": {"generator": {"arch": "pix2pix_unet128", "ngf": 4, "label_input": "color"},
                  "discriminator": {"arch": "pix2pix_patch", "ndf": 4, "label_input": "color"}},
        "train": {"losses": {"gan_mode": "vanilla", "lambda_feat": 0.0, "lambda_vgg": 0.0,
                             "lambda_l1": 100.0},
                  "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999},
    },
    "pix2pixhd": {  # local enhancer: coarse stage at 16x16, then fixed global, then joint
        "size": 32,
        "model": {"generator": {"arch": "pix2pixhd_local", "ngf": 4, "n_downsample_global": 2,
                                "n_blocks_global": 1, "n_blocks_local": 1},
                  "discriminator": {"arch": "pix2pixhd_multiscale", "ndf": 4, "num_D": 2}},
        "train": {"losses": {"gan_mode": "lsgan", "lambda_l1": 0.0},
                  "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
                  "global_steps": 2, "fix_global_steps": 1},
    },
}


def tiny_config(family: str, data_root: str | Path, steps: int = 2, sets: dict | None = None):
    """A RunConfig of `family` on a few synthetic pairs cached under data_root."""
    spec = copy.deepcopy(TINY_MODELS[family])  # `sets` must never edit the shared table
    train = {"steps": steps, "log_every": 1, "sample_every": 1000, "ckpt_every": 1000,
             **spec.get("train", {})}
    data = {
        "name": f"tiny-{family}", "seed": 0, "device": "cpu",
        "data": {"dataset": "synthetic", "root": str(data_root), "image_size": spec["size"],
                 "num_train": 8, "num_val": 4, "batch_size": 2},
        "model": spec["model"], "train": train,
    }
    for key, value in (sets or {}).items():
        set_dotted(data, key, value)
    return validate_run_config(data, f"tiny config {family!r}")
