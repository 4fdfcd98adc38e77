"""GauGAN's D with the label map shared by the fake and real halves (speed modes):
the same function as the official call on cat([cond|fake, cond|real])."""

from __future__ import annotations

import copy

import pytest
import torch

import gaugan.models  # noqa: F401  (registers every model)
from gaugan.registry import DISCRIMINATORS, BuildContext


def _d(num_D=2, n_layers=3):
    torch.manual_seed(0)
    return DISCRIMINATORS.build("spade_multiscale", BuildContext(semantic_nc=7, image_size=(32, 32)),
                                ndf=8, num_D=num_D, n_layers=n_layers)


def _inputs(n=2):
    g = torch.Generator().manual_seed(1)
    label = torch.nn.functional.one_hot(torch.randint(0, 7, (n, 32, 32), generator=g), 7)
    label = label.permute(0, 3, 1, 2).float()
    fake = torch.randn(n, 3, 32, 32, generator=g, requires_grad=True)
    real = torch.randn(n, 3, 32, 32, generator=g)
    return label, fake, real


def _flat(pred):
    return [t for scale in pred for t in scale]


def test_one_label_map_for_two_groups_is_the_official_concat_bit_for_bit():
    D = _d()
    D2 = copy.deepcopy(D)  # each training forward advances spectral norm's power iteration
    label, fake, real = _inputs()
    images = torch.cat([fake, real])
    official = _flat(D(torch.cat([label, label]), images))
    for a, b in zip(official, _flat(D2(label, images))):
        assert torch.equal(a, b)


@pytest.mark.parametrize("num_D", [1, 2])
def test_shared_first_conv_matches_concat_outputs_and_gradients(num_D):
    ref = _d(num_D)
    fast = copy.deepcopy(ref)
    fast.share_label_conv = True
    label, fake, real = _inputs()
    grads = []
    for D in (ref, fast):
        fake.grad = None
        D.zero_grad()
        pred = D(label, torch.cat([fake, real]))
        loss = sum((t.float() * (i + 1)).mean() for i, t in enumerate(_flat(pred)))
        loss.backward()
        grads.append([fake.grad.clone()] + [p.grad.clone() for p in D.parameters()])
        grads[-1].append(_flat(pred))
    (*ga, pa), (*gb, pb) = grads
    for a, b in zip(pa, pb):  # fp32: the same sums in another order
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(ga, gb):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6 * a.abs().max().item())


def test_image_count_must_be_a_multiple_of_label_maps():
    D = _d()
    label, fake, _ = _inputs(2)
    with pytest.raises(ValueError, match="multiple"):
        D(label, torch.cat([fake, fake[:1]]))


def test_objective_gives_a_shared_label_d_the_map_once():
    from bench.train.objective import Objective

    seen = []

    class Probe(torch.nn.Module):
        takes_shared_label = True

        def forward(self, label, image):
            seen.append((label.shape[0], image.shape[0]))
            return [[image.mean(dim=1, keepdim=True)]]

    class Plain(Probe):
        takes_shared_label = False

    label, fake, real = _inputs(3)
    Objective._on_concat(Probe(), label, fake, real)
    Objective._on_concat(Plain(), label, fake, real)
    assert seen == [(3, 6), (6, 6)]
