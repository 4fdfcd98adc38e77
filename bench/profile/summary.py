"""summary.md of a GPU-check folder: headline figures against the issue's targets.

    python -m bench.profile.summary reports/kernels/<device>

Reads the spade_*.json profiles and train_throughput.json found in the folder; a
missing input is reported as missing, never guessed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _pick(rows, **want):
    return [r for r in rows if all(r.get(k) == v for k, v in want.items()) and not r.get("error")]


def _fmt(v, spec=".2f"):
    return "n/a" if v is None else format(v, spec)


def kernel_lines(prof: dict, dtype: str) -> list[str]:
    rows, lines = prof["rows"], []
    m = prof["meta"]
    lines.append(f"### {dtype}: {m.get('device_name')}, copy bandwidth {m['copy_gbs']:.0f} GB/s, "
                 f"torch {m.get('torch')}, triton {m.get('triton')}, sweep {m['seconds']:.0f} s")
    lines.append("")
    lines.append("| level | shape | layout | pass | provider | ms | % roofline | x eager | x compile |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("error") or r["provider"] in ("eager", "unfused"):
            continue
        comp = _pick(rows, level=r["level"], N=r["N"], C=r["C"], H=r["H"], W=r["W"],
                     layout=r["layout"], provider="compile", **{"pass": r["pass"]})
        x_comp = comp[0]["ms"] / r["ms"] if comp and r["provider"] == "triton" else None
        frac = r.get("frac_roofline")
        lines.append(f"| {r['level']} | {r['N']}x{r['C']}x{r['H']}x{r['W']} | {r['layout']} | {r['pass']} | "
                     f"{r['provider']} | {r['ms']:.3f} | {_fmt(frac and 100 * frac, '.0f')} | "
                     f"{_fmt(r.get('speedup_vs_eager'))} | {_fmt(x_comp)} |")
    errors = [r for r in rows if r.get("error")]
    for r in errors:
        lines.append(f"\nerror: {r['level']} {r['provider']} {r['N']}x{r['C']}x{r['H']}x{r['W']} "
                     f"{r['pass']}: {r['error']}")
    return lines


def targets(folder: Path) -> list[str]:
    """The issue's GPU targets, each with the measured figure (or 'not measured')."""
    out = ["| target | measured | met |", "|---|---|---|"]
    prof = _load(folder / "spade_cuda_bfloat16.json")
    rows = prof["rows"] if prof else []
    big = [r for r in _pick(rows, level="norm", provider="triton", layout="contiguous", **{"pass": "fwd"})
           if r["N"] * r["C"] * r["H"] * r["W"] >= 8 * 256 * 128 * 128]
    if big:
        worst = min(r["frac_roofline"] for r in big)
        out.append(f"| norm-modulate bf16 >= 8x256x128x128 fwd: >= 80% of copy bandwidth | "
                   f"min {100 * worst:.0f}% over {len(big)} shapes | {'yes' if worst >= 0.8 else 'no'} |")
        sp = min(r["speedup_vs_eager"] or 0 for r in big)
        out.append(f"| same: >= 3x eager | min {sp:.2f}x | {'yes' if sp >= 3 else 'no'} |")
        xs = []
        for r in big:
            c = _pick(rows, level="norm", provider="compile", N=r["N"], C=r["C"], H=r["H"], W=r["W"],
                      layout=r["layout"], **{"pass": "fwd"})
            if c:
                xs.append(c[0]["ms"] / r["ms"])
        out.append(f"| same: >= 1.2x torch.compile | {'min %.2fx' % min(xs) if xs else 'not measured'} | "
                   f"{'yes' if xs and min(xs) >= 1.2 else 'no' if xs else '-'} |")
    else:
        out.append("| norm-modulate bf16 targets | not measured | - |")
    rb = _pick(rows, level="resblock", provider="triton", **{"pass": "fwd+bwd"})
    if rb:
        sp = min(r["speedup_vs_eager"] or 0 for r in rb)
        out.append(f"| SPADE resblock fwd+bwd >= 1.5x eager | min {sp:.2f}x over {len(rb)} shapes | "
                   f"{'yes' if sp >= 1.5 else 'no'} |")
    else:
        out.append("| SPADE resblock fwd+bwd >= 1.5x eager | not measured | - |")
    train = _load(folder / "train_throughput.json")
    fused = [r for r in (train or {}).get("rows", []) if r.get("backend") == "triton" and "speedup_vs_eager" in r]
    if fused:
        r = fused[0]
        out.append(f"| G+D training images/s >= 1.5x eager | {r['speedup_vs_eager']:.2f}x "
                   f"({r['images_per_s']:.1f} img/s, peak {_fmt(r['peak_mem_gib'])} GiB) | "
                   f"{'yes' if r['speedup_vs_eager'] >= 1.5 else 'no'} |")
    else:
        out.append("| G+D training images/s >= 1.5x eager | not measured | - |")
    return out + mode_targets(folder)


def mode_targets(folder: Path) -> list[str]:
    """Issue 11 (bench profile train): full-width GauGAN at 256x256, the fast mode (CUDA
    graphs) >= 2x fp32 eager and >= 1.25x bf16-autocast eager."""
    modes = _load(folder / "train_modes.json")
    fast = [r for r in (modes or {}).get("rows", []) if r.get("mode") == "fast"
            and r.get("arch") == "spade" and "x_eager" in r]
    if not fast:
        return ["| train.speed fast: >= 2x fp32 eager, >= 1.25x amp | not measured | - |"]
    out = []
    for r in fast:
        xa = r.get("x_amp", float("nan"))
        ok = r["x_eager"] >= 2 and xa >= 1.25
        out.append(f"| {r['case']} fast: >= 2x fp32 eager, >= 1.25x amp | {r['x_eager']:.2f}x "
                   f"eager, {xa:.2f}x amp ({r['images_per_s']:.1f} img/s, peak "
                   f"{_fmt(r.get('peak_mb'), '.0f')} MB) | {'yes' if ok else 'no'} |")
    return out


def write_summary(folder: Path) -> Path:
    lines = [f"# Fused SPADE check: {folder.name}", ""]
    stages = folder / "stages.md"
    if stages.exists():
        lines += ["## Stages", "", stages.read_text().strip(), ""]
    lines += ["## Targets (issues 6 and 11)", ""] + targets(folder) + [""]
    for prof_path in sorted(folder.glob("spade_*.json")):
        prof = _load(prof_path)
        if prof:
            lines += kernel_lines(prof, prof["meta"]["dtype"]) + [""]
    tm = folder / "train_modes.md"
    if tm.exists():
        lines += ["## G+D training steps per speed mode (bench profile train)", "",
                  tm.read_text().strip(), ""]
    tt = folder / "train_throughput.md"
    if tt.exists():
        lines += ["## G+D training throughput", "", tt.read_text().strip(), ""]
    path = folder / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    print(write_summary(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/profile")))
