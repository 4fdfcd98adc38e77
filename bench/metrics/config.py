"""Evaluation section of a run config."""

from __future__ import annotations

from bench.schema import Strict


class EvalConfig(Strict):
    # Metric ids from bench.metrics' registry. Standard names (fid, kid, lpips) are
    # reported only when the standard weights are present; otherwise null + reason.
    metrics: list[str] = ["miou", "fid", "kid", "lpips", "fd_oracle", "kid_oracle"]
    segmenter: str = "oracle"
    segmenter_weights: str | None = None  # for pretrained segmenter adapters
    oracle_steps: int = 600  # training steps of the oracle segmenter
    num_samples: int | None = None  # validation maps to use (None: all)
    diversity_samples: int = 0  # extra samples per map for LPIPS diversity (multimodal models)
    batch_size: int = 16
