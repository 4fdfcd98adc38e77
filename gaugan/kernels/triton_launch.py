"""Launchers of the norm-modulate kernels: pick the kernel variant, size the grid.

Variants (triton_norm_plane.py, triton_norm.py, triton_norm_split.py):
- fused: one program per (n, channel block) owns whole instance-norm planes, used
  when there are enough planes to fill the GPU (>= MIN_FUSED_PROGRAMS programs):
  contiguous planes up to PLANE_MAX pixels sit in registers (every input read once);
  larger ones are looped over twice (the second read of x hits L2).
- split: partial statistics over pixel chunks, combined in torch, then an
  elementwise pass. Batch norm (few, large groups), eval batch norm ("given"), and
  instance norm with too few planes.
"""

from __future__ import annotations

import torch
import triton

from gaugan.kernels import triton_norm as K
from gaugan.kernels import triton_norm_plane as P
from gaugan.kernels import triton_norm_split as S

# Tuning knobs; tests change them to run every variant and loop path on tiny shapes.
MIN_FUSED_PROGRAMS: int | None = None  # None: 2 programs per SM (1 SM under the interpreter)
TARGET_PROGRAMS: int | None = None  # split grids: None = 4 programs per SM
MAX_TILE = 2048  # elements of one (BLOCK_C, BLOCK_P) tile
PLANE_MAX = {"fwd": 16384, "bwd": 8192}  # largest plane held whole in registers (pixels)


def _ncp(t: torch.Tensor) -> torch.Tensor:
    """t, or a contiguous copy when its H and W cannot be flattened into one strided p axis."""
    _, _, h, w = t.shape
    if h == 1 or w == 1 or t.stride(2) == w * t.stride(3):
        return t
    return t.contiguous()


def _strides(t: torch.Tensor) -> tuple[int, int, int]:
    """(n, c, p) strides of a tensor accepted by _ncp."""
    _, _, h, w = t.shape
    return t.stride(0), t.stride(1), (t.stride(3) if w > 1 else t.stride(2))


