from gaugan.layers.norms import (
    PARAM_FREE_NORMS,
    ParamFreeBatchNorm,
    ParamFreeInstanceNorm,
    ParamFreeSyncBatchNorm,
)
from gaugan.layers.spade import SPADE

__all__ = [
    "PARAM_FREE_NORMS",
    "ParamFreeBatchNorm",
    "ParamFreeInstanceNorm",
    "ParamFreeSyncBatchNorm",
    "SPADE",
]
