"""The report's tables: main (mean ± 95% CI per variant and metric), comparison against the
baseline (paired over seeds), cost. Cells are strings; **bold** marks the best."""

from __future__ import annotations

from bench.experiment.schema import HIGHER_IS_BETTER
from bench.report.doc import Table
from bench.report.load import ReportData
from bench.report.stats import Summary, mean_ci, paired

LABELS = {
    "miou": "mIoU", "pixel_acc": "pixel acc", "fid": "FID", "kid": "KID", "lpips": "LPIPS",
    "lpips_diversity": "LPIPS diversity", "fd_oracle": "FD (oracle features)",
    "kid_oracle": "KID (oracle features)",
}


def label(metric: str) -> str:
    """Display name with the arrow of the better direction (none when unknown)."""
    name = LABELS.get(metric, metric)
    hib = HIGHER_IS_BETTER.get(metric)
    return name if hib is None else f"{name} {'↑' if hib else '↓'}"


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "–"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def fmt_summary(s: Summary | None) -> str:
    if s is None:
        return "–"
    if s.half is None:
        return f"{fmt(s.mean)} (1 seed)"
    return f"{fmt(s.mean)} ± {fmt(s.half, 2)}"


def unavailable(data: ReportData, metric: str) -> str:
    reason = data.reasons.get(metric, "")
    return "n/a (weights missing)" if "weight" in reason.lower() else "n/a"


def _best(summaries: dict[str, Summary | None], metric: str) -> str | None:
    hib = HIGHER_IS_BETTER.get(metric)
    have = {v: s.mean for v, s in summaries.items() if s is not None}
    if hib is None or len(have) < 2:
        return None
    return (max if hib else min)(have, key=have.get)


def main_table(data: ReportData) -> Table:
    headers = ["variant", "seeds"] + [label(m) for m in data.metrics]
    cols = {m: {v: mean_ci(data.values(v, m).values()) for v in data.variants} for m in data.metrics}
    best = {m: _best(cols[m], m) for m in data.metrics}
    rows = []
    for v in data.variants:
        n = len(data.values(v, "seed")) if "seed" in data.results else 0
        name = f"{v} (baseline)" if v == data.baseline else v
        row = [name, str(n)]
        for m in data.metrics:
            s = cols[m][v]
            cell = fmt_summary(s) if s is not None else unavailable(data, m)
            row.append(f"**{cell}**" if best[m] == v else cell)
        rows.append(row)
    if data.reference:
        rows.append(["real photos (reference)", "–"]
                    + [fmt(data.reference[m]) if m in data.reference else "–" for m in data.metrics])
    notes = [f"{LABELS.get(m, m)}: n/a: {data.reasons[m]}" for m in data.metrics
             if m in data.reasons and all(cols[m][v] is None for v in data.variants)]
    notes += [f"{LABELS.get(m, m)}: produced by {data.produced_by[m]}" for m in data.metrics
              if m in data.produced_by]
    caption = ("Mean ± half-width of the 95% confidence interval (Student t over seeds); "
               "↑/↓: higher/lower is better; best mean in bold (overlapping intervals: no clear "
               "winner). The reference row scores the real validation photos with the same "
               "segmenter.")
    return Table(headers, rows, caption, notes)


def verdict(diff: Summary, higher_is_better: bool | None) -> str:
    """Better / worse than the baseline only when the 95% CI of the difference excludes 0."""
    if diff.half is None:
        return "one seed: none"
    if diff.lo <= 0 <= diff.hi or higher_is_better is None:
        return "no clear difference"
    return "better" if (diff.mean > 0) == higher_is_better else "worse"


def comparison_table(data: ReportData) -> Table:
    headers = ["variant", "metric", "seeds paired", f"Δ vs {data.baseline}", "95% CI of Δ",
               "p (paired t-test)", "verdict"]
    rows = []
    base = {m: data.values(data.baseline, m) for m in data.metrics}
    for v in data.variants:
        if v == data.baseline:
            continue
        for m in data.metrics:
            r = paired(data.values(v, m), base[m])
            if r is None:
                rows.append([v, label(m), "0", unavailable(data, m), "–", "–", "–"])
                continue
            ci = "n/a (one seed)" if r.diff.half is None else f"[{fmt(r.diff.lo)}, {fmt(r.diff.hi)}]"
            if r.n < 2:
                p = "n/a (one seed: no test)"
            elif r.p is None:
                p = "n/a (identical differences)"
            else:
                p = f"{r.p:.3g}"
            sign = "+" if r.diff.mean > 0 else ""
            rows.append([v, label(m), str(r.n), f"{sign}{fmt(r.diff.mean)}", ci, p,
                         verdict(r.diff, HIGHER_IS_BETTER.get(m))])
    caption = (f"Paired over seeds: Δ = variant − {data.baseline} on the same seed. The CI and "
               "p-value need at least two seeds; the verdict says better or worse only when the "
               "95% CI of Δ excludes 0.")
    return Table(headers, rows, caption)


def _mean(data: ReportData, v: str, col: str) -> Summary | None:
    return mean_ci(data.values(v, col).values()) if col in data.results else None


def _millions(s: Summary | None) -> str:
    return "–" if s is None else f"{s.mean / 1e6:.3f} M"


def cost_table(data: ReportData) -> Table:
    headers = ["variant", "params G", "params D", "params E", "GFLOPs/image (G)", "train images/s",
               "peak memory (MB)", "wall time / run (s)"]
    rows = []
    for v in data.variants:
        flops = _mean(data, v, "flops_G")
        rows.append([v, _millions(_mean(data, v, "params_G")), _millions(_mean(data, v, "params_D")),
                     _millions(_mean(data, v, "params_E")),
                     "–" if flops is None else f"{flops.mean / 1e9:.3f}",
                     fmt_summary(_mean(data, v, "train_images_per_s")),
                     fmt_summary(_mean(data, v, "peak_mem_mb")),
                     fmt_summary(_mean(data, v, "wall_s"))])
    caption = ("Parameters and forward FLOPs for one image (G); speed and memory measured while "
               "training (mean ± 95% CI over seeds, same machine).")
    return Table(headers, rows, caption)
