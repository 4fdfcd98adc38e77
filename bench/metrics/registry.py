"""Metric registry: metric id -> the function that computes it.

A metric function takes the EvalContext and returns {id: entry} for the ids it
produces (one function may produce several: miou + pixel_acc, fid + kid). Standard
names need their standard weight files; when a file is absent the entry is null
with a reason naming the file and folder, never a number from other weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.errors import BenchError
from bench.metrics import weights
from bench.metrics.generate import Generated, to_float
from bench.metrics.results import entry
from bench.metrics.weights import WeightsMissing


@dataclass
class EvalContext:
    cfg: object  # RunConfig
    info: object  # DatasetInfo
    device: torch.device
    gen: Generated
    fake_dir: Path
    real_dir: Path
    real_cache_name: str  # names the real images' cached statistics (data set, split, size, count)
    multimodal: bool
    split: str = "val"
    _cache: dict = field(default_factory=dict)  # segmenter, oracle, lpips net: built once

    @property
    def num_maps(self) -> int:
        return self.gen.fake.shape[0]

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.gen.fake.shape[-2:])

    def common(self, num_samples: int | None = None) -> dict:
        return {"num_samples": self.num_maps if num_samples is None else num_samples,
                "image_size": self.image_size, "split": self.split}

    def once(self, key: str, build: Callable):
        """build() the first time, then the same object (or the same WeightsMissing)."""
        if key not in self._cache:
            try:
                self._cache[key] = build()
            except WeightsMissing as e:
                self._cache[key] = e
        value = self._cache[key]
        if isinstance(value, WeightsMissing):
            raise value
        return value

    def oracle(self):
        """(net, path, meta) of the oracle segmenter (trained on first use, then cached)."""
        from bench.metrics.oracle import load_or_train_oracle

        return self.once("oracle", lambda: load_or_train_oracle(
            self.cfg.data, self.info, self.image_size, self.cfg.eval, self.device))


# ----------------------------------------------------------------- segmentation


def _segment_all(seg, images: torch.Tensor, batch_size: int, device) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> (N, H, W) class ids."""
    out = [seg.predict(to_float(images[i:i + batch_size]).to(device)).cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def segmentation_metrics(ctx: EvalContext) -> dict:
    """mIoU and pixel accuracy under the data set's evaluation protocol
    (bench.data.protocol: Cityscapes is scored on the 19 trainIds, both the ground truth
    and the predicted labelIds mapped, void ignored); the protocol line goes in the entry."""
    from bench.data.protocol import eval_protocol
    from bench.metrics.segmentation import confusion_matrix, scores
    from bench.metrics.segmenters import build_segmenter

    ids = ("miou", "pixel_acc")
    proto = eval_protocol(ctx.info)
    fe = f"segmenter {ctx.cfg.eval.segmenter}"
    try:
        seg, _meta = ctx.once("segmenter", lambda: build_segmenter(
            ctx.cfg, ctx.info, ctx.image_size, ctx.device))
    except WeightsMissing as e:
        return {i: entry(i, None, reason=str(e), produced_by=None, feature_extractor=fe,
                         protocol=proto.text, **ctx.common()) for i in ids}
    bs = ctx.cfg.eval.batch_size
    target = proto.apply(ctx.gen.label)

    def score(images):
        pred = _segment_all(seg, images, bs, ctx.device)
        if not seg.predicts_scored:  # e.g. labelIds -> trainIds; a DRN predicts trainIds
            pred = proto.apply(pred)
        return scores(confusion_matrix(pred, target, proto.num_classes, proto.ignore_index))

    def entries(s: dict, reference: dict | None) -> dict:
        out = {}
        for i in ids:
            details = {"classes_scored": s["classes_scored"], "pixels_scored": s["pixels_scored"],
                       "segmenter": seg.name}
            if i == "miou":
                details["iou_per_class"] = s["iou_per_class"]
                details["class_names"] = list(proto.class_names)
            reason = None if s[i] is not None else "no scored pixels (every label is don't-care)"
            out[i] = entry(i, s[i], reason=reason, produced_by=seg.produced_by, feature_extractor=fe,
                           reference=None if reference is None else reference[i],
                           details=details, protocol=proto.text, **ctx.common())
            if seg.name != "oracle":  # the metric carries the paper segmenter's name
                out[i]["name"] = f"{out[i]['name']} ({seg.name})"
        return out

    # The segmenter on the real validation photos: the "real images" reference row.
    real = entries(score(ctx.gen.real), None)
    for e in real.values():
        e["details"]["images"] = "real"
    ctx._cache["real_images"] = real
    return entries(score(ctx.gen.fake), real)


# ----------------------------------------------------------------- FID / KID


def _fidelity(ctx: EvalContext, ids: tuple[str, str], extractor: str, layer: str,
              weights_path: Path, produced_by: str, described: str, cache_suffix: str) -> dict:
    from bench.metrics.fidelity import folder_metrics

    ev = ctx.cfg.eval
    if ctx.num_maps < 2:
        return {i: entry(i, None, reason=f"needs at least 2 images, got {ctx.num_maps}",
                         produced_by=produced_by, feature_extractor=described, **ctx.common())
                for i in ids}
    res = folder_metrics(ctx.fake_dir, ctx.real_dir, extractor, layer, weights_path,
                         ctx.real_cache_name + cache_suffix, ctx.num_maps, ev.kid_subset_size,
                         ev.kid_subsets, ctx.device.type == "cuda", fid=True, kid=True)
    fd_id, kid_id = ids
    return {
        fd_id: entry(fd_id, res["fd"], produced_by=produced_by, feature_extractor=described,
                     **ctx.common()),
        kid_id: entry(kid_id, res["kid"], std=res["kid_std"], produced_by=produced_by,
                      feature_extractor=described, **ctx.common(),
                      details={"kid_subset_size": res["kid_subset_size"],
                               "kid_subsets": ev.kid_subsets}),
    }


def inception_metrics(ctx: EvalContext) -> dict:
    from bench.metrics import fidelity

    layer = fidelity.INCEPTION_LAYER  # read at call time (tests use a smaller layer for speed)
    fe = f"torch-fidelity {fidelity.INCEPTION_EXTRACTOR} (feature layer {layer})"
    try:
        path, sha = weights.require("inception")
    except WeightsMissing as e:
        return {i: entry(i, None, reason=str(e), produced_by=None, feature_extractor=fe,
                         **ctx.common()) for i in ("fid", "kid")}
    return _fidelity(ctx, ("fid", "kid"), fidelity.INCEPTION_EXTRACTOR, layer, path,
                     f"{path.name} sha256:{sha}", fe, "")


def oracle_feature_metrics(ctx: EvalContext) -> dict:
    from bench.metrics.fidelity import ORACLE_EXTRACTOR, ORACLE_LAYER

    _net, path, meta = ctx.oracle()
    fe = f"oracle U-Net pooled bottleneck ({8 * meta['width']}-d) via torch-fidelity {ORACLE_EXTRACTOR}"
    return _fidelity(ctx, ("fd_oracle", "kid_oracle"), ORACLE_EXTRACTOR, ORACLE_LAYER, path,
                     f"trained oracle {meta['fingerprint']}", fe, f"-oracle{meta['fingerprint']}")


# ----------------------------------------------------------------- LPIPS


def lpips_metrics(ctx: EvalContext) -> dict:
    from bench.metrics.perceptual import build_lpips, lpips_diversity, lpips_pairs

    fe = "lpips 0.1 AlexNet"
    ev = ctx.cfg.eval
    k = 0 if ctx.gen.diverse is None else ctx.gen.diverse.shape[1]
    try:
        net, produced_by = ctx.once("lpips", lambda: build_lpips(ctx.device))
    except WeightsMissing as e:
        return {i: entry(i, None, reason=str(e), produced_by=None, feature_extractor=fe,
                         **ctx.common()) for i in ("lpips", "lpips_diversity")}
    d = lpips_pairs(net, to_float(ctx.gen.fake), to_float(ctx.gen.real), ev.batch_size)
    out = {"lpips": entry("lpips", float(d.mean()), std=None, produced_by=produced_by,
                          feature_extractor=fe, details={"compares": "output vs real photo"},
                          **ctx.common())}
    if not ctx.multimodal:
        reason = "model is not multimodal (no encoder): one output per label map"
    elif k < 2:
        reason = f"eval.diversity_samples is {k}; LPIPS diversity needs at least 2 random-z samples per map"
    else:
        reason = None
    value = None if reason else lpips_diversity(net, to_float(ctx.gen.diverse), ev.batch_size)
    out["lpips_diversity"] = entry(
        "lpips_diversity", value, reason=reason, produced_by=produced_by, feature_extractor=fe,
        details={"samples_per_map": k, "compares": "all pairs of random-z samples of one map"},
        **ctx.common())
    return out


# ----------------------------------------------------------------- the registry

METRICS: dict[str, Callable[[EvalContext], dict]] = {
    "miou": segmentation_metrics,
    "pixel_acc": segmentation_metrics,
    "fid": inception_metrics,
    "kid": inception_metrics,
    "lpips": lpips_metrics,
    "lpips_diversity": lpips_metrics,
    "fd_oracle": oracle_feature_metrics,
    "kid_oracle": oracle_feature_metrics,
}


def needs_oracle(eval_cfg) -> bool:
    """Whether these metrics use the trained oracle segmenter: its features, or its
    predictions when it is the segmenter."""
    users = {oracle_feature_metrics}
    if eval_cfg.segmenter == "oracle":
        users.add(segmentation_metrics)
    return any(METRICS.get(m) in users for m in eval_cfg.metrics)


def check_metric_ids(ids: list[str], source: str) -> None:
    unknown = [i for i in ids if i not in METRICS]
    if unknown:
        raise BenchError(f"{source}: eval.metrics: unknown metric(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(METRICS)}")


def compute_metrics(ctx: EvalContext, ids: list[str]) -> dict:
    """{id: entry} for the asked ids, each function run once, in the asked order."""
    done: dict[Callable, dict] = {}
    out = {}
    for i in ids:
        fn = METRICS[i]
        if fn not in done:
            done[fn] = fn(ctx)
        out[i] = done[fn][i]
    return out
