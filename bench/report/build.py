"""`bench report RUN_DIR`: report.md and a self-contained report.html from an experiment's
results (results.csv, experiment.json, env.json and the run folders' files).

It opens with the headline (bench.report.headline: the answer with its interval and test),
then data and budget, the objective each variant trained (bench.report.objective),
quality, the comparison with the baseline, cost (disturbed timings marked), curves,
samples and the environment.

Figures go to RUN_DIR/figures/; files whose content would not change are not rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.experiment.files import write_text_if_changed
from bench.report import curves, grid, plots
from bench.report.doc import Block, Heading, Image, Para, to_markdown
from bench.report.headline import headline
from bench.report.html import to_html
from bench.report.load import ReportData, load_report_data
from bench.report.objective import objective_table
from bench.report.tables import comparison_table, cost_table, main_table


def _overview(data: ReportData, out: Path) -> list[Block]:
    snap = json.loads((out / "experiment.json").read_text())
    desc = snap["experiment"].get("description", "").strip()
    df = data.results
    done = int((df["status"] == "complete").sum())
    seeds = ", ".join(str(s) for s in snap.get("seeds", sorted(set(df["seed"]))))
    text = (f"Profile **{data.profile}**; variants {', '.join(data.variants)}; seeds {seeds}; "
            f"baseline **{data.baseline}**. {done} of {len(df)} runs complete.")
    blocks: list[Block] = [Heading(f"{data.name} ({data.profile} profile)", 1),
                           Para(f"**{headline(data)}**")]
    if desc:
        blocks.append(Para(desc))
    blocks.append(Para(text))
    not_done = df[df["status"] != "complete"]
    if len(not_done):
        rows = ", ".join(f"{v}/seed{s}: {st}" for v, s, st in
                         zip(not_done["variant"], not_done["seed"], not_done["status"]))
        blocks.append(Para(f"Not in the tables (not complete): {rows}."))
    return blocks


def _distinct(values) -> str:
    vals = []
    for v in values:
        if v is not None and v not in vals:
            vals.append(v)
    return " / ".join(str(v) for v in vals) if vals else "unknown"


def _data_section(data: ReportData) -> list[Block]:
    """Data set, split sizes, resolution, evaluation protocol and training budget, read
    from every run's resolved config and results (so a `--set` override shows here)."""
    infos = list(data.run_info.values())
    if not infos:
        return []
    size = _distinct(f"{s[0]}x{s[1]}" if isinstance(s, list) else s
                     for s in (i["image_size"] for i in infos))
    roots = _distinct(i["root"] for i in infos if i["root"])
    text = (f"Data set **{_distinct(i['dataset'] for i in infos)}**"
            + (f" (root {roots})" if roots != "unknown" else "")
            + f": {_distinct(i['train_items'] for i in infos)} training pairs, "
            f"{_distinct(i['val_maps'] for i in infos)} validation maps scored "
            f"(split {_distinct(i['split'] for i in infos)}), at {size}.")
    protocol = _distinct(i["protocol"] for i in infos)
    if protocol != "unknown":
        text += f" Evaluation protocol: {protocol}."
    budget = []
    for v in data.variants:
        runs = [data.run_info[str(d.relative_to(data.out))] for d in data.run_dirs(v)
                if str(d.relative_to(data.out)) in data.run_info]
        done = [r for r in runs if r["epochs"] is not None]
        if done:
            r = done[0]
            e = r["epochs"]
            epochs = f"{e:.1f}" if e >= 1 else f"{e:.2f}"
            budget.append(f"{v} {r['steps']} steps of batch {r['batch']} = {epochs} epochs")
    blocks: list[Block] = [Heading("Data and budget"), Para(text)]
    if budget:
        blocks.append(Para("Training budget per run: " + "; ".join(budget) + "."))
    return blocks


def _environment(out: Path, threads: list[int] | None = None) -> list[Block]:
    path = out / "env.json"
    if not path.is_file():
        return []
    env = json.loads(path.read_text())
    dirty = " (uncommitted changes)" if env.get("git_dirty") else ""
    return [Heading("Environment"),
            Para(f"{environment_line(env, threads)}; git {str(env.get('git_commit'))[:12]}"
                 f"{dirty}. Per-run config hashes are in results.csv and env.json.")]


