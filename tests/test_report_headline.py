"""The report's headline (the answer with its interval and test), the objective per variant,
bold only for a clear winner, and cost figures flagged when the machine was shared."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from scipy import stats as sps
from test_report_build import MIOU, table_row, write_results

from bench.report.build import build_report

LOSSES = {"gan_mode": "hinge", "lambda_feat": 10.0, "lambda_vgg": 10.0, "lambda_kl": 0.05,
          "lambda_l1": 0.0}


def add_run_files(out, vgg: dict[str, str], rates: dict[str, list[float]], load: float = 1.0,
                  objective: bool = True, memory_kind: dict[str, str] | None = None) -> None:
    """config.yaml, train_stats.json and scalars.jsonl (images/s per log interval) per run."""
    from bench.train.effective import effective_objective

    for v in ("spade", "concat"):
        for s in range(3):
            rd = out / v / f"seed{s}"
            (rd / "config.yaml").write_text(yaml.safe_dump(
                {"data": {"dataset": "synthetic", "batch_size": 2},
                 "model": {"encoder": None}, "train": {"losses": LOSSES}}))
            stats = {"steps": 3, "global_batch": 2, "train_items": 6, "vgg_loss": vgg[v],
                     "notes": [], "load_average_start": load, "load_average_end": load,
                     "cpu_count": 2, "torch_threads": 2}
            if memory_kind:
                stats["peak_memory_kind"] = memory_kind[v]
            if objective:
                stats["objective"] = effective_objective(LOSSES, False, vgg[v])
                stats["fallbacks"] = []
                if v == "spade":  # concat: a run from before the step order was recorded
                    stats["step_order"] = "fresh_fake"
            (rd / "train_stats.json").write_text(json.dumps(stats))
            (rd / "scalars.jsonl").write_text("".join(
                json.dumps({"step": k + 1, "g_gan": 1.0, "images_per_s": r}) + "\n"
                for k, r in enumerate(rates[v])))


STEADY = [10.0, 10.2, 9.9, 10.1]
UNSTEADY = [10.0, 3.0, 11.0, 2.0, 10.5]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("head") / "toy-cpu"
    write_results(out)
    add_run_files(out, {"spade": "on", "concat": "disabled: vgg19-dcbb9e9d.pth missing in /w"},
                  {"spade": STEADY, "concat": UNSTEADY},
                  memory_kind={"spade": "cpu process peak RSS while this run trained (50 ms polls)",
                               "concat": "cpu process max RSS"})
    return out, build_report(out).read_text()


def paragraphs(md: str) -> list[str]:
    return [p for p in md.split("\n\n") if p.strip()]


def test_the_report_opens_with_the_answer(report):
    _, md = report
    head = paragraphs(md)[1]  # right after the title
    d = np.array(MIOU["spade"]) - np.array(MIOU["concat"])
    lo, hi = sps.t.interval(0.95, 2, loc=d.mean(), scale=sps.sem(d))
    p = sps.ttest_rel(MIOU["concat"], MIOU["spade"]).pvalue
    assert ("concat and spade" not in head
            and f"spade beats concat on mIoU by {d.mean():.4g} [{lo:.4g}, {hi:.4g}] "
                f"(paired t-test over 3 seeds, p = {p:.2g})" in head)
    assert "but they trained different objectives (VGG off: weight file" in head
    assert "FID not measured: weights missing." in head
    assert "Timings were taken on a shared machine" in head


def test_objective_per_variant_and_the_verdict_says_it_differs(report):
    _, md = report
    assert "## Objective" in md
    assert table_row(md, "spade")[1:6] == ["hinge", "10", "10", "off: no encoder",
                                          "off: lambda_l1 0"]
    concat = next(r for r in (ln for ln in md.splitlines() if ln.startswith("| concat | hinge")))
    assert "off: weight file vgg19-dcbb9e9d.pth missing" in concat
    headers = next(ln for ln in md.split("## Objective")[1].splitlines() if ln.startswith("| variant"))
    col = [h.strip() for h in headers.strip("|").split("|")].index("step order")
    assert table_row(md, "spade")[col] == "G, then D on a fresh fake"
    assert table_row(md, "concat")[col] == "–"  # not recorded: not guessed
    assert ("VGG19 perceptual (lambda_vgg 10 in the config) off in concat: weight file "
            "vgg19-dcbb9e9d.pth missing") in md
    verdicts = [ln for ln in md.splitlines() if ln.startswith("| concat | mIoU")]
    assert verdicts and "worse (objectives differ: VGG off: weight file" in verdicts[0]


def test_bold_only_when_the_paired_test_says_better(report):
    _, md = report
    spade, concat = table_row(md, "spade (baseline)"), table_row(md, "concat")
    assert spade[2].startswith("**")  # mIoU: higher on every seed, CI of Δ excludes 0
    assert not spade[4].startswith("**") and not concat[4].startswith("**")  # FD: no clear winner


def test_disturbed_timings_are_marked(report):
    _, md = report
    cost = [ln for ln in md.split("## Cost")[1].splitlines() if ln.startswith("| ")]
    spade = next(r for r in cost if r.startswith("| spade |"))
    concat = next(r for r in cost if r.startswith("| concat |"))
    assert "10.05 ± 0 †" not in spade and "†" not in spade  # steady: median 10.05
    assert "10.05" in spade
    assert "†" in concat and "per-interval rates spread" in md
    assert "the machine looked shared" in md


def test_one_off_work_in_the_first_run_is_not_taken_for_a_shared_machine(tmp_path):
    """Seed 0 also built the data set and trained the oracle (3x the others' wall time),
    at steady rates on a quiet machine: no dagger; the caption says why wall time spreads."""
    import csv

    out = tmp_path / "toy-cpu"
    write_results(out)
    add_run_files(out, {"spade": "on", "concat": "on"}, {"spade": STEADY, "concat": STEADY})
    rows = list(csv.DictReader((out / "results.csv").open()))
    for r in rows:
        if r["seed"] == "0":
            r["wall_s"] = "33"
    with (out / "results.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = build_report(out).read_text()
    cost = md.split("## Cost")[1]
    assert "| 18.33 ± " in cost  # the spread wall time is shown as it was
    assert "†" not in cost and "the machine looked shared" not in md
    assert "Wall time includes one-off work done by the first run" in cost


def test_a_process_high_water_mark_is_not_passed_off_as_the_runs_peak(report):
    _, md = report
    cost = [ln for ln in md.split("## Cost")[1].splitlines() if ln.startswith("| ")]
    spade = next(r for r in cost if r.startswith("| spade |"))
    concat = next(r for r in cost if r.startswith("| concat |"))
    assert "‡" in concat and "‡" not in spade  # spade recorded its own peak
    assert "high-water mark (ru_maxrss) since it started" in md


def test_a_weak_segmenter_cannot_rank_and_old_folders_work(tmp_path):
    out = tmp_path / "weak"
    write_results(out)
    missing = "disabled: vgg19-dcbb9e9d.pth missing in /w"
    add_run_files(out, {"spade": missing, "concat": missing}, {"spade": STEADY, "concat": STEADY},
                  load=5.0, objective=False)  # a folder from before the objective record
    for m in out.rglob("metrics.json"):
        m.write_text(m.read_text().replace('"reference": {"value": 0.81}',
                                           '"reference": {"value": 0.1}'))
    md = build_report(out).read_text()
    head = paragraphs(md)[1]
    assert "The segmentation scores cannot rank these variants" in head
    assert "on FD (oracle features)" in head and "mIoU by" not in head
    assert ("VGG19 perceptual (lambda_vgg 10 in the config) off in every variant: weight file "
            "vgg19-dcbb9e9d.pth missing") in head
    assert "derived from their config.yaml" in md
    assert "load average 5.0 on 2 cores" in md  # load above the cores: shared machine
    assert not table_row(md, "spade (baseline)")[2].startswith("**")  # no bold: cannot rank


def test_the_environment_names_the_cpu_and_a_gpu_only_when_used():
    from bench.report.build import environment_line

    new = {"torch": "2.14", "cuda": "13.0", "cuda_available": False, "device_name": "AMD EPYC",
           "cpu_model": "AMD EPYC", "cpu_cores": 2, "torch_threads": 2, "gpu_used": False}
    assert environment_line(new, [2]) == "torch 2.14, CPU AMD EPYC, 2 cores, torch threads 2"
    gpu = {**new, "cuda_available": True, "gpu_used": True, "device_name": "NVIDIA H100"}
    assert environment_line(gpu).endswith("GPU NVIDIA H100 (CUDA 13.0)")
    old = {"torch": "2.14", "cuda": "13.0", "cuda_available": False, "device": "auto",
           "device_name": "x86_64"}  # env.json from before: "CUDA 13.0, device x86_64"
    assert environment_line(old) == "torch 2.14, no GPU used"
