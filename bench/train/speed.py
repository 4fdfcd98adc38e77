"""Speed modes of training: the same model and losses, computed faster (`train.speed`).

    eager   fp32, contiguous, plain eager PyTorch (the reference every other mode is
            measured and guarded against)
    amp     bf16 autocast (CPU with AVX512-BF16 / AMX, and CUDA); the outputs of G and D
            are cast back to fp32, so every loss and its reduction runs in fp32, and G's
            condition is cast to bf16 once, not in every SPADE layer
    fast    amp + channels_last end to end + torch.compile of the whole G and D (the fused
            SPADE op, gaugan::spade_norm_mod, traces into the graph); on CUDA the
            compile mode is reduce-overhead (CUDA graphs: no per-op host overhead)
    auto    per device type, the fastest mode that passes the quality guard
            (tests/test_train_speed.py), as measured by `bench profile train` (AUTO):
            amp, on the CPU and on CUDA

Lower-level overrides, applied on top of the mode: `train.amp` (none | bf16 | fp16: the
autocast dtype; fp16, with a gradient scaler, on CUDA only) and `train.channels_last:
true`. A mode that cannot run as asked (no C++ compiler for torch.compile, fp16 on the
CPU) runs the nearest slower mode and says so in its notes; train_stats.json records the
mode asked, the mode run and the notes ("speed_mode", "speed", "fallbacks").

Every mode trains with fused Adam where torch has it (bench.train.networks.adam).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch

from gaugan.layers.spectral import autocast_spectral

log = logging.getLogger("bench.train")

SPEEDS = ("eager", "amp", "fast", "auto")
MODES = ("eager", "amp", "fast")  # what auto resolves to
# auto, per device type. CPU: bf16 autocast, measured by `bench
# profile train --device cpu` on the 2-core AVX512-BF16 machine (issue 11; reports/kernels/
# cpu-train/after-spectral-and-shared-label): 1.8-2.3x fp32 eager at 64x64, 2.5-4.5x at
# 128x128; on a CPU without native bf16 it is 0.04-0.10x (reports/kernels/cpu-train/
# amd-avx2), so there auto runs eager (plan_speed). channels_last on top
# was 0.97x amp for GauGAN and pix2pixHD and 1.19x for pix2pix (there, set
# train.channels_last); fast (compiled) was 0.86-0.99x amp for GauGAN after 2-5 minutes
# of compile, so neither is auto here. CUDA: amp until scripts/gpu_check.sh has measured
# fast (CUDA graphs) on an H100/H200.
AUTO = {"cpu": "amp", "cuda": "amp"}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class SpeedPlan:
    requested: str  # train.speed as asked
    mode: str  # what runs: eager | amp | fast
    device_type: str
    amp_dtype: torch.dtype | None
    channels_last: bool
    compile: bool
    cuda_graphs: bool
    notes: list[str] = field(default_factory=list)  # where what runs differs from the ask

    def autocast(self):
        """The autocast context of a forward (a no-op without amp)."""
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.amp_dtype)

    def step_begin(self) -> None:
        """Once per training step, before any forward: CUDA graph trees reuse the previous
        step's output memory from here on (reduce-overhead)."""
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()

    def record(self) -> dict:
        """What train_stats.json keeps under "speed"."""
        return {"requested": self.requested, "mode": self.mode,
                "autocast": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else "none",
                "channels_last": self.channels_last, "compile": self.compile,
                "cuda_graphs": self.cuda_graphs, "notes": list(self.notes)}


def plan_speed(speed: str, device: torch.device, amp: str = "none",
               channels_last: bool = False) -> SpeedPlan:
    """Resolve train.speed (+ the train.amp / train.channels_last overrides) on a device."""
    if speed not in SPEEDS:
        raise ValueError(f"train.speed {speed!r}: valid: {', '.join(SPEEDS)}")
    dev = device.type
    notes: list[str] = []
    mode = AUTO.get(dev, "eager") if speed == "auto" else speed
    if speed == "auto" and mode != "eager" and not bf16_is_fast(dev):
        notes.append(f"train.speed 'auto': this {dev.upper()} has no native bf16 "
                     "(AVX512-BF16/AMX): eager")
        mode = "eager"
    dtype = torch.bfloat16 if mode in ("amp", "fast") else None
    if amp != "none":
        dtype = DTYPES[amp]
    if dtype is torch.float16 and dev != "cuda":
        notes.append(f"train.amp='fp16' needs CUDA: ignored on {dev.upper()} (trains in "
                     f"{'bf16' if mode != 'eager' else 'fp32'})")
        dtype = torch.bfloat16 if mode != "eager" else None
    if dtype is torch.bfloat16 and not _bf16_runs_on(dev):
        notes.append(f"bf16 does not run on {dev} here: fp32")
        dtype = None
    compiled = mode == "fast"
    if compiled and not compile_runs_on(dev):
        notes.append(f"train.speed {mode!r}: torch.compile cannot build for {dev} here "
                     "(no C++ compiler / Triton): G and D run eagerly")
        compiled = False
    return SpeedPlan(speed, mode, dev, dtype, channels_last or mode == "fast", compiled,
                     compiled and dev == "cuda", notes)