def _blocks(x: torch.Tensor, hw: int) -> tuple[int, int, int]:
    """(BLOCK_C, BLOCK_P, num_warps): contiguous pixels -> one channel per row;
    channels_last -> 128 bytes of channels per row, fewer pixels per tile."""
    if _strides(x)[2] == 1 or x.shape[1] == 1:
        block_c = 1
    else:  # 128-byte rows of channels
        block_c = min(max(128 // x.element_size(), 1), triton.next_power_of_2(x.shape[1]))
    block_p = min(triton.next_power_of_2(hw), max(MAX_TILE // block_c, 16))
    return block_c, block_p, (8 if block_c * block_p >= 2048 else 4)


def _sm_count(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 1


def _use_fused(mode: str, n: int, cblocks: int, device: torch.device) -> bool:
    limit = MIN_FUSED_PROGRAMS if MIN_FUSED_PROGRAMS is not None else 2 * _sm_count(device)
    return mode == "instance" and n * cblocks >= limit


def _chunks(n: int, cblocks: int, hw: int, block_p: int, device: torch.device) -> tuple[int, int]:
    """(number of pixel chunks, pixels per chunk): about 4 programs per SM in all."""
    tiles = triton.cdiv(hw, block_p)
    target = TARGET_PROGRAMS if TARGET_PROGRAMS is not None else 4 * _sm_count(device)
    splits = min(tiles, max(1, triton.cdiv(target, n * cblocks)))
    chunk = triton.cdiv(tiles, splits) * block_p
    return triton.cdiv(hw, chunk), chunk


def _sum_partials(pa, pb, x, n, splits, c, mode, count, eps, stats: bool):
    """Partial sums (N * splits * C,) x 2 -> per statistics group ((N * C,) instance, (C,)
    batch): mean and rstd (stats; x supplies the shifts) or the two means (backward)."""
    groups, rows = (n, splits) if mode == "instance" else (1, n * splits)
    out_a = torch.empty(groups * c, device=pa.device, dtype=torch.float32)
    out_b = torch.empty_like(out_a)
    block_c = min(triton.next_power_of_2(c), 1024)
    P._sum_partials[(groups, triton.cdiv(c, block_c))](
        pa, pb, x, out_a, out_b, c, rows, float(count), eps, x.stride(0), x.stride(1),
        STATS=stats, BLOCK_C=block_c)
    return out_a, out_b


def _plane(x: torch.Tensor, mode: str, which: str) -> int:
    """BLOCK_P for the whole-plane kernels, or 0 when they do not apply."""
    hw = x.shape[2] * x.shape[3]
    ok = mode == "instance" and _strides(x)[2] == 1 and hw <= PLANE_MAX[which]
    return triton.next_power_of_2(hw) if ok else 0


def _plane_warps(block_p: int) -> int:
    return max(4, min(16, block_p // 512))


def spade_norm_forward(x, gb, mean, rstd, mode: str, eps: float, slope: float):
    """x: (N, C, H, W); gb: (N, 2C, H, W); mean/rstd: fp32 (C,) for mode "given", else None.

    Returns out (promoted dtype, x's memory format), mean and rstd (fp32, (N*C,) or (C,)).
    """
    n, c, h, w = x.shape
    hw = h * w
    x, gb = _ncp(x), _ncp(gb)
    out = _ncp(torch.empty_like(x, dtype=torch.promote_types(x.dtype, gb.dtype)))
    block_c, block_p, warps = _blocks(x, hw)
    cblocks = triton.cdiv(c, block_c)
    act = dict(HAS_ACT=slope != 1.0, BLOCK_C=block_c, BLOCK_P=block_p, num_warps=warps)
    fused = _use_fused(mode, n, cblocks, x.device)
    if fused:
        mean_o = torch.empty(n * c, device=x.device, dtype=torch.float32)
        rstd_o = torch.empty_like(mean_o)
    plane = _plane(x, mode, "fwd") if fused else 0
    if plane and _strides(gb)[2] == 1 and _strides(out)[2] == 1:
        sx, sg, so = _strides(x), _strides(gb), _strides(out)
        P._plane_fwd[(n, c)](
            x, gb, out, mean_o, rstd_o, c, hw, sx[0], sx[1], sg[0], sg[1], so[0], so[1],
            eps, slope, HAS_ACT=slope != 1.0, BLOCK_P=plane, num_warps=_plane_warps(plane))
        return out, mean_o, rstd_o
    if fused:
        K._spade_norm_fwd[(n, cblocks)](
            x, gb, out, mean_o, rstd_o, c, hw, 1, c,
            *_strides(x), *_strides(gb), *_strides(out), eps, slope, COMPUTE_STATS=True, **act)
        return out, mean_o, rstd_o
    if mode == "given":
        mean_o, rstd_o = mean.float().contiguous().clone(), rstd.float().contiguous().clone()
    else:
        splits, chunk = _chunks(n, cblocks, hw, block_p, x.device)
        ps = torch.empty(n * splits * c, device=x.device, dtype=torch.float32)
        pq = torch.empty_like(ps)
        S._partial_stats[(n, cblocks, splits)](
            x, ps, pq, c, hw, chunk, splits, 1 if mode == "instance" else 0,
            *_strides(x), BLOCK_C=block_c, BLOCK_P=block_p, num_warps=warps)
        count = hw if mode == "instance" else n * hw
        mean_o, rstd_o = _sum_partials(ps, pq, x, n, splits, c, mode, count, eps, stats=True)
    S._apply[(n, cblocks, triton.cdiv(hw, block_p))](
        x, gb, out, mean_o, rstd_o, c, hw, c if mode == "instance" else 0,
        *_strides(x), *_strides(gb), *_strides(out), slope, **act)
    return out, mean_o, rstd_o


def spade_norm_backward(dout, x, gb, mean, rstd, mode: str, slope: float):
    """Gradients (dx like x, dgb like gb) of spade_norm_forward's `out`."""
    n, c, h, w = x.shape
    hw = h * w
    x, gb, dout = _ncp(x), _ncp(gb), _ncp(dout)
    dx, dgb = torch.empty_like(x), torch.empty_like(gb)
    if dx.stride() != x.stride() or dgb.stride() != gb.stride():  # odd strides: use dense ones
        x, gb = x.contiguous(), gb.contiguous()
        dx, dgb = torch.empty_like(x), torch.empty_like(gb)
    block_c, block_p, warps = _blocks(x, hw)
    cblocks = triton.cdiv(c, block_c)
    act = dict(HAS_ACT=slope != 1.0, BLOCK_C=block_c, BLOCK_P=block_p, num_warps=warps)
    strides = (*_strides(dout), *_strides(x), *_strides(gb))
    fused = _use_fused(mode, n, cblocks, x.device)
    plane = _plane(x, mode, "bwd") if fused else 0
    if plane and _strides(gb)[2] == 1 and _strides(dout)[2] == 1:
        sd, sx, sg = _strides(dout), _strides(x), _strides(gb)
        P._plane_bwd[(n, c)](
            dout, x, gb, mean, rstd, dx, dgb, c, hw, sd[0], sd[1], sx[0], sx[1], sg[0], sg[1],
            slope, HAS_ACT=slope != 1.0, BLOCK_P=plane, num_warps=_plane_warps(plane))
        return dx, dgb
    if fused:
        K._spade_norm_bwd[(n, cblocks)](
            dout, x, gb, mean, rstd, dx, dgb, c, hw, 1, c, *strides, slope, REDUCE=True, **act)
        return dx, dgb
    stat_stride = c if mode == "instance" else 0
    reduce = mode != "given"
    splits, chunk = _chunks(n, cblocks, hw, block_p, x.device)
    pa = torch.empty(n * splits * c if reduce else 1, device=x.device, dtype=torch.float32)
    pb = torch.empty_like(pa)
    S._bwd_partial[(n, cblocks, splits)](
        dout, x, gb, mean, rstd, dx, dgb, pa, pb, c, hw, chunk, splits, stat_stride,
        *strides, slope, REDUCE=reduce, **act)
    if reduce:
        count = hw if mode == "instance" else n * hw
        m1, m2 = _sum_partials(pa, pb, x, n, splits, c, mode, count, 0.0, stats=False)
        S._bwd_dx[(n, cblocks, triton.cdiv(hw, block_p))](
            dout, x, gb, mean, rstd, m1, m2, dx, c, hw, stat_stride, *strides, slope, **act)
    return dx, dgb
