#!/usr/bin/env bash
# Quick start 1/2: set up, then run the main job (SPADE vs instance norm) on the
# built-in synthetic data. Extra arguments go to `bench run` (e.g. --profile smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/bench run ablations/spade_vs_in.yaml "$@" || status=$?
echo "next: source .venv/bin/activate (then bench ...), or scripts/bench ... without activating"
exit $status
