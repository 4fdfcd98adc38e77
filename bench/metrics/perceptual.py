"""LPIPS (Zhang et al., 2018) through the lpips package, AlexNet backbone, version 0.1.

Two numbers: `lpips` (fidelity: each output against its real photo, mean over maps)
and `lpips_diversity` (for one label map, the mean distance over all pairs of its
random-z samples, then the mean over maps). Both need torchvision's AlexNet weights
in torch hub's checkpoints folder and the linear-layer weights inside the lpips
package; if either is absent (or not the standard file), build_lpips raises
WeightsMissing before anything is built, so nothing downloads.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import warnings

import torch

from bench.metrics import weights


def build_lpips(device) -> tuple[torch.nn.Module, str]:
    """The LPIPS module and its provenance string; WeightsMissing when a file is absent."""
    alex_path, alex_sha = weights.require("alexnet")
    lin_path, lin_sha = weights.require("lpips_alex_lin")
    import lpips

    # lpips builds torchvision.alexnet(pretrained=True): torch hub loads the file just
    # checked from its checkpoints folder (it downloads only when the file is absent).
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision's `pretrained=` deprecation
        net = lpips.LPIPS(net="alex", version="0.1", verbose=False)
    produced_by = (f"{alex_path.name} sha256:{alex_sha} + "
                   f"lpips/weights/v0.1/{lin_path.name} sha256:{lin_sha}")
    return net.to(device).eval(), produced_by


@torch.no_grad()
def lpips_pairs(net, a: torch.Tensor, b: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """(N, 3, H, W), (N, 3, H, W) in [-1, 1] -> (N,) distances."""
    dev = next(net.parameters()).device
    out = [net(a[i:i + batch_size].to(dev), b[i:i + batch_size].to(dev)).flatten().cpu()
           for i in range(0, len(a), batch_size)]
    return torch.cat(out)


def lpips_diversity(net, samples: torch.Tensor, batch_size: int = 32) -> float:
    """samples: (M, K, 3, H, W), K >= 2 samples per map -> mean over maps of the mean pair distance."""
    m, k = samples.shape[:2]
    pairs = list(itertools.combinations(range(k), 2))
    a = torch.cat([samples[:, i] for i, _ in pairs])
    b = torch.cat([samples[:, j] for _, j in pairs])
    d = lpips_pairs(net, a, b, batch_size).view(len(pairs), m)
    return float(d.mean(dim=0).mean())
