"""What each variant trained: the effective objective of its runs (every loss term's weight,
or off and why) and the fallbacks that changed what ran, as a table and as the short
difference a comparison cites ("objectives differ: VGG 10 vs off: ...")."""

from __future__ import annotations

from bench.report.doc import Table
from bench.report.load import ReportData
from bench.train.effective import SHORT, TERMS, cell


def _runs(data: ReportData, variant: str) -> list[dict]:
    infos = []
    for d in data.run_dirs(variant):
        info = data.run_info.get(str(d.relative_to(data.out)))
        if info and info.get("objective"):
            infos.append(info)
    return infos


def _distinct(values) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def term_cells(data: ReportData, variant: str) -> dict[str, str] | None:
    """term id -> its cell over the variant's runs ('10', 'off: why'; seeds that differ
    joined by ' / '); None when no run recorded (or can derive) its objective."""
    runs = _runs(data, variant)
    if not runs:
        return None
    out = {}
    for tid in TERMS:
        cells = []
        for r in runs:
            term = r["objective"]["terms"].get(tid)
            if term is None:
                continue
            cells.append(term["name"].split("(")[-1].rstrip(")") if tid == "gan" else cell(term))
        out[tid] = " / ".join(_distinct(cells)) or "–"
    return out


def fallbacks(data: ReportData, variant: str) -> list[str]:
    return _distinct(n for r in _runs(data, variant) for n in r.get("fallbacks") or [])


def differs(data: ReportData, variant: str, other: str) -> str | None:
    """'objectives differ: VGG 10 vs off: weight file X missing' or None when the same."""
    a, b = term_cells(data, variant), term_cells(data, other)
    if a is None or b is None:
        return None
    diffs = [f"{SHORT[t]} {a[t]} vs {b[t]}" for t in TERMS if a[t] != b[t]]
    return f"objectives differ: {'; '.join(diffs)}" if diffs else None


def lost_terms(data: ReportData) -> list[str]:
    """Weighted terms that did not run, e.g. 'VGG19 perceptual (lambda_vgg 10) off in spade,
    concat: weight file vgg19-dcbb9e9d.pth missing'."""
    lost: dict[tuple[str, float, str], list[str]] = {}
    for v in data.variants:
        for r in _runs(data, v):
            for tid, term in r["objective"]["terms"].items():
                if not term["on"] and term["weight"] > 0 and term["reason"] != "no encoder":
                    key = (tid, term["weight"], term["reason"])
                    if v not in lost.setdefault(key, []):
                        lost[key].append(v)
    out = []
    for (tid, weight, reason), vs in lost.items():
        name, key = TERMS[tid]
        every = "every variant" if len(vs) == len(data.variants) else ", ".join(vs)
        out.append(f"{name} ({key} {weight:g} in the config) off in {every}: {reason}")
    return out


def speed_modes(data: ReportData, variant: str) -> str:
    """train.speed as the variant's runs ran it (bench.train.speed), e.g. 'amp'; seeds that
    differ joined by ' / '; 'eager (not recorded)' for runs trained before the record."""
    modes = _distinct(r.get("speed_mode") or "eager (not recorded)" for r in _runs(data, variant))
    return " / ".join(modes) or "–"


# bench.train.step's orders, as a reader of the report needs them
STEP_ORDER_TEXT = {"fresh_fake": "G, then D on a fresh fake", "d_first": "D, then G (one fake)",
                   "same_fake": "G, then D (one fake)"}


def step_orders(data: ReportData, variant: str) -> str:
    """The G/D step order the variant's runs trained with (bench.train.step); '–' for runs
    trained before it was recorded."""
    orders = _distinct(STEP_ORDER_TEXT.get(r.get("step_order"), r.get("step_order"))
                       for r in _runs(data, variant) if r.get("step_order"))
    return " / ".join(orders) or "–"


def objective_table(data: ReportData) -> Table | None:
    cells = {v: term_cells(data, v) for v in data.variants}
    if all(c is None for c in cells.values()):
        return None
    headers = ["variant"] + [TERMS[t][0] for t in TERMS] + ["step order", "speed", "fallbacks"]
    rows = []
    for v in data.variants:
        c = cells[v]
        row = [v] + ([c[t] for t in TERMS] if c else ["–"] * len(TERMS))
        rows.append(row + [step_orders(data, v), speed_modes(data, v),
                           "; ".join(fallbacks(data, v)) or "none"])
    notes = [f"**{x}**" for x in lost_terms(data)]
    if any(r.get("objective", {}).get("derived") for v in data.variants for r in _runs(data, v)):
        notes.append("Runs trained before the objective was recorded: derived from their "
                     "config.yaml (train.losses) and the VGG status in train_stats.json.")
    caption = ("The loss terms each variant's runs trained with: the weight, or off and why "
               "(the GAN column gives its loss; a weight of 0 or no encoder turns a term off). "
               "Step order: each iteration's G and D steps in the family's official order "
               "(SPADE: G, then D on a new fake from the updated G; pix2pix: D first, then G "
               "through the same fake; pix2pixHD: every loss from one fake). "
               "Speed: the train.speed mode the runs ran (eager fp32, amp bf16 autocast, fast "
               "compiled; the model and losses are the same). "
               "Fallbacks: what ran differently from the config (e.g. sync-BN as batch norm, "
               "a SPADE path run eagerly, fp16 amp ignored on the CPU).")
    return Table(headers, rows, caption, notes)
