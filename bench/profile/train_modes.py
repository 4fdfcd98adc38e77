"""`bench profile train`: whole G+D training steps of real configs, per speed mode.

One iteration is the trainer's (bench.train.trainer): the G step (G forward, D on fake
and real, GAN + FM + VGG + KL + L1 as the config has them, backward, Adam) and the D step
(G forward without grad, D on fake and real, backward, Adam), built by the trainer's own
pieces (build_stage, speed.prepare, Objective) from the config, with random label maps of
its class count (timing does not depend on the layout) and random photos.

Measurement (ratios within one process, never absolute times across runs):
  build   every mode's networks from the same seed (identical weights)
  warm-up the first WARMUP iterations of each mode, timed apart: for `fast` that is
          torch.compile's build time ("compile_s")
  rounds  ROUNDS rounds; in each, every mode runs ITERS iterations, the order of the modes
          rotating from round to round (a slow phase of a shared machine hits every mode)
  figures images/s = median over rounds; x eager = median of the per-round ratios to fp32
          eager, with their min-max spread (x amp: the same against bf16-autocast eager)
  memory  one more iteration per mode, alone ("peak_mb"): on CUDA max_memory_allocated
          above the iteration's start; on the CPU the peak resident set size above the
          iteration's start, sampled every ms from /proc/self/statm, with glibc's mmap
          threshold at 64 KiB during that iteration (each tensor its own mapping, unmapped
          when freed, so RSS follows the live tensors): what the step needs beyond the
          model, optimizer state and inputs

Exits 1 when a mode fails (its row carries the error; the other modes still run).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from bench.atomic import atomic_write_text
from bench.errors import BenchError
from bench.memory import peak_memory

MODES = ("eager", "amp", "auto", "fast")  # auto: what train.speed auto runs on the device
# The default cases per device: GauGAN at half width (ngf 32) with 35 (Cityscapes) and
# 151 (ADE20K) label channels, pix2pix and pix2pixHD, each from its preset.
GAUGAN35 = ("presets/gaugan_cityscapes.yaml", {
    "data.aspect_ratio": 1.0, "data.use_instance": False,
    "model.generator.num_upsampling_layers": "normal", "model.generator.ngf": 32})
GAUGAN151 = ("presets/gaugan_ade20k.yaml", {"model.generator.ngf": 32})
PIX2PIX = ("presets/pix2pix_facades.yaml", {"model.generator.arch": "pix2pix_unet128",
                                            "model.generator.ngf": 32})
PIX2PIXHD = ("presets/pix2pixhd_cityscapes.yaml", {
    "data.aspect_ratio": 1.0,
    "model.generator": {"arch": "pix2pixhd_global", "ngf": 32, "n_downsampling": 4, "n_blocks": 9},
    "model.discriminator.num_D": 2})
CASES = {
    "cpu": [("gaugan35-64-b4", GAUGAN35, 64, 4), ("gaugan151-64-b2", GAUGAN151, 64, 2),
            ("gaugan35-128-b2", GAUGAN35, 128, 2), ("gaugan151-128-b4", GAUGAN151, 128, 4),
            ("pix2pix-128-b4", PIX2PIX, 128, 4), ("pix2pixhd-128-b2", PIX2PIXHD, 128, 2)],
    # CUDA: full-width GauGAN (the preset, ngf 64) at 256x256, batch 8 and 16
    "cuda": [("gaugan151-256-b8", (GAUGAN151[0], {}), 256, 8),
             ("gaugan151-256-b16", (GAUGAN151[0], {}), 256, 16),
             ("pix2pix-256-b16", (PIX2PIX[0], {}), 256, 16),
             ("pix2pixhd-256-b8", PIX2PIXHD, 256, 8)],
}
# More batch sizes (--cases): GauGAN's CPU target covers batch 2 to 8.
EXTRA = [("gaugan35-64-b8", GAUGAN35, 64, 8), ("gaugan151-128-b8", GAUGAN151, 128, 8)]
QUICK = [("gaugan35-64-b2", GAUGAN35, 64, 2)]  # plumbing check: one small case


@dataclass
class Case:
    name: str
    cfg: object  # RunConfig


def resolve_cases(target: str | None, device: torch.device, quick: bool,
                  profile: str | None = None, only: str | None = None) -> list[Case]:
    """The configs to time: an experiment's variants at its profile, one run config, or
    (no target) the built-in cases of the device (only: comma-separated case names)."""
    from bench.config import read_yaml, resolve_path, set_dotted, validate_run_config

    if target is not None:
        from bench.inspect import _runs_of

        return [Case(name, cfg) for name, cfg in _runs_of(target, profile)]
    cases = []
    table = QUICK if quick else CASES[device.type]
    if only:
        known = {c[0]: c for table_ in (*CASES.values(), EXTRA, QUICK) for c in table_}
        bad = [n for n in only.split(",") if n not in known]
        if bad:
            raise BenchError(f"--cases: unknown {', '.join(bad)}; valid: {', '.join(known)}")
        table = [known[n] for n in only.split(",")]
    for name, (preset, sets), size, batch in table:
        path = resolve_path(preset, "presets")
        data = read_yaml(path)
        for key, value in {**sets, "data.image_size": size, "data.batch_size": batch}.items():
            set_dotted(data, key, value)
        cases.append(Case(name, validate_run_config(data, f"{path} ({name})")))
    return cases


class Runner:
    """One mode's networks, objective and inputs; step() is one trainer iteration."""

    def __init__(self, cfg, mode: str, device: torch.device):
        from bench.data.base import semantic_input
        from bench.data.registry import dataset_info
        from bench.train import ddp
        from bench.train.networks import build_stage
        from bench.train.objective import Objective
        from bench.train.outputs import colorize
        from bench.train.recipes import STEP_ORDER, family
        from bench.train.rng import seed_everything
        from bench.train.schedule import stage_at
        from bench.train.speed import plan_speed, prepare

        self.plan = plan_speed(mode, device)
        info = dataset_info(cfg.data)
        arch = type(cfg.model.generator).arch
        if family(arch) == "oasis":
            raise BenchError(f"bench profile train: {arch} ({family(arch)} family) has its own "
                             "training step, not profiled here (GauGAN, Concat, CLADE, pix2pix, "
                             "pix2pixHD are)")
        t = cfg.train
        seed_everything(cfg.seed, deterministic=False)
        name = stage_at(0, arch == "pix2pixhd_local", t.global_steps, t.fix_global_steps)
        self.stage = build_stage(cfg, info, name, device, ddp.Dist(), self.plan.channels_last)
        prepare(self.stage, self.plan)
        self.objective = Objective(cfg, family(arch), device)
        self.order = STEP_ORDER[family(arch)]
        self.scaler = torch.amp.GradScaler("cuda", enabled=False)  # the trainer's (no fp16 mode)
        n, (h, w) = cfg.data.batch_size, self.stage.image_size
        g = torch.Generator().manual_seed(cfg.seed)
        coarse = torch.randint(0, info.label_channels, (n, 1, max(1, h // 8), max(1, w // 8)),
                               generator=g).float()
        label = F.interpolate(coarse, size=(h, w), mode="nearest")[:, 0].long()
        batch = {"label": label, "instance": torch.zeros(n, 1, h, w)}
        G = ddp.plain(self.stage.G)
        colour = getattr(G, "label_input", "onehot") == "color"
        # The condition is rebuilt every step, as the trainer does from each batch: the
        # one-hot map keeps the trainer's layout (a contiguous copy timed amp 1.9x instead
        # of 2.9x at 151 labels, 128x128), and nothing cached on it (the fused SPADE
        # backends' gaugan.kernels.label_cache) outlives the step.
        self.make_cond = ((lambda: colorize(label, info.palette)) if colour
                          else (lambda: semantic_input(batch, info)))
        self.real = (torch.rand(n, 3, h, w, generator=g) * 2 - 1).to(device)
        self.device, self.images = device, n

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(cond, real) as the trainer's iteration makes them (channels_last when planned)."""
        cond, real = self.make_cond().to(self.device), self.real
        if self.plan.channels_last:
            cond, real = (x.contiguous(memory_format=torch.channels_last) for x in (cond, real))
        return cond, real

    def step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The trainer's iteration (bench.train.step.train_step, without data and logging)."""
        from bench.train.step import train_step

        cond, real = self.inputs()
        self.plan.step_begin()
        g_losses, d_losses = train_step(self.stage, self.objective, cond, real, self.order,
                                        self.plan.autocast, self.scaler)
        return sum(g_losses.values()).detach(), sum(d_losses.values()).detach()

    def run(self, iters: int) -> float:
        """Seconds for `iters` iterations (synchronised)."""
        _sync(self.device)
        t = time.perf_counter()
        for _ in range(iters):
            self.step()
        _sync(self.device)
        return time.perf_counter() - t


def profile_case(case: Case, device: torch.device, modes: list[str], warmup: int,
                 rounds: int, iters: int) -> list[dict]:
    rows = {m: {"case": case.name, "mode": m} for m in modes}
    runners = {}
    # Each case is a run of its own: the compiled code of earlier cases must not count
    # against dynamo's recompile limit (8 per function), which the 4 GauGAN cases' D
    # scales reached, so the last case's fast D silently ran eagerly.
    torch._dynamo.reset()
    for m in modes:  # build + warm up (compile) each mode
        try:
            t = time.perf_counter()
            runners[m] = Runner(case.cfg, m, device)
            rows[m]["speed"] = runners[m].plan.record()
            rows[m]["build_s"] = time.perf_counter() - t
            rows[m]["compile_s" if runners[m].plan.compile else "warmup_s"] = runners[m].run(warmup)
        except Exception as e:  # noqa: BLE001 - report, go on with the other modes
            rows[m]["error"] = f"{type(e).__name__}: {e}"[:400]
            runners.pop(m, None)
    times: dict[str, list[float]] = {m: [] for m in runners}
    for r in range(rounds):
        order = list(runners)[r % max(1, len(runners)):] + list(runners)[:r % max(1, len(runners))]
        for m in order:
            try:
                times[m].append(runners[m].run(iters))
            except Exception as e:  # noqa: BLE001
                rows[m]["error"] = f"{type(e).__name__}: {e}"[:400]
                runners.pop(m)
                times.pop(m)
    for m in list(runners):
        rows[m].update(_memory(runners[m], device))
    n = case.cfg.data.batch_size
    base = times.get("eager")
    for m, ts in times.items():
        if len(ts) < rounds:
            continue
        rows[m]["images_per_s"] = statistics.median(n * iters / t for t in ts)
        rows[m]["ms_per_iter"] = 1e3 * statistics.median(ts) / iters
        for ref, key in ((base, "x_eager"), (times.get("amp"), "x_amp")):
            if ref and len(ref) == len(ts):
                ratios = [b / t for b, t in zip(ref, ts)]
                rows[m].update({key: statistics.median(ratios), f"{key}_min": min(ratios),
                                f"{key}_max": max(ratios)})
    h, w = case.cfg.data.image_size, int(case.cfg.data.image_size * case.cfg.data.aspect_ratio)
    for row in rows.values():
        row.update(arch=type(case.cfg.model.generator).arch, batch=n, size=f"{h}x{w}")
    return list(rows.values())


def _memory(runner: Runner, device: torch.device) -> dict:
    return peak_memory(lambda: runner.run(1), device)  # what the step needs beyond its inputs


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def profile_train(target: str | None = None, device: str | None = None, as_json: bool = False,
                  out: Path | None = None, modes: str = ",".join(MODES), quick: bool = False,
                  rounds: int = 5, iters: int = 2, warmup: int = 2,
                  profile: str | None = None, cases: str | None = None) -> dict:
    from bench.profile.output import DEFAULT_OUT

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BenchError(f"--device {device}: CUDA is not available here (use cpu)")
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in chosen if m not in MODES]
    if bad:
        raise BenchError(f"--modes: unknown {', '.join(bad)}; valid: {', '.join(MODES)}")
    if "eager" not in chosen:
        chosen.insert(0, "eager")  # every ratio is to fp32 eager
    if quick:
        rounds, iters, warmup = 2, 1, 1
    load_start = _load()
    rows = []
    for case in resolve_cases(target, dev, quick, profile, cases):
        case_rows = profile_case(case, dev, chosen, warmup, rounds, iters)
        rows += case_rows
        if not as_json:
            print(_table(case_rows), flush=True)
    result = {"meta": {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
                       "torch": torch.__version__, "threads": torch.get_num_threads(),
                       "cpu_count": os.cpu_count(), "load_average_start": load_start,
                       "load_average_end": _load(), "rounds": rounds, "iters": iters,
                       "warmup": warmup, "target": target or "built-in cases"},
              "rows": rows}
    folder = Path(out) if out is not None else DEFAULT_OUT
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "train_modes.json", json.dumps(result, indent=1) + "\n")
    atomic_write_text(folder / "train_modes.md", _table(rows) + "\n\n" + _meta_line(result) + "\n")
    if as_json:
        print(json.dumps(result, indent=1))
    else:
        print(_meta_line(result))
        print(f"written: {folder / 'train_modes.json'}, {folder / 'train_modes.md'}", file=sys.stderr)
    result["failed"] = [f"{r['case']} {r['mode']}: {r['error']}" for r in rows if "error" in r]
    return result


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _meta_line(result: dict) -> str:
    m = result["meta"]
    return (f"{m['device']}, torch {m['torch']}, {m['threads']} threads on {m['cpu_count']} cores, "
            f"load average {m['load_average_start']} -> {m['load_average_end']}; {m['rounds']} "
            f"interleaved rounds of {m['iters']} iterations per mode after {m['warmup']} warm-up")


