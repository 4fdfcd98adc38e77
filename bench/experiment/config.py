"""Entry points other modules use (bench.inspect): load an experiment, resolve its variants."""

from bench.experiment.resolve import resolve_plan, resolve_variants
from bench.experiment.schema import Experiment, load_experiment

__all__ = ["Experiment", "load_experiment", "resolve_plan", "resolve_variants"]
