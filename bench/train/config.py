"""Training section of a run config (defaults: GauGAN's official values)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bench.schema import Strict


class LossConfig(Strict):
    # n_plus_1: OASIS's (N+1)-class segmentation loss (needs the oasis_unet discriminator)
    gan_mode: Literal["hinge", "lsgan", "vanilla", "n_plus_1"] = "hinge"
    lambda_feat: float = Field(10.0, ge=0.0)  # feature matching; 0 turns it off
    lambda_vgg: float = Field(10.0, ge=0.0)  # VGG19 perceptual; 0 turns it off
    lambda_kl: float = Field(0.05, ge=0.0)  # only with an encoder
    lambda_l1: float = Field(0.0, ge=0.0)  # pix2pix uses 100
    # When the VGG19 weight file is absent: "error" stops, "disable" turns the loss
    # off with a logged warning (and records that in the run's metrics).
    vgg_if_missing: Literal["error", "disable"] = "disable"


class TrainConfig(Strict):
    steps: int = Field(1000, ge=1)
    lr_g: float = Field(1e-4, gt=0.0)  # TTUR: G 1e-4, D 4e-4 (official GauGAN)
    lr_d: float = Field(4e-4, gt=0.0)
    beta1: float = Field(0.0, ge=0.0, lt=1.0)
    beta2: float = Field(0.9, ge=0.0, lt=1.0)
    decay_start: int | None = Field(None, ge=0)  # linear lr decay to 0 from this step; None: constant
    losses: LossConfig = Field(default_factory=LossConfig)
    # Speed mode (bench.train.speed): eager fp32 | amp (bf16 autocast, fp32 losses) |
    # fast (amp + channels_last + compiled G and D; CUDA graphs on CUDA) | auto (per device,
    # the fastest mode that passes the quality guard). The model and losses are the same.
    speed: Literal["eager", "amp", "fast", "auto"] = "eager"
    # Overrides of train.speed: the autocast dtype (none: the mode's; fp16 on CUDA only,
    # with a gradient scaler).
    amp: Literal["none", "bf16", "fp16"] = "none"
    channels_last: bool = False  # override of train.speed: channels_last memory format (fast: on)
    # pix2pixHD coarse-to-fine: steps training the global generator alone (at half
    # resolution), then steps with the global generator frozen, then joint.
    global_steps: int = Field(0, ge=0)
    fix_global_steps: int = Field(0, ge=0)
    log_every: int = Field(10, ge=1)
    sample_every: int = Field(200, ge=1)
    ckpt_every: int = Field(200, ge=1)
    # Generator snapshots at this many evenly spaced steps (the last is the final step);
    # evaluation scores each one, for the metric-against-images curves. 0: final only.
    snapshots: int = Field(default=4, ge=0)
