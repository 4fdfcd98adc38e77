"""Segmenters that score generated images: a registry of builders.

    oracle      the harness' own U-Net, trained on the real training photos (oracle.py)
    pretrained  a user's segmenter from a file (the papers' DRN / UperNet / DeepLab):
                a TorchScript module, or a state_dict plus `eval.segmenter_arch`, the
                name of a torchvision segmentation builder (deeplabv3_resnet50, ...).

Every segmenter maps (N, 3, H, W) images in [-1, 1] to (N, H, W) class ids and says
what produced its numbers (`produced_by`). A pretrained file that is absent is not an
error: the builder raises WeightsMissing and the mIoU entries become null + reason.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import BenchError
from bench.metrics.weights import WeightsMissing

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Segmenter:
    net: nn.Module
    produced_by: str
    input_norm: str  # "minus1_1" | "imagenet"
    num_classes: int
    tta: bool = False  # also run on the mirror image and average the logits (oracle_tta)
    scales: tuple[float, ...] = (1.0,)  # and over these input scales (oracle_tta_scales)
    name: str = "oracle"  # what the segmentation metrics are named after
    predicts_scored: bool = False  # outputs are the protocol's scored ids (Cityscapes trainIds)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        # torchvision segmentation models: {"out": logits, ...}
        return out["out"] if isinstance(out, dict) else out

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] -> (N, H, W) long, argmax over the data set's classes."""
        x = images
        if self.input_norm == "imagenet":
            mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
            std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
            x = ((x + 1) / 2 - mean) / std
        size = images.shape[-2:]
        out = 0
        for s in self.scales:  # mean over scales of the (flip-averaged) logits at x's size
            xs = x if s == 1 else F.interpolate(x, scale_factor=s, mode="bilinear",
                                                align_corners=False)
            logits = self._logits(xs)
            if self.tta:  # mean of the logits of x and of its mirror image, mirrored back
                logits = (logits + self._logits(xs.flip(-1)).flip(-1)) / 2
            if logits.shape[-2:] != size:
                logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
            out = out + logits / len(self.scales)
        return out.argmax(dim=1)


def _oracle(run_cfg, info, size, device) -> tuple[Segmenter, dict]:
    from bench.metrics.oracle import load_or_train_oracle

    net, path, meta = load_or_train_oracle(run_cfg.data, info, size, run_cfg.eval, device)
    fps = meta.get("members", [meta["fingerprint"]])
    what = "trained oracle" if len(fps) == 1 else f"trained oracle ensemble of {len(fps)}"
    seg = Segmenter(net, f"{what} {'+'.join(fps)}", "minus1_1", info.num_classes,
                    tta=run_cfg.eval.oracle_tta, scales=tuple(run_cfg.eval.oracle_tta_scales))
    return seg, {"oracle_path": str(path), **meta}


def _pretrained(run_cfg, info, size, device) -> tuple[Segmenter, dict]:
    from bench.metrics.weights import sha256_of

    ev = run_cfg.eval
    path = Path(ev.segmenter_weights).expanduser()  # not None: check_segmenter
    if not path.is_file():
        raise WeightsMissing(f"weights missing: {path.name} not found in {path.parent.resolve()}")
    if ev.segmenter_arch is None:
        try:
            net = torch.jit.load(str(path), map_location=device)
        except (RuntimeError, ValueError, OSError) as e:
            raise BenchError(f"{path}: not a TorchScript module ({type(e).__name__}); for a "
                             "state_dict set eval.segmenter_arch") from None
    else:
        import torchvision.models as tvm

        builders = tvm.list_models(module=tvm.segmentation)
        if ev.segmenter_arch not in builders:
            raise BenchError(f"eval.segmenter_arch: unknown {ev.segmenter_arch!r}; "
                             f"valid: {', '.join(builders)}")
        from bench.data.protocol import eval_protocol

        classes = (eval_protocol(info).num_classes if ev.segmenter_predicts == "scored"
                   else info.num_classes)
        net = tvm.get_model(ev.segmenter_arch, weights=None, weights_backbone=None,
                            num_classes=classes)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            # The auxiliary head only helps training; every other key must match.
            state = {k: v for k, v in state.items() if not k.startswith("aux_classifier.")}
            net.load_state_dict(state, strict=True)
        except (RuntimeError, ValueError, OSError, KeyError, AttributeError,
                pickle.UnpicklingError) as e:
            raise BenchError(f"{path}: cannot load as a {ev.segmenter_arch} state_dict ({e})") from None
    net = net.to(device).eval()
    name = ev.segmenter_name or path.stem
    seg = Segmenter(net, f"{name}: {path.name} sha256:{sha256_of(path)}", ev.segmenter_input,
                    info.num_classes, name=name, predicts_scored=ev.segmenter_predicts == "scored")
    return seg, {"path": str(path)}


SEGMENTERS: dict[str, Callable] = {"oracle": _oracle, "pretrained": _pretrained}


def check_segmenter(eval_cfg) -> None:
    """BenchError unless the eval section names a segmenter that can be built (a missing
    weight file is not an error: its metrics become null + reason)."""
    if eval_cfg.segmenter not in SEGMENTERS:
        raise BenchError(f"eval.segmenter: unknown {eval_cfg.segmenter!r}; valid: "
                         f"{', '.join(SEGMENTERS)}")
    if eval_cfg.segmenter == "pretrained" and eval_cfg.segmenter_weights is None:
        raise BenchError("eval.segmenter_weights: required for segmenter 'pretrained' "
                         "(a TorchScript file, or a state_dict with eval.segmenter_arch)")


def build_segmenter(run_cfg, info, size: tuple[int, int], device) -> tuple[Segmenter, dict]:
    check_segmenter(run_cfg.eval)
    return SEGMENTERS[run_cfg.eval.segmenter](run_cfg, info, size, device)
