"""The trainer under torchrun: process group, sharding helpers, DDP wrapping.

    torchrun --nproc-per-node=N -m bench.train.ddp CONFIG.yaml [--steps N] [--out DIR] ...
    (or: torchrun --nproc-per-node=N .venv/bin/bench train CONFIG.yaml ...)

train_run notices torchrun's environment (WORLD_SIZE > 1) and joins the process group:
gloo on CPU, NCCL on CUDA. data.batch_size is the GLOBAL batch; rank r trains on every
W-th example of it (bench.train.order), so N processes see exactly the examples of one
process with the same batch, and DDP's gradient averaging gives the same mean-loss
gradient (up to float summation order; batch norm excepted, its statistics are per rank).

G and D are wrapped in DistributedDataParallel separately, each for the step that trains
it: the G step calls the wrapped G (and E) but D's plain module (D is frozen there, so
there is nothing to synchronise); the D step calls the wrapped D but G's plain module
under no_grad. So each wrapper runs exactly one forward/backward per step, which is
what DDP's reducer expects, and the two optimizers stay independent.
Metrics, samples and checkpoints are written by rank 0 only.
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gaugan.layers.norms import ParamFreeBatchNorm

log = logging.getLogger("bench.train")


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: not distributed
    owns_group: bool = False  # we initialised the process group (so we destroy it)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env(use_cuda: bool) -> Dist:
    """Join torchrun's process group when WORLD_SIZE > 1; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if use_cuda else "gloo"
    owns = not torch_dist.is_initialized()
    if owns:
        if use_cuda:
            torch.cuda.set_device(local)
        torch_dist.init_process_group(backend=backend)
    return Dist(rank, world, local, torch_dist.get_backend(), owns)


def cleanup(d: Dist) -> None:
    if d.owns_group and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def replace_sync_batchnorm(module: nn.Module) -> int:
    """Swap every SyncBatchNorm for plain batch norm (gloo: sync-BN needs CUDA); returns
    how many were swapped. The norms are parameter-free, so only buffers carry over."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, nn.SyncBatchNorm):
            bn = ParamFreeBatchNorm(child.num_features, eps=child.eps)
            bn.load_state_dict(child.state_dict())
            setattr(module, name, bn)
            count += 1
        else:
            count += replace_sync_batchnorm(child)
    return count


def wrap(module: nn.Module | None, d: Dist, device: torch.device) -> nn.Module | None:
    """DDP wrapper for a trained module (identity in a single process)."""
    if module is None or not d.enabled or not any(p.requires_grad for p in module.parameters()):
        return module
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def plain(module: nn.Module | None) -> nn.Module | None:
    """The module inside a DDP wrapper (or the module itself)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def all_gather_objects(obj, d: Dist) -> list:
    """[obj of rank 0, obj of rank 1, ...] on every rank (a collective)."""
    if not d.enabled:
        return [obj]
    out = [None] * d.world_size
    torch_dist.all_gather_object(out, obj)
    return out


def mean_over_ranks(values: dict[str, float], d: Dist) -> dict[str, float]:
    """Average logged scalars over ranks (a collective), so rank 0 logs the global batch."""
    if not d.enabled or not values:
        return values
    t = torch.tensor(list(values.values()), dtype=torch.float64)
    if d.backend == "nccl":
        t = t.cuda()
    torch_dist.all_reduce(t)
    return dict(zip(values, (t / d.world_size).tolist()))


def barrier(d: Dist) -> None:
    if d.enabled:
        torch_dist.barrier()


def main(argv: list[str] | None = None) -> None:
    """Entry point for `torchrun -m bench.train.ddp CONFIG ...` (the `bench train` options)."""
    from bench.train.trainer import train_from_config

    p = argparse.ArgumentParser(prog="torchrun -m bench.train.ddp")
    p.add_argument("config")
    p.add_argument("--steps", type=int)
    p.add_argument("--out")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--device")
    p.add_argument("--set", dest="sets", action="append", default=[])
    a = p.parse_args(argv)
    train_from_config(a.config, steps=a.steps, out=a.out, resume=a.resume, device=a.device,
                      sets=a.sets)


if __name__ == "__main__":  # pragma: no cover
    from bench.errors import BenchError

    try:
        main()
    except BenchError as e:
        print(f"error: {e}", flush=True)
        raise SystemExit(2) from None
