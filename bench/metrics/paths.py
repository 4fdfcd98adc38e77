"""Where weight files and cached statistics live.

Standard weights go where the libraries themselves look (torch hub's checkpoints
folder, i.e. $TORCH_HOME/hub/checkpoints, default ~/.cache/torch/hub/checkpoints), so
a file placed there by any tool is found and one imported here serves the libraries too.
Our own caches (oracle segmenters, real-image statistics) go under $BENCH_CACHE
(default: <repo>/.cache/bench).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def hub_checkpoints_dir() -> Path:
    """torch hub's checkpoints folder, read at call time (TORCH_HOME may change)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cache_dir(*parts: str, create: bool = True) -> Path:
    """$BENCH_CACHE/parts (made unless create=False: a dry run writes nothing)."""
    root = Path(os.environ.get("BENCH_CACHE", REPO_ROOT / ".cache" / "bench")).expanduser()
    path = root.joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
