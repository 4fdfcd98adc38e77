"""`bench run`: plan an experiment, train and evaluate each (variant, seed), collect, report.

    experiment YAML --load+validate--> Experiment --resolve--> RunConfig per (variant, seed)
    --skip complete / resume interrupted / train new--> run folders
    --collect--> results.csv + env.json --report--> report.md / report.html

Everything that can be checked is checked before the first folder is written, so bad input
leaves earlier results untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.config import resolve_path, save_run_config
from bench.errors import BenchError
from bench.experiment.collect import write_results
from bench.experiment.env import check_device, environment
from bench.experiment.files import write_text_if_changed
from bench.experiment.launch import parse_launcher, run_local, run_submitit
from bench.experiment.resolve import PlannedRun, pick_profile, resolve_plan
from bench.experiment.schema import Experiment, load_experiment
from bench.experiment.state import RunState, adopt_eval_change, run_state


def check_data(plan: list[PlannedRun], exp: Experiment) -> None:
    """A real data set's folder must exist before anything starts."""
    from bench.data.registry import data_root

    seen = set()
    for pr in plan:
        data = pr.cfg.data
        if data.dataset == "synthetic" or (data.dataset, data.root) in seen:
            continue
        seen.add((data.dataset, data.root))
        try:
            root = data_root(data)
        except BenchError as e:
            raise BenchError(f"{exp.source} (variant {pr.variant}): {e}") from None
        if not root.is_dir():
            raise BenchError(f"{exp.source} (variant {pr.variant}): data.root: folder {root} "
                             f"not found (dataset {data.dataset!r})")


def check_models(plan: list[PlannedRun], exp: Experiment) -> None:
    """Build every variant's networks on the meta device (no memory, no compute) and check
    G/D/E pairing, so a size or pairing error stops the plan before any run starts."""
    import torch

    from bench.build import build_networks
    from bench.data.registry import dataset_info
    from bench.train.networks import check_model_pairing

    seen = set()
    for pr in plan:
        key = (pr.variant, pr.cfg.model.model_dump_json(), pr.cfg.data.model_dump_json())
        if key in seen:
            continue
        seen.add(key)
        where = f"{exp.source} (variant {pr.variant})"
        try:
            check_model_pairing(pr.cfg)
            with torch.device("meta"):
                build_networks(pr.cfg, dataset_info(pr.cfg.data))
        except BenchError as e:
            raise BenchError(f"{where}: {e}") from None
        except ValueError as e:  # a model's own size / option check
            raise BenchError(f"{where}: model: {e}") from None


def check_eval(plan: list[PlannedRun], exp: Experiment) -> None:
    """The metric ids and the segmenter of every variant's eval section, checked before any
    run trains (evaluation, which would find them, comes after training)."""
    from bench.metrics.registry import check_metric_ids
    from bench.metrics.segmenters import check_segmenter

    for pr in plan:
        where = f"{exp.source} (variant {pr.variant})"
        check_metric_ids(pr.cfg.eval.metrics, where)
        try:
            check_segmenter(pr.cfg.eval)
        except BenchError as e:
            raise BenchError(f"{where}: {e}") from None


def oracle_lines(plan: list[PlannedRun], remote: bool = False) -> list[str]:
    """One line per oracle segmenter the plan's evaluations need: cached, or trained once
    before the first evaluation. Training it is a one-off cost the per-run estimate leaves
    out (the facades cpu oracle: 14 min with native bf16, 55 min in fp32 on an AVX2 CPU).
    Reads no data and writes nothing (a dry run prints it too). remote: the runs go to other
    hosts (submitit), whose device and cache this host cannot see."""
    from bench.data.transforms import target_size
    from bench.metrics.evaluate import resolve_device
    from bench.metrics.oracle import oracle_cache_file
    from bench.metrics.registry import needs_oracle

    lines = []
    for pr in plan:
        ev, data = pr.cfg.eval, pr.cfg.data
        if not needs_oracle(ev):
            continue
        # Every split is resized to this (H, W) (bench.data.pairs, bench.data.synthetic):
        # the size of the generated images evaluation scores, the oracle's size.
        size = target_size(data.image_size, data.aspect_ratio)
        steps = f"{ev.oracle_steps} steps, width {ev.oracle_width}, {size[0]}x{size[1]}"
        if remote:
            lines.append(f"oracle segmenter ({steps}): trained on the first node that "
                         "evaluates unless its cache has it; a one-off time not in the estimate")
            continue
        try:
            device = resolve_device(None, pr.cfg.device)
        except BenchError:
            continue  # the run itself reports it
        for k in range(ev.oracle_members):
            name = ("oracle segmenter" if ev.oracle_members == 1
                    else f"oracle segmenter member {k + 1} of {ev.oracle_members} (seed {ev.seed + k})")
            path, bf16 = oracle_cache_file(data, size, ev, device, create=False, member=k)
            if path.is_file():
                lines.append(f"{name}: cached ({path})")
            else:
                how = "bf16 autocast" if bf16 else "fp32"
                lines.append(f"{name}: not cached; trains once before the first "
                             f"evaluation ({steps}, {how} on {device.type}), a one-off time not "
                             f"in the estimate; then cached at {path}")
    return list(dict.fromkeys(lines))  # one line per oracle: the runs share it


