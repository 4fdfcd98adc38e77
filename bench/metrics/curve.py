"""Metrics along training: score every generator snapshot of a run (bench.train.snapshots).

curve_points(...) -> [{"step", "images_seen", "epochs", "metrics": {id: value | None}}]
Each point generates the same validation maps with the same z seeds as the final
evaluation and reuses its segmenter, oracle and cached real statistics, so points
differ only in the generator's weights. The final step's point is the final metrics
themselves (not recomputed). LPIPS diversity is left out: it needs extra samples per map.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from bench.metrics.generate import generate
from bench.metrics.registry import EvalContext, compute_metrics

SKIP = {"lpips_diversity"}


def _point(step: int, batch_size: int, train_items: int, metrics: dict) -> dict:
    images = step * batch_size
    return {"step": step, "images_seen": images, "epochs": images / max(1, train_items),
            "metrics": {k: e["value"] for k, e in metrics.items()}}


def curve_points(run_dir: Path, ctx: EvalContext, final: dict, final_step: int, val,
                 train_items: int, log=print) -> list[dict]:
    """Score each snapshot before final_step; append the final metrics as the last point."""
    from bench.build import build_networks
    from bench.train.snapshots import list_snapshots, load_snapshot

    cfg = ctx.cfg
    ids = [i for i in cfg.eval.metrics if i not in SKIP]
    points = []
    for path in list_snapshots(run_dir):
        snap = load_snapshot(path)
        if snap["step"] >= final_step:
            continue
        if snap.get("stage") == "global":  # pix2pixHD's half-size global stage: not comparable
            continue
        nets = build_networks(cfg, ctx.info)
        nets.G.load_state_dict(snap["G"])
        if nets.E is not None and snap["E"] is not None:
            nets.E.load_state_dict(snap["E"])
        G = nets.G.to(ctx.device).eval()
        E = nets.E.to(ctx.device).eval() if nets.E is not None else None
        tmp = Path(tempfile.mkdtemp(dir=run_dir, prefix=".curve."))
        try:
            gen = generate(G, E, val, ctx.info, cfg.eval.num_samples, 0, cfg.eval.seed,
                           cfg.eval.batch_size, ctx.device, tmp)
            # Same segmenter / oracle / LPIPS net (the shared _cache), new images.
            sub = dataclasses.replace(ctx, gen=gen, fake_dir=tmp / "fake", real_dir=tmp / "real",
                                      multimodal=False, _cache=ctx._cache)
            metrics = compute_metrics(sub, ids)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        points.append(_point(snap["step"], cfg.data.batch_size, train_items, metrics))
        shown = ", ".join(f"{k} {v:.4g}" for k, v in points[-1]["metrics"].items() if v is not None)
        log(f"  curve: step {snap['step']}: {shown}")
    points.append(_point(final_step, cfg.data.batch_size, train_items,
                         {k: v for k, v in final.items() if k not in SKIP}))
    return points
