"""OASIS training: the N+1 segmentation objective with LabelMix, and the generator's EMA.

G step:  L_G = CE_{N+1}(D(fake), classes + 1) class-balanced          (no VGG, no FM)
D step:  L_D = CE_{N+1}(D(real), classes + 1) balanced + CE(D(fake), "fake")
               + lambda_labelmix * MSE(D(mix), M D(real) + (1 - M) D(fake))
(gaugan.oasis_losses). The LabelMix weight and class balancing are options of the
`oasis_unet` discriminator config; the EMA decay is the `oasis` generator config's
ema_decay (official: 0.9999 ADE20K / COCO-Stuff, 0.999 Cityscapes). The EMA generator
is what evaluation uses (snapshots and checkpoint key "G_ema"), as the official
"generate" mode does.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from bench.errors import BenchError
from gaugan import oasis_losses as L


class OASISObjective:
    vgg_status = "off (lambda_vgg 0)"

    def __init__(self, cfg, device: torch.device, dontcare: int | None, label_nc: int):
        lc, d = cfg.train.losses, cfg.model.discriminator
        if type(d).arch != "oasis_unet":
            raise BenchError(f"model.discriminator: the OASIS objective needs arch 'oasis_unet' "
                             f"(a segmentation D), got {type(d).arch!r}")
        for key in ("lambda_feat", "lambda_vgg", "lambda_l1"):
            if getattr(lc, key) > 0:
                raise BenchError(f"train.losses.{key}: {getattr(lc, key)} is not part of the OASIS "
                                 "objective here; set it to 0")
        self.mode = lc.gan_mode
        self.lambda_labelmix, self.balance = d.lambda_labelmix, d.class_balance
        self.dontcare, self.label_nc = dontcare, label_nc

    def _label(self, cond: torch.Tensor) -> torch.Tensor:
        return cond[:, : self.label_nc]  # drop an instance edge channel

    def generator(self, D, cond, fake, real, mu=None, logvar=None) -> dict[str, torch.Tensor]:
        label = self._label(cond)
        return {"g_gan": L.n_plus_1_loss(D(fake), label, True, self.balance, self.dontcare)}

    def discriminator(self, D, cond, fake, real) -> dict[str, torch.Tensor]:
        label = self._label(cond)
        d_fake, d_real = D(fake), D(real)
        out = {"d_fake": L.n_plus_1_loss(d_fake, label, False, self.balance, self.dontcare),
               "d_real": L.n_plus_1_loss(d_real, label, True, self.balance, self.dontcare)}
        if self.lambda_labelmix > 0:
            mask = L.labelmix_mask(label)
            d_mixed = D(L.labelmix(mask, fake, real))
            out["d_labelmix"] = self.lambda_labelmix * L.labelmix_loss(mask, d_mixed, d_fake, d_real)
        return out


class EMA:
    """An exponential moving average of a module's state (parameters and float buffers,
    as the official update_EMA over state_dict()); integer buffers are copied."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        src = module.state_dict()
        for key, value in self.module.state_dict().items():
            if value.is_floating_point():
                value.mul_(self.decay).add_(src[key].detach(), alpha=1 - self.decay)
            else:
                value.copy_(src[key])

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)


def make_ema(cfg, G: nn.Module) -> EMA | None:
    """The EMA of G when the generator config asks for one (ema_decay set), else None."""
    decay = getattr(cfg.model.generator, "ema_decay", None)
    return EMA(G, decay) if decay else None
