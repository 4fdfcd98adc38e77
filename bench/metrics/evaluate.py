"""`bench eval RUN_DIR`: generate the validation images, compute metrics.json.

Steps: load the run (checkpoint.pt; a missing or corrupt one is a BenchError before
anything is written) -> generate one image per validation map (+ random-z samples for
multimodal models) as PNGs into a temp folder -> compute the configured metrics ->
move the images to RUN_DIR/eval/ and write metrics.json atomically. A failure on the
way leaves no metrics.json (and an earlier one untouched). With --data-root the same
goes to RUN_DIR/eval_on/<folder name>/ instead: the run's own results stay as they are.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from bench.config import atomic_write_text, read_yaml, validate_run_config
from bench.atomic import make_public
from bench.errors import BenchError
from bench.metrics.curve import curve_points
from bench.metrics.generate import generate, is_multimodal
from bench.metrics.registry import EvalContext, check_metric_ids, compute_metrics

SPLIT = "val"
FORMAT = 1


def resolve_device(requested: str | None, cfg_device: str) -> torch.device:
    name = requested or cfg_device or "auto"
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError(f"device {name!r}: CUDA is not available here (use --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise BenchError(f"device {name!r}: valid: auto, cpu, cuda, cuda:N") from None


def data_key(cfg, size: tuple[int, int], n: int) -> str:
    """Names the real images: data set, its config, split, size, count (cache key)."""
    data = cfg.data.model_dump(mode="json")
    for k in ("batch_size", "num_workers"):
        data.pop(k, None)
    fp = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    return f"bench-{cfg.data.dataset}-{fp}-{SPLIT}-{size[0]}x{size[1]}-n{n}"


def _load_config(run_dir: Path, ckpt_cfg, data_root=None):
    """The checkpoint's config, with the eval section from config.yaml when present
    (so a user may change what is measured without retraining), and data.root replaced
    by `data_root` when given (the same data set's classes in another folder)."""
    path = run_dir / "config.yaml"
    data = ckpt_cfg.to_dict()
    if path.is_file():
        data["eval"] = read_yaml(path).get("eval", data["eval"])
    if data_root is not None:
        root = Path(data_root).expanduser()
        if not root.is_dir():
            raise BenchError(f"--data-root {root}: folder not found (a folder of data set "
                             f"{data['data']['dataset']!r} whose val split has photos)")
        data["data"]["root"] = str(root.resolve())
    if not path.is_file() and data_root is None:
        return ckpt_cfg
    return validate_run_config(data, str(path))


def _require_photos(val, cfg, run_dir: Path) -> None:
    """Scoring compares with the real photos: a split of label maps only cannot be scored."""
    if getattr(val, "has_photos", True):
        return
    labels = val.pairs[0].label.parent
    raise BenchError(f"{cfg.data.root}: the {SPLIT!r} split ({labels.name}/) has label maps but "
                     "no photos, so the generated images cannot be scored; evaluate on a folder "
                     f"whose {SPLIT!r} split has photos: bench eval {run_dir} --data-root FOLDER")


def evaluate_run(run_dir, device: str | None = None, data_root=None) -> dict:
    from bench.data.registry import build_dataset, dataset_info
    from bench.train.checkpoint import load_generator

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise BenchError(f"{run_dir}: run folder not found")
    t_start = time.perf_counter()
    G, E, ckpt_cfg, ckpt_info = load_generator(run_dir, "cpu")  # BenchError if missing/corrupt
    cfg = _load_config(run_dir, ckpt_cfg, data_root)
    check_metric_ids(cfg.eval.metrics, str(run_dir / "config.yaml"))
    dev = resolve_device(device, cfg.device)
    G, E = G.to(dev), (E.to(dev) if E is not None else None)
    info = dataset_info(cfg.data)
    val = build_dataset(cfg.data, SPLIT)
    _require_photos(val, cfg, run_dir)  # before anything is written
    multimodal = is_multimodal(G)
    extra = cfg.eval.diversity_samples if multimodal else 0

    # The run's own evaluation goes to RUN_DIR/{eval/, metrics.json}. On another folder
    # (--data-root) it goes to RUN_DIR/eval_on/<folder name>/, so the run's own results
    # (what `bench run` and the report read) are never replaced by another data set's.
    out_dir = run_dir if data_root is None else run_dir / "eval_on" / Path(cfg.data.root).name
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=".eval."))
    try:
        t0 = time.perf_counter()
        gen = generate(G, E, val, info, cfg.eval.num_samples, extra, cfg.eval.seed,
                       cfg.eval.batch_size, dev, tmp)
        seconds = {"generate": time.perf_counter() - t0}
        if gen.fake.shape != gen.real.shape:
            raise BenchError(f"{run_dir}: generator output {tuple(gen.fake.shape[1:])} does not "
                             f"match the real images {tuple(gen.real.shape[1:])}")
        size = tuple(gen.fake.shape[-2:])
        ctx = EvalContext(cfg=cfg, info=info, device=dev, gen=gen, fake_dir=tmp / "fake",
                          real_dir=tmp / "real", real_cache_name=data_key(cfg, size, len(gen.fake)),
                          multimodal=multimodal, split=SPLIT)
        t0 = time.perf_counter()
        metrics = compute_metrics(ctx, cfg.eval.metrics)
        seconds["metrics"] = time.perf_counter() - t0
        real_reference = ctx._cache.get("real_images", {})
        t0 = time.perf_counter()
        train_items = _train_items(run_dir, cfg)
        curve = (curve_points(run_dir, ctx, metrics, ckpt_info["step"], val, train_items)
                 if data_root is None else [])
        seconds["curve"] = time.perf_counter() - t0
        result = {
            "format": FORMAT,
            "run": run_dir.name,
            "config_fingerprint": cfg.fingerprint(),
            "checkpoint_step": ckpt_info["step"],
            "split": SPLIT,
            "data_root": cfg.data.root,  # where the val split was read (--data-root or the run's)
            "image_size": list(size),
            "num_maps": len(gen.fake),
            "multimodal": multimodal,
            "diversity_samples": extra,
            "device": str(dev),
            "images": {"fake": "eval/fake", "real": "eval/real",
                       "diverse": "eval/diverse" if extra else None},
            "metrics": metrics,
            "reference": {"real_images": real_reference},
            # metrics at each generator snapshot, against images seen (last: the final step)
            "curve": curve,
            "train_items": train_items,
            "segmenter": _segmenter_meta(ctx),
            "seconds": seconds,
        }
        # Images first, then metrics.json: its existence means the run is complete.
        dest = out_dir / "eval"
        if dest.exists():
            shutil.rmtree(dest)
        make_public(tmp, directory=True)  # mkdtemp makes it owner-only
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"]["total"] = time.perf_counter() - t_start
    atomic_write_text(out_dir / "metrics.json", json.dumps(result, indent=2) + "\n")
    _print_summary(out_dir, result)
    return result


