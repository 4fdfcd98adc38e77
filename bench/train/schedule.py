"""Learning-rate schedule and the pix2pixHD coarse-to-fine stages, as functions of the step."""

from __future__ import annotations


def lr_factor(step: int, total: int, decay_start: int | None) -> float:
    """1 before decay_start, then linear to 0 at `total` (official: niter, then niter_decay)."""
    if decay_start is None or step < decay_start or total <= decay_start:
        return 1.0
    return max(0.0, (total - step) / (total - decay_start))


def set_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


# pix2pixHD (Wang et al. 2018, Sec. 3.2): the global generator G1 is trained alone at half
# resolution, then the local enhancer G2 is trained with G1 fixed, then both jointly.
GLOBAL, FIXED, JOINT, SINGLE = "global", "fixed_global", "joint", "single"


def stage_at(step: int, coarse_to_fine: bool, global_steps: int, fix_global_steps: int) -> str:
    if not coarse_to_fine:
        return SINGLE
    if step < global_steps:
        return GLOBAL
    if step < global_steps + fix_global_steps:
        return FIXED
    return JOINT
