"""Parameter-free normalizations: SPADE supplies the affine part, so these have none."""

from __future__ import annotations

import torch.nn as nn


class ParamFreeInstanceNorm(nn.InstanceNorm2d):
    """Per-(sample, channel) statistics over H, W; no affine, no running stats."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__(num_features, eps=eps, affine=False, track_running_stats=False)


class ParamFreeBatchNorm(nn.BatchNorm2d):
    """Per-channel statistics over N, H, W; running stats kept for eval (buffers)."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__(num_features, eps=eps, affine=False)


class ParamFreeSyncBatchNorm(nn.SyncBatchNorm):
    """Batch norm whose statistics span all DDP ranks (CUDA). Alone it equals batch norm."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__(num_features, eps=eps, affine=False)


# Config strings map to classes in exactly one place.
PARAM_FREE_NORMS: dict[str, type[nn.Module]] = {
    "instance": ParamFreeInstanceNorm,
    "batch": ParamFreeBatchNorm,
    "syncbatch": ParamFreeSyncBatchNorm,
}
