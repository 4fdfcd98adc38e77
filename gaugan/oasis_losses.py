"""OASIS losses (Sushko et al., ICLR 2021; boschresearch/OASIS models/losses.py, models.py).

The discriminator is a semantic segmenter with N + 1 classes: channel 0 is "fake",
channel k + 1 is label class k. Its loss is a per-pixel cross-entropy:
    real image:   target = class + 1, weighted per pixel by the class-balancing weight
    fake image:   target = 0 ("fake"), unweighted
The generator's adversarial loss is the real-image loss on its fake (D must see the
label map's classes in it). Class balancing: w_c = (N H W) / (K * count_c), count_c the
class's pixels in the batch, K the classes present; the don't-care class gets 0 (and is
left out of K). LabelMix: a binary mask M drawing one coin per class present in the
batch (the same coin for that class in every image) mixes real and fake,
x_mix = M * real + (1 - M) * fake, and D is asked to be consistent:
    L_LM = || D(x_mix) - (M * D(real) + (1 - M) * D(fake)) ||^2   (MSE over logits)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def class_balance_weights(label: torch.Tensor, dontcare: int | None = None) -> torch.Tensor:
    """label: (N, K, H, W) one-hot -> (N, H, W) per-pixel weights."""
    occurrence = label.sum(dim=(0, 2, 3))
    if dontcare is not None:
        occurrence[dontcare] = 0
    present = (occurrence > 0).sum()
    coeff = torch.reciprocal(occurrence) * (label.numel() / label.shape[1]) / present
    if dontcare is not None:
        coeff[dontcare] = 0
    return coeff[label.argmax(1)]


def n_plus_1_targets(label: torch.Tensor, for_real: bool) -> torch.Tensor:
    """(N, K, H, W) one-hot -> (N, H, W) targets: class + 1 for real, 0 ("fake") for fake."""
    ids = label.argmax(1)
    return ids + 1 if for_real else torch.zeros_like(ids)


def n_plus_1_loss(logits: torch.Tensor, label: torch.Tensor, for_real: bool,
                  balance: bool = True, dontcare: int | None = None) -> torch.Tensor:
    """logits: (N, K + 1, H, W) D output; label: (N, K, H, W) one-hot -> scalar."""
    loss = F.cross_entropy(logits, n_plus_1_targets(label, for_real), reduction="none")
    if for_real and balance:
        loss = loss * class_balance_weights(label, dontcare)
    return loss.mean()


def labelmix_mask(label: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, K, H, W) one-hot -> (N, 1, H, W) float mask: one coin per class present in the
    batch (ascending class order, as torch.unique), shared by all images."""
    ids = label.argmax(1, keepdim=True)
    classes = torch.unique(ids)
    coins = torch.randint(0, 2, (classes.numel(),), generator=generator, device="cpu").to(ids.device)
    lut = torch.zeros(label.shape[1], dtype=torch.long, device=ids.device)
    lut[classes] = coins
    return lut[ids].to(label.dtype)


def labelmix(mask: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    return mask * real + (1 - mask) * fake


def labelmix_loss(mask: torch.Tensor, d_mixed: torch.Tensor, d_fake: torch.Tensor,
                  d_real: torch.Tensor) -> torch.Tensor:
    """MSE between D(mixed) and the same mix of D(fake), D(real) (gradients reach all three,
    as official)."""
    return F.mse_loss(d_mixed, mask * d_real + (1 - mask) * d_fake)
