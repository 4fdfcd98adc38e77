"""The report's tables: main (mean ± 95% CI per variant and metric), comparison against the
baseline (paired over seeds), cost. Cells are strings; **bold** marks a best mean only where
the paired test puts it ahead of every other variant; † marks timings from a shared machine."""

from __future__ import annotations

from bench.experiment.schema import HIGHER_IS_BETTER
from bench.report import objective
from bench.report.doc import Table
from bench.report.load import ReportData
from bench.report.stats import Summary, mean_ci, paired

LABELS = {
    "miou": "mIoU", "pixel_acc": "pixel acc", "fid": "FID", "kid": "KID", "lpips": "LPIPS",
    "lpips_diversity": "LPIPS diversity", "fd_oracle": "FD (oracle features)",
    "kid_oracle": "KID (oracle features)",
}


# The y-axis of a metric in the figures: what the number is, on what scale.
UNITS = {
    "miou": "mean IoU (0-1)", "pixel_acc": "fraction of pixels (0-1)",
    "fid": "Fréchet distance (Inception-v3)", "kid": "KID (Inception-v3)",
    "lpips": "LPIPS distance (AlexNet)", "lpips_diversity": "LPIPS distance (AlexNet)",
    "fd_oracle": "Fréchet distance (oracle features)", "kid_oracle": "KID (oracle features)",
}


def unit(metric: str) -> str:
    return UNITS.get(metric, "value")


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


# Below this real-photo mIoU the segmenter cannot tell good images from bad ones well
# enough to rank methods: its scores of generated images are mostly its own errors.
WEAK_CEILING = 0.3
SEGMENTATION = ("miou", "pixel_acc")


def ceiling(data: ReportData) -> float | None:
    """The segmenter's mIoU on the real validation photos (the ceiling of every mIoU)."""
    return data.reference.get("miou")


def too_weak(data: ReportData, metric: str) -> str | None:
    c = ceiling(data)
    if metric in SEGMENTATION and c is not None and c < WEAK_CEILING:
        return f"segmenter too weak to rank (real-photo mIoU {c:.3f} < {WEAK_CEILING})"
    return None


def metric_label(data: ReportData, metric: str) -> str:
    """label(), with the real-photo ceiling beside segmentation scores."""
    ref = data.reference.get(metric)
    name = label(metric)
    if metric in data.segmenter:  # scored by a paper segmenter: its name goes with the metric
        name = f"{name} [{data.segmenter[metric]}]"
    if metric in SEGMENTATION and ref is not None:
        return f"{name} (real photos {fmt(ref, 3)})"
    return name


def unavailable(data: ReportData, metric: str) -> str:
    reason = data.reasons.get(metric, "")
    return "n/a (weights missing)" if "weight" in reason.lower() else "n/a"


def clear_best(data: ReportData, summaries: dict[str, Summary | None], metric: str) -> str | None:
    """The variant with the best mean, only when the paired test over seeds puts it ahead of
    every other variant (95% CI of the per-seed difference excluding 0); else None."""
    hib = HIGHER_IS_BETTER.get(metric)
    have = {v: s.mean for v, s in summaries.items() if s is not None}
    if hib is None or len(have) < 2 or too_weak(data, metric):
        return None
    best = (max if hib else min)(have, key=have.get)
    for other in have:
        if other == best:
            continue
        r = paired(data.values(best, metric), data.values(other, metric))
        if r is None or verdict(r.diff, hib) != "better":
            return None
    return best