def _table(rows: list[dict]) -> str:
    header = ("| case | mode | images/s | x eager (min-max) | x amp | ms/iter | peak MB "
              "| compile s | notes |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['mode']} | error | | | | | | {r['error']} |")
            continue
        x = (f"{r['x_eager']:.2f} ({r['x_eager_min']:.2f}-{r['x_eager_max']:.2f})"
             if "x_eager" in r else "-")
        peak = f"{r['peak_mb']:.0f}" if r.get("peak_mb") is not None else "-"
        comp = f"{r['compile_s']:.0f}" if "compile_s" in r else "-"
        notes = "; ".join(([_resolved(r["speed"])] if r["mode"] == "auto" else [])
                          + r.get("speed", {}).get("notes", []))
        xa = f"{r['x_amp']:.2f}" if "x_amp" in r else "-"
        lines.append(f"| {r['case']} | {r['mode']} | {r.get('images_per_s', float('nan')):.2f} | {x} | {xa} | "
                     f"{r.get('ms_per_iter', float('nan')):.0f} | {peak} | {comp} | {notes} |")
    return "\n".join(lines)


def _resolved(speed: dict) -> str:
    """What auto ran, e.g. 'auto = amp + channels_last'."""
    extra = [k for k in ("channels_last", "compile", "cuda_graphs") if speed.get(k)]
    return "auto = " + " + ".join([speed.get("mode", "?")] + extra)
