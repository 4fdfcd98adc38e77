"""CLADE: CLass-Adaptive (DE)normalization (Tan et al., TPAMI 2021), and CLADE-ICPE.

    out = norm(x) * gamma[label] + beta[label]                       (CLADE)
    out = norm(x) * gamma[label] * (1 + conv_w(D)) + beta[label] * (1 + conv_b(D))   (ICPE)

norm is parameter-free (as in SPADE); gamma and beta are (label_nc, C) tables looked
up by each pixel's class id (the argmax of the one-hot map resized, nearest, to x),
so there is no conv branch. Note the official code multiplies by gamma, not (1 + gamma):
its tables start at gamma ~ U(0, 1), beta = 0 (tzt101/CLADE ClassAffine).

ICPE (intra-class positional encoding): D is a 2-channel map holding, for each pixel,
its (row, column) offset from the centroid of its connected component of its class,
normalised by the component's largest absolute offset; conv_w and conv_b are 1x1 convs
2 -> 1 initialised to zero (so ICPE starts as CLADE). The official code precomputes D
from the raw label files (util/cal_dist_masks.py, 8-connectivity, cv2); here `icpe_map`
computes it from the label map the generator receives, with the same definition
(scipy.ndimage, 8-connectivity), and the generator resizes it (nearest) per layer.

With an instance edge map (the last channel of the generator's input), the official
layer splits it off, classes come from the other channels, and a 1x1 conv 1 -> 1 of the
edge map is concatenated as one extra output channel (SPADELight.inst_conv); the
resblock's convs take that channel. Parameter names follow the official code
(param_free_norm, class_specified_affine.weight / .bias / .dist_conv_w / .dist_conv_b,
inst_conv), so its state_dicts load unchanged.

`backend`: "eager" is the reference below; "triton" / "compile" / "auto" run the
fused class-table norm (gaugan.kernels.clade_op) for plain CLADE, never materialising
the (N, 2C, H, W) gamma/beta maps; ICPE runs eagerly.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gaugan.kernels import backend as kb
from gaugan.layers.norms import ParamFreeInstanceNorm
from gaugan.layers.spectral import maybe_spectral

LRELU_SLOPE = 0.2


class ClassAffine(nn.Module):
    """The per-class tables (and ICPE's two 1x1 convs). weight = gamma, bias = beta."""

    def __init__(self, label_nc: int, affine_nc: int, icpe: bool = False):
        super().__init__()
        self.label_nc, self.affine_nc, self.icpe = label_nc, affine_nc, icpe
        self.weight = nn.Parameter(torch.empty(label_nc, affine_nc))
        self.bias = nn.Parameter(torch.empty(label_nc, affine_nc))
        if icpe:
            self.dist_conv_w = nn.Conv2d(2, 1, 1)
            self.dist_conv_b = nn.Conv2d(2, 1, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official init: gamma ~ U(0, 1), beta = 0, ICPE convs zero."""
        nn.init.uniform_(self.weight)
        nn.init.zeros_(self.bias)
        if self.icpe:
            for conv in (self.dist_conv_w, self.dist_conv_b):
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    def forward(self, normalized: torch.Tensor, labels: torch.Tensor,
                dist: torch.Tensor | None = None) -> torch.Tensor:
        """normalized: (N, C, H, W); labels: (N, H, W) class ids; dist: (N, 2, H, W)."""
        gamma = F.embedding(labels, self.weight).permute(0, 3, 1, 2)
        beta = F.embedding(labels, self.bias).permute(0, 3, 1, 2)
        if self.icpe:
            if dist is None:
                raise ValueError("CLADE-ICPE needs the intra-class positional map (dist)")
            gamma = gamma * (1 + self.dist_conv_w(dist))
            beta = beta * (1 + self.dist_conv_b(dist))
        return normalized * gamma + beta


class CLADE(nn.Module):
    def __init__(
        self,
        norm_nc: int,
        label_nc: int,
        norm: type[nn.Module] = ParamFreeInstanceNorm,
        icpe: bool = False,
        instance_channel: bool = False,
        backend: str = "eager",
    ):
        """label_nc: classes (with don't-care), without the instance channel.
        instance_channel: the input map's last channel is an instance edge map."""
        super().__init__()
        self.backend = kb.check_backend(backend)
        self.label_nc, self.instance_channel = label_nc, instance_channel
        self.param_free_norm = norm(norm_nc)
        self.class_specified_affine = ClassAffine(label_nc, norm_nc, icpe)
        if instance_channel:
            self.inst_conv = nn.Conv2d(1, 1, 1)

    @property
    def out_channels(self) -> int:
        return self.class_specified_affine.affine_nc + (1 if self.instance_channel else 0)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor, dist: torch.Tensor | None = None,
                negative_slope: float | None = None) -> torch.Tensor:
        """x: (N, C, H, W); segmap: (N, label_nc [+1], H', W') one-hot (+ edges);
        dist: (N, 2, H', W') ICPE map or None -> (N, C [+1], H, W)."""
        seg = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        inst = None
        if self.instance_channel:
            seg, inst = seg[:, :-1], seg[:, -1:]
        labels = seg.argmax(1)
        affine = self.class_specified_affine
        path, mode = kb.resolve(kb.check_backend(self.backend), x, self.param_free_norm, self.training)
        if path != "eager" and not affine.icpe:
            out = self._fused(x, labels, path, mode, negative_slope)
        else:
            if dist is not None:
                dist = F.interpolate(dist, size=x.shape[2:], mode="nearest")
            out = affine(self.param_free_norm(x), labels, dist)
            if negative_slope is not None:
                out = F.leaky_relu(out, negative_slope)
        if inst is not None:
            feat = self.inst_conv(inst)
            if negative_slope is not None:
                feat = F.leaky_relu(feat, negative_slope)
            out = torch.cat([out, feat], 1)
        return out

    def _fused(self, x, labels, path: str, mode: str, negative_slope) -> torch.Tensor:
        from gaugan.kernels.clade_op import clade_norm_modulate
        from gaugan.layers.spade import update_running_stats

        norm, affine = self.param_free_norm, self.class_specified_affine
        slope = 1.0 if negative_slope is None else float(negative_slope)
        mean_in = var_in = None
        if mode == "given":
            mean_in, var_in = norm.running_mean, norm.running_var
        out, mean, var = clade_norm_modulate(x, labels, affine.weight, affine.bias, mean_in,
                                             var_in, mode, norm.eps, slope, path)
        if mode == "batch" and self.training and norm.track_running_stats:
            update_running_stats(norm, mean, var, x.numel() // x.shape[1])
        return out


class CLADEResBlock(nn.Module):
    """The SPADE resblock with CLADE in place of SPADE (official SPADEResnetBlock with
    norm_mode 'clade'); with an instance channel every conv takes one more input."""

    def __init__(self, fin: int, fout: int, label_nc: int, norm: type[nn.Module] = ParamFreeInstanceNorm,
                 spectral: bool = True, icpe: bool = False, instance_channel: bool = False,
                 backend: str = "eager"):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmid = min(fin, fout)
        add = 1 if instance_channel else 0

        def clade(nc: int) -> CLADE:
            return CLADE(nc, label_nc, norm=norm, icpe=icpe, instance_channel=instance_channel,
                         backend=backend)

        self.conv_0 = maybe_spectral(nn.Conv2d(fin + add, fmid, 3, padding=1), spectral)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmid + add, fout, 3, padding=1), spectral)
        self.norm_0 = clade(fin)
        self.norm_1 = clade(fmid)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin + add, fout, 1, bias=False), spectral)
            self.norm_s = clade(fin)

    def forward(self, x: torch.Tensor, seg: torch.Tensor, dist: torch.Tensor | None = None) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg, dist)) if self.learned_shortcut else x
        dx = self.conv_0(self.norm_0(x, seg, dist, negative_slope=LRELU_SLOPE))
        dx = self.conv_1(self.norm_1(dx, seg, dist, negative_slope=LRELU_SLOPE))
        return x_s + dx


