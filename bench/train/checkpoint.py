"""Checkpoints: everything a run needs to continue exactly, written atomically.

checkpoint.pt = {
    "format": 1, "step": int, "config": resolved RunConfig as a dict,
    "G", "D", "E" (or None): state_dicts,
    "opt_g", "opt_d": optimizer state_dicts, "scaler": GradScaler state_dict,
    "rng": [per-rank rng_state()], "data": DataOrder.state_dict(),
    "stage": pix2pixHD stage name (or None), "extra": anything stage-specific,
    "G_ema": the EMA generator's state_dict (OASIS; absent or None otherwise),
}
"""

from __future__ import annotations

from pathlib import Path

import torch

from bench.atomic import atomic_write
from bench.errors import BenchError

CHECKPOINT = "checkpoint.pt"
FORMAT = 1
REQUIRED = ("format", "step", "config", "G", "D", "E", "opt_g", "opt_d", "scaler", "rng", "data")


def save_checkpoint(state: dict, path: Path) -> None:
    """torch.save to a temp file in the same folder, fsync, then rename over `path`."""
    atomic_write(path, lambda f: torch.save({"format": FORMAT, **state}, f))


def save_weights_only(cfg, nets, run_dir: Path, step: int = 0) -> None:
    """A run folder holding nets' weights with empty optimizer and data state (what
    evaluation and the painter read, not enough to resume training): config.yaml and
    checkpoint.pt, e.g. untrained models for latency figures or test fixtures."""
    from bench.config import save_run_config

    save_checkpoint({"step": step, "config": cfg.to_dict(), "G": nets.G.state_dict(),
                     "D": nets.D.state_dict(),
                     "E": nets.E.state_dict() if nets.E is not None else None,
                     "opt_g": {}, "opt_d": {}, "scaler": {}, "rng": [], "data": {}},
                    Path(run_dir) / CHECKPOINT)
    save_run_config(cfg, Path(run_dir) / "config.yaml")


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu",
                    missing: str = "not a trained run folder: train the run first") -> dict:
    """Read a checkpoint written by save_checkpoint; BenchError if missing (saying
    `missing`, what the caller's user can do) or unreadable."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise BenchError(f"{path}: checkpoint not found ({missing})")
    try:
        # Our own file, holding RNG states (numpy arrays, python tuples): not weights-only.
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001  (truncated zip, pickle garbage, any file type)
        raise BenchError(f"{path}: corrupt or unreadable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED):
        missing = [k for k in REQUIRED if not isinstance(state, dict) or k not in state]
        raise BenchError(f"{path}: not a bench checkpoint (missing keys: {', '.join(missing)})")
    if state["format"] != FORMAT:
        raise BenchError(f"{path}: checkpoint format {state['format']}, this code reads {FORMAT}")
    return state


def load_generator(run_dir: Path, device: str | torch.device = "cpu"):
    """The trained generator of a run folder, for evaluation.

    Returns (G, E, cfg, info): G and E (None without an encoder) in eval mode on `device`,
    cfg the run's RunConfig, info a dict with "step" and "path".
    """
    from bench.build import build_networks
    from bench.config import validate_run_config
    from bench.data.registry import dataset_info

    run_dir = Path(run_dir)
    path = run_dir / CHECKPOINT
    state = load_checkpoint(path)
    cfg = validate_run_config(state["config"], str(path))
    if state.get("stage") == "global":
        raise BenchError(f"{path}: pix2pixHD run still in its global-generator stage "
                         f"(step {state['step']}); train past train.global_steps first")
    nets = build_networks(cfg, dataset_info(cfg.data))
    # OASIS: the EMA generator is the one that generates (official "generate" mode)
    g_state = state.get("G_ema") if state.get("G_ema") is not None else state["G"]
    nets.G.load_state_dict(g_state)
    if nets.E is not None and state["E"] is not None:
        nets.E.load_state_dict(state["E"])
    G = nets.G.to(device).eval()
    E = nets.E.to(device).eval() if nets.E is not None else None
    return G, E, cfg, {"step": state["step"], "path": str(path)}
