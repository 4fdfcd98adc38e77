"""Data section of a run config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bench.schema import Strict

DatasetName = Literal["synthetic", "facades", "cmp", "ade20k", "cocostuff", "cityscapes", "folder"]


class DataConfig(Strict):
    dataset: DatasetName = "synthetic"
    # Folder of a real data set; for `synthetic`, where the generated PNGs are cached
    # (default: data/synthetic/<fingerprint>). For `facades` the default is
    # ../shared/datasets/facades next to the repository when it exists.
    root: str | None = None
    image_size: int = Field(64, ge=8, le=2048)  # H the models see; W = round(H * aspect_ratio)
    aspect_ratio: float = Field(1.0, gt=0)
    num_train: int = Field(2000, ge=1)  # synthetic only: pairs generated for training
    num_val: int = Field(200, ge=1)  # synthetic only: pairs generated for validation
    synth_seed: int = 0  # synthetic only: the data set's own seed (not the run seed)
    num_classes: int | None = Field(None, ge=1)  # `folder` only: label ids 0..num_classes-1
    # `folder` only: label id 255 means "don't care" and becomes the extra one-hot
    # channel num_classes (the official custom data set's --contain_dontcare_label).
    contain_dontcare: bool = False
    # Add the instance edge map as one more label channel. None: the data set's official
    # default (COCO-Stuff and Cityscapes yes; ADE20K, facades, CMP, synthetic, folder no).
    use_instance: bool | None = None
    batch_size: int = Field(8, ge=1)
    num_workers: int = Field(0, ge=0)
    # Random horizontal flip in training, as the official code. The flip of item i is a
    # pure function of (flip_seed, epoch, i): see bench.data.transforms.flip_decision.
    flip: bool = True
