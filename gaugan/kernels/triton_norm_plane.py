"""Whole-plane variant of the instance-norm kernels: one program holds one (n, c) plane
of a contiguous NCHW tensor in registers, so every input is read from memory exactly
once (the looped variant in triton_norm.py reads x twice). Used for planes up to
PLANE_MAX pixels; statistics are exact two-pass (mean, then centred variance).
Also the small kernel that sums the split variant's partial sums (triton_norm_split.py).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _plane_fwd(
    X, GB, OUT, MEAN, RSTD,
    C, HW, sxn, sxc, sgn, sgc, son, soc,
    eps, slope,
    HAS_ACT: tl.constexpr, BLOCK_P: tl.constexpr,
):
    n = tl.program_id(0)
    c = tl.program_id(1)
    n64 = tl.cast(n, tl.int64)
    ps = tl.arange(0, BLOCK_P)
    m = ps < HW
    x = tl.load(X + n64 * sxn + c * sxc + ps, mask=m, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / HW
    d = tl.where(m, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / HW + eps)
    g_ptr = GB + n64 * sgn + c * sgc + ps
    g = tl.load(g_ptr, mask=m, other=0.0).to(tl.float32)
    b = tl.load(g_ptr + C * sgc, mask=m, other=0.0).to(tl.float32)
    y = d * rstd * (1.0 + g) + b
    if HAS_ACT:
        y = tl.where(y > 0, y, y * slope)
    tl.store(OUT + n64 * son + c * soc + ps, y.to(OUT.dtype.element_ty), mask=m)
    tl.store(MEAN + n * C + c, mean)
    tl.store(RSTD + n * C + c, rstd)


@triton.jit
def _plane_bwd(
    DOUT, X, GB, MEAN, RSTD, DX, DGB,
    C, HW, sdn, sdc, sxn, sxc, sgn, sgc,
    slope,
    HAS_ACT: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # DX has x's strides, DGB gb's.
    n = tl.program_id(0)
    c = tl.program_id(1)
    n64 = tl.cast(n, tl.int64)
    ps = tl.arange(0, BLOCK_P)
    m = ps < HW
    mean = tl.load(MEAN + n * C + c)
    rstd = tl.load(RSTD + n * C + c)
    x_ptr = n64 * sxn + c * sxc + ps
    g_ptr = n64 * sgn + c * sgc + ps
    xh = (tl.load(X + x_ptr, mask=m, other=0.0).to(tl.float32) - mean) * rstd
    g1 = 1.0 + tl.load(GB + g_ptr, mask=m, other=0.0).to(tl.float32)
    dy = tl.load(DOUT + n64 * sdn + c * sdc + ps, mask=m, other=0.0).to(tl.float32)
    if HAS_ACT:
        b = tl.load(GB + C * sgc + g_ptr, mask=m, other=0.0).to(tl.float32)
        dy = tl.where(xh * g1 + b > 0, dy, dy * slope)
    tl.store(DGB + g_ptr, (dy * xh).to(DGB.dtype.element_ty), mask=m)
    tl.store(DGB + C * sgc + g_ptr, dy.to(DGB.dtype.element_ty), mask=m)
    dxh = tl.where(m, dy * g1, 0.0)
    m1 = tl.sum(dxh, axis=0) / HW
    m2 = tl.sum(dxh * xh, axis=0) / HW
    tl.store(DX + x_ptr, ((dxh - m1 - xh * m2) * rstd).to(DX.dtype.element_ty), mask=m)


@triton.jit
def _sum_partials(
    PA, PB, X, OUT_A, OUT_B,
    C, ROWS, count, eps, sxn, sxc,
    STATS: tl.constexpr, BLOCK_C: tl.constexpr,
):
    # Group g sums rows [g * ROWS, (g + 1) * ROWS) of the (rows, C) partial sums.
    # STATS: (sum of x - shift, of its square) -> mean, rstd, with shift = x[g, c, 0] (the
    # first value of the group, as in _partial_stats); else -> the two means.
    g = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    cmask = cs < C
    a = tl.zeros((BLOCK_C,), dtype=tl.float32)
    b = tl.zeros((BLOCK_C,), dtype=tl.float32)
    for r in range(g * ROWS, (g + 1) * ROWS):
        a += tl.load(PA + r * C + cs, mask=cmask, other=0.0)
        b += tl.load(PB + r * C + cs, mask=cmask, other=0.0)
    a = a / count
    b = b / count
    if STATS:
        shift = tl.load(X + tl.cast(g, tl.int64) * sxn + cs * sxc, mask=cmask, other=0.0).to(tl.float32)
        var = tl.maximum(b - a * a, 0.0)
        tl.store(OUT_A + g * C + cs, shift + a, mask=cmask)
        tl.store(OUT_B + g * C + cs, 1.0 / tl.sqrt(var + eps), mask=cmask)
    else:
        tl.store(OUT_A + g * C + cs, a, mask=cmask)
        tl.store(OUT_B + g * C + cs, b, mask=cmask)
