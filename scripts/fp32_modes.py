"""Time fp32 variants of the speed modes that `train.speed` does not offer, for CPUs
without native bf16 (where amp/fast compute in emulated bf16, 10-25x slower than fp32):

    eager   fp32 eager (the reference)
    cl32    fp32, channels_last
    comp32  fp32, torch.compile of the whole G and D
    fast32  fp32, channels_last + torch.compile (the `fast` mode without autocast)

    .venv/bin/python scripts/fp32_modes.py CASES MODES ROUNDS
    e.g. scripts/fp32_modes.py gaugan35-64-b4,pix2pix-128-b4 eager,cl32,fast32 4

CASES are `bench profile train --cases` names. The measurement is that command's own
(bench.profile.train_modes.profile_case: the trainer's G step + D step, a 2-iteration
warm-up per mode, ROUNDS interleaved rounds of 2 iterations with the mode order
rotating, then peak memory); only the modes are new, given to it as speed plans.
Prints ms/iteration (median) and x fp32 eager (median, min-max of the per-round ratios).
Results: reports/kernels/cpu-train/amd-avx2/README.md.
"""

from __future__ import annotations

import sys

import torch

from bench.profile import train_modes
from bench.train import speed

_plan_speed = speed.plan_speed
FP32 = {  # name -> (mode recorded, channels_last, compile)
    "cl32": ("eager", True, False),
    "comp32": ("fast", False, True),
    "fast32": ("fast", True, True),
}


def plan(mode: str, device: torch.device, amp: str = "none", channels_last: bool = False):
    if mode in FP32:
        recorded, cl, compiled = FP32[mode]
        return speed.SpeedPlan(mode, recorded, device.type, None, cl, compiled, False, [])
    return _plan_speed(mode, device, amp, channels_last)


def main() -> None:
    cases, modes, rounds = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    if modes[0] != "eager":
        raise SystemExit("MODES must start with eager (the reference)")
    speed.plan_speed = plan  # Runner resolves its mode through this
    dev = torch.device("cpu")
    for case in train_modes.resolve_cases(None, dev, False, only=cases):
        for r in train_modes.profile_case(case, dev, modes, warmup=2, rounds=rounds, iters=2):
            if "error" in r:
                print(f"{case.name} {r['mode']}: {r['error']}", flush=True)
                continue
            warm = r.get("compile_s", r.get("warmup_s", 0.0))
            print(f"{case.name} {r['mode']}: {r['ms_per_iter']:.0f} ms/iter, x eager "
                  f"{r['x_eager']:.2f} ({r['x_eager_min']:.2f}-{r['x_eager_max']:.2f}), "
                  f"warm-up {warm:.1f} s, peak {r['peak_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
