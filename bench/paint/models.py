"""The painter's models: one generator per (variant, seed), loaded once, rendering label maps.

Every model is loaded on first use (each variant's lowest seed at start-up, so the first
stroke is fast and a run folder of mismatched label layouts fails before the page opens),
kept in eval mode, and run under inference_mode with the device's fastest inference path:
bf16 autocast where bf16 runs natively (CUDA; CPUs with AVX512-BF16/AMX), as
`train.speed: auto` decides for training. Model calls are serialised by one lock: on a
CPU, two forwards side by side only split the same cores and both finish later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from bench.data.base import DatasetInfo, semantic_input
from bench.data.transforms import instance_edges, target_size
from bench.errors import BenchError
from bench.metrics.generate import to_uint8
from bench.paint.labels import PaintError
from bench.paint.runs import RunRef
from bench.paint.style import Style, StyleSource, seeded_z, slerp
from bench.train.outputs import colorize
from bench.train.speed import plan_speed

log = logging.getLogger("bench.paint")
MAX_PHOTOS = 16  # reference photos kept (oldest dropped first)


def style_dim(G: torch.nn.Module, arch: str) -> int:
    """The z_dim of a generator that takes a style code (GauGAN with use_vae, OASIS's 3D
    noise), else 0. OASIS gets a fixed code too, so its panel does not flicker."""
    if getattr(G, "use_vae", False) or arch == "oasis":
        return int(G.z_dim)
    return 0


class PaintModel:
    """One run's generator (and encoder), ready to render label maps."""

    def __init__(self, ref: RunRef, device: torch.device):
        from bench.data.registry import dataset_info
        from bench.train.checkpoint import load_generator

        self.ref = ref
        self.device = device
        self.G, self.E, cfg, meta = load_generator(ref.path, device)
        self.step = int(meta["step"])
        self.arch = type(cfg.model.generator).arch
        self.info: DatasetInfo = dataset_info(cfg.data)
        self.size = target_size(cfg.data.image_size, cfg.data.aspect_ratio)
        self.data_cfg = cfg.data
        self.z_dim = style_dim(self.G, self.arch)
        self.color_input = getattr(self.G, "label_input", "onehot") == "color"  # pix2pix
        self.plan = plan_speed("auto", device)
        self._photo_mu: dict[str, torch.Tensor] = {}

    def _seg(self, ids: np.ndarray) -> torch.Tensor:
        """(h, w) ids -> the generator's input (1, C, h, w). Painted maps have no instance
        map: where the model takes instance edges, the class boundaries stand in."""
        label = torch.from_numpy(ids.astype(np.int64))[None].to(self.device)
        if self.color_input:
            return colorize(label, self.info.palette)
        batch = {"label": label}
        if self.info.use_instance:
            edges = torch.from_numpy(instance_edges(ids)).float()[None, None]
            batch["instance"] = edges.to(self.device)
        return semantic_input(batch, self.info)

    def _source_z(self, src: StyleSource, photos: dict[str, np.ndarray]) -> torch.Tensor:
        if src.kind == "seed":
            return seeded_z(src.seed, self.z_dim)
        if self.E is None:
            raise PaintError(422, f"{self.ref.variant}: no style encoder, so no style from a "
                                  "photo (use a seed)")
        if src.photo not in photos:
            raise PaintError(404, f"style photo {src.photo!r} unknown (upload it again)")
        if src.photo not in self._photo_mu:
            x = torch.from_numpy(photos[src.photo]).permute(2, 0, 1)[None].float() / 127.5 - 1
            with self.plan.autocast():
                mu, _ = self.E(x.to(self.device))
            self._photo_mu[src.photo] = mu[0].float().cpu()
        return self._photo_mu[src.photo]

    def style_code(self, style: Style, photos: dict[str, np.ndarray]) -> torch.Tensor | None:
        if not self.z_dim:
            return None
        z = self._source_z(style.a, photos)
        if style.b is not None:
            z = slerp(z, self._source_z(style.b, photos), style.t)
        return z

    @torch.inference_mode()
    def render(self, ids: np.ndarray, style: Style, photos: dict[str, np.ndarray]) -> np.ndarray:
        """(h, w) ids -> (h, w, 3) uint8 image."""
        seg = self._seg(ids)
        z = self.style_code(style, photos)
        with self.plan.autocast():
            out = self.G(seg) if z is None else self.G(seg, z[None].to(self.device, seg.dtype))
        return to_uint8(out.float()[0].cpu()).permute(1, 2, 0).numpy()