def plan_of(train_cfg, device: torch.device) -> SpeedPlan:
    """The plan of a run's train section (its notes logged once here)."""
    plan = plan_speed(train_cfg.speed, device, train_cfg.amp, train_cfg.channels_last)
    for note in plan.notes:
        log.info(note)
    if plan.amp_dtype is torch.bfloat16 and not bf16_is_fast(plan.device_type):
        # as asked (bf16 numerics), but say what it costs: auto would have picked eager
        log.warning("train.speed %r: no native bf16 on this %s (AVX512-BF16/AMX): bf16 "
                    "runs emulated, slower than fp32 eager", plan.requested, plan.device_type)
    return plan


def prepare(stage, plan: SpeedPlan) -> None:
    """Make a stage's G and D (and E) run as the plan says, in place: the modules, their
    state_dict keys and optimizers stay the same objects (checkpoints are unchanged).
    Idempotent: pix2pixHD's fixed_global -> joint keeps the prepared modules."""
    from bench.train import ddp

    for net in (stage.G, stage.D, stage.E):
        m = ddp.plain(net)
        key = (plan.mode, plan.channels_last)
        if m is None or getattr(m, "_bench_speed", None) == key:
            continue
        if plan.amp_dtype is not None:
            m.register_forward_hook(_outputs_to_fp32)
            if not plan.compile:  # compiled graphs fuse these themselves
                autocast_spectral(m)
                for sub in m.modules():  # GauGAN's D: the label part of conv 1 once
                    if hasattr(sub, "share_label_conv"):
                        sub.share_label_conv = True
            if net is stage.G:
                m.register_forward_pre_hook(_condition_to_autocast_dtype)
        if plan.channels_last:
            m.to(memory_format=torch.channels_last)
        if plan.compile and net is not stage.E:
            # nn.Module.compile: compiled in place, so state_dict keys stay as they are
            m.compile(mode="reduce-overhead" if plan.cuda_graphs else None)
        m._bench_speed = key


@torch.compiler.disable
def _outputs_to_fp32(module, inputs, output):
    """Forward hook: floating outputs (nested lists/tuples too) back to fp32, so that the
    losses and their reductions run in fp32 under autocast.

    Kept out of torch.compile: traced inside a compiled G or D (nn.Module.compile also
    compiles its hooks) it became a frame of its own, guarded on the output's structure
    and the grad mode, and recompiled with each; eagerly it is a few casts."""
    return _to_fp32(output)


@torch.compiler.disable
def _condition_to_autocast_dtype(module, args):
    """Forward pre-hook of G: its condition (the one-hot label map, or pix2pix's colour
    map) cast once to the autocast dtype.

    Every consumer of the condition in our generators either is an op that autocast runs
    in the low dtype (a conv, which would cast it there itself) or an exact one (nearest
    resize, padding, concatenation, argmax), so the numbers are the same; what goes is one
    cast per SPADE layer (19 in a GauGAN G) of a map with one channel per class - 15-20%
    of an amp step with 151 labels at 128x128. Outside autocast (evaluation) it does
    nothing."""
    if not args or not isinstance(args[0], torch.Tensor) or not args[0].is_floating_point():
        return None
    dev = args[0].device.type
    if not torch.is_autocast_enabled(dev):
        return None
    dtype = torch.get_autocast_dtype(dev)
    if args[0].dtype == dtype:
        return None
    return (args[0].to(dtype), *args[1:])


def _to_fp32(x):
    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() and x.dtype != torch.float32 else x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_fp32(v) for v in x)
    return x


def _bf16_runs_on(dev: str) -> bool:
    if dev == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return dev == "cpu"  # without AVX512-BF16/AMX it runs, emulated (slower, not wrong)


def compile_runs_on(dev: str) -> bool:
    from gaugan.kernels.backend import compile_runs_on as runs

    return runs(dev)


def bf16_is_fast(dev: str) -> bool:
    """Whether bf16 runs natively on this device type, so autocast pays: CUDA with bf16, or
    a CPU with AVX512-BF16/AMX. Elsewhere it runs emulated: on a 2-core AVX2 CPU (AMD EPYC,
    no AVX-512) one training step of the facades oracle took 6.7-7.3 s in bf16 against
    0.54-0.81 s in fp32."""
    if dev == "cuda":
        return _bf16_runs_on(dev)
    return dev == "cpu" and native_bf16_cpu()


def native_bf16_cpu() -> bool:
    """AVX512-BF16 or AMX: bf16 convolutions run natively (else emulated, slower than fp32)."""
    checks = [getattr(torch.cpu, n, None) for n in ("_is_avx512_bf16_supported",
                                                     "_is_amx_tile_supported")]
    return any(c() for c in checks if c is not None)