# ---------------------------------------------------------------- ICPE map

_EIGHT = np.ones((3, 3), dtype=bool)


def _icpe_one(label: np.ndarray) -> np.ndarray:
    """(H, W) int class ids -> (2, H, W) float32 offsets (rows, columns) from the centroid
    of each pixel's connected component (8-connectivity) of its class, each component
    normalised by its largest absolute offset (+1e-5), as util/cal_dist_masks.py."""
    from scipy import ndimage

    h, w = label.shape
    rows = np.repeat(np.arange(h, dtype=np.float64)[:, None], w, 1)
    cols = np.repeat(np.arange(w, dtype=np.float64)[None, :], h, 0)
    out = np.zeros((2, h, w), dtype=np.float32)
    for c in np.unique(label):
        comp, n = ndimage.label(label == c, structure=_EIGHT)
        if n == 0:
            continue
        m = comp > 0
        idx = comp[m]
        cnt = np.bincount(idx, minlength=n + 1)
        for k, coord in enumerate((rows, cols)):
            centre = np.bincount(idx, weights=coord[m], minlength=n + 1) / np.maximum(cnt, 1)
            off = coord[m] - centre[idx]
            peak = np.zeros(n + 1)
            np.maximum.at(peak, idx, np.abs(off))
            out[k][m] = off / (peak[idx] + 1e-5)
    return out


def icpe_map(labels: torch.Tensor) -> torch.Tensor:
    """(N, H, W) class ids -> (N, 2, H, W) ICPE map (computed on the CPU with scipy)."""
    arr = labels.detach().cpu().numpy()
    maps = np.stack([_icpe_one(a) for a in arr])
    return torch.from_numpy(maps).to(labels.device)
