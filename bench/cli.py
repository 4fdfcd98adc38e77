"""The `bench` command line. Each command is a thin shell over one module's entry function.

Bad input raises BenchError deep inside; here it becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import typer

from bench.errors import BenchError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Benchmark and ablate semantic image synthesis models (GauGAN/SPADE and baselines).",
)
data_app = typer.Typer(no_args_is_help=True, help="Make the synthetic data set, check a data folder.")
weights_app = typer.Typer(no_args_is_help=True, help="Pretrained weight files: status and import.")
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


@app.command()
@user_errors
def run(
    experiment: str = typer.Argument(..., help="Experiment YAML (as given, then under experiments/)."),
    profile: Optional[str] = typer.Option(None, help="Profile name (default: gpu with CUDA, else cpu)."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: runs/<experiment>-<profile>)."),
    device: Optional[str] = typer.Option(None, help="cpu, cuda, cuda:N (default: auto)."),
    set_: list[str] = SetOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and exit."),
    launcher: str = typer.Option("local", help="local | torchrun | submitit"),
):
    """Train and evaluate every variant and seed of an experiment, then write the report."""
    from bench.experiment.runner import run_experiment

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
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's checkpoint."),
    device: Optional[str] = typer.Option(None),
    set_: list[str] = SetOpt,
):
    """Train one run config."""
    from bench.train.trainer import train_from_config

    train_from_config(config, steps=steps, out=out, resume=resume, device=device, sets=set_)


@app.command("eval")
@user_errors
def eval_(
    run_dir: Path = typer.Argument(..., help="A run folder with checkpoint.pt and config.yaml."),
    device: Optional[str] = typer.Option(None),
):
    """Generate validation images and compute metrics.json."""
    from bench.metrics.evaluate import evaluate_run

    evaluate_run(run_dir, device=device)


@app.command()
@user_errors
def inspect(
    target: str = typer.Argument(..., help="An experiment or run config YAML."),
    json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
    flops: bool = typer.Option(True, help="Count FLOPs per image (one forward pass)."),
):
    """Parameters of G, D, E and FLOPs per image for each variant, without training."""
    from bench.inspect import inspect_target

    inspect_target(target, as_json=json_, count_flops=flops)


@profile_app.command("spade")
@user_errors
def profile_spade(
    device: Optional[str] = typer.Option(None),
    dtype: str = typer.Option("float32", help="float32 | float16 | bfloat16"),
    json_: bool = typer.Option(False, "--json"),
    quick: bool = typer.Option(False, help="A small sweep (seconds, for CI and CPUs)."),
    out: Path = typer.Option(Path("reports/kernels"), help="Where CSV/JSON/plot go."),
):
    """SPADE throughput: eager vs torch.compile vs Triton, with bandwidth and roofline."""
    from bench.profile.spade import profile_spade as _profile

    result = _profile(device=device, dtype=dtype, as_json=json_, quick=quick, out=out)
    failed = [r for r in result["rows"] if r["error"]]
    if failed:  # results are written, but a sweep with failing cases is not a success
        typer.echo(f"error: {len(failed)} of {len(result['rows'])} cases failed "
                   f"(first: {failed[0]['error']})", err=True)
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

    write_synthetic(out, n=n, size=size, seed=seed)


@data_app.command("check")
@user_errors
def data_check(
    path: Path = typer.Argument(...),
    dataset: Optional[str] = typer.Option(None, help="Layout (default: detect)."),
):
    """Validate a data folder: counts, classes present, problems."""
    from bench.data.check import check_folder

    check_folder(path, dataset=dataset)


@weights_app.command("status")
@user_errors
def weights_status():
    """Which pretrained weight files are present, and where they go."""
    from bench.metrics.weights import print_status

    print_status()


@weights_app.command("import")
@user_errors
def weights_import(file: Path = typer.Argument(...)):
    """Verify a weight file's checksum and copy it into place."""
    from bench.metrics.weights import import_weight

    import_weight(file)


def main() -> None:  # pragma: no cover
    sys.exit(app())
