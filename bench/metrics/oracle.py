"""The oracle segmenter: a small U-Net trained on a data set's real training photos.

The papers score generated images with big pretrained segmenters that exist for three
data sets only. For any data set (the synthetic one included) the harness trains this
compact network once per (data set, split, size, seed, code version, steps, width,
batch size, crop) fingerprint, caches it under $BENCH_CACHE/oracle/, and shares it
between all variants and runs. Its score on the real validation photos is the
"real images" reference row.

What lets a small from-scratch net segment real photos (CMP facades: "background" is
also neighbouring buildings, which look like facade; only context and position tell):
- four pooling levels and a context block at H/16 (dilated conv + a global-pooling
  branch), so every pixel sees the whole image;
- two coordinate input channels (CoordConv): facades have strong positional priors
  (shops at the bottom, background at the sides and top);
- augmentation on tensors with a seeded generator: random resized crops (scale and
  aspect jitter; the coordinate channels follow the crop, so they always give a pixel's
  place in the whole photo), horizontal flips, colour jitter;
- AdamW with a one-cycle schedule, class-balanced cross-entropy, BatchNorm;
- bf16 autocast and channels_last while training (2.5x the fp32 steps per second on a
  2-core AVX512-BF16 CPU at width 16, 96x96 crops: more steps in the same budget);
  the weights stay fp32 and scoring runs in fp32.
Test-time horizontal flips (average of the two logits) are in `predict_logits`.
eval.oracle_members > 1 averages the logits of oracles trained with consecutive seeds
(OracleEnsemble), each member cached like a single oracle.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench.atomic import atomic_write
from bench.metrics.paths import cache_dir
from bench.train.outputs import ProgressLines
from bench.train.speed import bf16_is_fast

ORACLE_VERSION = 3  # bump when the network or its training changes: old caches are not reused
LR = 4e-3  # one-cycle peak
WEIGHT_DECAY = 1e-4
# Random resized crop: zoom factor z (log-uniform; > 1 magnifies). A crop of out pixels
# covers (out / H) / z of the photo's side (at most all of it), so the scale seen in
# training is centred on the scale seen at test time whatever the crop size.
ZOOM = (0.7, 1.6)
ASPECT = (0.8, 1.25)  # crop aspect-ratio jitter (w/h of the crop, relative)
LEVELS = 4  # pooling levels: H and W are padded to a multiple of 2**LEVELS


def _block(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


def _fuse(c: int) -> nn.Sequential:
    """(N, 2C, h, w) -> (N, C, h, w): how Context and StripContext merge their branch in."""
    return nn.Sequential(nn.Conv2d(2 * c, c, 1, bias=False), nn.BatchNorm2d(c),
                         nn.ReLU(inplace=True))


def coord_grid(n: int, h: int, w: int, device=None) -> torch.Tensor:
    """(n, 2, h, w): (y, x) of each pixel centre in [-1, 1] of the whole photo."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w * 2 - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([yy, xx]).expand(n, 2, h, w)


