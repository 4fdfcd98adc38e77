"""`bench report RUN_DIR`: report.md and a self-contained report.html from an experiment's
results (results.csv, experiment.json, env.json and the run folders' files).

Figures go to RUN_DIR/figures/; files whose content would not change are not rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.experiment.files import write_text_if_changed
from bench.report import grid, plots
from bench.report.doc import Block, Heading, Image, Para, to_markdown
from bench.report.html import to_html
from bench.report.load import ReportData, load_report_data
from bench.report.tables import comparison_table, cost_table, main_table


def _overview(data: ReportData, out: Path) -> list[Block]:
    snap = json.loads((out / "experiment.json").read_text())
    desc = snap["experiment"].get("description", "").strip()
    df = data.results
    done = int((df["status"] == "complete").sum())
    seeds = ", ".join(str(s) for s in snap.get("seeds", sorted(set(df["seed"]))))
    text = (f"Profile **{data.profile}**; variants {', '.join(data.variants)}; seeds {seeds}; "
            f"baseline **{data.baseline}**. {done} of {len(df)} runs complete.")
    blocks: list[Block] = [Heading(f"{data.name} ({data.profile} profile)", 1)]
    if desc:
        blocks.append(Para(desc))
    blocks.append(Para(text))
    not_done = df[df["status"] != "complete"]
    if len(not_done):
        rows = ", ".join(f"{v}/seed{s}: {st}" for v, s, st in
                         zip(not_done["variant"], not_done["seed"], not_done["status"]))
        blocks.append(Para(f"Not in the tables (not complete): {rows}."))
    return blocks


def _environment(out: Path) -> list[Block]:
    path = out / "env.json"
    if not path.is_file():
        return []
    env = json.loads(path.read_text())
    dirty = " (uncommitted changes)" if env.get("git_dirty") else ""
    return [Heading("Environment"),
            Para(f"torch {env.get('torch')}, CUDA {env.get('cuda') or 'none'}, device "
                 f"{env.get('device_name')}; git {str(env.get('git_commit'))[:12]}{dirty}. "
                 "Per-run config hashes are in results.csv and env.json.")]


def build_report(run_dir: Path) -> Path:
    out = Path(run_dir)
    data = load_report_data(out)
    fig_dir = out / "figures"
    blocks = _overview(data, out)
    blocks += [Heading("Quality"), main_table(data)]
    bars = plots.metric_bars(data, fig_dir / "metrics.png")
    if bars:
        blocks.append(Image(bars.relative_to(out), "Metrics per variant: mean over seeds, "
                                                   "error bars the 95% CI, dots single seeds."))
    blocks += [Heading(f"Comparison with the baseline ({data.baseline})"), comparison_table(data)]
    blocks += [Heading("Cost"), cost_table(data)]
    pareto = plots.pareto_plot(data, fig_dir / "pareto.png")
    if pareto:
        blocks.append(Image(pareto.relative_to(out), "Quality against cost; red points are "
                                                     "Pareto-optimal (no variant is both cheaper "
                                                     "and better)."))
    curves = plots.training_curves(data, fig_dir / "curves.png")
    if curves:
        blocks += [Heading("Training curves"),
                   Image(curves.relative_to(out), "Losses and throughput logged while training, "
                                                  "mean over seeds.")]
    g = grid.image_grid(data, fig_dir / "grid.png")
    if g:
        blocks += [Heading("Samples"),
                   Image(g.relative_to(out), "Fixed validation maps: label map | each variant "
                                             "(its lowest seed) | real photo.")]
    blocks += _environment(out)
    md = out / "report.md"
    write_text_if_changed(md, to_markdown(blocks))
    write_text_if_changed(out / "report.html", to_html(blocks, f"{data.name} report", out))
    return md
