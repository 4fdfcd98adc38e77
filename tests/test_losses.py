"""Losses against hand-computed values and closed forms; VGG19 loading from the hub cache."""

from __future__ import annotations

import math
import os

import pytest
import torch
import torchvision

from gaugan.losses import (
    VGG19_FILE,
    VGGLoss,
    discriminator_loss,
    feature_matching_loss,
    gan_loss,
    generator_gan_loss,
    kl_divergence,
)
from gaugan.weights import WeightsMissingError, hub_checkpoint_path

PRED = torch.tensor([[-2.0, 0.0, 0.5, 3.0]])


def test_hinge_hand_computed():
    fake, real = discriminator_loss(PRED, PRED, "hinge")
    # real: relu(1 - x) = 3, 1, 0.5, 0 -> 4.5 / 4; fake: relu(1 + x) = 0, 1, 1.5, 4 -> 6.5 / 4
    assert real.item() == pytest.approx(1.125)
    assert fake.item() == pytest.approx(1.625)
    # G: -mean(x) = -(1.5 / 4)
    assert generator_gan_loss(PRED, "hinge").item() == pytest.approx(-0.375)
    with pytest.raises(ValueError):
        gan_loss(PRED, target_is_real=False, for_discriminator=False, mode="hinge")


def test_lsgan_and_vanilla_hand_computed():
    x = torch.tensor([0.5, 2.0])
    assert gan_loss(x, True, True, "lsgan").item() == pytest.approx((0.25 + 1.0) / 2)
    assert gan_loss(x, False, True, "lsgan").item() == pytest.approx((0.25 + 4.0) / 2)
    sig = [1 / (1 + math.exp(-v)) for v in (0.5, 2.0)]
    assert gan_loss(x, True, True, "vanilla").item() == pytest.approx(
        -(math.log(sig[0]) + math.log(sig[1])) / 2, rel=1e-6
    )
    assert gan_loss(x, False, False, "vanilla").item() == pytest.approx(
        -(math.log(1 - sig[0]) + math.log(1 - sig[1])) / 2, rel=1e-6
    )
    with pytest.raises(ValueError, match="hinge, lsgan, vanilla"):
        gan_loss(x, True, True, "wgan")


def test_multiscale_gan_loss_is_mean_over_scales_of_last_entry():
    feat = torch.full((1, 2, 4, 4), 100.0)  # intermediate features are ignored
    scale0 = [feat, torch.tensor([[[[-2.0, 0.0], [0.5, 3.0]]]])]  # hinge real: 1.125
    scale1 = [feat, torch.tensor([[[[0.0]]]])]  # a different size: relu(1 - 0) = 1
    loss = gan_loss([scale0, scale1], True, True, "hinge")
    assert loss.item() == pytest.approx((1.125 + 1.0) / 2)  # per-scale means, not pooled


def test_feature_matching_hand_computed():
    ones = torch.ones(1, 1, 2, 2)
    real0 = [1.0 * ones, 0.5 * ones, 7 * ones]
    fake0 = [3.0 * ones, 0.0 * ones, -7 * ones]  # last entry (prediction) excluded
    real1 = [2.0 * ones, 9 * ones]
    fake1 = [1.0 * ones, -9 * ones]
    fake = [[t.clone().requires_grad_() for t in s] for s in (fake0, fake1)]
    real = [[t.clone().requires_grad_() for t in s] for s in (real0, real1)]
    loss = feature_matching_loss(fake, real)
    # (|3-1| + |0-0.5|  +  |1-2|) / num_D = (2 + 0.5 + 1) / 2
    assert loss.item() == pytest.approx(1.75)
    loss.backward()
    assert fake[0][0].grad is not None and real[0][0].grad is None  # reals are targets


def test_kl_matches_closed_form():
    torch.manual_seed(0)
    mu, logvar = torch.randn(4, 8), torch.randn(4, 8)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum()  # summed, as official
    torch.testing.assert_close(kl_divergence(mu, logvar), expected)
    assert kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0.0


def test_vgg_file_name_is_torchvisions():
    url = torchvision.models.VGG19_Weights.IMAGENET1K_V1.url
    assert os.path.basename(url) == VGG19_FILE


def test_vgg_missing_weights_names_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / VGG19_FILE
    assert hub_checkpoint_path(VGG19_FILE) == expected
    with pytest.raises(WeightsMissingError) as err:
        VGGLoss()
    msg = str(err.value)
    assert VGG19_FILE in msg and str(expected.parent) in msg
    assert err.value.path == expected


def test_vgg_loss_loads_weights_from_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(0)
    ref = torchvision.models.vgg19(weights=None)  # random values
    state = ref.state_dict()
    path = tmp_path / "hub" / "checkpoints" / VGG19_FILE
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    loss_fn = VGGLoss()
    conv1 = loss_fn.vgg.slices[0][0]
    assert torch.equal(conv1.weight, state["features.0.weight"])  # the file's values
    assert torch.equal(loss_fn.vgg.slices[4][-2].weight, state["features.28.weight"])
    assert not any(p.requires_grad for p in loss_fn.parameters())

    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = torch.rand(2, 3, 32, 32) * 2 - 1
    assert loss_fn(x, x).item() == 0.0
    fake = x.clone().requires_grad_()
    loss = loss_fn(fake, y)
    loss.backward()
    assert loss.item() > 0 and fake.grad is not None and torch.isfinite(fake.grad).all()

    # Independent check: weighted L1 over relu1_1..relu5_1 of torchvision's own features.
    cuts, weights = (2, 7, 12, 21, 30), (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
    expected = 0.0
    with torch.no_grad():
        for cut, w in zip(cuts, weights):
            expected += w * (ref.features[:cut](x) - ref.features[:cut](y)).abs().mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)

    # ImageNet normalization maps [-1, 1] -> [0, 1] -> (v - mean) / std before VGG.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = loss_fn(((x + 1) / 2 - mean) / std, ((y + 1) / 2 - mean) / std)
        loss_fn.imagenet_normalize = True
        got = loss_fn(x, y)
    assert got.item() == pytest.approx(want.item(), rel=1e-4)


def test_scale_reduction_mean_vs_sum():
    # Two scales with LSGAN on real targets: per-scale losses (1-0)^2 = 1 and (1-3)^2 = 4.
    from gaugan.losses import gan_loss

    pred = [[torch.zeros(1, 1, 2, 2)], [torch.full((1, 1, 2, 2), 3.0)]]
    assert gan_loss(pred, True, True, "lsgan", "mean").item() == pytest.approx(2.5)
    assert gan_loss(pred, True, True, "lsgan", "sum").item() == pytest.approx(5.0)
