"""GauGAN (SPADE) and its baselines: a pure-torch model library.

Find things here:
  gaugan.layers.spade            the SPADE layer (param-free norm + learned modulation)
  gaugan.layers.spade_resblock   the SPADE residual block
  gaugan.models                  generators, discriminators, encoder; one registry each
  gaugan.losses                  hinge / LSGAN / vanilla GAN, feature matching, VGG, KL
  gaugan.kernels                 fused SPADE paths (Triton on CUDA, torch.compile elsewhere)
"""
