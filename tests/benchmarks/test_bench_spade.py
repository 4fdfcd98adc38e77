"""pytest-benchmark suite of the SPADE paths (kept out of the normal run by
--benchmark-skip in pyproject; run: pytest --benchmark-only tests/benchmarks).

Same callables as `bench profile spade` (bench/profile/cases.py) at one CPU-sized
shape per level, or a GPU-sized one with CUDA. Compare providers within one run.
"""

from __future__ import annotations

import pytest
import torch

from bench.profile import cases as C
from bench.profile.spade import providers_for

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
DTYPE = torch.bfloat16 if DEVICE.type == "cuda" else torch.float32
PROVIDERS = providers_for(DEVICE)
NORM_SHAPE = (8, 256, 128, 128) if DEVICE.type == "cuda" else (4, 64, 128, 128)
LAYER_SHAPE = (8, 256, 128, 128) if DEVICE.type == "cuda" else (2, 64, 32, 32)
LABEL_NC = 151 if DEVICE.type == "cuda" else 36


def _sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def _run(benchmark, case):
    case.fn()  # build / compile outside the timed rounds
    _sync()

    def call():
        case.fn()
        _sync()

    benchmark.extra_info.update(shape=list(case.shape), bytes=case.bytes, provider=case.provider)
    benchmark.pedantic(call, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("pass_", ["fwd", "fwd+bwd"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_norm_modulate(benchmark, provider, pass_):
    _run(benchmark, C.norm_case(provider, NORM_SHAPE, "contiguous", pass_, DEVICE, DTYPE))


@pytest.mark.parametrize("pass_", ["fwd", "fwd+bwd"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_spade_layer(benchmark, provider, pass_):
    _run(benchmark, C.spade_case(provider, LAYER_SHAPE, "contiguous", pass_, DEVICE, DTYPE, LABEL_NC))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_spade_resblock_fwd_bwd(benchmark, provider):
    _run(benchmark, C.resblock_case(provider, LAYER_SHAPE, "contiguous", "fwd+bwd", DEVICE, DTYPE, LABEL_NC))


@pytest.mark.parametrize("fusion", ["merged_conv", "onehot_gather"])
@pytest.mark.parametrize("provider", ["unfused", "fused"])
def test_block_fusion(benchmark, fusion, provider):
    _run(benchmark, C.fusion_case(fusion, provider, LAYER_SHAPE, "contiguous", "fwd+bwd", DEVICE, DTYPE, LABEL_NC))
