"""The training objective of a run: which losses, their weights, and the VGG19 fallback.

G step:  GAN(D(fake)) + lambda_feat * FM + lambda_vgg * VGG + lambda_kl * KL + lambda_l1 * L1
D step:  scale * (GAN(D(fake), fake) + GAN(D(real), real))     (scale 0.5 for the baselines)
All loss functions come from gaugan.losses.

How D sees fake and real is the family's (recipes.D_ON_CONCAT). SPADE family: one D
call on the batch concatenation cat([fake, real]) in both steps, the predictions split
(official Pix2PixModel.discriminate; in the G step pred_real carries the graph, detached
in feature matching). pix2pix / pix2pixHD: separate calls, fake first; the G step's
pred_real (only for feature matching) without a graph.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from bench.errors import BenchError
from bench.metrics.weights import explain_missing_once
from bench.train import ddp
from bench.train.recipes import D_LOSS_SCALE, D_ON_CONCAT, GAN_SCALE_REDUCTION
from gaugan import losses
from gaugan.weights import WeightsMissingError

log = logging.getLogger("bench.train")


class Objective:
    def __init__(self, cfg, family: str, device: torch.device):
        lc = cfg.train.losses
        self.mode, self.lc = lc.gan_mode, lc
        self.d_scale = D_LOSS_SCALE[family]
        self.scales = GAN_SCALE_REDUCTION[family]
        self.on_concat = D_ON_CONCAT[family]
        self.vgg = None
        self.vgg_status = "off (lambda_vgg 0)"
        if lc.lambda_vgg > 0:
            try:
                self.vgg = losses.VGGLoss().to(device)
                self.vgg_status = "on"
            except WeightsMissingError as e:
                if lc.vgg_if_missing == "error":
                    raise BenchError(f"train.losses.vgg_if_missing is 'error': {e}; get it with "
                                     "`bench weights fetch vgg19`") from None
                self.vgg_status = f"disabled: {e.path.name} missing in {e.path.parent}"
                log.info("VGG19 perceptual loss turned off: %s", e)
                explain_missing_once(e, "the VGG19 perceptual loss is turned off "
                                        "(train.losses.vgg_if_missing: disable); training goes on")

    def generator(self, D, cond, fake, real, mu=None, logvar=None) -> dict[str, torch.Tensor]:
        """Losses of the G step; D is frozen (its parameters get no gradient)."""
        lc = self.lc
        if self.on_concat:
            pred_fake, pred_real = self._on_concat(D, cond, fake, real)
        else:
            pred_fake = D(cond, fake)
            if lc.lambda_feat > 0:
                with torch.no_grad():
                    pred_real = D(cond, real)
        out = {"g_gan": losses.generator_gan_loss(pred_fake, self.mode, self.scales)}
        if lc.lambda_feat > 0:
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
        if self.on_concat:
            pred_fake, pred_real = self._on_concat(D, cond, fake, real)
        else:
            pred_fake = D(cond, fake)
            pred_real = D(cond, real)
        d_fake, d_real = losses.discriminator_loss(pred_fake, pred_real, self.mode, self.scales)
        return {"d_fake": self.d_scale * d_fake, "d_real": self.d_scale * d_real}

    @staticmethod
    def _on_concat(D, cond, fake, real):
        """One D call on cat([cond|fake, cond|real]) along the batch, split back. A D that
        takes one label map per group of images (GauGAN's) gets cond once."""
        shared = getattr(ddp.plain(D), "takes_shared_label", False)
        pred = D(cond if shared else torch.cat([cond, cond], 0), torch.cat([fake, real], 0))
        return losses.divide_pred(pred, fake.shape[0])


def make_objective(cfg, family: str, device: torch.device):
    """The family's objective: OASIS's N+1 segmentation loss (bench.train.oasis), else Objective."""
    if family == "oasis" or cfg.train.losses.gan_mode == "n_plus_1":
        from bench.data.registry import dataset_info
        from bench.train.oasis import OASISObjective

        if family != "oasis" or cfg.train.losses.gan_mode != "n_plus_1":
            raise BenchError("train.losses.gan_mode 'n_plus_1' and the oasis generator go together "
                             f"(got gan_mode {cfg.train.losses.gan_mode!r}, family {family!r})")
        info = dataset_info(cfg.data)
        return OASISObjective(cfg, device, info.dontcare_id, info.label_channels)
    return Objective(cfg, family, device)
