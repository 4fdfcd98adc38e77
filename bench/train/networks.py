"""The networks and optimizers of one training stage, on their device, ready to train.

Most runs have one stage. pix2pixHD's local enhancer has three (bench.train.schedule):
  global        a fresh pix2pixhd_global G (LocalEnhancer.make_global_generator) and a D
                of the run's discriminator config, both at 1/2**n_local_enhancers size;
  fixed_global  the run's local enhancer with the trained global weights loaded
                (load_global_state_dict); only outer_enhancer_parameters() train;
  joint         everything trains (a fresh G optimizer, as the official code makes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
from torch import nn

from bench.build import build_context, build_networks
from bench.errors import BenchError
from bench.train import ddp
from bench.train.recipes import family
from bench.train.schedule import FIXED, GLOBAL
from gaugan.init import init_family
from gaugan.registry import BuildContext

log = logging.getLogger("bench.train")


@dataclass
class Stage:
    name: str
    G: nn.Module  # possibly DDP-wrapped; ddp.plain(G) is the model
    D: nn.Module
    E: nn.Module | None
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    image_size: tuple[int, int]  # (H, W) this stage trains at
    full_size: tuple[int, int]  # the run's (H, W): the data's size
    # what differs from the config as built here (e.g. sync-BN run as batch norm)
    notes: list[str] = field(default_factory=list)

    def state_dict(self) -> dict:
        E = ddp.plain(self.E)
        return {"G": ddp.plain(self.G).state_dict(), "D": ddp.plain(self.D).state_dict(),
                "E": E.state_dict() if E is not None else None,
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        ddp.plain(self.G).load_state_dict(state["G"])
        ddp.plain(self.D).load_state_dict(state["D"])
        if self.E is not None:
            ddp.plain(self.E).load_state_dict(state["E"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])


def check_model_pairing(cfg) -> None:
    """Encoder <-> VAE generator, and pix2pix's G/D label inputs, must agree."""
    g, d, e = cfg.model.generator, cfg.model.discriminator, cfg.model.encoder
    use_vae = getattr(g, "use_vae", False)
    if e is not None and not use_vae:
        raise BenchError(f"model.encoder: set, but model.generator ({type(g).arch}) does not take "
                         "a style code (set model.generator.use_vae: true, or drop the encoder)")
    if use_vae and e is None:
        raise BenchError("model.generator.use_vae: true needs model.encoder (e.g. arch: conv_vae)")
    if e is not None and e.z_dim != g.z_dim:
        raise BenchError(f"model.encoder.z_dim: {e.z_dim} must equal model.generator.z_dim {g.z_dim}")
    g_in, d_in = getattr(g, "label_input", "onehot"), getattr(d, "label_input", "onehot")
    if g_in != d_in:
        raise BenchError(f"model.discriminator.label_input: {d_in!r} must match "
                         f"model.generator.label_input {g_in!r}")


def build_stage(cfg, info, name: str, device: torch.device, dist: ddp.Dist,
                channels_last: bool, global_state: dict | None = None) -> Stage:
    """Build (on CPU, seeded by the caller), initialise (model.init), move, freeze, wrap,
    and make the optimizers. With global_state (pix2pixHD global -> fixed_global) the fresh
    local enhancer is initialised, then its global part replaced by the trained weights."""
    ctx = build_context(cfg, info)
    try:
        nets = build_networks(cfg, info)
        G, D, E = nets.G, nets.D, nets.E
        size = ctx.image_size
        if name == GLOBAL:
            G = G.make_global_generator()
            f = 2**G_local_levels(nets.G)
            size = (size[0] // f, size[1] // f)
            D = cfg.model.discriminator.build(BuildContext(ctx.semantic_nc, size, ctx.output_nc))
    except ValueError as e:  # a size or option the architecture cannot take
        raise BenchError(f"model: {e}") from None
    # The family's official init, drawn from the caller's seeded RNG before any forward,
    # device move or optimizer (a resumed run then loads its checkpoint over it).
    fam = family(type(cfg.model.generator).arch)
    for m in (G, D, E):
        init_family(m, fam, cfg.model.init)
    if global_state is not None:
        G.load_global_state_dict(global_state)
    notes = []
    if dist.enabled and dist.backend == "gloo":
        n = sum(ddp.replace_sync_batchnorm(m) for m in (G, D, E) if m is not None)
        if n:
            notes.append(f"gloo (CPU) has no sync-batch norm: {n} SyncBatchNorm layers ran as "
                         "per-process batch norm")
            log.warning(notes[-1])
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    G, D = G.to(device, memory_format=memory_format), D.to(device, memory_format=memory_format)
    E = E.to(device) if E is not None else None

    if name == FIXED:  # only the outer enhancer trains; the global part is frozen
        G.requires_grad_(False)
        for p in G.outer_enhancer_parameters():
            p.requires_grad_(True)
    t = cfg.train
    g_params = [p for m in (G, E) if m is not None for p in m.parameters() if p.requires_grad]
    opt_g = adam(g_params, t.lr_g, t)
    opt_d = adam(list(D.parameters()), t.lr_d, t)
    return Stage(name, ddp.wrap(G, dist, device), ddp.wrap(D, dist, device),
                 ddp.wrap(E, dist, device), opt_g, opt_d, size, ctx.image_size, notes)


def adam(params: list, lr: float, t) -> torch.optim.Adam:
    """Adam with the run's betas, fused (one kernel for all parameters, no per-tensor
    Python loop and no host sync) where torch has it for the parameters' device; the
    same update as the per-parameter loop up to rounding."""
    devices = {p.device.type for p in params}
    fused = len(devices) == 1 and devices <= {"cpu", "cuda"} and all(
        p.dtype in (torch.float32, torch.float16, torch.bfloat16, torch.float64) for p in params)
    return torch.optim.Adam(params, lr=lr, betas=(t.beta1, t.beta2), fused=fused or None,
                            foreach=None if fused else True)


def G_local_levels(G: nn.Module) -> int:
    return int(getattr(G, "n_local_enhancers", 0))


def next_stage(cfg, info, stage: Stage, name: str, device: torch.device, dist: ddp.Dist,
               channels_last: bool) -> Stage:
    """pix2pixHD stage change. From global: the local enhancer is built with the trained
    global weights, and a fresh full-size D. From fixed_global to joint: same G and D,
    every G parameter trains, with a fresh G optimizer (as the official code)."""
    if stage.name == GLOBAL:
        return build_stage(cfg, info, name, device, dist, channels_last,
                           global_state=ddp.plain(stage.G).state_dict())
    G, E = ddp.plain(stage.G), ddp.plain(stage.E)
    G.requires_grad_(True)
    t = cfg.train
    g_params = [p for m in (G, E) if m is not None for p in m.parameters()]
    opt_g = adam(g_params, t.lr_g, t)
    return Stage(name, ddp.wrap(G, dist, device), stage.D, stage.E, opt_g, stage.opt_d,
                 stage.image_size, stage.full_size, stage.notes)
