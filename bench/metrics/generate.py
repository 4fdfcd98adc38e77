"""Generate one image per validation label map (plus random-z samples for multimodal models).

Every z comes from its own generator seeded by (eval seed, map index, sample index), so
the images do not depend on the batch size. For a generator with a style code (use_vae)
the main sample encodes the real photo as the official test code does (z = mu + eps *
sigma, eps seeded), or draws a seeded z without an encoder; the extra samples draw
z ~ N(0, I): those are the ones LPIPS diversity compares. G runs in eval mode (no
dropout noise, batch-norm running statistics), unlike pix2pix's official test script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Subset

from bench.data.base import semantic_input
from bench.train.outputs import colorize


@dataclass
class Generated:
    fake: torch.Tensor  # (N, 3, H, W) uint8
    real: torch.Tensor | None  # (N, 3, H, W) uint8; None: label maps without photos
    label: torch.Tensor  # (N, H, W) int64
    diverse: torch.Tensor | None  # (N, K, 3, H, W) uint8, random-z samples; None when K = 0


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float -> uint8, as a PNG stores it."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 -> [-1, 1] float (what the segmenter and LPIPS see: the PNGs' pixels)."""
    return x.float() / 127.5 - 1.0


def _randn(seed: int, index: int, sample: int, dim: int) -> torch.Tensor:
    g = torch.Generator().manual_seed((seed * 1_000_003 + index) * 1009 + sample)
    return torch.randn(dim, generator=g)


def is_multimodal(G) -> bool:
    """A generator that takes a style code z (GauGAN with use_vae)."""
    return bool(getattr(G, "use_vae", False))


def save_png(img: torch.Tensor, path: Path) -> None:
    """img: (3, H, W) uint8."""
    Image.fromarray(img.permute(1, 2, 0).numpy().astype(np.uint8)).save(path)


@torch.no_grad()
def generate(G, E, dataset, info, num_maps: int | None, extra: int, seed: int, batch_size: int,
             device, out_dir: Path) -> Generated:
    """Run G over the first num_maps validation items; write out_dir/{fake,real,diverse}/."""
    if num_maps is not None:
        dataset = Subset(dataset, range(min(num_maps, len(dataset))))
    for sub in ("fake", "real") + (("diverse",) if extra else ()):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    vae = is_multimodal(G)
    fakes, reals, labels, diverse = [], [], [], []
    start = 0
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        n = batch["label"].shape[0]
        idx = range(start, start + n)
        seg = semantic_input(batch, info).to(device)  # (n, semantic_nc, H, W)
        if getattr(G, "label_input", "onehot") == "color":  # pix2pix on the rendered map
            seg = colorize(batch["label"], info.palette).to(device)  # (n, 3, H, W)
        # (n, 3, H, W) in [-1, 1]; None for label maps without photos (generation only)
        real = batch["image"].to(device) if "image" in batch else None
        div = []
        if vae:
            def z_for(sample: int, idx=idx) -> torch.Tensor:  # (n, z_dim), seeded per map, sample
                return torch.stack([_randn(seed, i, sample, G.z_dim) for i in idx]).to(device)

            if E is not None and real is not None:  # the official test path: the real photo's style
                mu, logvar = E(real)  # (n, z_dim) each
                fake = G(seg, mu + z_for(0) * torch.exp(0.5 * logvar))
            else:
                fake = G(seg, z_for(0))
            div = [G(seg, z_for(j)) for j in range(1, extra + 1)]
        else:
            fake = G(seg)
        fake_u8 = to_uint8(fake.float().cpu())
        real_u8 = to_uint8(real.cpu()) if real is not None else None
        for k, i in enumerate(idx):
            save_png(fake_u8[k], out_dir / "fake" / f"{i:06d}.png")
            if real_u8 is not None:
                save_png(real_u8[k], out_dir / "real" / f"{i:06d}.png")
        fakes.append(fake_u8)
        if real_u8 is not None:
            reals.append(real_u8)
        labels.append(batch["label"].long())
        if div:
            div_u8 = torch.stack([to_uint8(d.float().cpu()) for d in div], dim=1)  # (n, K, 3, H, W)
            for k, i in enumerate(idx):
                for j in range(extra):
                    save_png(div_u8[k, j], out_dir / "diverse" / f"{i:06d}_{j + 1}.png")
            diverse.append(div_u8)
        start += n
    return Generated(torch.cat(fakes), torch.cat(reals) if reals else None, torch.cat(labels),
                     torch.cat(diverse) if diverse else None)
