"""`bench paint RUN_DIR`: check everything, load the models, then serve the page.

Bad input (no such folder, no checkpoint in it, a device this machine lacks, a port in
use, the [paint] extra not installed) is a BenchError before the server starts.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
from pathlib import Path

from bench.errors import BenchError

DEFAULT_HOST = "127.0.0.1"  # local only: the page has no authentication
DEFAULT_PORT = 7860


def check_extra() -> None:
    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise BenchError(f"bench paint needs {' and '.join(missing)} (the [paint] extra): "
                         "pip install -e \".[paint]\" (scripts/setup.sh installs it)")


def check_port(host: str, port: int) -> None:
    """Refuse a port already taken, with a message instead of uvicorn's traceback."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise BenchError(f"--port {port}: cannot listen on {host}:{port} ({e.strerror}); "
                             "choose another with --port") from None


def resolve_device(device: str | None):
    import torch

    from bench.experiment.env import check_device

    check_device(device)
    name = device or "auto"
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def load_painter(run_dir: str | Path, device: str | None = None):
    """Find the runs, load each variant's lowest seed: the app's model side."""
    from bench.paint.models import Painter
    from bench.paint.runs import find_runs

    refs = find_runs(run_dir)
    return Painter(refs, resolve_device(device))


def serve(run_dir: Path, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST,
          device: str | None = None) -> None:
    check_extra()
    if not 0 < port < 65536:
        raise BenchError(f"--port {port}: valid 1..65535")
    from bench.paint.runs import find_runs

    find_runs(run_dir)  # a bad RUN_DIR fails before torch or the models load
    check_port(host, port)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    painter = load_painter(run_dir, device)

    import uvicorn

    from bench.paint.server import create_app

    app = create_app(painter, str(run_dir))
    n = sum(len(s) for s in painter.seeds.values())
    print(f"painter: {len(painter.seeds)} variant(s), {n} run(s) of {run_dir} on {painter.device}")
    print(f"painter: open http://{host}:{port}/  (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
