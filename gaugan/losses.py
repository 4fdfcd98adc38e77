"""GAN objectives and auxiliary losses of GauGAN and its baselines (official semantics).

Discriminator outputs are either one tensor or, for multi-scale discriminators, a
list per scale of lists of intermediate features whose last entry is the prediction
(MultiscaleDiscriminator.forward). GAN losses then average over scales, as the
official GANLoss does.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gaugan.weights import require_hub_checkpoint

GAN_MODES = ("hinge", "lsgan", "vanilla")
DOutput = torch.Tensor | Sequence[Sequence[torch.Tensor]]


def _gan_loss_single(
    pred: torch.Tensor, target_is_real: bool, for_discriminator: bool, mode: str
) -> torch.Tensor:
    if mode == "hinge":
        if not for_discriminator:
            if not target_is_real:
                raise ValueError("the generator's hinge loss must target real")
            return -pred.mean()
        # D: mean(relu(1 - x)) on real, mean(relu(1 + x)) on fake.
        return F.relu(1 - pred).mean() if target_is_real else F.relu(1 + pred).mean()
    target = torch.full_like(pred, 1.0 if target_is_real else 0.0)
    if mode == "lsgan":
        return F.mse_loss(pred, target)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(pred, target)
    raise ValueError(f"gan mode {mode!r} is not valid; valid: {', '.join(GAN_MODES)}")


def gan_loss(
    pred: DOutput,
    target_is_real: bool,
    for_discriminator: bool,
    mode: str = "hinge",
    scale_reduction: str = "mean",
) -> torch.Tensor:
    """GAN loss of D's output; for a multi-scale output, each scale's loss on its last
    entry (the prediction), reduced over scales: "mean" as official SPADE, "sum" as
    official pix2pixHD (its GANLoss adds the scales up)."""
    if scale_reduction not in ("mean", "sum"):
        raise ValueError(f"scale_reduction {scale_reduction!r} is not valid; valid: mean, sum")
    if isinstance(pred, torch.Tensor):
        return _gan_loss_single(pred, target_is_real, for_discriminator, mode)
    losses = [
        _gan_loss_single(
            scale[-1] if not isinstance(scale, torch.Tensor) else scale,
            target_is_real,
            for_discriminator,
            mode,
        )
        for scale in pred
    ]
    total = torch.stack(losses)
    return total.mean() if scale_reduction == "mean" else total.sum()


def discriminator_loss(
    pred_fake: DOutput, pred_real: DOutput, mode: str = "hinge", scale_reduction: str = "mean"
):
    """(loss on fakes, loss on reals) for the D step; the trainer sums them."""
    return (
        gan_loss(pred_fake, False, True, mode, scale_reduction),
        gan_loss(pred_real, True, True, mode, scale_reduction),
    )


def generator_gan_loss(
    pred_fake: DOutput, mode: str = "hinge", scale_reduction: str = "mean"
) -> torch.Tensor:
    return gan_loss(pred_fake, True, False, mode, scale_reduction)


def feature_matching_loss(
    feats_fake: Sequence[Sequence[torch.Tensor]], feats_real: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    """Official GAN feature matching: sum over scales and over intermediate features
    (the last entry, the prediction, excluded) of L1(fake, real.detach()), divided by
    the number of scales. Unweighted: the caller multiplies by lambda_feat (10)."""
    num_d = len(feats_fake)
    total = feats_fake[0][0].new_zeros(())
    for fake, real in zip(feats_fake, feats_real, strict=True):
        for f, r in zip(fake[:-1], real[:-1], strict=True):
            total = total + F.l1_loss(f, r.detach())
    return total / num_d


def divide_pred(pred: DOutput, n_fake: int) -> tuple[DOutput, DOutput]:
    """Split D's output on cat([fake, real]) (batch dim) into (pred_fake, pred_real), the
    first n_fake samples being the fakes (official SPADE Pix2PixModel.divide_pred)."""
    if isinstance(pred, torch.Tensor):
        return pred[:n_fake], pred[n_fake:]
    fake = [[t[:n_fake] for t in scale] for scale in pred]
    real = [[t[n_fake:] for t in scale] for scale in pred]
    return fake, real


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).

    Summed over batch and latent dimensions, as official KLDLoss (not averaged): its
    size grows with batch size and z_dim; lambda_kl = 0.05 was tuned with that sum.
    """
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


# ----------------------------------------------------------------- VGG19 perceptual

VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's IMAGENET1K_V1 file name in the hub cache
# features[:30] cut after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.
VGG_SLICES = (2, 7, 12, 21, 30)
VGG_LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """Frozen torchvision VGG19 trunk returning relu1_1 .. relu5_1 activations."""

    def __init__(self, weights_path: str | os.PathLike):
        super().__init__()
        import torchvision  # local: only this loss needs it

        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        # Only the conv trunk is used: build the net on the meta device (no init cost)
        # and take the trunk's tensors from the file (strict: every trunk key must be there).
        with torch.device("meta"):
            features = torchvision.models.vgg19(weights=None).features
        trunk = {
            k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")
        }
        features.load_state_dict(trunk, strict=True, assign=True)
        bounds = (0,) + VGG_SLICES
        self.slices = nn.ModuleList(
            nn.Sequential(*[features[i] for i in range(a, b)])
            for a, b in itertools.pairwise(bounds)
        )
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out


class VGGLoss(nn.Module):
    """sum_i w_i * L1(vgg_i(fake), vgg_i(real).detach()), w = 1/32, 1/16, 1/8, 1/4, 1.

    Loads torchvision's ImageNet VGG19 from the torch hub cache
    (torch.hub.get_dir()/checkpoints/vgg19-dcbb9e9d.pth); raises
    gaugan.weights.WeightsMissingError naming that path when it is absent.

    Input scaling: the official SPADE code feeds the [-1, 1] images to VGG19 as they
    are, without ImageNet mean/std normalization; that is the default here.
    imagenet_normalize=True maps [-1, 1] -> [0, 1] -> (x - mean) / std first.
    Unweighted: the caller multiplies by lambda_vgg (10).
    """

    def __init__(self, imagenet_normalize: bool = False):
        super().__init__()
        path = require_hub_checkpoint(VGG19_FILE, "VGG19 perceptual loss")
        self.vgg = VGG19Features(path)
        self.imagenet_normalize = imagenet_normalize
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if not self.imagenet_normalize:
            return x
        return ((x + 1) / 2 - self.mean) / self.std

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """fake, real: (N, 3, H, W) in [-1, 1] -> scalar."""
        f_feats = self.vgg(self._prepare(fake))
        with torch.no_grad():  # the target side needs no graph (official: .detach())
            r_feats = self.vgg(self._prepare(real))
        loss = fake.new_zeros(())
        for w, f, r in zip(VGG_LAYER_WEIGHTS, f_feats, r_feats):
            loss = loss + w * F.l1_loss(f, r)
        return loss
