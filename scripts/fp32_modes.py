"""Time fp32 variants of the speed modes that `train.speed` does not offer, for CPUs
without native bf16 (where amp/fast compute in emulated bf16, 10-25x slower than fp32):

    eager   fp32 eager (the reference)
    cl32    fp32, channels_last
    comp32  fp32, torch.compile of the whole G and D
    fast32  fp32, channels_last + torch.compile (the `fast` mode without autocast)

    .venv/bin/python scripts/fp32_modes.py CASES MODES ROUNDS
    e.g. scripts/fp32_modes.py gaugan35-64-b4,pix2pix-128-b4 eager,cl32,fast32 4

CASES are `bench profile train --cases` names; the step is that command's (the
trainer's G step + D step, bench.profile.train_modes.Runner), with one 2-iteration
warm-up per mode (compile time) and ROUNDS interleaved rounds of 2 iterations, the mode
order rotating. Prints ms/iteration (median) and x fp32 eager (median, min, max of the
per-round ratios). Results: reports/kernels/cpu-train/amd-avx2/README.md.
"""

from __future__ import annotations

import statistics
import sys
import time

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
        runners = {}
        for m in modes:
            t = time.perf_counter()
            runners[m] = train_modes.Runner(case.cfg, m, dev)
            runners[m].run(2)
            print(f"{case.name} {m}: warm-up {time.perf_counter() - t:.1f} s", flush=True)
        times: dict[str, list[float]] = {m: [] for m in modes}
        for r in range(rounds):
            for m in modes[r % len(modes):] + modes[:r % len(modes)]:
                times[m].append(runners[m].run(2) / 2)
        for m in modes:
            ratios = [e / x for e, x in zip(times["eager"], times[m])]
            print(f"{case.name} {m}: {1000 * statistics.median(times[m]):.0f} ms/iter, x eager "
                  f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                  flush=True)


if __name__ == "__main__":
    main()
