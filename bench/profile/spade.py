"""`bench profile spade`: SPADE throughput, eager vs torch.compile vs the Triton kernel.

For every case of the sweep (bench/profile/sweep.py) and pass (forward, forward +
backward) it times each available provider and reports ms, achieved GB/s, the
roofline (bytes the step must move / the device copy bandwidth measured at the start
of this run), the fraction of that roofline and the speed-up over eager. Compile
and first-call (JIT) time are measured apart and never enter the timings.
Writes spade_<device>_<dtype>[_quick].{csv,json,png} under `out` (default runs/profile).
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from bench.errors import BenchError
from bench.profile import cases as C
from bench.memory import peak_memory
from bench.profile.sweep import FULL, LABEL_NC_FULL, LABEL_NC_QUICK, QUICK
from bench.profile.timing import copy_bandwidth_gbs, sync, time_ms

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
PASSES = ("fwd", "fwd+bwd")
# Soft time budget (s): past it, compile cases are skipped; past 1.5x, the sweep stops.
BUDGET_ENV = "BENCH_PROFILE_BUDGET_S"


def resolve_device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise BenchError(f"--device {device!r}: not a device; valid: cpu, cuda, cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BenchError(f"--device {device}: CUDA is not available on this machine; valid: cpu")
    if dev.type not in ("cpu", "cuda"):
        raise BenchError(f"--device {device}: unsupported; valid: cpu, cuda, cuda:N")
    return dev


def providers_for(dev: torch.device) -> list[str]:
    from gaugan.kernels.backend import compile_runs_on
    from gaugan.kernels.op import triton_runs_on

    names = ["eager"]
    if compile_runs_on(dev.type):
        names.append("compile")
    if triton_runs_on(dev) and dev.type == "cuda":  # the interpreter is no benchmark
        names.append("triton")
    return names


def _build(level: str, provider: str, shape, layout, pass_, dev, dt, label_nc) -> C.Case:
    if level == "norm":
        return C.norm_case(provider, shape, layout, pass_, dev, dt)
    if level == "spade":
        return C.spade_case(provider, shape, layout, pass_, dev, dt, label_nc)
    if level == "resblock":
        return C.resblock_case(provider, shape, layout, pass_, dev, dt, label_nc)
    if level == "clade_norm":
        return C.clade_norm_case(provider, shape, layout, pass_, dev, dt, label_nc)
    if level == "clade":
        return C.clade_case(provider, shape, layout, pass_, dev, dt, label_nc)
    return C.fusion_case(level.split(":", 1)[1], provider, shape, layout, pass_, dev, dt, label_nc)


def run_sweep(dev: torch.device, dt: torch.dtype, quick: bool, budget_s: float, log,
              sweep=None, label_nc: int | None = None) -> tuple[list[dict], float]:
    """Time every case; returns (rows, copy GB/s). A failing case becomes a row with `error`.
    sweep / label_nc: override the quick / full sweep (list of (level, shape, layout))."""
    copy_gbs = copy_bandwidth_gbs(dev, quick)
    log(f"copy bandwidth on {dev}: {copy_gbs:.1f} GB/s")
    if sweep is None:
        sweep, label_nc = (QUICK, LABEL_NC_QUICK) if quick else (FULL, LABEL_NC_FULL)
    model_providers = providers_for(dev)
    start, rows = time.perf_counter(), []
    for level, shape, layout in sweep:
        providers = ["unfused", "fused"] if level.startswith("fusion:") else model_providers
        for pass_ in PASSES:
            for provider in providers:
                elapsed = time.perf_counter() - start
                if elapsed > 1.5 * budget_s:
                    log(f"budget {budget_s:.0f}s exceeded: stopping the sweep")
                    return rows, copy_gbs
                if provider == "compile" and elapsed > budget_s:
                    log(f"skip compile {level} {shape} {pass_}: past the {budget_s:.0f}s budget")
                    continue
                rows.append(_measure(level, provider, shape, layout, pass_, dev, dt, label_nc, quick, log))
    return rows, copy_gbs


def _measure(level, provider, shape, layout, pass_, dev, dt, label_nc, quick, log) -> dict:
    row = {"level": level, "provider": provider, "N": shape[0], "C": shape[1], "H": shape[2],
           "W": shape[3], "layout": layout, "pass": pass_, "dtype": str(dt).removeprefix("torch."),
           "device": dev.type, "ms": float("nan"), "first_call_s": float("nan"),
           "bytes": None, "peak_mb": None, "error": ""}
    try:
        if provider == "compile" and not quick:
            torch._dynamo.reset()  # a fresh static-shape compile per case (and no recompile limit)
        case = _build(level, provider, shape, layout, pass_, dev, dt, label_nc)
        t = time.perf_counter()
        case.fn()
        sync(dev)
        row["first_call_s"] = time.perf_counter() - t
        row["ms"] = time_ms(case.fn, dev, quick)
        row["bytes"] = case.bytes
        # peak memory of one call above what the inputs hold (CUDA: the allocator's
        # peak; CPU: peak RSS, bench.memory); CLADE vs SPADE shows the 2CxHxW
        # gamma/beta tensors CLADE never makes
        row["peak_mb"] = peak_memory(case.fn, dev)["peak_mb"]
        log(f"{level:<22} {provider:<8} {str(shape):<22} {layout:<13} {pass_:<8} "
            f"{row['ms']:9.3f} ms  (first call {row['first_call_s']:.1f}s)")
        del case
    except Exception as e:  # one failing case must not lose the sweep
        row["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        log(f"{level} {provider} {shape} {pass_}: FAILED {row['error']}")
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return row


def add_metrics(rows: list[dict], copy_gbs: float) -> None:
    """GB/s, roofline ms, fraction of roofline, speed-up over eager (or over unfused)."""
    base = {}
    for r in rows:
        if r["provider"] in ("eager", "unfused") and not r["error"]:
            base[_key(r)] = r["ms"]
    for r in rows:
        ok = not r["error"] and r["ms"] == r["ms"]
        nbytes = r["bytes"]
        r["gbs"] = nbytes / (r["ms"] * 1e-3) / 1e9 if ok and nbytes else None
        r["copy_gbs"] = copy_gbs
        r["roofline_ms"] = nbytes / (copy_gbs * 1e9) * 1e3 if nbytes else None
        r["frac_roofline"] = r["gbs"] / copy_gbs if r["gbs"] else None
        b = base.get(_key(r))
        r["speedup_vs_eager"] = b / r["ms"] if ok and b else None


def _key(r: dict) -> tuple:
    return (r["level"], r["N"], r["C"], r["H"], r["W"], r["layout"], r["pass"])


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def inconsistencies(rows: list[dict], load: tuple[float | None, float | None] = (None, None),
                    cores: int | None = None) -> list[str]:
    """What says the timings were disturbed: a forward alone slower than the same case's
    forward + backward (impossible on an idle machine), or a load average above the cores."""
    out = []
    both: dict[tuple, dict[str, float]] = {}
    for r in rows:
        if not r["error"] and r["ms"] == r["ms"]:
            key = (r["level"], r["provider"], r["N"], r["C"], r["H"], r["W"], r["layout"])
            both.setdefault(key, {})[r["pass"]] = r["ms"]
    for (level, provider, n, c, h, w, layout), ms in both.items():
        fwd, fb = ms.get("fwd"), ms.get("fwd+bwd")
        if fwd is not None and fb is not None and fwd > fb:
            out.append(f"{level} {provider} {n}x{c}x{h}x{w} {layout}: forward alone {fwd:.3f} ms "
                       f"> forward+backward {fb:.3f} ms")
    busy = [x for x in load if x is not None]
    if busy and cores and max(busy) > cores + 0.5:
        out.append(f"load average {max(busy):.1f} on {cores} cores while profiling")
    return out


def meta(dev: torch.device, dtype: str, quick: bool, copy_gbs: float, seconds: float) -> dict:
    info = {"device": str(dev), "dtype": dtype, "quick": quick, "copy_gbs": copy_gbs,
            "seconds": seconds, "torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if dev.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(dev)
    else:
        from bench.experiment.env import cpu_model

        info["device_name"] = cpu_model()
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    return info


def profile_spade(device: str | None = None, dtype: str = "float32", as_json: bool = False,
                  quick: bool = False, out: Path | None = None,
                  budget_s: float | None = None) -> dict:
    """Run the sweep, print a table (or JSON), write CSV + JSON + plot under `out`."""
    from bench.profile.output import DEFAULT_OUT, print_json, print_table, write_outputs

    if dtype not in DTYPES:
        raise BenchError(f"--dtype {dtype!r}: unknown; valid: {', '.join(DTYPES)}")
    dev = resolve_device(device)
    if budget_s is None:
        budget_s = float(os.environ.get(BUDGET_ENV, 45 if quick else 150))

    def log(msg: str) -> None:
        if not as_json:
            print(msg, flush=True)

    t0, load_start = time.perf_counter(), _load()
    rows, copy_gbs = run_sweep(dev, DTYPES[dtype], quick, budget_s, log)
    add_metrics(rows, copy_gbs)
    result = {"meta": meta(dev, dtype, quick, copy_gbs, time.perf_counter() - t0), "rows": rows}
    loads = (load_start, _load())
    result["meta"].update(load_average_start=loads[0], load_average_end=loads[1],
                          cpu_count=os.cpu_count())
    # Inconsistent timings are reported, not silently published (a shared machine)
    result["meta"]["warnings"] = warn = inconsistencies(rows, loads, os.cpu_count())
    paths = write_outputs(result, Path(out) if out is not None else DEFAULT_OUT,
                          f"spade_{dev.type}_{dtype}{'_quick' if quick else ''}")
    if as_json:
        print_json(result)
    else:
        print_table(result)
        for p in paths:
            print(f"wrote {p}")
    if warn:
        import sys

        print(f"warning: these timings look disturbed (another job on the machine?); rerun on "
              f"an idle machine before trusting them: {'; '.join(warn)}", file=sys.stderr)
    return result
