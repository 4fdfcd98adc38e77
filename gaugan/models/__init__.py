"""Every generator, discriminator and encoder; importing this registers them all.

Registered names (see gaugan.registry): GENERATORS.names(), DISCRIMINATORS.names(),
ENCODERS.names().
"""

from gaugan.models import (  # noqa: F401  (imported for registration)
    clade_generator,
    concat_generator,
    encoder,
    multiscale_discriminator,
    oasis_discriminator,
    oasis_generator,
    pix2pix,
    pix2pixhd,
    spade_generator,
)
from gaugan.registry import DISCRIMINATORS, ENCODERS, GENERATORS

__all__ = ["GENERATORS", "DISCRIMINATORS", "ENCODERS"]