def _fmt_time(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def print_plan(exp: Experiment, profile: str, out: Path, plan: list[PlannedRun],
               states: dict[Path, RunState], launcher: str) -> None:
    todo = [pr for pr in plan if states[pr.run_dir] is not RunState.COMPLETE]
    print(f"experiment {exp.name} ({exp.source}), profile {profile}, launcher {launcher}")
    print(f"output {out}")
    for pr in plan:
        print(f"  {pr.variant:<20} seed {pr.seed:<4} {states[pr.run_dir].value:<9} {pr.run_dir}")
    est = exp.profiles[profile].est_seconds_per_run
    trains = [pr for pr in todo if states[pr.run_dir] in (RunState.NEW, RunState.RESUME)]
    eta = f", estimated {_fmt_time(est * len(trains))}" if est is not None and trains else ""
    print(f"{len(plan)} runs: {len(plan) - len(todo)} complete, {len(todo)} to do{eta}")
    if todo:
        for line in oracle_lines(todo, remote=launcher.startswith("submitit")):
            print(line)
    if any(states[pr.run_dir] is RunState.REEVAL for pr in plan):
        print("re-eval: only the eval settings changed; training is kept and those runs are "
              "scored again (their old metrics.json kept as metrics.prev.json)")


def write_snapshot(exp: Experiment, profile: str, out: Path) -> None:
    """experiment.json: what `bench report` needs to rebuild the report from results alone."""
    snap = {"experiment": exp.model_dump(mode="json"), "profile": profile,
            "source": _shown_path(Path(exp.source)), "seeds": exp.seeds_for(profile)}
    write_text_if_changed(out / "experiment.json", json.dumps(snap, indent=2) + "\n")


def _shown_path(path: Path) -> str:
    """The YAML's path relative to the working directory when it lies below it (so a
    committed report does not carry the author's home folder), else absolute."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def lock_output(out: Path):
    """One `bench run` per output folder at a time (an advisory lock, released on exit)."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    f = open(out / ".bench.lock", "a")  # noqa: SIM115  (held until the process ends)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise BenchError(f"{out}: another `bench run` is using this folder; wait for it or "
                         "use --out") from None
    return f


def _execute(exp: Experiment, profile: str, out: Path, plan: list[PlannedRun],
             states: dict[Path, RunState], device: str | None, kind: str, arg) -> Path:
    """Train, evaluate, collect and report the runs of the plan not yet complete."""
    # Seed-major order: after each seed every variant has a run, so an experiment stopped
    # early still pairs variants on the seeds it finished.
    seeds = exp.seeds_for(profile)
    todo = sorted((pr for pr in plan if states[pr.run_dir] is not RunState.COMPLETE),
                  key=lambda pr: seeds.index(pr.seed))
    write_snapshot(exp, profile, out)
    for pr in todo:
        if states[pr.run_dir] is RunState.NEW:
            save_run_config(pr.cfg, pr.run_dir / "config.yaml")
    failed: list[PlannedRun] = []
    if todo:
        env = {**environment(device),
               "config_hashes": {f"{pr.variant}/seed{pr.seed}": pr.config_hash for pr in plan}}
        write_text_if_changed(out / "env.json", json.dumps(env, indent=2, sort_keys=True) + "\n")
        try:
            if kind == "submitit":
                failed = run_submitit(todo, exp.profiles[profile], out, device, arg)
            else:
                failed = run_local(todo, states, device, nproc=arg if kind == "torchrun" else None)
        except KeyboardInterrupt:
            print(f"\ninterrupted: checkpoints are kept; run the same command again to resume "
                  f"(output {out})")
            raise SystemExit(130) from None

    write_results(plan, exp.name, profile, out)
    from bench.report.build import build_report

    report = build_report(out)
    print(f"results: {out / 'results.csv'}\nreport: {report}")
    if failed:
        names = ", ".join(f"{pr.variant}/seed{pr.seed}" for pr in failed)
        print(f"{len(failed)} run(s) failed: {names} (see error.txt in their folders)")
        raise SystemExit(1)
    return report


def run_experiment(
    experiment: str | Path,
    profile: str | None = None,
    out: Path | None = None,
    device: str | None = None,
    sets: list[str] | None = None,
    dry_run: bool = False,
    launcher: str = "local",
) -> Path | None:
    """Returns the report path (None for a dry run)."""
    kind, arg = parse_launcher(launcher)
    check_device(device)  # before the plan is printed or any folder is written
    exp = load_experiment(resolve_path(experiment, "ablations"))
    profile = pick_profile(exp, profile)
    out = Path(out) if out is not None else Path("runs") / f"{exp.name}-{profile}"
    plan = resolve_plan(exp, profile, out, sets=sets, device=device)
    for pr in plan:  # a device named in the experiment YAML (or by --set device=...)
        check_device(pr.cfg.device, f"{exp.source} (variant {pr.variant}): device")
    check_data(plan, exp)
    check_models(plan, exp)
    check_eval(plan, exp)
    states = {pr.run_dir: run_state(pr) for pr in plan}
    print_plan(exp, profile, out, plan, states, launcher)
    if dry_run:
        return None

    lock = lock_output(out)
    try:
        states = {pr.run_dir: run_state(pr) for pr in plan}  # again, now that we hold the lock
        for pr in plan:
            if states[pr.run_dir] is RunState.REEVAL:
                states[pr.run_dir] = adopt_eval_change(pr)
        return _execute(exp, profile, out, plan, states, device, kind, arg)
    finally:
        lock.close()
