"""Which SPADE path runs: the backend asked for, resolved against device, dtype and norm.

    eager    the reference nn.Module code (always available)
    compile  norm-modulate in torch ops under torch.compile (CPU with a C++ compiler; CUDA)
    triton   the fused Triton kernel (CUDA; the CPU only under TRITON_INTERPRET=1)
    auto     triton on CUDA, AUTO_CPU on the CPU

A backend that cannot run a case falls back to eager and logs why, once per reason:
never wrong numbers, never a silent change of path.
"""

from __future__ import annotations

import functools
import logging
import shutil

import torch
import torch.nn as nn

from gaugan.kernels.op import triton_runs_on

log = logging.getLogger("gaugan.kernels")

BACKENDS = ("eager", "compile", "triton", "auto")
FUSED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
# Measured on the 2-core CPU (bench profile spade --device cpu): the compiled
# norm-modulate beats eager; see reports/kernels/ for the figures.
AUTO_CPU = "compile"


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown SPADE backend {name!r}; valid: {', '.join(BACKENDS)}")
    return name


_FALLBACKS: list[str] = []  # every fallback since reset_fallbacks(), once each


def _warn_once(message: str) -> None:
    """Log a fallback once per process; record it for fallbacks() every time it happens."""
    if message not in _FALLBACKS:
        _FALLBACKS.append(message)
    _log_once(message)


@functools.lru_cache(maxsize=None)
def _log_once(message: str) -> None:
    log.warning(message)


_warn_once.cache_clear = _log_once.cache_clear  # type: ignore[attr-defined]  (log again)


def reset_fallbacks() -> None:
    """Start a new record (a trainer calls it before building its networks)."""
    _FALLBACKS.clear()


def fallbacks() -> list[str]:
    """The SPADE paths that fell back to eager since reset_fallbacks(), in order."""
    return list(_FALLBACKS)


@functools.lru_cache(maxsize=None)
def compile_runs_on(device_type: str) -> bool:
    """Inductor needs a C++ compiler on the CPU and Triton on CUDA."""
    if device_type == "cpu":
        return shutil.which("g++") is not None or shutil.which("clang++") is not None
    if device_type == "cuda":
        return triton_runs_on(torch.device("cuda"))
    return False


def norm_mode(norm: nn.Module, training: bool) -> str | None:
    """Statistics mode of a param-free norm the fused paths handle, else None.

    instance: InstanceNorm2d without running stats; batch / given: BatchNorm2d in
    training / eval (running stats); SyncBatchNorm is batch norm on one process,
    and is left to eager when its statistics span several ranks, as are affine norms.
    """
    if getattr(norm, "affine", True):
        return None
    if isinstance(norm, nn.InstanceNorm2d) and not norm.track_running_stats:
        return "instance"
    if isinstance(norm, nn.SyncBatchNorm) and training and _spans_ranks(norm):
        return None
    if isinstance(norm, (nn.BatchNorm2d, nn.SyncBatchNorm)):
        if training or norm.running_mean is None:
            return "batch"
        return "given"
    return None


def _spans_ranks(norm: nn.SyncBatchNorm) -> bool:
    """Whether sync batch norm really reduces across processes (else it is batch norm)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return False
    return dist.get_world_size(norm.process_group) > 1


def resolve(backend: str, x: torch.Tensor, norm: nn.Module, training: bool) -> tuple[str, str | None]:
    """(path that runs: eager | compile | triton, norm mode or None for eager)."""
    if backend == "eager":
        return "eager", None
    dev = x.device.type
    if backend == "auto":
        if triton_runs_on(x.device) and dev == "cuda":
            backend = "triton"
        elif dev == "cpu" and AUTO_CPU == "compile" and (
                torch.compiler.is_compiling() or compile_runs_on("cpu")):
            backend = "compile"
        else:
            return "eager", None
    mode = norm_mode(norm, training)
    if mode is None:
        _warn_once(f"SPADE {backend}: {type(norm).__name__} is not fused; running eager")
        return "eager", None
    if backend == "triton":
        if not triton_runs_on(x.device):
            _warn_once(f"SPADE triton: Triton does not run on {dev} here; running eager")
            return "eager", None
    elif backend == "compile" and not torch.compiler.is_compiling() and not compile_runs_on(dev):
        _warn_once(f"SPADE compile: torch.compile cannot build for {dev} here; running eager")
        return "eager", None
    # Both fused paths compute in fp32 at most: float64 would silently lose precision.
    if x.dtype not in FUSED_DTYPES:
        _warn_once(f"SPADE {backend}: dtype {x.dtype} unsupported; running eager")
        return "eager", None
    return backend, mode
