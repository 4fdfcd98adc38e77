"""The report's opening sentences: the answer, with its interval and test.

"concat beats spade on FD (oracle features) by 2.1 [0.9, 3.3] (paired t-test over 3 seeds,
p = 0.01). FID, KID, LPIPS not measured: weights missing." Segmentation scores answer only
when the segmenter can rank (tables.too_weak); otherwise the headline says so and answers
with the next metric measured. Objectives that differ from the config or between variants
are said here too: they change what the comparison means.
"""

from __future__ import annotations

from bench.experiment.schema import HIGHER_IS_BETTER
from bench.report import objective
from bench.report.load import ReportData
from bench.report.stats import paired
from bench.report.tables import (
    LABELS,
    WEAK_CEILING,
    ceiling,
    disturbed,
    fmt,
    too_weak,
    unavailable,
    verdict,
)


def _name(metric: str) -> str:
    return LABELS.get(metric, metric)


def _measured(data: ReportData, metric: str) -> bool:
    return any(data.values(v, metric) for v in data.variants)


def _test(n: int, p: float | None) -> str:
    if p is None:
        return f"paired over {n} seeds, identical differences: no p-value"
    return f"paired t-test over {n} seeds, p = {p:.2g}"


def compare(data: ReportData, variant: str, metric: str) -> str:
    """One clause: how variant does against the baseline on metric."""
    base, name = data.baseline, _name(metric)
    r = paired(data.values(variant, metric), data.values(base, metric))
    if r is None:
        return f"{variant} and {base} share no seed with {name} measured"
    d = r.diff
    if d.half is None:
        return (f"{variant} − {base} on {name} is {fmt(d.mean)} from one seed "
                "(no interval, no test)")
    hib = HIGHER_IS_BETTER.get(metric)
    said = verdict(d, hib)
    if said in ("better", "worse"):
        winner, loser = (variant, base) if said == "better" else (base, variant)
        # the margin by which the winner is better, with its interval, as positive numbers
        flip = (d.mean < 0)
        amount, lo, hi = (-d.mean, -d.hi, -d.lo) if flip else (d.mean, d.lo, d.hi)
        text = (f"{winner} beats {loser} on {name} by {fmt(amount)} [{fmt(lo)}, {fmt(hi)}] "
                f"({_test(r.n, r.p)})")
    else:
        text = (f"{variant} and {base} do not differ clearly on {name}: Δ = {fmt(d.mean)} "
                f"[{fmt(d.lo)}, {fmt(d.hi)}] ({_test(r.n, r.p)})")
    differ = objective.differs(data, variant, base)
    return text + (f", but they trained different objectives ({differ.split(': ', 1)[1]})"
                   if differ else "")


def answer_metric(data: ReportData) -> tuple[str | None, str | None]:
    """(metric the headline answers with, why the primary one could not) ."""
    primary = data.options.get("primary_metric") or "miou"
    order = [primary] + [m for m in data.metrics if m != primary]
    why = None
    for m in order:
        if m not in data.metrics or not _measured(data, m):
            continue
        if too_weak(data, m):
            c = ceiling(data)
            why = (f"The segmentation scores cannot rank these variants: the segmenter scores "
                   f"the real photos at mIoU {c:.3f} (below {WEAK_CEILING}), so mIoU and pixel "
                   "accuracy differences are mostly its own errors.")
            continue
        return m, why
    return None, why


def headline(data: ReportData) -> str:
    sentences = []
    metric, why = answer_metric(data)
    if why:
        sentences.append(why)
    others = [v for v in data.variants if v != data.baseline]
    if metric is not None and others:
        clauses = [compare(data, v, metric) for v in others]
        sentences.append("; ".join(clauses) + ".")  # variant names keep their spelling
    elif metric is None:
        sentences.append("No quality metric was measured for these runs.")
    missing = [m for m in data.metrics if not _measured(data, m)]
    if missing:
        reasons = {unavailable(data, m).removeprefix("n/a").strip(" ()") or "unavailable"
                   for m in missing}
        because = "weights missing" if reasons == {"weights missing"} else "unavailable"
        sentences.append(f"{', '.join(_name(m) for m in missing)} not measured: {because}.")
    for lost in objective.lost_terms(data):
        sentences.append(f"Trained without a term the config asks for: {lost}.")
    if disturbed(data):
        sentences.append("Timings were taken on a shared machine (see Cost).")
    return " ".join(sentences)
