"""Triton kernels: param-free norm statistics + SPADE modulation + LeakyReLU, fused.

This file holds the one-program-per-group ("fused") variant, which the launcher
(triton_launch.py) uses for instance norm with enough planes to fill the GPU; the
many-program variant for the other cases is in triton_norm_split.py.

Forward, one program per (statistics group, block of channels):
    pass 1: fp32 sum and sum of squares of x over the group (shifted by the
            group's first value, so that large means do not cancel the variance);
    pass 2: out = act((x - mean) * rstd * (1 + gamma) + beta).
Statistics groups: "instance" = one (n, c) plane (grid N x C-blocks);
"batch" = one channel over N, H, W (grid 1 x C-blocks); "given" = running
statistics passed in (eval batch norm, no reduction, grid N x C-blocks). The kernels
handle all three; the launcher uses them for instance norm only.

Backward (x_hat = (x - mean) * rstd, dy = dout * act'(y), dx_hat = dy * (1 + gamma)):
    dgamma = dy * x_hat, dbeta = dy,
    dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))   (reduced groups)
    dx = rstd * dx_hat                                                    ("given")
Pass 1 writes dgamma, dbeta and accumulates the two means; pass 2 recomputes
dx_hat (the group is still in L2) and writes dx.

Layouts: every tensor is addressed as (n, c, p) with p = h * W + w, which holds
for contiguous NCHW (pixel stride 1) and channels_last (pixel stride C) alike.
gamma and beta live in one (N, 2C, H, W) tensor `gb` (the merged conv's output):
gamma = channels [0, C), beta = channels [C, 2C).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _spade_norm_fwd(
    X, GB, OUT, MEAN, RSTD,
    C, HW, NUM_N, STAT_STRIDE,
    sxn, sxc, sxp, sgn, sgc, sgp, son, soc, sop,
    eps, slope,
    COMPUTE_STATS: tl.constexpr, HAS_ACT: tl.constexpr,
    BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    pid_g = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)  # [BLOCK_C]
    cmask = cs < C
    n0 = pid_g * NUM_N
    stat = pid_g * STAT_STRIDE + cs
    if COMPUTE_STATS:
        shift = tl.load(X + tl.cast(n0, tl.int64) * sxn + cs * sxc, mask=cmask, other=0.0).to(tl.float32)
        acc_s = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
        acc_q = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)
        for n in range(n0, n0 + NUM_N):
            xb = X + tl.cast(n, tl.int64) * sxn
            for p0 in range(0, HW, BLOCK_P):
                ps = p0 + tl.arange(0, BLOCK_P)
                m = cmask[:, None] & (ps < HW)[None, :]
                x = tl.load(xb + cs[:, None] * sxc + ps[None, :] * sxp, mask=m, other=0.0)
                d = tl.where(m, x.to(tl.float32) - shift[:, None], 0.0)
                acc_s += d
                acc_q += d * d
        cnt = NUM_N * HW * 1.0  # (ints of value 1 arrive as constexprs)
        mean_d = tl.sum(acc_s, axis=1) / cnt
        var = tl.maximum(tl.sum(acc_q, axis=1) / cnt - mean_d * mean_d, 0.0)
        mean = shift + mean_d
        rstd = 1.0 / tl.sqrt(var + eps)
        tl.store(MEAN + stat, mean, mask=cmask)
        tl.store(RSTD + stat, rstd, mask=cmask)
    else:
        mean = tl.load(MEAN + stat, mask=cmask, other=0.0)
        rstd = tl.load(RSTD + stat, mask=cmask, other=1.0)
    beta_off = C * sgc
    for n in range(n0, n0 + NUM_N):
        xb = X + tl.cast(n, tl.int64) * sxn
        gb = GB + tl.cast(n, tl.int64) * sgn
        ob = OUT + tl.cast(n, tl.int64) * son
        for p0 in range(0, HW, BLOCK_P):
            ps = p0 + tl.arange(0, BLOCK_P)
            m = cmask[:, None] & (ps < HW)[None, :]
            x = tl.load(xb + cs[:, None] * sxc + ps[None, :] * sxp, mask=m, other=0.0)
            g_off = cs[:, None] * sgc + ps[None, :] * sgp
            g = tl.load(gb + g_off, mask=m, other=0.0).to(tl.float32)
            b = tl.load(gb + beta_off + g_off, mask=m, other=0.0).to(tl.float32)
            y = (x.to(tl.float32) - mean[:, None]) * rstd[:, None] * (1.0 + g) + b
            if HAS_ACT:
                y = tl.where(y > 0, y, y * slope)
            tl.store(ob + cs[:, None] * soc + ps[None, :] * sop, y.to(OUT.dtype.element_ty), mask=m)


@triton.jit
def _spade_norm_bwd(
    DOUT, X, GB, MEAN, RSTD, DX, DGB,
    C, HW, NUM_N, STAT_STRIDE,
    sdn, sdc, sdp, sxn, sxc, sxp, sgn, sgc, sgp,
    slope,
    REDUCE: tl.constexpr, HAS_ACT: tl.constexpr,
    BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr,
):
    # DX has x's strides and DGB has gb's strides (allocated with empty_like).
    pid_g = tl.program_id(0)
    cs = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    cmask = cs < C
    n0 = pid_g * NUM_N
    stat = pid_g * STAT_STRIDE + cs
    mean = tl.load(MEAN + stat, mask=cmask, other=0.0)
    rstd = tl.load(RSTD + stat, mask=cmask, other=1.0)
    beta_off = C * sgc
    acc1 = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)  # sum dx_hat
    acc2 = tl.zeros((BLOCK_C, BLOCK_P), dtype=tl.float32)  # sum dx_hat * x_hat
    for n in range(n0, n0 + NUM_N):
        for p0 in range(0, HW, BLOCK_P):
            ps = p0 + tl.arange(0, BLOCK_P)
            m = cmask[:, None] & (ps < HW)[None, :]
            x_off = tl.cast(n, tl.int64) * sxn + cs[:, None] * sxc + ps[None, :] * sxp
            g_off = tl.cast(n, tl.int64) * sgn + cs[:, None] * sgc + ps[None, :] * sgp
            d_off = tl.cast(n, tl.int64) * sdn + cs[:, None] * sdc + ps[None, :] * sdp
            xh = (tl.load(X + x_off, mask=m, other=0.0).to(tl.float32) - mean[:, None]) * rstd[:, None]
            g1 = 1.0 + tl.load(GB + g_off, mask=m, other=0.0).to(tl.float32)
            dy = tl.load(DOUT + d_off, mask=m, other=0.0).to(tl.float32)
            if HAS_ACT:
                b = tl.load(GB + beta_off + g_off, mask=m, other=0.0).to(tl.float32)
                dy = tl.where(xh * g1 + b > 0, dy, dy * slope)
            tl.store(DGB + g_off, (dy * xh).to(DGB.dtype.element_ty), mask=m)
            tl.store(DGB + beta_off + g_off, dy.to(DGB.dtype.element_ty), mask=m)
            dxh = tl.where(m, dy * g1, 0.0)
            if REDUCE:
                acc1 += dxh
                acc2 += dxh * xh
            else:
                tl.store(DX + x_off, (dxh * rstd[:, None]).to(DX.dtype.element_ty), mask=m)
    if REDUCE:
        cnt = NUM_N * HW * 1.0  # (ints of value 1 arrive as constexprs)
        m1 = tl.sum(acc1, axis=1) / cnt
        m2 = tl.sum(acc2, axis=1) / cnt
        for n in range(n0, n0 + NUM_N):
            for p0 in range(0, HW, BLOCK_P):
                ps = p0 + tl.arange(0, BLOCK_P)
                m = cmask[:, None] & (ps < HW)[None, :]
                x_off = tl.cast(n, tl.int64) * sxn + cs[:, None] * sxc + ps[None, :] * sxp
                g_off = tl.cast(n, tl.int64) * sgn + cs[:, None] * sgc + ps[None, :] * sgp
                d_off = tl.cast(n, tl.int64) * sdn + cs[:, None] * sdc + ps[None, :] * sdp
                xh = (tl.load(X + x_off, mask=m, other=0.0).to(tl.float32) - mean[:, None]) * rstd[:, None]
                g1 = 1.0 + tl.load(GB + g_off, mask=m, other=0.0).to(tl.float32)
                dy = tl.load(DOUT + d_off, mask=m, other=0.0).to(tl.float32)
                if HAS_ACT:
                    b = tl.load(GB + beta_off + g_off, mask=m, other=0.0).to(tl.float32)
                    dy = tl.where(xh * g1 + b > 0, dy, dy * slope)
                dx = (dy * g1 - m1[:, None] - xh * m2[:, None]) * rstd[:, None]
                tl.store(DX + x_off, dx.to(DX.dtype.element_ty), mask=m)
