"""One trainer for every model family: GauGAN (+ VAE encoder), Concat/IN, pix2pix, pix2pixHD.

train_run(cfg, run_dir) trains a RunConfig into a run folder:
    config.yaml        the resolved config
    checkpoint.pt      everything needed to continue exactly (bench.train.checkpoint)
    scalars.jsonl      step, each loss, lr, images/s   (+ tb/ when tensorboard is installed)
    samples/step_XXXXXX.png   label | generated | real, on fixed validation maps
    train_stats.json   steps, wall time, images/s, peak memory, device, the speed mode
                       (train.speed: asked, run, why they differ), the effective
                       objective (every loss term: weight or "off: reason"), fallbacks
                       that changed what ran, CPU time, load average, threads
The step loop below reads top to bottom; helpers live in the other bench/train modules.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import signal
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from bench.config import atomic_write_text, load_run_config, save_run_config, validate_run_config
from bench.data.base import semantic_input
from bench.data.registry import build_dataset, dataset_info
from bench.errors import BenchError
from bench.memory import RssSampler
from bench.train import ddp, speed
from bench.train.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from bench.train.effective import effective_objective
from bench.train.networks import build_stage, check_model_pairing, next_stage
from bench.train.objective import make_objective
from bench.train.oasis import make_ema
from bench.train.order import DataOrder, FlipView
from bench.train.outputs import Progress, ScalarLog, colorize, save_sample_grid
from bench.train.recipes import STEP_ORDER, family, recipe_departures
from bench.train.rng import rng_state, seed_everything, set_rng_state
from bench.train.schedule import lr_factor, set_lr, stage_at
from bench.train.snapshots import save_snapshot, snapshot_steps
from bench.train.step import train_step
from gaugan.kernels import backend as spade_backend

log = logging.getLogger("bench.train")
NUM_SAMPLES = 4  # validation maps in each sample grid


def train_from_config(config, steps=None, out=None, resume=False, device=None, sets=None) -> dict:
    """`bench train CONFIG.yaml [--steps N] [--out DIR] [--resume] [--device D] [--set K=V]`."""
    cfg = load_run_config(config, list(sets or []))
    if steps is not None:
        data = cfg.to_dict()
        data["train"]["steps"] = steps
        cfg = validate_run_config(data, f"{config} (--steps)")
    run_dir = Path(out) if out is not None else Path("runs") / cfg.name
    stats = train_run(cfg, run_dir, resume=resume, device=device)
    if stats["rank"] == 0:
        # The first step (warm-up, allocation) is not timed: one step gives no rate.
        rate = stats["train_images_per_s"]
        speed = f"{rate:.2f} images/s" if rate else "images/s n/a (first step is not timed)"
        print(f"{run_dir}: {stats['steps']} steps, {speed} "
              f"on {stats['device']} (x{stats['world_size']}), "
              f"peak memory {stats['peak_memory_mb']:.0f} MB")
    return stats


def resolve_device(requested: str, dist: ddp.Dist) -> torch.device:
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError(f"device {requested!r}: CUDA is not available here (use cpu or auto)")
    if requested not in ("cpu", "cuda") and not requested.startswith("cuda:"):
        raise BenchError(f"device {requested!r}: valid choices are auto, cpu, cuda, cuda:N")
    if requested == "cuda" and dist.enabled:
        return torch.device("cuda", dist.local_rank)
    return torch.device(requested)


def train_run(cfg, run_dir: Path, resume: bool = False, device: str | None = None,
              until: int | None = None) -> dict:
    """Train cfg into run_dir (resuming from its checkpoint if asked); returns train stats.

    until: stop (with a checkpoint) after this step instead of cfg.train.steps, as an
    interruption would; a later resume continues exactly.
    """
    requested = device or cfg.device
    use_cuda = requested.startswith("cuda") or (requested == "auto" and torch.cuda.is_available())
    dist = ddp.init_from_env(use_cuda)
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    try:
        return _train(cfg, Path(run_dir), resume, resolve_device(requested, dist), dist, until)
    finally:
        torch.use_deterministic_algorithms(deterministic_before)
        ddp.cleanup(dist)


def _train(cfg, run_dir: Path, resume: bool, device: torch.device, dist: ddp.Dist,
           until: int | None) -> dict:
    t = cfg.train
    on_cuda = device.type == "cuda"
    notes: list[str] = []
    info = dataset_info(cfg.data)
    fam = family(type(cfg.model.generator).arch)
    step_order = STEP_ORDER[fam]
    coarse_to_fine = type(cfg.model.generator).arch == "pix2pixhd_local"
    check_model_pairing(cfg)
    for d in recipe_departures(cfg):
        log.warning("%s: %s", cfg.name, d)
    plan = speed.plan_of(t, device)  # train.speed: autocast, channels_last, compile
    notes += plan.notes
    amp_dtype, channels_last = plan.amp_dtype, plan.channels_last
    stop = min(until, t.steps) if until is not None else t.steps

    # Resume: the checkpoint must come from the same config (train.steps may grow).
    ckpt = (load_checkpoint(run_dir / CHECKPOINT, missing="train the run first, or drop --resume")
            if resume else None)
    if ckpt is not None:
        _check_same_config(cfg, ckpt["config"], run_dir / CHECKPOINT)
    step = ckpt["step"] if ckpt is not None else 0

    # Seed everything (identical weights on every rank), then build the data and networks.
    seed_everything(cfg.seed, deterministic=not on_cuda)
    if not dist.is_main:  # rank 0 writes a missing synthetic cache first; the others wait
        ddp.barrier(dist)
    dataset = build_dataset(cfg.data, "train")
    fixed_batch = _sample_batch(cfg, dataset) if dist.is_main else None
    if dist.is_main:
        ddp.barrier(dist)
    dataset.flip = False  # flips come from DataOrder, so they do not depend on workers
    order = DataOrder(len(dataset), cfg.data.batch_size, cfg.seed, cfg.data.flip,
                      dist.rank, dist.world_size, start_batch=step)
    # Its own generator: creating the iterator must not draw from the global RNG (resume).
    loader = DataLoader(FlipView(dataset), batch_sampler=order, num_workers=cfg.data.num_workers,
                        pin_memory=on_cuda, generator=torch.Generator().manual_seed(cfg.seed))
    stage_of = lambda s: stage_at(s, coarse_to_fine, t.global_steps, t.fix_global_steps)
    stage_name = (ckpt or {}).get("stage") or stage_of(step)
    spade_backend.reset_fallbacks()
    stage = build_stage(cfg, info, stage_name, device, dist, channels_last)
    speed.prepare(stage, plan)
    notes += stage.notes
    objective = make_objective(cfg, fam, device)
    ema = make_ema(cfg, ddp.plain(stage.G))  # OASIS: the generator evaluation uses
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    timing = {"train_time_s": 0.0, "images": 0, "cpu_time_s": 0.0}
    if ckpt is not None:
        stage.load_state_dict(ckpt)
        if ema is not None:
            ema.load_state_dict(ckpt["G_ema"])
        scaler.load_state_dict(ckpt["scaler"])
        timing = ckpt.get("extra", {}).get("timing", timing)
        set_rng_state(ckpt["rng"][dist.rank] if dist.rank < len(ckpt["rng"]) else ckpt["rng"][0])
    else:
        torch.manual_seed(cfg.seed + dist.rank)  # per-rank noise (z, dropout) from here on

    if dist.is_main:
        save_run_config(cfg, run_dir / "config.yaml")
        scalars = ScalarLog(run_dir, resume_step=step)
    progress = Progress(stop, step, enabled=dist.is_main, images_per_step=cfg.data.batch_size)
    autocast = plan.autocast
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(device)
    interrupted = _interrupt_flag(dist)

    def checkpoint() -> None:
        rngs = ddp.all_gather_objects(rng_state(), dist)  # a collective: every rank calls it
        timing["cpu_time_s"] = cpu_before + time.process_time() - cpu_start
        if dist.is_main:
            save_checkpoint({"step": step, "config": cfg.to_dict(), **stage.state_dict(),
                             "scaler": scaler.state_dict(), "rng": rngs, "data": order_state(),
                             "stage": stage.name, "extra": {"timing": timing},
                             "G_ema": ema.state_dict() if ema is not None else None},
                            run_dir / CHECKPOINT)

    def order_state() -> dict:
        return {**order.state_dict(), "next_batch": step}

    snap_at = set(snapshot_steps(t.steps, t.snapshots))
    start_step, t_start, cpu_start = step, time.perf_counter(), time.process_time()
    cpu_before = timing.get("cpu_time_s", 0.0)  # earlier sessions of a resumed run
    load_start = _load_average()
    t_mark, images_mark, last_values = None, 0, {}
    batches = iter(loader)
    # CPU peak memory of this run (ru_maxrss would be the process's, across earlier runs)
    rss = None if on_cuda else RssSampler(interval=0.05).__enter__()
    try:
        while step < stop:
            # pix2pixHD: switch stage (global -> fixed_global -> joint) at its boundary
            if stage_of(step) != stage.name:
                stage = next_stage(cfg, info, stage, stage_of(step), device, dist, channels_last)
                speed.prepare(stage, plan)
                notes += [n for n in stage.notes if n not in notes]
            # learning rates for this step (linear decay from decay_start)
            factor = lr_factor(step, t.steps, t.decay_start)
            set_lr(stage.opt_g, t.lr_g * factor)
            set_lr(stage.opt_d, t.lr_d * factor)
            G, D, E = stage.G, stage.D, stage.E
            plan.step_begin()  # CUDA graphs (fast): this step may reuse the last one's memory

            # fetch batch (this rank's share of global batch `step`)
            batch = next(batches)
            real = batch["image"].to(device, non_blocking=True)  # (n, 3, H, W) in [-1, 1]

            # one-hot semantic input (N, semantic_nc, H, W); pix2pix may take the colour map
            seg = semantic_input(batch, info).to(device, non_blocking=True)
            cond = colorize(batch["label"], info.palette).to(device) if _colour(G) else seg
            if stage.image_size != stage.full_size:  # pix2pixHD global stage: half size
                cond = F.interpolate(cond, size=stage.image_size, mode="nearest")
                real = F.interpolate(real, size=stage.image_size, mode="area")
            if channels_last:
                cond, real = (x.contiguous(memory_format=torch.channels_last) for x in (cond, real))

            # one G step and one D step, in the family's official order (bench.train.step)
            g_losses, d_losses = train_step(stage, objective, cond, real, step_order, autocast,
                                            scaler)
            if ema is not None:
                ema.update(ddp.plain(stage.G))
            step += 1
            if t_mark is None:  # the first step (allocation, autotuning) is not timed
                _sync(device)
                t_mark, images_mark = time.perf_counter(), 0
            else:
                images_mark += cfg.data.batch_size

            # log: losses averaged over ranks, lr, images/s since the last log
            if step % t.log_every == 0 or step == stop:
                values = {k: v.item() for k, v in {**g_losses, **d_losses}.items()}
                values = ddp.mean_over_ranks(values, dist)
                _sync(device)
                now = time.perf_counter()
                ips = images_mark / (now - t_mark) if images_mark else float("nan")
                timing["train_time_s"] += now - t_mark
                timing["images"] += images_mark
                t_mark, images_mark = now, 0
                last_values = {**values, "lr_g": stage.opt_g.param_groups[0]["lr"],
                               "lr_d": stage.opt_d.param_groups[0]["lr"], "images_per_s": ips}
                if dist.is_main:
                    scalars.write(step, last_values)
                    progress.update(step, {k: v for k, v in last_values.items() if not k.startswith("lr")})
            elif dist.is_main:
                progress.update(step)  # plain progress lines come at a steady interval

            # sample grid on fixed validation maps (rank 0; does not touch the RNG stream)
            if dist.is_main and (step % t.sample_every == 0 or step == stop):
                _write_samples(run_dir / "samples" / f"step_{step:06d}.png", stage, fixed_batch,
                               info, device)

            # checkpoint (every ckpt_every, at the end, and when interrupted), and the
            # generator snapshots that evaluation scores along training
            stopping = interrupted.is_set()
            t_io = time.perf_counter()
            if dist.is_main and step in snap_at:
                save_snapshot(run_dir, step, stage.name, ema.module if ema is not None else ddp.plain(stage.G),
                              ddp.plain(stage.E))
            if step % t.ckpt_every == 0 or step == stop or stopping:
                checkpoint()
            t_mark += time.perf_counter() - t_io  # I/O is not training time
            if stopping:
                raise KeyboardInterrupt(f"interrupted after step {step}; resume with --resume")

    finally:
        progress.close()
        if rss is not None:
            rss.__exit__(None, None, None)
        getattr(interrupted, "restore", lambda: None)()
        del batches  # stops DataLoader workers
        timing["cpu_time_s"] = cpu_before + time.process_time() - cpu_start
    if ckpt is not None and step == start_step and dist.is_main:
        log.info("%s: already trained to step %d", run_dir, step)
    stats = {
        "steps": step, "steps_this_run": step - start_step,
        "wall_time_s": time.perf_counter() - t_start,
        "train_time_s": timing["train_time_s"], "train_images": timing["images"],
        "train_images_per_s": timing["images"] / timing["train_time_s"] if timing["train_time_s"] else 0.0,
        "global_batch": cfg.data.batch_size, "image_size": list(stage.full_size),
        "train_items": len(dataset), "epochs": step * cfg.data.batch_size / max(1, len(dataset)),
        **_peak_memory(device, rss), "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if on_cuda else "cpu",
        "world_size": dist.world_size, "backend": dist.backend, "amp": str(amp_dtype) if amp_dtype else "none",
        "channels_last": channels_last, "speed_mode": plan.mode, "speed": plan.record(),
        "vgg_loss": objective.vgg_status, "family": fam, "step_order": step_order,
        "objective": effective_objective(t.losses.model_dump(), stage.E is not None,
                                         objective.vgg_status),
        "final_losses": {k: v for k, v in last_values.items() if k.startswith(("g_", "d_"))},
        "notes": notes, "fallbacks": notes + spade_backend.fallbacks(), "rank": dist.rank,
        # How disturbed the timings may be: the process's CPU time (all threads; summed over
        # resumed sessions), the 1-minute load average when this session started and ended,
        # and the threads torch used on how many cores.
        "cpu_time_s": timing["cpu_time_s"], "load_average_start": load_start,
        "load_average_end": _load_average(), "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
    if dist.enabled:  # every rank's weights should be identical: record their digests
        stats["rank_weight_digests"] = ddp.all_gather_objects(_digest(stage), dist)
    if dist.is_main:
        scalars.close()
        atomic_write_text(run_dir / "train_stats.json", json.dumps(stats, indent=2) + "\n")
    return stats


# ------------------------------------------------------------------ helpers of the loop


def _check_same_config(cfg, saved: dict, path: Path) -> None:
    """A resumed run must continue the same experiment: only train.steps, device and the eval
    section (which training never reads: `bench run` re-scores such folders) may change."""
    now, before = cfg.to_dict(), dict(saved)
    for d in (now, before):
        d.pop("device", None)
        d.pop("eval", None)
        d.get("train", {}).pop("steps", None)
    if now != before:
        diffs = [k for k in _flat(now).keys() | _flat(before).keys()
                 if _flat(now).get(k) != _flat(before).get(k)]
        raise BenchError(f"{path}: was trained with a different config (keys: "
                         f"{', '.join(sorted(diffs))}); use another --out or train afresh")


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _sample_batch(cfg, train_set) -> dict:
    """The first NUM_SAMPLES validation items (training items if there is no val split
    or it has no photos)."""
    try:
        data = build_dataset(cfg.data, "val")
    except BenchError:
        data = train_set
    if not getattr(data, "has_photos", True):  # label maps only (pix2pixHD test_*): no real column
        data = train_set
    items = [data[i] for i in range(min(NUM_SAMPLES, len(data)))]
    return torch.utils.data.default_collate(items)


def _colour(G) -> bool:
    """pix2pix built with label_input 'color' takes the palette-rendered label map."""
    return getattr(ddp.plain(G), "label_input", "onehot") == "color"


@torch.no_grad()
def _write_samples(path: Path, stage, batch: dict, info, device: torch.device) -> None:
    """label | generated | real. Eval mode, and a forked RNG, so training is unaffected;
    with an encoder the style code is the posterior mean of the real photo."""
    G, E = ddp.plain(stage.G), ddp.plain(stage.E)
    label_rgb = colorize(batch["label"], info.palette)
    seg = semantic_input(batch, info).to(device)
    cond = label_rgb.to(device) if _colour(G) else seg
    real = batch["image"].to(device)
    if stage.image_size != stage.full_size:
        cond = F.interpolate(cond, size=stage.image_size, mode="nearest")
        real = F.interpolate(real, size=stage.image_size, mode="area")
        label_rgb = F.interpolate(label_rgb, size=stage.image_size, mode="nearest")
    devices = [device.index or 0] if device.type == "cuda" else []
    modules = [m for m in (G, E) if m is not None]
    modes = [m.training for m in modules]
    # force_eager: a compiled G (train.speed fast) is not recompiled for eval mode here
    with torch.random.fork_rng(devices=devices), torch.compiler.set_stance("force_eager"):
        for m in modules:
            m.eval()
        fake = G(cond, E(real)[0]) if E is not None else G(cond)
        for m, mode in zip(modules, modes):
            m.train(mode)
    save_sample_grid(path, label_rgb, fake.float(), real)


def _digest(stage) -> str:
    """sha256 of every G and D tensor (parameters and buffers), to compare ranks."""
    h = hashlib.sha256()
    for module in (ddp.plain(stage.G), ddp.plain(stage.D)):
        for name, tensor in module.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory(device: torch.device, rss: RssSampler | None) -> dict:
    if device.type == "cuda":
        return {"peak_memory_mb": torch.cuda.max_memory_allocated(device) / 2**20,
                "peak_memory_kind": "cuda max_memory_allocated"}
    if rss is not None and rss.peak_rss_mb is not None:
        return {"peak_memory_mb": rss.peak_rss_mb,
                "peak_memory_kind": "cpu process peak RSS while this run trained (50 ms polls)"}
    # no /proc: ru_maxrss (KiB on Linux), the process's peak since it started
    return {"peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_memory_kind": "cpu process max RSS since the process started"}


def _interrupt_flag(dist: ddp.Dist) -> threading.Event:
    """Ctrl-C (SIGINT) finishes the current step, checkpoints, then stops (single process,
    main thread only; under torchrun the launcher handles signals)."""
    flag = threading.Event()
    if not dist.enabled and threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if flag.is_set():  # a second Ctrl-C: stop now
                signal.signal(signal.SIGINT, previous)
                raise KeyboardInterrupt
            flag.set()

        signal.signal(signal.SIGINT, handler)
        flag.restore = lambda: signal.signal(signal.SIGINT, previous)  # type: ignore[attr-defined]
    return flag
