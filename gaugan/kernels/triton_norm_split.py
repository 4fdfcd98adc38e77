"""Split (many-program) variants of the fused norm-modulate kernels.

The one-program-per-group kernels of triton_norm.py read each group twice, the
second time from L2, but they run only as many programs as there are groups: too
few for batch norm (one group per channel) or for channels_last tiles of few
channels. Here the work is split over pixel chunks instead:

    forward:  partial sums per (n, channel block, pixel chunk) -> combined in torch
              -> an elementwise apply kernel (also the "given" / eval batch-norm path)
    backward: dgamma, dbeta and partial sums of dx_hat, dx_hat * x_hat per chunk
              -> combined in torch -> an elementwise dx kernel
One more read of x (forward) and of x, gamma, dout (backward) from memory, but the
whole GPU is busy. Addressing as in triton_norm.py: (n, c, p), p = h * W + w.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _partial_stats(
    X, PS, PQ,
    C, HW, CHUNK, NUM_SPLITS, SHIFT_N,
    sxn, sxc, sxp,
    BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # PS/PQ[(n * NUM_SPLITS + split) * C + c] = sum over the chunk of (x - shift), (x - shift)^2;
    # shift = x[n * SHIFT_N, c, 0]: the group's first value (SHIFT_N 1: instance, 0: batch)
    n = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    split = tl.program_id(2)
    cmask = cs < C
    shift = tl.load(X + tl.cast(n * SHIFT_N, tl.int64) * sxn + cs * sxc, mask=cmask, other=0.0)
    shift = shift.to(tl.float32)
    xb = X + tl.cast(n, tl.int64) * sxn
    acc_s = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
    acc_q = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
    start = split * CHUNK
    for p0 in range(start, start + CHUNK, BLOCK_P):
        ps = p0 + tl.arange(0, BLOCK_P)
        m = cmask[:, None] & ((ps < HW) & (ps < start + CHUNK))[None, :]
        x = tl.load(xb + cs[:, None] * sxc + ps[None, :] * sxp, mask=m, other=0.0)
        d = tl.where(m, x.to(tl.float32) - shift[:, None], 0.0)
        acc_s += d
        acc_q += d * d
    out = (n * NUM_SPLITS + split) * C + cs
    tl.store(PS + out, tl.sum(acc_s, axis=1), mask=cmask)
    tl.store(PQ + out, tl.sum(acc_q, axis=1), mask=cmask)


@triton.jit
def _apply(
    X, GB, OUT, MEAN, RSTD,
    C, HW, STAT_STRIDE,
    sxn, sxc, sxp, sgn, sgc, sgp, son, soc, sop,
    slope,
    HAS_ACT: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # out = act((x - mean) * rstd * (1 + gamma) + beta), statistics at MEAN[n * STAT_STRIDE + c]
    n = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    ps = tl.program_id(2) * BLOCK_P + tl.arange(0, BLOCK_P)
    cmask = cs < C
    m = cmask[:, None] & (ps < HW)[None, :]
    mean = tl.load(MEAN + n * STAT_STRIDE + cs, mask=cmask, other=0.0)
    rstd = tl.load(RSTD + n * STAT_STRIDE + cs, mask=cmask, other=1.0)
    n64 = tl.cast(n, tl.int64)
    x = tl.load(X + n64 * sxn + cs[:, None] * sxc + ps[None, :] * sxp, mask=m, other=0.0)
    g_off = n64 * sgn + cs[:, None] * sgc + ps[None, :] * sgp
    g = tl.load(GB + g_off, mask=m, other=0.0).to(tl.float32)
    b = tl.load(GB + C * sgc + g_off, mask=m, other=0.0).to(tl.float32)
    y = (x.to(tl.float32) - mean[:, None]) * rstd[:, None] * (1.0 + g) + b
    if HAS_ACT:
        y = tl.where(y > 0, y, y * slope)
    tl.store(OUT + n64 * son + cs[:, None] * soc + ps[None, :] * sop, y.to(OUT.dtype.element_ty), mask=m)


@triton.jit
def _bwd_partial(
    DOUT, X, GB, MEAN, RSTD, DX, DGB, PA, PB,
    C, HW, CHUNK, NUM_SPLITS, STAT_STRIDE,
    sdn, sdc, sdp, sxn, sxc, sxp, sgn, sgc, sgp,
    slope,
    REDUCE: tl.constexpr, HAS_ACT: tl.constexpr,
    BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # Writes dgamma, dbeta; REDUCE: partial sums of dx_hat and dx_hat * x_hat into PA/PB,
    # else (fixed statistics) dx = rstd * dx_hat directly. DX / DGB have x's / gb's strides.
    n = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    split = tl.program_id(2)
    cmask = cs < C
    mean = tl.load(MEAN + n * STAT_STRIDE + cs, mask=cmask, other=0.0)
    rstd = tl.load(RSTD + n * STAT_STRIDE + cs, mask=cmask, other=1.0)
    n64 = tl.cast(n, tl.int64)
    acc1 = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
    acc2 = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
    start = split * CHUNK
    for p0 in range(start, start + CHUNK, BLOCK_P):
        ps = p0 + tl.arange(0, BLOCK_P)
        m = cmask[:, None] & ((ps < HW) & (ps < start + CHUNK))[None, :]
        x_off = n64 * sxn + cs[:, None] * sxc + ps[None, :] * sxp
        g_off = n64 * sgn + cs[:, None] * sgc + ps[None, :] * sgp
        d_off = n64 * sdn + cs[:, None] * sdc + ps[None, :] * sdp
        xh = (tl.load(X + x_off, mask=m, other=0.0).to(tl.float32) - mean[:, None]) * rstd[:, None]
        g1 = 1.0 + tl.load(GB + g_off, mask=m, other=0.0).to(tl.float32)
        dy = tl.load(DOUT + d_off, mask=m, other=0.0).to(tl.float32)
        if HAS_ACT:
            b = tl.load(GB + C * sgc + g_off, mask=m, other=0.0).to(tl.float32)
            dy = tl.where(xh * g1 + b > 0, dy, dy * slope)
        tl.store(DGB + g_off, (dy * xh).to(DGB.dtype.element_ty), mask=m)
        tl.store(DGB + C * sgc + g_off, dy.to(DGB.dtype.element_ty), mask=m)
        dxh = tl.where(m, dy * g1, 0.0)
        if REDUCE:
            acc1 += dxh
            acc2 += dxh * xh
        else:
            tl.store(DX + x_off, (dxh * rstd[:, None]).to(DX.dtype.element_ty), mask=m)
    if REDUCE:
        out = (n * NUM_SPLITS + split) * C + cs
        tl.store(PA + out, tl.sum(acc1, axis=1), mask=cmask)
        tl.store(PB + out, tl.sum(acc2, axis=1), mask=cmask)


@triton.jit
def _bwd_dx(
    DOUT, X, GB, MEAN, RSTD, M1, M2, DX,
    C, HW, STAT_STRIDE,
    sdn, sdc, sdp, sxn, sxc, sxp, sgn, sgc, sgp,
    slope,
    HAS_ACT: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # dx = rstd * (dx_hat - m1 - x_hat * m2); m1, m2 = group means of dx_hat, dx_hat * x_hat
    n = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    ps = tl.program_id(2) * BLOCK_P + tl.arange(0, BLOCK_P)
    cmask = cs < C
    m = cmask[:, None] & (ps < HW)[None, :]
    st = n * STAT_STRIDE + cs
    mean = tl.load(MEAN + st, mask=cmask, other=0.0)
    rstd = tl.load(RSTD + st, mask=cmask, other=1.0)
    m1 = tl.load(M1 + st, mask=cmask, other=0.0)
    m2 = tl.load(M2 + st, mask=cmask, other=0.0)
    n64 = tl.cast(n, tl.int64)
    x_off = n64 * sxn + cs[:, None] * sxc + ps[None, :] * sxp
    g_off = n64 * sgn + cs[:, None] * sgc + ps[None, :] * sgp
    d_off = n64 * sdn + cs[:, None] * sdc + ps[None, :] * sdp
    xh = (tl.load(X + x_off, mask=m, other=0.0).to(tl.float32) - mean[:, None]) * rstd[:, None]
    g1 = 1.0 + tl.load(GB + g_off, mask=m, other=0.0).to(tl.float32)
    dy = tl.load(DOUT + d_off, mask=m, other=0.0).to(tl.float32)
    if HAS_ACT:
        b = tl.load(GB + C * sgc + g_off, mask=m, other=0.0).to(tl.float32)
        dy = tl.where(xh * g1 + b > 0, dy, dy * slope)
    dx = (dy * g1 - m1[:, None] - xh * m2[:, None]) * rstd[:, None]
    tl.store(DX + x_off, dx.to(DX.dtype.element_ty), mask=m)
