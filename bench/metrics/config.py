"""Evaluation section of a run config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bench.schema import Strict


class EvalConfig(Strict):
    # Metric ids from bench.metrics.registry. Standard names (fid, kid, lpips) are
    # reported only when the standard weights are present; otherwise null + reason.
    metrics: list[str] = Field(default_factory=lambda: [
        "miou", "pixel_acc", "fid", "kid", "lpips", "lpips_diversity", "fd_oracle", "kid_oracle",
    ])
    segmenter: str = "oracle"  # bench.metrics.segmenters: oracle | pretrained
    # pretrained segmenter: a TorchScript file, or a state_dict with segmenter_arch
    segmenter_weights: str | None = None
    segmenter_arch: str | None = None  # state_dict only: a torchvision segmentation model name
    # What the pretrained segmenter expects: images in [-1, 1] or ImageNet-normalised.
    segmenter_input: Literal["minus1_1", "imagenet"] = "imagenet"
    # The pretrained segmenter's name (e.g. "DRN-D-105", "UperNet101", "DeepLab-v2"): the
    # segmentation metrics carry it ("mIoU (DRN-D-105)"); None: the file name.
    segmenter_name: str | None = None
    # What its outputs index: the data set's own ids ("dataset"), or the ids the protocol
    # scores ("scored": e.g. the 19 Cityscapes trainIds, as the papers' DRN-D-105 predicts).
    segmenter_predicts: Literal["dataset", "scored"] = "dataset"
    oracle_steps: int = Field(600, ge=1)  # training steps of the oracle segmenter
    oracle_width: int = Field(32, ge=1)  # channels of the oracle U-Net's first level
    oracle_batch_size: int = Field(16, ge=1)
    # Side of the square random-resized crops the oracle trains on (None: the full image
    # size). The net is fully convolutional with coordinate channels in the whole photo's
    # frame, so e.g. 128-pixel crops of 256x256 photos train it 4x faster for 256x256 use.
    oracle_crop: int | None = Field(None, ge=16)
    # Progressive resizing: the last oracle_final_steps steps (0: none) train on crops of
    # oracle_final_crop (None: the whole image), after oracle_crop's cheaper steps.
    oracle_final_steps: int = Field(0, ge=0)
    # Side of the square crops of those last steps (None: the whole image).
    oracle_final_crop: int | None = Field(None, ge=16)
    # Train the oracle under bf16 autocast with channels_last (about 2.5x the steps per
    # second on a CPU with AVX512-BF16, more on GPUs); weights stay fp32, scoring is fp32.
    # Where bf16 is not native (an AVX2-only CPU) it trains in fp32: emulated bf16 is ~10x
    # slower than fp32 there.
    oracle_bf16: bool = False
    # Test-time augmentation: average the oracle's logits on the image and its mirror.
    oracle_tta: bool = True
    # ... and over these input scales (each > 0; each image resized, its logits resized back):
    # [0.75, 1, 1.25] took the facades 128x128 oracle from mIoU 0.364 to 0.372.
    oracle_tta_scales: list[float] = Field(default_factory=lambda: [1.0], min_length=1)
    # Cross-entropy class weights ~ (1 / class frequency) ** power (0: unweighted). 0.5
    # lifts rare classes; 0.25 took the facades oracle from 0.348 / 0.616 to 0.364 / 0.643
    # (mIoU / pixel accuracy): big classes (background vs facade) lose less.
    oracle_class_power: float = Field(0.5, ge=0.0, le=1.0)
    # Spatial dropout on the oracle's bottleneck and before its head (training only).
    oracle_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    # AdamW's decoupled weight decay of the oracle (0.05 with dropout 0.1 did not help facades).
    oracle_weight_decay: float = Field(1e-4, ge=0.0)
    # Strip pooling in the oracle's decoder: every pixel also sees its whole row and column
    # (facades: grids of windows, and a vertical facade/background edge). On facades
    # 128x128 it did not help: 0.370 / 0.658 against 0.380 / 0.668, and 24% slower.
    oracle_strip: bool = False
    # Ensemble: train this many oracles (seeds eval.seed, eval.seed + 1, ...; each its own
    # cache entry, the single oracle of that seed) and average their logits. n times the
    # one-off training. fd_oracle / kid_oracle use the first member's features only.
    # Facades 128x128 (cpu profile recipe): seeds 0 / 1 alone 0.380 / 0.668 and 0.385 /
    # 0.668 (mIoU / pixel accuracy), both together 0.390 / 0.675, for twice the training.
    oracle_members: int = Field(1, ge=1)
    num_samples: int | None = Field(None, ge=1)  # validation maps to use (None: all)
    diversity_samples: int = Field(0, ge=0)  # extra random-z samples per map (multimodal models; >= 2 for LPIPS diversity)
    batch_size: int = Field(16, ge=1)
    seed: int = 0  # seeds the z of every generated sample (per map and sample index)
    kid_subset_size: int = Field(1000, ge=2)  # torch-fidelity's default; capped at the number of samples
    kid_subsets: int = Field(100, ge=1)

    @field_validator("oracle_tta_scales")
    @classmethod
    def _positive_scales(cls, scales: list[float]) -> list[float]:
        if any(s <= 0 for s in scales):
            raise ValueError(f"every scale must be > 0, got {scales}")
        return scales
