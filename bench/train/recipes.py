"""Model families and their papers' training recipes.

The run config is what runs: the trainer never changes it behind the user's back. These
recipes are the papers' settings as dotted overrides (for presets and experiment
variants), and the trainer logs a warning when a run's loss setup departs from its
family's paper (e.g. pix2pix trained with the hinge loss), so a mismatch is never silent.
"""

from __future__ import annotations

FAMILY_OF_GENERATOR = {
    "spade": "gaugan",
    "concat": "gaugan",  # the Concat / instance-norm decoder shares GauGAN's objective
    "pix2pix_unet256": "pix2pix",
    "pix2pix_unet128": "pix2pix",
    "pix2pixhd_global": "pix2pixhd",
    "pix2pixhd_local": "pix2pixhd",
    "clade": "gaugan",  # CLADE (and ICPE) keep GauGAN's objective (official CLADE code)
    "clade_icpe": "gaugan",
    "oasis": "oasis",
}

RECIPES: dict[str, dict[str, object]] = {
    # Park et al. 2019 (official SPADE options): hinge, FM 10, VGG 10, KL 0.05, TTUR.
    "gaugan": {
        "train.losses.gan_mode": "hinge", "train.losses.lambda_feat": 10.0,
        "train.losses.lambda_vgg": 10.0, "train.losses.lambda_kl": 0.05,
        "train.losses.lambda_l1": 0.0,
        "train.lr_g": 1e-4, "train.lr_d": 4e-4, "train.beta1": 0.0, "train.beta2": 0.9,
    },
    # Isola et al. 2017: vanilla (BCE) GAN + L1 x100, lr 2e-4, Adam (0.5, 0.999).
    "pix2pix": {
        "train.losses.gan_mode": "vanilla", "train.losses.lambda_feat": 0.0,
        "train.losses.lambda_vgg": 0.0, "train.losses.lambda_l1": 100.0,
        "train.lr_g": 2e-4, "train.lr_d": 2e-4, "train.beta1": 0.5, "train.beta2": 0.999,
    },
    # Wang et al. 2018: LSGAN + FM 10 + VGG 10, lr 2e-4, Adam (0.5, 0.999).
    "pix2pixhd": {
        "train.losses.gan_mode": "lsgan", "train.losses.lambda_feat": 10.0,
        "train.losses.lambda_vgg": 10.0, "train.losses.lambda_l1": 0.0,
        "train.lr_g": 2e-4, "train.lr_d": 2e-4, "train.beta1": 0.5, "train.beta2": 0.999,
    },
    # Sushko et al. 2021 (boschresearch/OASIS config.py): N+1 segmentation loss, LabelMix
    # (model.discriminator.lambda_labelmix), EMA G; no FM, no VGG; lr G 1e-4 (Cityscapes
    # 4e-4) / D 4e-4, Adam (0, 0.999).
    "oasis": {
        "train.losses.gan_mode": "n_plus_1", "train.losses.lambda_feat": 0.0,
        "train.losses.lambda_vgg": 0.0, "train.losses.lambda_kl": 0.0,
        "train.losses.lambda_l1": 0.0,
        "train.lr_g": 1e-4, "train.lr_d": 4e-4, "train.beta1": 0.0, "train.beta2": 0.999,
    },
}

# The three tables below are for bench.train.objective.Objective; the oasis family has
# its own objective (bench.train.oasis: D called on fake, real and the LabelMix image
# separately, as the official models.py).
# The official code halves the discriminator loss in pix2pix and pix2pixHD, not in SPADE.
D_LOSS_SCALE = {"gaugan": 1.0, "pix2pix": 0.5, "pix2pixhd": 0.5}

# How the multi-scale GAN loss combines its scales: official SPADE averages them,
# official pix2pixHD adds them up (its feature matching already matches SPADE's at
# n_layers 3, where its 4 / (n_layers + 1) feature weight is 1).
GAN_SCALE_REDUCTION = {"gaugan": "mean", "pix2pix": "mean", "pix2pixhd": "sum"}


# Whether the family's official code runs D once on the batch concatenation
# cat([fake, real]) (each with the label map along channels) and splits the predictions
# (SPADE Pix2PixModel.discriminate / divide_pred, in both the G and the D step), or
# calls D on fake and real separately (pix2pix backward_D / backward_G; pix2pixHD
# Pix2PixHDModel.discriminate). One call means one spectral-norm power iteration and
# shared batch-norm statistics per step.
D_ON_CONCAT = {"gaugan": True, "pix2pix": False, "pix2pixhd": False}

# The order of each iteration's G and D steps in the family's official code
# (bench.train.step): SPADE and OASIS update G, then D on a fresh fake from the updated G;
# pix2pix updates D first on the iteration's one fake, then G against the updated D;
# pix2pixHD computes all losses on one fake with the D of before the update.
STEP_ORDER = {"gaugan": "fresh_fake", "oasis": "fresh_fake", "pix2pix": "d_first",
              "pix2pixhd": "same_fake"}


def family(generator_arch: str) -> str:
    return FAMILY_OF_GENERATOR.get(generator_arch, "gaugan")


def recipe_departures(cfg) -> list[str]:
    """Loss-setup keys where cfg differs from its family's paper recipe (for a warning)."""
    fam = family(type(cfg.model.generator).arch)
    out = []
    for key in ("train.losses.gan_mode", "train.losses.lambda_l1"):
        node = cfg
        for part in key.split("."):
            node = getattr(node, part)
        if node != RECIPES[fam][key]:
            out.append(f"{key}={node!r} (the {fam} paper uses {RECIPES[fam][key]!r})")
    if cfg.model.init != "official":
        out.append(f"model.init={cfg.model.init!r} (the official {fam} code's init is 'official')")
    return out
