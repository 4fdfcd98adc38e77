"""One training iteration: a G step and a D step, in the order of the family's official code.

    fresh_fake  GauGAN, Concat, CLADE, OASIS (NVlabs/SPADE Pix2PixTrainer, OASIS train.py):
                G step on fake = G(cond); then a new fake from the updated G, under no_grad,
                for the D step. G runs twice per iteration.
    d_first     pix2pix (pix2pix_model.optimize_parameters): one forward fake = G(cond);
                the D step on fake.detach(); then the G step through the same fake against
                the just-updated D. One G forward, so G's dropout mask is the same in both.
    same_fake   pix2pixHD (train.py): one forward computes every loss with the D of before
                the update; the G step, then the D step on that fake (D unchanged by the
                G step, so this equals the official all-losses-first order).

The trainer (bench.train.trainer) and `bench profile train` (bench.profile.train_modes) both
call `train_step`, so the profile times exactly what training runs.
"""

from __future__ import annotations

import torch

from bench.train import ddp
from gaugan.models.encoder import reparameterize

STEP_ORDERS = ("fresh_fake", "d_first", "same_fake")


def _generate(G, E, cond, real):
    """fake (and mu, logvar when G has a VAE encoder E)."""
    if E is None:
        return G(cond), None, None
    mu, logvar = E(real)
    return G(cond, reparameterize(mu, logvar)), mu, logvar


def train_step(stage, objective, cond: torch.Tensor, real: torch.Tensor, order: str,
               autocast, scaler) -> tuple[dict, dict]:
    """One G step and one D step on (cond, real); returns (g_losses, d_losses).

    stage: bench.train.networks.Stage (G, D, E, opt_g, opt_d); autocast: a context-manager
    factory (the speed plan's); scaler: a torch GradScaler (disabled unless fp16)."""
    if order not in STEP_ORDERS:
        raise ValueError(f"step order {order!r}; valid: {', '.join(STEP_ORDERS)}")
    G, D, E = stage.G, stage.D, stage.E
    Dp = ddp.plain(D)

    def g_step(fake, mu, logvar) -> dict:
        Dp.requires_grad_(False)  # D frozen: its parameters get no gradient from G's loss
        with autocast():
            g_losses = objective.generator(Dp, cond, fake, real, mu, logvar)
        stage.opt_g.zero_grad(set_to_none=True)
        scaler.scale(sum(g_losses.values())).backward()
        scaler.step(stage.opt_g)
        return g_losses

    def d_step(fake) -> dict:
        Dp.requires_grad_(True)
        with autocast():
            d_losses = objective.discriminator(D, cond, fake.detach(), real)
        stage.opt_d.zero_grad(set_to_none=True)
        scaler.scale(sum(d_losses.values())).backward()
        scaler.step(stage.opt_d)
        return d_losses

    with autocast():
        fake, mu, logvar = _generate(G, E, cond, real)
    if order == "d_first":
        d_losses = d_step(fake)
        g_losses = g_step(fake, mu, logvar)
    else:
        g_losses = g_step(fake, mu, logvar)
        if order == "fresh_fake":  # the updated G's fake, without a graph
            with torch.no_grad(), autocast():
                fake = _generate(ddp.plain(G), ddp.plain(E), cond, real)[0]
        d_losses = d_step(fake)
    scaler.update()
    return g_losses, d_losses
