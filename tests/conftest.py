"""Session-wide test settings.

Without CUDA, Triton kernels run in its interpreter. Triton reads TRITON_INTERPRET when
a kernel is first defined, so it is set here, once, before any test module imports
gaugan.kernels: results then do not depend on which test file runs first.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
