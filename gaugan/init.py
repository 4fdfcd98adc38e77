"""Weight initialisation of each model family, as its official code runs it (pure torch).

SPADE (NVlabs/SPADE, BaseNetwork.init_weights, defaults --init_type xavier
--init_variance 0.02), applied to G, D and E right after they are built:
  class name containing 'BatchNorm2d'   weight ~ N(1, gain) where affine, bias 0
  'Conv' / 'Linear' with a `weight`      weight ~ xavier_normal(gain), bias 0
  anything else (InstanceNorm2d included) PyTorch's default
pix2pix (junyanz networks.init_weights, init_type normal, init_gain 0.02):
  'Conv' / 'Linear' with a `weight`      weight ~ N(0, gain), bias 0
  'BatchNorm2d'                          weight ~ N(1, gain), bias 0
pix2pixHD (NVIDIA/pix2pixHD networks.weights_init):
  'Conv'                                 weight ~ N(0, 0.02); the bias keeps PyTorch's default
  'BatchNorm2d'                          weight ~ N(1, 0.02), bias 0   (Linear untouched)

Spectral norm. torch.nn.utils.spectral_norm keeps the raw weight as the parameter
`weight_orig` and leaves `weight` as a plain attribute sharing weight_orig's storage, so
an init written into `m.weight.data` reaches weight_orig only while they still share it.
The official SPADE code (models/networks/__init__.py create_network) calls net.cuda()
*before* init_weights: the move gives weight_orig new (GPU) storage and leaves the plain
`weight` attribute behind on the CPU, so on the GPU path the official xavier init lands
in a stale copy: spectral-norm convs keep PyTorch's default weight (their biases, real
parameters, are still zeroed). Run on the CPU (no gpu_ids) the init does reach
weight_orig. Hence the two SPADE variants:
  "official"      as the official GPU training runs (spectral-norm weights untouched)
  "official_cpu"  as the official code run on the CPU (xavier on weight_orig too)
pix2pix and pix2pixHD have no spectral norm: both variants are the same there. OASIS
(boschresearch/OASIS init_networks) initialises before moving to the GPU: its official
init reaches the spectral-norm weights in both variants.
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.conv import _ConvNd

INIT_MODES = ("official", "official_cpu", "pytorch")
SPADE_GAIN = 0.02  # --init_variance
BASELINE_GAIN = 0.02  # pix2pix --init_gain; pix2pixHD's fixed std


def is_spectral(m: nn.Module) -> bool:
    """m carries torch.nn.utils.spectral_norm on its weight (parameter `weight_orig`)."""
    return "weight_orig" in m._parameters


def _raw_weight(m: nn.Module):
    """The trainable weight tensor: `weight_orig` under spectral norm, else `weight`."""
    return m._parameters.get("weight_orig", m._parameters.get("weight"))


def _batch_norm_2d(m: nn.Module) -> bool:
    # Official: class name contains 'BatchNorm2d' (SPADE's SynchronizedBatchNorm2d too,
    # which is what nn.SyncBatchNorm stands for here). Not 1d/3d, not instance norm.
    return isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm))


def _norm_weights(m: nn.Module, gain: float) -> None:
    if m.weight is not None:
        nn.init.normal_(m.weight, 1.0, gain)
    if m.bias is not None:
        nn.init.zeros_(m.bias)


def init_spade(net: nn.Module, gain: float = SPADE_GAIN, spectral_weights: bool = False) -> None:
    """Official SPADE init_weights (xavier). spectral_weights: also initialise the raw
    weight of spectral-norm layers (the official code on the CPU; see the module doc)."""
    for m in net.modules():
        if _batch_norm_2d(m):
            _norm_weights(m, gain)
        elif isinstance(m, (_ConvNd, nn.Linear)):
            if not is_spectral(m) or spectral_weights:
                nn.init.xavier_normal_(_raw_weight(m), gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def init_pix2pix(net: nn.Module, gain: float = BASELINE_GAIN) -> None:
    """Official pix2pix init_weights, init_type 'normal'."""
    for m in net.modules():
        if isinstance(m, (_ConvNd, nn.Linear)):
            nn.init.normal_(_raw_weight(m), 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif _batch_norm_2d(m):
            _norm_weights(m, gain)


def init_pix2pixhd(net: nn.Module, gain: float = BASELINE_GAIN) -> None:
    """Official pix2pixHD weights_init: conv biases keep PyTorch's default."""
    for m in net.modules():
        if isinstance(m, _ConvNd):
            nn.init.normal_(_raw_weight(m), 0.0, gain)
        elif _batch_norm_2d(m):
            _norm_weights(m, gain)


def init_family(net: nn.Module | None, family: str, mode: str = "official") -> None:
    """Initialise `net` in place as `family`'s official code ("gaugan" is SPADE's recipe,
    which the Concat/IN baseline shares); mode "pytorch" leaves PyTorch's defaults."""
    if mode not in INIT_MODES:
        raise ValueError(f"init mode {mode!r} is not valid; valid: {', '.join(INIT_MODES)}")
    if net is None or mode == "pytorch":
        return
    if family == "gaugan":
        init_spade(net, spectral_weights=mode == "official_cpu")
    elif family == "oasis":
        # OASIS init_networks is SPADE's xavier (gain 0.02), run in the model's constructor
        # before any device move, so it reaches the spectral-norm weights too.
        init_spade(net, spectral_weights=True)
    elif family == "pix2pix":
        init_pix2pix(net)
    elif family == "pix2pixhd":
        init_pix2pixhd(net)
    else:
        raise ValueError(f"no official initialisation for family {family!r}")