@dataclass(frozen=True)
class Rendered:
    rgb: np.ndarray  # (h, w, 3) uint8
    ms: float  # time in the model (the HTTP round trip is measured by the page)


class Painter:
    """All runs of a RUN_DIR: variants in order, each with its seeds, models on demand."""

    def __init__(self, refs: list[RunRef], device: torch.device):
        self.device = device
        self.seeds: dict[str, dict[int, RunRef]] = {}
        for r in refs:
            self.seeds.setdefault(r.variant, {})[r.seed] = r
        self._models: dict[tuple[str, int], PaintModel] = {}
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self.photos: OrderedDict[str, np.ndarray] = OrderedDict()
        self._serving = False  # set once start-up has loaded each variant's lowest seed
        first = {v: self.model(v, min(s)) for v, s in self.seeds.items()}
        ref = next(iter(first.values()))
        self.info, self.size, self.data_cfg = ref.info, ref.size, ref.data_cfg
        for v, m in first.items():  # one canvas feeds every panel
            if (m.size, m.info.label_channels, m.info.palette) != (
                    self.size, self.info.label_channels, self.info.palette):
                raise BenchError(
                    f"{m.ref.path}: variant {v!r} paints {m.info.name} maps of "
                    f"{m.size[1]}x{m.size[0]} with {m.info.label_channels} label ids; variant "
                    f"{ref.ref.variant!r} {self.info.name} {self.size[1]}x{self.size[0]} with "
                    f"{self.info.label_channels}: point bench paint at runs of one data set")
        if self.info.label_channels > 256:
            raise BenchError(f"{ref.ref.path}: {self.info.label_channels} label ids; the painter "
                             "handles at most 256")
        self._serving = True

    def model(self, variant: str, seed: int) -> PaintModel:
        if variant not in self.seeds:
            raise PaintError(404, f"variant {variant!r} unknown; valid: {', '.join(self.seeds)}")
        if seed not in self.seeds[variant]:
            raise PaintError(404, f"variant {variant!r} has no seed {seed}; valid: "
                                  f"{', '.join(map(str, sorted(self.seeds[variant])))}")
        key = (variant, seed)
        if key in self._models:  # the common case: no lock, so loading never stalls renders
            return self._models[key]
        with self._load_lock:
            if key not in self._models:
                ref = self.seeds[variant][seed]
                log.info("loading %s seed %d from %s", variant, seed, ref.path)
                try:
                    m = PaintModel(ref, self.device)
                except BenchError as e:  # e.g. a corrupt checkpoint of a seed picked later
                    if not self._serving:
                        raise  # at start-up: bench paint's one-line message, exit 2
                    raise PaintError(409, str(e)) from None
                self._warm_up(m)
                self._models[key] = m
            return self._models[key]

    def _warm_up(self, m: PaintModel) -> None:
        """One render right after loading: the first call of a kernel (oneDNN's bf16
        primitives, CUDA's autotuning) is slow and should not be the first stroke's."""
        with self._run_lock:
            m.render(np.zeros(m.size, dtype=np.uint8), Style(), self.photos)

    def add_photo(self, key: str, rgb: np.ndarray) -> None:
        self.photos[key] = np.array(rgb, dtype=np.uint8)  # our own copy (torch wants it writable)
        while len(self.photos) > MAX_PHOTOS:
            self.photos.popitem(last=False)

    def render(self, variant: str, seed: int, ids: np.ndarray, style: Style) -> Rendered:
        m = self.model(variant, seed)
        with self._run_lock:
            t0 = time.perf_counter()
            rgb = m.render(ids, style, self.photos)
            return Rendered(rgb, (time.perf_counter() - t0) * 1000)
