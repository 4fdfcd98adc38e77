#!/usr/bin/env bash
# Create .venv and install the project with its test tools. Idempotent: a second run
# only checks a stamp (seconds), unless pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.bench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first and on its own: the ranges in pyproject.toml admit torch 2.11..2.14.1.
    .venv/bin/python -m pip install -q "torch>=2.11,<2.15" "torchvision>=0.26,<0.30"
    .venv/bin/python -m pip install -q -e ".[dev,cluster,paint]"
    touch "$stamp"
fi
