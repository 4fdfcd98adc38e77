"""The oracle segmenter: a small U-Net trained on a data set's real training photos.

The papers score generated images with big pretrained segmenters that exist for three
data sets only. For any data set (the synthetic one included) the harness trains this
compact network once per (data set, split, size, seed, code version, steps, width)
fingerprint, caches it under $BENCH_CACHE/oracle/, and shares it between all variants
and runs. Its score on the real validation photos is the "real images" reference row.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from bench.atomic import atomic_write
from bench.metrics.paths import cache_dir

ORACLE_VERSION = 2  # bump when the network or its training changes: old caches are not reused
LR = 2e-3


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class OracleUNet(nn.Module):
    """3 pooling levels, widths w, 2w, 4w, 8w; (N, 3, H, W) in [-1, 1] -> (N, C, H, W) logits.

    H and W must be multiples of 8. `features` returns the globally pooled bottleneck
    (N, 8w): what fd_oracle / kid_oracle compare.
    """

    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        w = width
        self.enc = nn.ModuleList([_block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w)])
        self.mid = _block(4 * w, 8 * w)
        self.up = nn.ModuleList([nn.ConvTranspose2d(8 * w, 4 * w, 2, stride=2),
                                 nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2),
                                 nn.ConvTranspose2d(2 * w, w, 2, stride=2)])
        self.dec = nn.ModuleList([_block(8 * w, 4 * w), _block(4 * w, 2 * w), _block(2 * w, w)])
        self.head = nn.Conv2d(w, num_classes, 1)
        self.num_classes, self.width = num_classes, width

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for blk in self.enc:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        return self.mid(x), skips  # (N, 8w, H/8, W/8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self._encode(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x)[0].mean(dim=(2, 3))  # (N, 8w)


def oracle_fingerprint(data_cfg, size: tuple[int, int], seed: int, steps: int, width: int,
                       batch_size: int) -> str:
    data = data_cfg.model_dump(mode="json")
    for k in ("batch_size", "num_workers"):  # how it is loaded, not what it is
        data.pop(k, None)
    if data.get("root"):
        data["root"] = str(Path(data["root"]).expanduser().resolve())
    key = {"data": data, "split": "train", "size": list(size), "seed": seed,
           "version": ORACLE_VERSION, "steps": steps, "width": width, "batch_size": batch_size}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def oracle_path(data_cfg, size, seed, steps, width, batch_size) -> Path:
    fp = oracle_fingerprint(data_cfg, size, seed, steps, width, batch_size)
    return cache_dir("oracle") / f"{data_cfg.dataset}-{size[0]}x{size[1]}-{fp}.pt"


def class_weights(train_set, num_classes: int, ignore_index: int | None, max_items: int = 256
                  ) -> torch.Tensor:
    """(C,) cross-entropy weights ~ 1/sqrt(class frequency), mean 1 over present classes.

    mIoU weighs every class equally; without this, rare classes (a few pixels of sand)
    are never predicted within a short training budget. Counted on a fixed, evenly
    spaced subset of the training items (deterministic)."""
    n = len(train_set)
    idx = sorted({int(i * n / min(n, max_items)) for i in range(min(n, max_items))})
    counts = torch.zeros(num_classes, dtype=torch.float64)
    for i in idx:
        lab = train_set[i]["label"].reshape(-1)
        lab = lab[(lab >= 0) & (lab < num_classes)]
        if ignore_index is not None:
            lab = lab[lab != ignore_index]
        counts += torch.bincount(lab, minlength=num_classes).double()[:num_classes]
    present = counts > 0
    w = torch.zeros(num_classes, dtype=torch.float64)
    w[present] = (counts[present] / counts.sum()).rsqrt()
    w[present] /= w[present].mean()
    return w.float()


def train_oracle(train_set, num_classes: int, ignore_index: int | None, steps: int, width: int,
                 batch_size: int, seed: int, device: torch.device, log=print) -> OracleUNet:
    """Adam with cosine decay, class-balanced cross-entropy on the real photos
    (don't-care ignored). Balancing took the synthetic 64x64 oracle (300 steps,
    width 16) from mIoU 0.56 to 0.88: rare classes are otherwise never predicted."""
    torch.manual_seed(seed)
    net = OracleUNet(num_classes, width).to(device)
    weight = class_weights(train_set, num_classes, ignore_index).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    loader = DataLoader(train_set, batch_size=min(batch_size, len(train_set)), shuffle=True,
                        drop_last=True, generator=torch.Generator().manual_seed(seed))
    ignore = -100 if ignore_index is None else ignore_index
    step, t0 = 0, time.perf_counter()
    net.train()
    while step < steps:
        for batch in loader:
            image = batch["image"].to(device)  # (N, 3, H, W) in [-1, 1]
            label = batch["label"].to(device)  # (N, H, W)
            loss = F.cross_entropy(net(image), label, weight=weight, ignore_index=ignore)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0 or step == steps:
                log(f"oracle step {step}/{steps} loss {loss.item():.3f} "
                    f"({time.perf_counter() - t0:.0f} s)")
            if step >= steps:
                break
    return net.eval()


def load_or_train_oracle(data_cfg, info, size: tuple[int, int], eval_cfg, device: torch.device
                         ) -> tuple[OracleUNet, Path, dict]:
    """The cached oracle for this fingerprint, training it first if needed (one process at a time)."""
    from bench.data.registry import build_dataset

    args = (data_cfg, size, eval_cfg.seed, eval_cfg.oracle_steps, eval_cfg.oracle_width,
            eval_cfg.oracle_batch_size)
    path = oracle_path(*args)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits, then reads the cached file
        if not path.is_file():
            t0 = time.perf_counter()
            net = train_oracle(build_dataset(data_cfg, "train"), info.num_classes, info.dontcare_id,
                               eval_cfg.oracle_steps, eval_cfg.oracle_width,
                               eval_cfg.oracle_batch_size, eval_cfg.seed, device,
                               log=lambda m: print(m, file=sys.stderr))
            meta = {"fingerprint": oracle_fingerprint(*args), "version": ORACLE_VERSION,
                    "num_classes": info.num_classes, "width": eval_cfg.oracle_width,
                    "steps": eval_cfg.oracle_steps, "train_seconds": time.perf_counter() - t0,
                    "dataset": data_cfg.dataset, "size": list(size)}
            state = {"state_dict": {k: v.cpu() for k, v in net.state_dict().items()}, "meta": meta}
            atomic_write(path, lambda f: torch.save(state, f))
    net, meta = load_oracle(path, device)
    return net, path, meta


def load_oracle(path: Path, device: torch.device) -> tuple[OracleUNet, dict]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    meta = state["meta"]
    net = OracleUNet(meta["num_classes"], meta["width"])
    net.load_state_dict(state["state_dict"])
    return net.to(device).eval(), meta
