"""The `bench` command line. Each command is a thin shell over one module's entry function.

Bad input raises BenchError deep inside; here it becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import typer

from bench.atomic import check_output_dir
from bench.errors import BenchError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Benchmark and ablate semantic image synthesis models (GauGAN/SPADE and baselines).",
)
data_app = typer.Typer(no_args_is_help=True, help="Make the synthetic data set, check a data folder.")
weights_app = typer.Typer(no_args_is_help=True,
                          help="Pretrained weight files: status, fetch and import.")
profile_app = typer.Typer(no_args_is_help=True, help="Kernel and layer profiling.")
app.add_typer(data_app, name="data")
app.add_typer(weights_app, name="weights")
app.add_typer(profile_app, name="profile")


def user_errors(fn):
    """BenchError (and an unknown registry name) -> one message, exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from gaugan.registry import UnknownNameError

        try:
            return fn(*args, **kwargs)
        except (BenchError, UnknownNameError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None

    return wrapper


SetOpt = typer.Option([], "--set", help="Override a config key: KEY=VALUE (dotted keys).")
DEVICE_HELP = ("auto (CUDA when present, else cpu), cpu, cuda or cuda:N; a device this machine "
               "lacks exits 2 before anything is written (default: the config's device, auto).")


def _flags_without_type() -> None:
    """typer's help prints <bool> in the type column of on/off flags (--help included);
    a flag takes no value, so show nothing there."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_bench_flags", False):
        return

    def display_type_rich(self, ctx):
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich._bench_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich


try:
    _flags_without_type()
except (ImportError, AttributeError):  # another typer: its own help rendering
    pass


@app.command()
@user_errors
def run(
    experiment: str = typer.Argument(..., help="Experiment YAML (as given, then under experiments/)."),
    profile: Optional[str] = typer.Option(None, help="Profile name (default: gpu with CUDA, else cpu)."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: runs/<experiment>-<profile>)."),
    device: Optional[str] = typer.Option(None, help=DEVICE_HELP),
    set_: list[str] = SetOpt,
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Print the plan and exit (nothing is written)."),
    launcher: str = typer.Option("local", help="local | torchrun[:N] | submitit[:slurm|local|debug]"),
):
    """Train and evaluate every variant and seed of an experiment, then write the report."""
    from bench.experiment.runner import run_experiment

    check_output_dir(out)
    run_experiment(experiment, profile=profile, out=out, device=device, sets=set_,
                   dry_run=dry_run, launcher=launcher)


@app.command()
@user_errors
def report(run_dir: Path = typer.Argument(..., help="An experiment output folder.")):
    """Rebuild tables, plots and grids from results alone."""
    from bench.report.build import build_report

    path = build_report(run_dir)
    typer.echo(f"report: {path}")


@app.command()
@user_errors
def train(
    config: str = typer.Argument(..., help="Run config YAML (as given, then under experiments/presets/)."),
    steps: Optional[int] = typer.Option(None, help="Override train.steps."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default: runs/<name>)."),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue from the run folder's checkpoint."),
    device: Optional[str] = typer.Option(None, help=DEVICE_HELP),
    set_: list[str] = SetOpt,
):
    """Train one run config."""
    from bench.train.trainer import train_from_config

    check_output_dir(out)
    train_from_config(config, steps=steps, out=out, resume=resume, device=device, sets=set_)


# One string per paragraph: the help renderer keeps a docstring's line breaks.
EVAL_HELP = "\n\n".join([  # noqa: FLY002
    "Generate validation images and compute metrics.json.",
    ("Where the data comes from: the run's own data.dataset and data.root, from its resolved "
     "config (config.yaml as the trainer wrote it, the same config stored in checkpoint.pt), "
     "split \"val\" (in a pix2pixHD folder val_* if present, else test_*). Only the eval "
     "section of config.yaml is read again (change what is measured without retraining); "
     "editing its data section has no effect."),
    ("To evaluate a run on another folder of the same data set: --data-root PATH (checked "
     "before anything is written: a missing folder, or one in no layout of the data set, "
     "exits 2). The results go to RUN_DIR/eval_on/<folder name>/ (metrics.json, eval/); "
     "the run's own RUN_DIR/metrics.json, which bench run and bench report read, is left "
     "as it is. metrics.json records data_root."),
    ("A val split of label maps without photos (pix2pixHD's test_label/ + test_inst/) can "
     "be generated from but not scored: exit 2, nothing written."),
])


@app.command("eval", help=EVAL_HELP)
@user_errors
def eval_(
    run_dir: Path = typer.Argument(..., help="A run folder with checkpoint.pt and config.yaml."),
    device: Optional[str] = typer.Option(None, help=DEVICE_HELP),
    data_root: Optional[Path] = typer.Option(
        None, "--data-root", metavar="PATH",
        help="Evaluate on this folder instead of the run's data.root: the same data set "
             "(data.dataset, same classes), any of its layouts; its val split must have photos."),
):
    """Generate validation images and compute metrics.json (help: EVAL_HELP)."""
    from bench.metrics.evaluate import evaluate_run

    evaluate_run(run_dir, device=device, data_root=data_root)


@app.command()
@user_errors
def paint(
    run_dir: Path = typer.Argument(..., help="An experiment output folder (every variant and "
                                             "seed) or one run folder."),
    port: int = typer.Option(7860, help="Port to serve the page on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (default: this machine "
                                               "only; the page has no login)."),
    device: Optional[str] = typer.Option(None, help="auto (CUDA when present, else cpu), cpu, "
                                                    "cuda or cuda:N."),
):
    """The painter: a local web page where you paint a label map and every trained variant
    renders it live, side by side (needs the optional "paint" dependencies)."""
    from bench.paint.serve import serve

    serve(run_dir, port=port, host=host, device=device)


@app.command()
@user_errors
def inspect(
    target: str = typer.Argument(..., help="An experiment or run config YAML."),
    profile: Optional[str] = typer.Option(
        None, help="Experiment profile whose settings are inspected (default: as bench run, gpu "
                   "with CUDA, else cpu); the one used is printed on stderr."),
    json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
    flops: bool = typer.Option(True, "--flops/--no-flops",
                               help="Count FLOPs per image (one forward pass)."),
):
    """Parameters of G, D, E and FLOPs per image for each variant, without training."""
    from bench.inspect import inspect_target

    inspect_target(target, as_json=json_, count_flops=flops, profile=profile)


@app.command()
@user_errors
def schema(
    write: bool = typer.Option(False, "--write",
                               help="Write experiments/SCHEMA.md instead of printing."),
):
    """Every key of an experiment YAML and a run config (type, default, meaning) and every
    registered model with its options, generated from the config models."""
    from bench.reference import schema_markdown, write_schema

    if write:
        typer.echo(f"wrote {write_schema()}")
    else:
        typer.echo(schema_markdown(), nl=False)


@profile_app.command("spade")
@user_errors
def profile_spade(
    device: Optional[str] = typer.Option(
        None, help="cpu, cuda or cuda:N (default: cuda when present, else cpu)."),
    dtype: str = typer.Option("float32", help="float32 | float16 | bfloat16"),
    json_: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    quick: bool = typer.Option(False, "--quick",
                               help="A small sweep (seconds, for CI and CPUs)."),
    out: Optional[Path] = typer.Option(
        None, help="Where CSV/JSON/plot go (default: runs/profile, ignored by git; the committed "
                   "reports/kernels/ only when named here)."),
):
    """SPADE throughput: eager vs torch.compile vs Triton, with bandwidth and roofline."""
    from bench.profile.spade import profile_spade as _profile

    check_output_dir(out)
    result = _profile(device=device, dtype=dtype, as_json=json_, quick=quick, out=out)
    failed = [r for r in result["rows"] if r["error"]]
    if failed:  # results are written, but a sweep with failing cases is not a success
        typer.echo(f"error: {len(failed)} of {len(result['rows'])} cases failed "
                   f"(first: {failed[0]['error']})", err=True)
        raise typer.Exit(1)


@profile_app.command("train")
@user_errors
def profile_train(
    target: Optional[str] = typer.Argument(
        None, help="Experiment YAML (its variants at --profile) or run config; default: the "
                   "built-in GauGAN (35 and 151 labels), pix2pix and pix2pixHD cases."),
    device: Optional[str] = typer.Option(
        None, help="cpu, cuda or cuda:N (default: cuda when present, else cpu)."),
    json_: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    modes: str = typer.Option("eager,amp,auto,fast", help="Speed modes to time (fp32 eager always; auto: what train.speed auto runs here)."),
    profile: Optional[str] = typer.Option(None, help="Experiment profile (as bench run)."),
    rounds: int = typer.Option(5, min=1, help="Interleaved rounds."),
    iters: int = typer.Option(2, min=1, help="Iterations per mode per round."),
    warmup: int = typer.Option(2, min=1, help="Untimed first iterations (compile time)."),
    quick: bool = typer.Option(False, "--quick", help="One small case, 2 rounds (plumbing)."),
    cases: Optional[str] = typer.Option(None, help="Built-in cases to time (comma-separated "
                                                   "names, e.g. gaugan35-64-b4); default: all."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: runs/profile)."),
):
    """Whole G+D training steps per speed mode: images/s, x fp32 eager, peak memory."""
    from bench.profile.train_modes import profile_train as _profile

    check_output_dir(out)
    result = _profile(target, device=device, as_json=json_, out=out, modes=modes, quick=quick,
                      rounds=rounds, iters=iters, warmup=warmup, profile=profile, cases=cases)
    if result["failed"]:
        typer.echo(f"error: {len(result['failed'])} mode(s) failed (first: "
                   f"{result['failed'][0]})", err=True)
        raise typer.Exit(1)


@data_app.command("synth")
@user_errors
def data_synth(
    out: Path = typer.Option(..., help="Output folder."),
    n: int = typer.Option(2000, help="Number of pairs."),
    size: int = typer.Option(128, help="Image size (32 to 512)."),
    seed: int = typer.Option(0),
):
    """Write the procedural synthetic data set as PNG pairs."""
    from bench.data.synthetic import write_synthetic

    check_output_dir(out)
    write_synthetic(out, n=n, size=size, seed=seed)


@data_app.command("check")
@user_errors
def data_check(
    path: Path = typer.Argument(...),
    dataset: Optional[str] = typer.Option(None, help="Layout (default: detect)."),
):
    """Validate a data folder: layout (said on stderr), counts, class shares, problems."""
    from bench.data.check import check_folder

    check_folder(path, dataset=dataset)


@weights_app.command("status")
@user_errors
def weights_status():
    """Which pretrained weight files are present, where they go, and the URL of each missing one."""
    from bench.metrics.weights import print_status

    print_status()


@weights_app.command("fetch")
@user_errors
def weights_fetch(
    names: Optional[list[str]] = typer.Argument(
        None, help="Files to fetch: inception, alexnet, lpips_alex_lin, vgg19 (or their "
                   "file names)."),
    all_: bool = typer.Option(False, "--all", help="Every standard weight file."),
    mirror: Optional[str] = typer.Option(
        None, "--mirror", envvar="BENCH_WEIGHTS_MIRROR", metavar="URL",
        help="Download URL/<file name> instead of the official URL (a local mirror; tests use "
             "a server on 127.0.0.1)."),
):
    """Download standard weight files from their official URLs into the folders their
    libraries read, checking each sha256 (present files are skipped).

    Without network, download the URL that `bench weights status` shows on another
    machine and use `bench weights import FILE`.
    """
    from bench.metrics.weights import fetch_weights

    fetch_weights(names or [], all_=all_, mirror=mirror)


@weights_app.command("import")
@user_errors
def weights_import(file: Path = typer.Argument(...)):
    """Verify a weight file's checksum and copy it into place."""
    from bench.metrics.weights import import_weight

    import_weight(file)


def main() -> None:  # pragma: no cover
    sys.exit(app())
