"""The harness: config, data, training, metrics, profiling, reports, CLI."""