def _train_items(run_dir: Path, cfg) -> int:
    """Training-set size for the curve's epochs: the trainer recorded it; older runs
    (no train_items in train_stats.json) count the split again."""
    from bench.data.registry import build_dataset

    try:
        return int(json.loads((run_dir / "train_stats.json").read_text())["train_items"])
    except (OSError, ValueError, KeyError, TypeError):
        return len(build_dataset(cfg.data, "train"))


def _print_summary(run_dir: Path, result: dict) -> None:
    """One line per metric: value (with the real-images reference) or n/a and why. A
    weight file's absence is explained once per process (file, folder, URL, commands);
    the lines here just say "n/a (weights missing)"."""
    from bench.metrics.weights import explain_missing_once, is_weights_reason, short_reason

    for e in result["metrics"].values():
        if e["value"] is None and is_weights_reason(e["reason"]):
            explain_missing_once(e["reason"])
    print(f"{run_dir / 'metrics.json'}: {result['num_maps']} maps, "
          f"{result['image_size'][0]}x{result['image_size'][1]}, {result['seconds']['total']:.0f} s")
    for e in result["metrics"].values():
        if e["value"] is None:
            print(f"  {e['name']:<22} n/a ({short_reason(e['reason'] or '')})")
        else:
            rv = (e["reference"] or {}).get("value")
            ref = f"  (real images: {rv:.4g})" if rv is not None else ""
            print(f"  {e['name']:<22} {e['value']:.4g}{ref}")


def _segmenter_meta(ctx: EvalContext) -> dict | None:
    seg = ctx._cache.get("segmenter")
    if seg is None or isinstance(seg, Exception):
        return None
    meta = dict(seg[1])
    meta["produced_by"] = seg[0].produced_by
    return meta