def environment_line(env: dict, threads: list[int] | None = None) -> str:
    """torch, the CPU (model, cores, threads) and the GPU only where one was used. Older
    env.json files (before cpu_model) say what they hold."""
    parts = [f"torch {env.get('torch')}"]
    cpu = env.get("cpu_model")
    if cpu:
        cores = env.get("cpu_cores")
        th = sorted(set(threads or [])) or ([env["torch_threads"]] if env.get("torch_threads") else [])
        parts.append(f"CPU {cpu}" + (f", {cores} cores" if cores else "")
                     + (f", torch threads {'/'.join(map(str, th))}" if th else ""))
    if env.get("gpu_used"):
        parts.append(f"GPU {env.get('device_name')} (CUDA {env.get('cuda')})")
    elif not cpu:  # an env.json from before: what it recorded
        used = env.get("cuda_available") and str(env.get("device", "auto")) != "cpu"
        parts.append(f"GPU {env.get('device_name')} (CUDA {env.get('cuda')})" if used
                     else "no GPU used")
    elif env.get("cuda_available"):
        parts.append("no GPU used")
    return ", ".join(parts)


DISCUSSION = "discussion.md"


def _discussion(out: Path) -> list[Block]:
    """RUN_DIR/discussion.md, when the person who ran the experiment wrote one: what the
    numbers support and what they do not. A reading of the tables, so it is shown as
    such and never generated; blank lines separate paragraphs."""
    path = out / DISCUSSION
    if not path.is_file():
        return []
    paras = [" ".join(p.split()) for p in path.read_text(encoding="utf-8").split("\n\n")]
    return [Heading("What the numbers support"),
            *[Para(p) for p in paras if p and not p.startswith("#")]]


def build_report(run_dir: Path) -> Path:
    out = Path(run_dir)
    data = load_report_data(out)
    fig_dir = out / "figures"
    blocks = _overview(data, out)
    blocks += _data_section(data)
    obj = objective_table(data)
    if obj is not None:
        blocks += [Heading("Objective"), obj]
    blocks += [Heading("Quality"), main_table(data)]
    bars = plots.metric_bars(data, fig_dir / "metrics.png")
    if bars:
        blocks.append(Image(bars.relative_to(out), "Metrics per variant: mean over seeds, "
                                                   "error bars the 95% CI, dots single seeds."))
    along = curves.metric_curves(data, fig_dir / "metric_curves.png")
    if along:
        blocks.append(Image(along.relative_to(out), "Each metric against training images seen "
                            "(top axis: epochs), mean over seeds with the 95% CI band; dotted: "
                            "the real photos' score."))
    blocks += [Heading(f"Comparison with the baseline ({data.baseline})"), comparison_table(data)]
    blocks += _discussion(out)
    blocks += [Heading("Cost"), cost_table(data)]
    pareto = plots.pareto_plot(data, fig_dir / "pareto.png")
    if pareto:
        blocks.append(Image(pareto.relative_to(out), "Quality against cost; red points are "
                                                     "Pareto-optimal (no variant is both cheaper "
                                                     "and better)."))
    losses_png = plots.training_curves(data, fig_dir / "curves.png")
    if losses_png:
        blocks += [Heading("Training curves"),
                   Image(losses_png.relative_to(out), "Losses and throughput logged while training, "
                                                  "mean over seeds.")]
    g = grid.image_grid(data, fig_dir / "grid.png")
    if g:
        blocks += [Heading("Samples"),
                   Image(g.relative_to(out), "Fixed validation maps: label map | each variant "
                                             "(its lowest seed) | real photo.")]
    blocks += _environment(out, [i["torch_threads"] for i in data.run_info.values()
                                 if i.get("torch_threads")])
    md = out / "report.md"
    write_text_if_changed(md, to_markdown(blocks))
    write_text_if_changed(out / "report.html", to_html(blocks, f"{data.name} report", out))
    return md
