"""`bench report` from results alone: tables (CI, best in bold, reference row, n/a with the
reason, paired comparison), figures, and a self-contained HTML file."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats as sps
from typer.testing import CliRunner

from bench.cli import app
from bench.report.build import build_report

runner = CliRunner()
MIOU = {"spade": [0.40, 0.44, 0.42], "concat": [0.30, 0.35, 0.31]}
FD = {"spade": [12.0, 11.0, 13.0], "concat": [10.0, 9.5, 9.0]}


def write_results(out: Path) -> None:
    """An experiment output folder as `bench run` writes it (values chosen by the test)."""
    exp = {"name": "toy", "description": "toy", "baseline": "spade",
           "variants": [{"name": "spade"}, {"name": "concat"}],
           "report": {"metrics": None, "primary_metric": "miou", "cost": "flops_G", "grid_maps": 2}}
    out.mkdir(parents=True)
    (out / "experiment.json").write_text(json.dumps({"experiment": exp, "profile": "cpu",
                                                     "seeds": [0, 1, 2]}))
    cols = ["experiment", "profile", "variant", "seed", "status", "miou", "fid", "fd_oracle",
            "params_G", "params_D", "params_E", "flops_G", "train_images_per_s", "peak_mem_mb",
            "train_wall_s", "eval_wall_s", "wall_s", "config_hash", "run_dir"]
    rows = []
    for v in ("spade", "concat"):
        for s in range(3):
            rd = out / v / f"seed{s}"
            (rd / "eval" / "fake").mkdir(parents=True)
            (rd / "eval" / "real").mkdir(parents=True)
            for i in range(2):
                img = np.full((8, 8, 3), 40 * s + (100 if v == "spade" else 0), np.uint8)
                Image.fromarray(img).save(rd / "eval" / "fake" / f"{i:06d}.png")
                Image.fromarray(img).save(rd / "eval" / "real" / f"{i:06d}.png")
            (rd / "scalars.jsonl").write_text(
                "".join(json.dumps({"step": k, "g_gan": 1.0 / k}) + "\n" for k in (1, 2, 3)))
            metrics = {"miou": {"id": "miou", "value": MIOU[v][s], "reason": None,
                                "produced_by": "trained oracle abc", "reference": {"value": 0.81}},
                       "fid": {"id": "fid", "value": None, "produced_by": None, "reference": None,
                               "reason": "weights missing: pt_inception.pth not found in /w"},
                       "fd_oracle": {"id": "fd_oracle", "value": FD[v][s], "reason": None,
                                     "produced_by": "trained oracle abc", "reference": None}}
            (rd / "metrics.json").write_text(json.dumps({"metrics": metrics}))
            rows.append({"experiment": "toy", "profile": "cpu", "variant": v, "seed": s,
                         "status": "complete", "miou": MIOU[v][s], "fid": "",
                         "fd_oracle": FD[v][s], "params_G": 2_000_000 if v == "spade" else 1_000_000,
                         "params_D": 500, "params_E": "", "flops_G": 3e9 if v == "spade" else 1e9,
                         "train_images_per_s": 5.0 + s, "peak_mem_mb": 100, "train_wall_s": 10,
                         "eval_wall_s": 1, "wall_s": 11, "config_hash": f"{v}{s}",
                         "run_dir": f"{v}/seed{s}"})
    with (out / "results.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "toy-cpu"
    write_results(out)
    md = build_report(out)
    return out, md.read_text()


def table_row(md: str, first_cell: str) -> list[str]:
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| {first_cell} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_main_table_mean_ci_best_and_reference(report):
    _, md = report
    spade = table_row(md, "spade (baseline)")
    concat = table_row(md, "concat")
    m = np.array(MIOU["spade"])
    half = sps.t.ppf(0.975, 2) * m.std(ddof=1) / np.sqrt(3)
    assert spade[2] == f"**{m.mean():.4g} ± {half:.2g}**"  # mIoU: higher is better
    assert not concat[2].startswith("**")
    # FD: concat's mean is lower, but the paired test finds no clear difference: no bold
    assert not concat[4].startswith("**") and not spade[4].startswith("**")
    assert spade[3] == concat[3] == "n/a (weights missing)"
    assert "pt_inception.pth not found in /w" in md  # the reason is shown
    assert table_row(md, "real photos (segmenter ceiling)")[2] == "0.81"
    assert "mIoU ↑ (real photos 0.81)" in md  # the ceiling beside every mIoU
    assert "mIoU ↑" in md and "FD (oracle features) ↓" in md and "FID ↓" in md
    # oracle-feature distances are said to be comparable within the report only
    assert "FD (oracle features): distances in this oracle segmenter's own feature space" in md


def test_comparison_is_paired_over_seeds(report):
    _, md = report
    line = next(ln for ln in md.splitlines() if ln.startswith("| concat | mIoU"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    d = np.array(MIOU["concat"]) - np.array(MIOU["spade"])
    assert cells[2] == "3"
    assert cells[3] == f"{d.mean():.4g}"
    p = sps.ttest_rel(MIOU["concat"], MIOU["spade"]).pvalue
    assert cells[5] == f"{p:.3g}"
    lo, hi = sps.t.interval(0.95, 2, loc=d.mean(), scale=sps.sem(d))
    assert cells[4] == f"[{lo:.4g}, {hi:.4g}]"


def test_cost_table_and_figures(report):
    out, md = report
    row = table_row(md, "spade")
    assert row[1] == "2.000 M" and row[4] == "3.000"
    for name in ("metrics", "pareto", "curves", "grid"):
        assert (out / "figures" / f"{name}.png").is_file()
        assert f"figures/{name}.png" in md


def test_html_is_self_contained(report):
    out, _ = report
    html = (out / "report.html").read_text()
    srcs = re.findall(r"src='([^']*)'", html)
    assert len(srcs) == 4 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<b>" in html and "n/a (weights missing)" in html


def test_rebuild_changes_nothing_and_cli(report):
    out, _ = report
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_one_seed_says_no_interval(tmp_path):
    out = tmp_path / "one"
    write_results(out)
    rows = list(csv.DictReader((out / "results.csv").open()))
    with (out / "results.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["seed"] == "0")
    md = build_report(out).read_text()
    assert "(1 seed)" in md and "n/a (one seed: no test)" in md


def test_report_of_a_folder_without_results_exits_2(tmp_path):
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "results.csv: not found" in r.output


def test_verdict_only_when_the_interval_excludes_zero(report):
    _, md = report
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in md.splitlines()
             if ln.startswith("| concat | ")]
    rows = {c[1]: c[6] for c in cells if len(c) == 7}  # the comparison table's rows
    # concat's mIoU is lower on every seed (CI of Δ below 0): worse; FD lower: better
    assert rows["mIoU ↑ (real photos 0.81)"] == "worse"
    d = np.array(FD["concat"]) - np.array(FD["spade"])
    _, hi = sps.t.interval(0.95, 2, loc=d.mean(), scale=sps.sem(d))
    assert rows["FD (oracle features) ↓"] == ("better" if hi < 0 else "no clear difference")


def test_a_written_discussion_is_shown_as_such(tmp_path):
    out = tmp_path / "toy-cpu"
    write_results(out)
    assert "What the numbers support" not in build_report(out).read_text()
    (out / "discussion.md").write_text("# notes\n\nSPADE wins on\nmIoU here.\n\nNot FID.\n")
    md = build_report(out).read_text()
    section = md.split("## What the numbers support", 1)[1].split("## ", 1)[0]
    assert "SPADE wins on mIoU here." in section and "Not FID." in section
    assert "# notes" not in section


def test_each_variant_keeps_its_colour_in_every_panel(tmp_path):
    """A panel where a variant has no line (pix2pix logs no feature matching) must not
    shift the others onto its colour: one legend serves every panel."""
    from bench.report.load import load_report_data
    from bench.report.plots import variant_color

    out = tmp_path / "toy-cpu"
    write_results(out)
    data = load_report_data(out)
    colours = [variant_color(data, v) for v in data.variants]
    assert len(set(colours)) == len(colours)
    assert variant_color(data, data.variants[-1]) == colours[-1]


def test_report_without_its_run_folders_is_refused_and_left_as_it_is(tmp_path):
    """A report folder copied without its runs (a committed reports/ folder) would lose its
    data, objective and reference sections: exit 2, nothing rewritten."""
    import shutil

    out = tmp_path / "toy-cpu"
    write_results(out)
    before = build_report(out).read_text()
    shutil.rmtree(out / "concat" / "seed1")
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 2, res.output
    assert "concat/seed1" in res.output and "not here" in res.output
    assert (out / "report.md").read_text() == before
