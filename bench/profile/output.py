"""Output of `bench profile spade`: rich table, JSON, CSV and a plot (written atomically).

By default everything goes under runs/profile/ (ignored by git, like every run output);
the committed reference figures under reports/kernels/ are written only on purpose,
with an explicit --out (as scripts/gpu_check.sh does).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.atomic import atomic_write_text

DEFAULT_OUT = Path("runs/profile")  # relative to the working folder, as `bench run`'s runs/

COLUMNS = ["level", "provider", "N", "C", "H", "W", "layout", "pass", "dtype", "device", "ms",
           "first_call_s", "bytes", "gbs", "copy_gbs", "roofline_ms", "frac_roofline",
           "speedup_vs_eager", "peak_mb", "error"]


def _clean(v):
    return None if isinstance(v, float) and math.isnan(v) else v


def write_outputs(result: dict, out: Path, stem: str) -> list[Path]:
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    rows = [{k: _clean(r.get(k)) for k in COLUMNS} for r in result["rows"]]
    csv_path, json_path, png_path = out / f"{stem}.csv", out / f"{stem}.json", out / f"{stem}.png"
    atomic_write_text(csv_path, pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False))
    atomic_write_text(json_path, json.dumps({"meta": result["meta"], "rows": rows}, indent=1))
    paths = [csv_path, json_path]
    if rows and _plot(rows, result["meta"], png_path):
        paths.append(png_path)
    return paths


def _label(r: dict) -> str:
    return (f"{r['level']} {r['provider']} {r['N']}x{r['C']}x{r['H']}x{r['W']} "
            f"{'cl' if r['layout'] == 'channels_last' else 'nchw'} {r['pass']}")


def _plot(rows: list[dict], meta: dict, path: Path) -> bool:
    """Left: speed-up over eager per case and provider; right: norm-level roofline fraction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["speedup_vs_eager"] and r["provider"] not in ("eager", "unfused")]
    if not ok:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, max(4, 0.28 * len(ok))))
    labels = [_label(r) for r in ok]
    ax1.barh(range(len(ok)), [r["speedup_vs_eager"] for r in ok],
             color=["tab:orange" if r["provider"] == "compile" else "tab:green" for r in ok])
    ax1.set_yticks(range(len(ok)), labels, fontsize=7)
    ax1.axvline(1.0, color="k", lw=0.8)
    ax1.set_xlabel("speed-up over eager (x)")
    roof = [r for r in rows if r["frac_roofline"]]
    ax2.barh(range(len(roof)), [r["frac_roofline"] for r in roof])
    ax2.set_yticks(range(len(roof)), [_label(r) for r in roof], fontsize=7)  # norm and clade_norm
    ax2.axvline(1.0, color="k", lw=0.8)
    ax2.set_xlabel(f"fraction of copy roofline ({meta['copy_gbs']:.0f} GB/s)")
    fig.suptitle(f"SPADE profile: {meta.get('device_name')} {meta['dtype']}")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return True


def _f(v, fmt: str) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    m = result["meta"]
    table = Table(title=f"SPADE profile: {m.get('device_name')} ({m['device']}), {m['dtype']}, "
                        f"copy {m['copy_gbs']:.1f} GB/s")
    for col in ("level", "provider", "shape", "layout", "pass", "ms", "GB/s", "roofline ms",
                "% roofline", "x eager", "first call s"):
        table.add_column(col, justify="right" if col not in ("level", "provider", "layout") else "left")
    for r in result["rows"]:
        table.add_row(
            r["level"], r["provider"], f"{r['N']}x{r['C']}x{r['H']}x{r['W']}",
            "cl" if r["layout"] == "channels_last" else "nchw", r["pass"],
            _f(r["ms"], ".3f") if not r["error"] else "error", _f(r["gbs"], ".1f"),
            _f(r["roofline_ms"], ".3f"), _f(r["frac_roofline"] and 100 * r["frac_roofline"], ".0f"),
            _f(r["speedup_vs_eager"], ".2f"), _f(r["first_call_s"], ".1f"),
        )
    Console(width=160).print(table)
    for r in result["rows"]:
        if r["error"]:
            print(f"error: {r['level']} {r['provider']} {r['N']}x{r['C']}x{r['H']}x{r['W']} "
                  f"{r['pass']}: {r['error']}")


def print_json(result: dict) -> None:
    rows = [{k: _clean(r.get(k)) for k in COLUMNS} for r in result["rows"]]
    print(json.dumps({"meta": result["meta"], "rows": rows}, indent=1))