class Context(nn.Module):
    """(N, C, h, w) -> (N, C, h, w): a dilated block plus a global-average branch.

    At H/16 a dilation-2 3x3 pair already spans most of a 128-pixel photo; the global
    branch gives every position the whole image's summary (pyramid pooling's coarsest
    level), whatever the image size."""

    def __init__(self, c: int):
        super().__init__()
        self.local = _block(c, c, dilation=2)
        self.glob = nn.Sequential(nn.Conv2d(c, c, 1), nn.ReLU(inplace=True))
        self.fuse = _fuse(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.glob(x.mean(dim=(2, 3), keepdim=True)).expand_as(x)  # (N, C, h, w)
        return x + self.fuse(torch.cat([self.local(x), g], dim=1))


class StripContext(nn.Module):
    """(N, C, h, w) -> (N, C, h, w): each pixel is given the mean of its whole row and of its
    whole column (strip pooling, Hou et al., CVPR 2020), smoothed along the strip by a
    3-tap conv, then fused in residually like Context.

    Why for facades: rectified facades are grids of rows and columns, and the facade /
    background boundary (a neighbouring building) is a vertical line through the whole
    photo. A square receptive field reaches it only at H/16, too coarse to place the edge;
    a strip at H/2 .. H knows the whole column at full precision."""

    def __init__(self, c: int):
        super().__init__()
        self.rows = nn.Conv2d(c, c, (3, 1), padding=(1, 0), bias=False)  # along h
        self.cols = nn.Conv2d(c, c, (1, 3), padding=(0, 1), bias=False)  # along w
        self.fuse = _fuse(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        row = self.rows(x.mean(dim=3, keepdim=True))  # (N, C, h, 1): each row's mean
        col = self.cols(x.mean(dim=2, keepdim=True))  # (N, C, 1, w): each column's mean
        return x + self.fuse(torch.cat([x, (row + col).expand_as(x)], dim=1))


class OracleUNet(nn.Module):
    """U-Net with LEVELS pooling levels, widths w, 2w, 4w, 8w, 8w (bottleneck at H/16).

    (N, 3, H, W) in [-1, 1] (+ optional (N, 2, H, W) coordinates, default: the whole
    frame) -> (N, C, H, W) logits; any H, W (padded to a multiple of 16 inside).
    `features` returns the globally pooled bottleneck (N, 8w): what fd_oracle /
    kid_oracle compare. strip: a StripContext after every decoder level.
    """

    def __init__(self, num_classes: int, width: int = 32, dropout: float = 0.0,
                 strip: bool = False):
        super().__init__()
        w = width
        chans = [w, 2 * w, 4 * w, 8 * w]  # encoder level widths, at H, H/2, H/4, H/8
        cins = [3 + 2] + chans[:-1]  # RGB + (y, x) coordinates
        self.enc = nn.ModuleList([_block(a, b) for a, b in zip(cins, chans)])
        self.mid = nn.Sequential(_block(8 * w, 8 * w), Context(8 * w))  # (N, 8w, H/16, W/16)
        ups, decs, c = [], [], 8 * w
        for skip in reversed(chans):
            ups.append(nn.ConvTranspose2d(c, skip, 2, stride=2))
            decs.append(_block(2 * skip, skip))
            c = skip
        self.up, self.dec = nn.ModuleList(ups), nn.ModuleList(decs)
        # Identity has no parameters: without strip the state_dict is the one old caches hold
        self.strip = nn.ModuleList([StripContext(c) if strip else nn.Identity()
                                    for c in reversed(chans)])
        # Spatial dropout (training only, no parameters): on the bottleneck and before the
        # head, against over-fitting a few hundred photos.
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Conv2d(w, num_classes, 1)
        self.num_classes, self.width = num_classes, width

    @staticmethod
    def _pad(x: torch.Tensor) -> torch.Tensor:
        m = 2 ** LEVELS
        h, w = x.shape[-2:]
        return F.pad(x, (0, -w % m, 0, -h % m), mode="replicate")

    def _encode(self, x: torch.Tensor, coords: torch.Tensor | None
                ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if coords is None:
            coords = coord_grid(x.shape[0], *x.shape[-2:], device=x.device)
        x = self._pad(torch.cat([x, coords.to(x.dtype)], dim=1))  # (N, 5, H', W')
        skips = []
        for blk in self.enc:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        return self.mid(x), skips  # (N, 8w, H'/16, W'/16)

    def forward(self, x: torch.Tensor, coords: torch.Tensor | None = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        x, skips = self._encode(x, coords)
        x = self.drop(x)
        for up, dec, strip, skip in zip(self.up, self.dec, self.strip, reversed(skips)):
            x = strip(dec(torch.cat([up(x), skip], dim=1)))
        return self.head(self.drop(x))[..., :h, :w]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x, None)[0].mean(dim=(2, 3))  # (N, 8w)


class OracleEnsemble(nn.Module):
    """Several OracleUNets (different seeds): (N, 3, H, W) -> the mean of their logits.

    `features` is member 0's, so fd_oracle / kid_oracle of an ensemble are those of the
    single oracle with the same first seed (comparable across ensemble sizes)."""

    def __init__(self, members: list[OracleUNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor, coords: torch.Tensor | None = None) -> torch.Tensor:
        return sum(m(x, coords) for m in self.members) / len(self.members)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.members[0].features(x)


def predict_logits(net: nn.Module, x: torch.Tensor, tta: bool = True) -> torch.Tensor:
    """(N, 3, H, W) -> (N, C, H, W) logits; with tta, the mean of the logits of x and of
    its mirror image (mirrored back). The coordinates stay those of the whole frame:
    a mirrored photo is just another photo, as in training."""
    out = net(x)
    if tta:
        out = (out + net(x.flip(-1)).flip(-1)) / 2
    return out


# Training options added after version 3, with their defaults: a fingerprint names one
# only when it differs from its default, so caches of the default settings stay valid.
# (EvalConfig key oracle_<name> -> train_oracle keyword <name>.)
EXTRAS = {"class_power": 0.5, "dropout": 0.0, "weight_decay": WEIGHT_DECAY,
          "final_steps": 0, "final_crop": None, "strip": False}


def oracle_extras(eval_cfg) -> dict:
    """The EXTRAS options of an eval config: {name: value}."""
    return {k: getattr(eval_cfg, f"oracle_{k}") for k in EXTRAS}


def oracle_fingerprint(data_cfg, size: tuple[int, int], seed: int, steps: int, width: int,
                       batch_size: int, crop: int | None = None, bf16: bool = False,
                       **extras) -> str:
    data = data_cfg.model_dump(mode="json")
    for k in ("batch_size", "num_workers"):  # how it is loaded, not what it is
        data.pop(k, None)
    if data.get("root"):
        data["root"] = str(Path(data["root"]).expanduser().resolve())
    key = {"data": data, "split": "train", "size": list(size), "seed": seed,
           "version": ORACLE_VERSION, "steps": steps, "width": width, "batch_size": batch_size,
           "crop": crop, **({"bf16": True} if bf16 else {}),
           **{k: v for k, v in extras.items() if v != EXTRAS[k]}}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def oracle_path(data_cfg, size, seed, steps, width, batch_size, crop=None, bf16=False,
                create: bool = True, **extras) -> Path:
    fp = oracle_fingerprint(data_cfg, size, seed, steps, width, batch_size, crop, bf16, **extras)
    return cache_dir("oracle", create=create) / f"{data_cfg.dataset}-{size[0]}x{size[1]}-{fp}.pt"


def class_weights(train_set, num_classes: int, ignore_index: int | None, max_items: int = 256,
                  power: float = 0.5) -> torch.Tensor:
    """(C,) cross-entropy weights ~ (1 / class frequency) ** power, mean 1 over present
    classes (power 0.5: 1/sqrt; 0: all 1).

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
    freq = counts[present] / counts.sum()
    w[present] = freq.rsqrt() if power == 0.5 else freq.pow(-power)  # rsqrt: v3's exact bits
    w[present] /= w[present].mean()
    return w.float()


def boundary_band(label: torch.Tensor, radius: int) -> torch.Tensor:
    """(N, h, w) long -> (N, h, w) bool: pixels with another class within `radius` pixels
    (Chebyshev distance), i.e. a band of width 2 * radius along every region edge.

    A diagnostic (scripts/oracle_ceiling.py reports accuracy on and off the band). Leaving
    the band out of the training loss made the facades oracle worse (0.343 / 0.649 against
    0.377 / 0.664): the JPEG-blended edges are scored, and their labels follow a pattern
    (a blend of background and window snaps to facade) that the net can learn."""
    k = 2 * radius + 1
    lab = label[:, None].float()  # (N, 1, h, w)
    hi = F.max_pool2d(lab, k, stride=1, padding=radius)
    lo = -F.max_pool2d(-lab, k, stride=1, padding=radius)
    return (hi != lo)[:, 0]


def augment(image: torch.Tensor, label: torch.Tensor, out_size: tuple[int, int],
            gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random resized crop + horizontal flip + colour jitter, drawn from `gen`.

    image (N, 3, H, W) in [-1, 1], label (N, H, W) long -> image (N, 3, h, w),
    label (N, h, w), coords (N, 2, h, w): the crop's pixel centres in the whole photo's
    [-1, 1] frame (before the flip, so x still grows to the right: a mirrored photo is
    treated as another photo)."""
    n = image.shape[0]
    u = torch.rand(n, 8, generator=gen)
    log_zoom = math.log(ZOOM[0]) + (math.log(ZOOM[1]) - math.log(ZOOM[0])) * u[:, 0]
    side = (out_size[0] / image.shape[-2]) / torch.exp(log_zoom)  # crop side / photo side
    aspect = torch.exp(math.log(ASPECT[0]) + (math.log(ASPECT[1]) - math.log(ASPECT[0])) * u[:, 1])
    sx = (side * aspect.sqrt()).clamp(max=1.0)  # half-extent of the crop in [-1, 1] units
    sy = (side / aspect.sqrt()).clamp(max=1.0)
    tx = (1 - sx) * (2 * u[:, 2] - 1)  # centre, keeping the crop inside the photo
    ty = (1 - sy) * (2 * u[:, 3] - 1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx, tx, sy, ty
    grid = F.affine_grid(theta, [n, 3, *out_size], align_corners=False)  # (N, h, w, 2) as (x, y)
    img = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)
    lab = F.grid_sample(label[:, None].float(), grid, mode="nearest", padding_mode="border",
                        align_corners=False)[:, 0].long()
    coords = grid.flip(-1).permute(0, 3, 1, 2).contiguous()  # (N, 2, h, w) as (y, x)
    flip = u[:, 4] < 0.5
    img[flip], lab[flip] = img[flip].flip(-1), lab[flip].flip(-1)
    # colour jitter in [0, 1] space: brightness, contrast, saturation (+-25%)
    x = (img + 1) / 2
    gray = x.mean(dim=1, keepdim=True)  # (N, 1, h, w)
    sat = (0.75 + 0.5 * u[:, 5]).view(n, 1, 1, 1)
    x = gray + sat * (x - gray)
    con = (0.75 + 0.5 * u[:, 6]).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + con * (x - mean)
    x = x * (0.75 + 0.5 * u[:, 7]).view(n, 1, 1, 1)
    return (x.clamp(0, 1) * 2 - 1), lab, coords


def train_oracle(train_set, num_classes: int, ignore_index: int | None, steps: int, width: int,
                 batch_size: int, seed: int, device: torch.device, log=print,
                 crop: int | None = None, bf16: bool = False, class_power: float = 0.5,
                 dropout: float = 0.0, weight_decay: float = WEIGHT_DECAY,
                 final_steps: int = 0, final_crop: int | None = None,
                 strip: bool = False) -> OracleUNet:
    """AdamW with a one-cycle schedule, class-balanced cross-entropy on augmented real
    photos (don't-care ignored), deterministic for a seed on one machine.

    crop: side of the square training crops (None: the data set's size). The last
    `final_steps` steps take crops of `final_crop` instead (None: the whole image):
    progressive resizing, many cheap small-crop steps, then the test-time context at the
    annealed learning rate (BatchNorm's statistics end on full-size inputs). Balancing took
    the synthetic 64x64 oracle (300 steps, width 16) from mIoU 0.56 to 0.88: rare classes
    are otherwise never predicted."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = OracleUNet(num_classes, width, dropout, strip).to(device)
    if bf16:  # convolutions pick their fast bf16 kernels in channels_last
        net = net.to(memory_format=torch.channels_last)
    weight = class_weights(train_set, num_classes, ignore_index, power=class_power).to(device)
    # All photos in memory once (400 facades at 256x256: 300 MB): augmentation then
    # works on whole batches of tensors.
    items = [train_set[i] for i in range(len(train_set))]
    images = torch.stack([it["image"] for it in items])  # (M, 3, H, W) in [-1, 1]
    labels = torch.stack([it["label"] for it in items]).long()  # (M, H, W)
    del items
    full = tuple(images.shape[-2:])
    out_size = full if crop is None else (crop, crop)
    final_size = full if final_crop is None else (final_crop, final_crop)
    bs = min(batch_size, len(images))
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=max(steps, 1),
                                                pct_start=0.15)
    ignore = -100 if ignore_index is None else ignore_index
    step, order = 0, torch.empty(0, dtype=torch.long)
    progress = ProgressLines("oracle", steps, 0, bs, write=log)
    net.train()
    while step < steps:
        if len(order) < bs:  # a new epoch: a fresh permutation from the seeded generator
            order = torch.randperm(len(images), generator=gen)
        idx, order = order[:bs], order[bs:]
        size = final_size if step >= steps - final_steps else out_size
        image, label, coords = augment(images[idx], labels[idx], size, gen)
        image, label, coords = image.to(device), label.to(device), coords.to(device)
        if bf16:
            image = image.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = net(image, coords)  # (N, C, h, w)
        loss = F.cross_entropy(logits.float(), label, weight=weight, ignore_index=ignore)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        # a line at a steady interval (BENCH_PROGRESS_EVERY, default 30 s) and at the end
        progress.update(step, lambda loss=loss: {"loss": loss.item()})
    return net.eval()


@functools.lru_cache(maxsize=None)
def _say_once(message: str) -> None:
    """A note on stderr once per process (every run of an experiment builds the oracle)."""
    print(f"note: {message}", file=sys.stderr)


def oracle_cache_file(data_cfg, size: tuple[int, int], eval_cfg, device: torch.device,
                      create: bool = True, member: int = 0) -> tuple[Path, bool]:
    """(cache file, whether it trains under bf16 autocast) of the oracle these settings give
    on `device`; the file may not exist yet (create=False: its folder neither). member k of
    an ensemble (eval.oracle_members) is the single oracle of seed eval.seed + k: its own
    cache entry, shared with any config that trains that seed alone."""
    bf16 = eval_cfg.oracle_bf16
    if bf16 and not bf16_is_fast(device.type):
        # Emulated bf16 is ~10x slower than fp32 (bench.train.speed.bf16_is_fast): fp32 here,
        # under its own fingerprint, so a bf16-trained cache file is never taken for it.
        bf16 = False
        _say_once(f"eval.oracle_bf16: no native bf16 on this {device.type} (AVX512-BF16/AMX "
                  "or a CUDA GPU): the oracle trains in fp32, its own cache entry (emulated "
                  "bf16 runs about 10x slower than fp32)")
    path = oracle_path(data_cfg, size, eval_cfg.seed + member, eval_cfg.oracle_steps,
                       eval_cfg.oracle_width, eval_cfg.oracle_batch_size, eval_cfg.oracle_crop,
                       bf16, create=create, **oracle_extras(eval_cfg))
    return path, bf16


def load_or_train_oracle(data_cfg, info, size: tuple[int, int], eval_cfg, device: torch.device
                         ) -> tuple[OracleUNet | OracleEnsemble, Path, dict]:
    """The cached oracle for these settings, training it first if needed (one process at a
    time). With eval.oracle_members = n > 1: an OracleEnsemble of the n single oracles of
    seeds eval.seed .. eval.seed + n - 1; path and meta are member 0's (what fd_oracle
    reads), plus meta["members"] (every member's fingerprint) and the summed train_seconds."""
    n = eval_cfg.oracle_members
    loaded = [_load_or_train_member(data_cfg, info, size, eval_cfg, device, k) for k in range(n)]
    if n == 1:
        return loaded[0]
    nets, paths, metas = zip(*loaded)
    meta = {**metas[0], "members": [m["fingerprint"] for m in metas],
            "member_paths": [str(p) for p in paths],
            "train_seconds": sum(m["train_seconds"] for m in metas)}
    return OracleEnsemble(list(nets)).to(device).eval(), paths[0], meta


def _load_or_train_member(data_cfg, info, size: tuple[int, int], eval_cfg, device: torch.device,
                          member: int) -> tuple[OracleUNet, Path, dict]:
    from bench.data.registry import build_dataset

    path, bf16 = oracle_cache_file(data_cfg, size, eval_cfg, device, member=member)
    crop, extras = eval_cfg.oracle_crop, oracle_extras(eval_cfg)
    seed = eval_cfg.seed + member
    args = (data_cfg, size, seed, eval_cfg.oracle_steps, eval_cfg.oracle_width,
            eval_cfg.oracle_batch_size, crop, bf16)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits, then reads the cached file
        if not path.is_file():
            t0 = time.perf_counter()
            net = train_oracle(build_dataset(data_cfg, "train"), info.num_classes, info.dontcare_id,
                               eval_cfg.oracle_steps, eval_cfg.oracle_width,
                               eval_cfg.oracle_batch_size, seed, device,
                               log=lambda m: print(m, file=sys.stderr), crop=crop, bf16=bf16,
                               **extras)
            meta = {"fingerprint": oracle_fingerprint(*args, **extras), "version": ORACLE_VERSION,
                    "num_classes": info.num_classes, "width": eval_cfg.oracle_width,
                    "steps": eval_cfg.oracle_steps, "crop": crop, "bf16": bf16, **extras,
                    "train_seconds": time.perf_counter() - t0,
                    "dataset": data_cfg.dataset, "size": list(size)}
            state = {"state_dict": {k: v.cpu() for k, v in net.state_dict().items()}, "meta": meta}
            atomic_write(path, lambda f: torch.save(state, f))
    net, meta = load_oracle(path, device)
    return net, path, meta


def load_oracle(path: Path, device: torch.device) -> tuple[OracleUNet, dict]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    meta = state["meta"]
    net = OracleUNet(meta["num_classes"], meta["width"], strip=meta.get("strip", False))
    net.load_state_dict(state["state_dict"])
    net = net.to(memory_format=torch.contiguous_format)  # scored in fp32, contiguous
    return net.to(device).eval(), meta
