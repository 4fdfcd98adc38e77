"""The CPU figures of issue 6, one dedicated run (full-length timings, not --quick):

    python -m bench.profile.cpu_figures [OUT]      (default runs/profile/cpu)

norm-modulate at 4x64x128x128 fp32 (copy-roofline fraction, speed-up over eager), the
SPADE layer and resblock ratios, and the two block fusions, eager vs compile.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from bench.profile.output import DEFAULT_OUT, print_table, write_outputs
from bench.profile.spade import add_metrics, meta, run_sweep

CPU_TARGETS = [
    ("norm", (4, 64, 128, 128), "contiguous"),
    ("spade", (2, 64, 64, 64), "contiguous"),
    ("resblock", (2, 64, 32, 32), "contiguous"),
    ("fusion:merged_conv", (2, 64, 64, 64), "contiguous"),
    ("fusion:onehot_gather", (2, 64, 64, 64), "contiguous"),
]


def interleaved(shape=(4, 64, 128, 128), rounds: int = 15) -> dict:
    """Roofline fraction and speed-up with the copy, eager and compiled norm-modulate
    timed in alternation (median of per-round ratios): robust to a machine whose load
    changes from second to second (other users of the same cores)."""
    import statistics

    from bench.profile import cases as C

    dev = torch.device("cpu")
    eager = C.norm_case("eager", shape, "contiguous", "fwd", dev, torch.float32)
    comp = C.norm_case("compile", shape, "contiguous", "fwd", dev, torch.float32)
    comp.fn()
    src = torch.randn(comp.bytes // 8)  # fp32; its copy moves comp.bytes (read + write)
    dst = torch.empty_like(src)
    fracs, speedups = [], []
    for _ in range(rounds):
        t = []
        for fn in (lambda: dst.copy_(src), comp.fn, eager.fn):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
        fracs.append(t[0] / t[1])
        speedups.append(t[2] / t[1])
    return {"shape": list(shape), "rounds": rounds, "frac_roofline_median": statistics.median(fracs),
            "speedup_vs_eager_median": statistics.median(speedups),
            "frac_roofline_best": max(fracs), "speedup_vs_eager_best": max(speedups)}


def main(out: Path) -> dict:
    dev = torch.device("cpu")
    t0 = time.perf_counter()
    rows, copy_gbs = run_sweep(dev, torch.float32, False, 600.0, print, CPU_TARGETS, 36)
    add_metrics(rows, copy_gbs)
    result = {"meta": meta(dev, "float32", False, copy_gbs, time.perf_counter() - t0), "rows": rows}
    result["meta"]["interleaved_norm_fwd"] = inter = interleaved()
    write_outputs(result, out, "spade_cpu_float32_targets")
    print_table(result)
    print("norm-modulate fwd, copy / compiled / eager interleaved:", inter)
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT / "cpu")
