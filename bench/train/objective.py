"""The training objective of a run: which losses, their weights, and the VGG19 fallback.

G step:  GAN(D(fake)) + lambda_feat * FM + lambda_vgg * VGG + lambda_kl * KL + lambda_l1 * L1
D step:  scale * (GAN(D(fake), fake) + GAN(D(real), real))     (scale 0.5 for the baselines)
All loss functions come from gaugan.losses.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from bench.errors import BenchError
from bench.train.recipes import D_LOSS_SCALE, GAN_SCALE_REDUCTION
from gaugan import losses
from gaugan.weights import WeightsMissingError

log = logging.getLogger("bench.train")


class Objective:
    def __init__(self, cfg, family: str, device: torch.device):
        lc = cfg.train.losses
        self.mode, self.lc = lc.gan_mode, lc
        self.d_scale = D_LOSS_SCALE[family]
        self.scales = GAN_SCALE_REDUCTION[family]
        self.vgg = None
        self.vgg_status = "off (lambda_vgg 0)"
        if lc.lambda_vgg > 0:
            try:
                self.vgg = losses.VGGLoss().to(device)
                self.vgg_status = "on"
            except WeightsMissingError as e:
                if lc.vgg_if_missing == "error":
                    raise BenchError(f"train.losses.vgg_if_missing is 'error': {e}") from None
                self.vgg_status = f"disabled: {e.path.name} missing in {e.path.parent}"
                log.warning("VGG19 perceptual loss turned off (train.losses.vgg_if_missing: "
                            "disable): %s", e)

    def generator(self, D, cond, fake, real, mu=None, logvar=None) -> dict[str, torch.Tensor]:
        """Losses of the G step; D is frozen (its parameters get no gradient)."""
        lc = self.lc
        pred_fake = D(cond, fake)
        out = {"g_gan": losses.generator_gan_loss(pred_fake, self.mode, self.scales)}
        if lc.lambda_feat > 0:
            with torch.no_grad():
                pred_real = D(cond, real)
            out["g_feat"] = lc.lambda_feat * losses.feature_matching_loss(pred_fake, pred_real)
        if self.vgg is not None:
            out["g_vgg"] = lc.lambda_vgg * self.vgg(fake.float(), real.float())
        if mu is not None and lc.lambda_kl > 0:
            out["g_kl"] = lc.lambda_kl * losses.kl_divergence(mu.float(), logvar.float())
        if lc.lambda_l1 > 0:
            out["g_l1"] = lc.lambda_l1 * F.l1_loss(fake, real)
        return out

    def discriminator(self, D, cond, fake, real) -> dict[str, torch.Tensor]:
        """Losses of the D step; `fake` is detached from G."""
        d_fake, d_real = losses.discriminator_loss(
            D(cond, fake), D(cond, real), self.mode, self.scales
        )
        return {"d_fake": self.d_scale * d_fake, "d_real": self.d_scale * d_real}