def main_table(data: ReportData) -> Table:
    headers = ["variant", "seeds"] + [metric_label(data, m) for m in data.metrics]
    cols = {m: {v: mean_ci(data.values(v, m).values()) for v in data.variants} for m in data.metrics}
    best = {m: clear_best(data, cols[m], m) for m in data.metrics}
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
        rows.append(["real photos (segmenter ceiling)", "–"]
                    + [fmt(data.reference[m]) if m in data.reference else "–" for m in data.metrics])
    notes = [f"{LABELS.get(m, m)}: n/a: {data.reasons[m]}" for m in data.metrics
             if m in data.reasons and all(cols[m][v] is None for v in data.variants)]
    notes += [f"{LABELS.get(m, m)}: produced by {data.produced_by[m]}" for m in data.metrics
              if m in data.produced_by]
    # The oracle's bottleneck features are unnormalised and its own: their FD / KID scale
    # with it (on synthetic data KID reads 10-40, on facades 0.01-0.02).
    oracle_fd = [LABELS.get(m, m) for m in ("fd_oracle", "kid_oracle") if m in data.metrics]
    if oracle_fd:
        notes.append(f"{' and '.join(oracle_fd)}: distances in this oracle segmenter's own "
                     "feature space, comparable between the variants of this report, not "
                     "with other data sets, oracle settings or the Inception-based FID/KID.")
    weak = too_weak(data, "miou")
    if weak:
        notes.insert(0, f"**{weak}**: mIoU and pixel accuracy differences below are not evidence.")
    caption = ("Mean ± half-width of the 95% confidence interval (Student t over seeds); "
               "↑/↓: higher/lower is better; a best mean is bold only where the paired test "
               "over seeds puts it ahead of every other variant (95% CI of the per-seed "
               "difference excluding 0; none bold: no clear winner). The reference row scores the real validation photos with the same "
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
        differ = objective.differs(data, v, data.baseline)
        for m in data.metrics:
            r = paired(data.values(v, m), base[m])
            if r is None:
                rows.append([v, metric_label(data, m), "0", unavailable(data, m), "–", "–", "–"])
                continue
            ci = "n/a (one seed)" if r.diff.half is None else f"[{fmt(r.diff.lo)}, {fmt(r.diff.hi)}]"
            if r.n < 2:
                p = "n/a (one seed: no test)"
            elif r.p is None:
                p = "n/a (identical differences)"
            else:
                p = f"{r.p:.3g}"
            sign = "+" if r.diff.mean > 0 else ""
            said = too_weak(data, m) or verdict(r.diff, HIGHER_IS_BETTER.get(m))
            if differ:
                said += f" ({differ})"
            rows.append([v, metric_label(data, m), str(r.n), f"{sign}{fmt(r.diff.mean)}", ci, p,
                         said])
    caption = (f"Paired over seeds: Δ = variant − {data.baseline} on the same seed. The CI and "
               "p-value need at least two seeds; the verdict says better or worse only when the "
               "95% CI of Δ excludes 0. Segmentation scores show the segmenter's real-photo "
               f"score beside them; with a real-photo mIoU below {WEAK_CEILING} their verdict is "
               "'segmenter too weak to rank'. Where a variant trained a different objective "
               "from the baseline (see Objective) the verdict says so: the difference is then "
               "not the variant's design alone.")
    return Table(headers, rows, caption)


def _mean(data: ReportData, v: str, col: str) -> Summary | None:
    return mean_ci(data.values(v, col).values()) if col in data.results else None


def _millions(s: Summary | None) -> str:
    return "–" if s is None else f"{s.mean / 1e6:.3f} M"


# Across seeds, a cost figure whose CI half-width exceeds this fraction of its mean is
# flagged: identical runs on one quiet machine do not differ that much.
SEED_SPREAD_LIMIT = 0.25
SHARED = "†"


def _run_infos(data: ReportData, v: str) -> list[tuple[str, dict]]:
    df = data.results
    rows = df[(df["variant"] == v) & (df["status"] == "complete")]
    return [(f"{v}/seed{s}", data.run_info.get(str(d), {}))
            for s, d in zip(rows["seed"], rows["run_dir"])]


def throughput(data: ReportData, v: str) -> Summary | None:
    """Per run the median images/s of its log intervals (the least disturbed measurement;
    the whole-run average where scalars.jsonl has no rates), then mean ± CI over seeds."""
    per_run = data.values(v, "train_images_per_s") if "train_images_per_s" in data.results else {}
    values = []
    df = data.results
    rows = df[(df["variant"] == v) & (df["status"] == "complete")]
    for s, d in zip(rows["seed"], rows["run_dir"]):
        med = data.run_info.get(str(d), {}).get("images_per_s_median")
        values.append(med if med is not None else per_run.get(int(s)))
    return mean_ci([x for x in values if x is not None])


def _spread(s: Summary | None) -> bool:
    return (s is not None and s.half is not None and s.mean > 0
            and s.half > SEED_SPREAD_LIMIT * s.mean)


def disturbed(data: ReportData) -> dict[str, list[str]]:
    """variant -> why its timings look disturbed (shared machine), per run and over seeds.

    Wall time is not a sign: the first run that needs them also builds the data set and
    trains the oracle segmenter (one-off work, cached for the others), so its wall time
    spreads across seeds on a quiet machine too."""
    out: dict[str, list[str]] = {}
    for v in data.variants:
        why = [f"{name}: {info['disturbed']}" for name, info in _run_infos(data, v)
               if info.get("disturbed")]
        s = throughput(data, v)
        if _spread(s):
            why.append(f"images/s differs by ±{s.half / s.mean:.0%} across seeds")
        if why:
            out[v] = why
    return out


def _modulation_share(data: ReportData, v: str) -> str:
    """'29.4% / 76.7%': the SPADE / CLADE layers' part of G's parameters and FLOPs."""
    mp, mf = _mean(data, v, "mod_params_G"), _mean(data, v, "mod_flops_G")
    p, f = _mean(data, v, "params_G"), _mean(data, v, "flops_G")
    if mp is None or p is None or mp.mean != mp.mean or not p.mean:
        return "–"
    share = f"{mp.mean / p.mean:.1%}"
    ok = mf is not None and f is not None and mf.mean == mf.mean and f.mean
    return f"{share} / {mf.mean / f.mean:.2%}" if ok else f"{share} / –"


# peak_memory_kind values that are the process's high-water mark since it started (older
# runs: "cpu process max RSS"): with several runs trained in one process, a later run
# inherits an earlier one's peak, so the figure is an upper bound, not this run's own.
PROCESS_PEAK = ("cpu process max RSS", "cpu process max RSS since the process started")
HIGH_WATER = "‡"


def _process_peak(data: ReportData, v: str) -> bool:
    return any(info.get("peak_memory_kind") in PROCESS_PEAK for _, info in _run_infos(data, v))


def cost_table(data: ReportData) -> Table:
    headers = ["variant", "params G", "params D", "params E", "GFLOPs/image (G)", "train images/s",
               "peak memory (MB)", "wall time / run (s)"]
    rows = []
    shared = disturbed(data)
    for v in data.variants:
        flops = _mean(data, v, "flops_G")
        mark = f" {SHARED}" if v in shared else ""
        rows.append([v, _millions(_mean(data, v, "params_G")), _millions(_mean(data, v, "params_D")),
                     _millions(_mean(data, v, "params_E")),
                     "–" if flops is None else f"{flops.mean / 1e9:.3f}",
                     fmt_summary(throughput(data, v)) + mark,
                     fmt_summary(_mean(data, v, "peak_mem_mb"))
                     + (f" {HIGH_WATER}" if _process_peak(data, v) else ""),
                     fmt_summary(_mean(data, v, "wall_s")) + mark])
    if "mod_params_G" in data.results:  # the modulation branches' share (SPADE / CLADE)
        headers.insert(5, "modulation share of G (params / FLOPs)")
        for row, v in zip(rows, data.variants):
            row.insert(5, _modulation_share(data, v))
    caption = ("Parameters and forward FLOPs for one image (G). Training images/s: per run the "
               "median over its log intervals (the least disturbed measurement), then mean ± "
               "95% CI over seeds; memory and wall time per run, mean ± 95% CI, same machine. "
               "Wall time includes one-off work done by the first run that needs it (building "
               "the data set, training the oracle segmenter), so it can spread across seeds.")
    notes = []
    if "mod_params_G" in data.results:
        notes.append("Modulation share: the SPADE / CLADE layers' part of G's parameters and "
                     "FLOPs (CLADE's table lookups count 0 FLOPs). The CLADE paper's ADE20K "
                     "percentages are relative to G without those layers: see "
                     "reports/successors/overhead.md for ours at the official configuration.")
    if any(_process_peak(data, v) for v in data.variants):
        notes.append(f"{HIGH_WATER} peak memory recorded as the process's high-water mark "
                     "(ru_maxrss) since it started: runs trained one after another in one "
                     "process inherit the earlier runs' peak, so this is an upper bound, not "
                     "the run's own (runs trained since then record their own peak RSS).")
    if shared:
        notes.append(f"**{SHARED} the machine looked shared while these ran (busy CPUs or "
                     "unsteady rates): their timings are not reliable, and speed ratios between "
                     "variants are not evidence.** " + "; ".join(
                         f"{v}: {', '.join(why)}" for v, why in shared.items()))
    return Table(headers, rows, caption, notes)
