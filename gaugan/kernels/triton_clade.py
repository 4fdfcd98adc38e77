"""Triton kernels: param-free norm statistics + CLADE class-table modulation + LeakyReLU.

    out = act((x - mean) * rstd * W[label, c] + B[label, c])

gamma and beta are read from the (K, C) class tables W and B by each pixel's label id,
so the (N, 2C, H, W) gamma/beta maps of SPADE's fused path never exist. One program
per (statistics group, channel); x, out, dout, dx contiguous NCHW, labels (N, H*W).
Statistics groups as the SPADE kernels (triton_norm.py): "instance" (grid N x C,
STAT_STRIDE C), "batch" (grid 1 x C over all N), "given" (running statistics, grid N x C).

Backward (x_hat = (x - mean) * rstd, dy = dout * act'(y), dx_hat = dy * W[label]):
    dW[k, c] += sum over pixels of class k of dy * x_hat,  dB[k, c] += sum of dy
(atomic adds into fp32 tables: the per-class accumulation), and
    dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))   (reduced groups)
    dx = rstd * dx_hat                                                    ("given")
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _clade_fwd(
    X, LAB, W, B, OUT, MEAN, RSTD,
    C, HW, NUM_N, STAT_STRIDE, eps, slope,
    COMPUTE_STATS: tl.constexpr, HAS_ACT: tl.constexpr, BLOCK_P: tl.constexpr,
):
    pid_g = tl.program_id(0)
    c = tl.program_id(1)
    n0 = pid_g * NUM_N
    stat = pid_g * STAT_STRIDE + c
    if COMPUTE_STATS:
        shift = tl.load(X + (tl.cast(n0, tl.int64) * C + c) * HW).to(tl.float32)
        acc_s = tl.zeros((BLOCK_P,), dtype=tl.float32)
        acc_q = tl.zeros((BLOCK_P,), dtype=tl.float32)
        for n in range(n0, n0 + NUM_N):
            xb = X + (tl.cast(n, tl.int64) * C + c) * HW
            for p0 in range(0, HW, BLOCK_P):
                ps = p0 + tl.arange(0, BLOCK_P)
                m = ps < HW
                d = tl.where(m, tl.load(xb + ps, mask=m, other=0.0).to(tl.float32) - shift, 0.0)
                acc_s += d
                acc_q += d * d
        cnt = NUM_N * HW * 1.0
        mean_d = tl.sum(acc_s, axis=0) / cnt
        var = tl.maximum(tl.sum(acc_q, axis=0) / cnt - mean_d * mean_d, 0.0)
        mean = shift + mean_d
        rstd = 1.0 / tl.sqrt(var + eps)
        tl.store(MEAN + stat, mean)
        tl.store(RSTD + stat, rstd)
    else:
        mean = tl.load(MEAN + stat)
        rstd = tl.load(RSTD + stat)
    for n in range(n0, n0 + NUM_N):
        off = (tl.cast(n, tl.int64) * C + c) * HW
        lb = LAB + tl.cast(n, tl.int64) * HW
        for p0 in range(0, HW, BLOCK_P):
            ps = p0 + tl.arange(0, BLOCK_P)
            m = ps < HW
            x = tl.load(X + off + ps, mask=m, other=0.0).to(tl.float32)
            lab = tl.load(lb + ps, mask=m, other=0)
            g = tl.load(W + lab * C + c, mask=m, other=0.0).to(tl.float32)
            b = tl.load(B + lab * C + c, mask=m, other=0.0).to(tl.float32)
            y = (x - mean) * rstd * g + b
            if HAS_ACT:
                y = tl.where(y > 0, y, y * slope)
            tl.store(OUT + off + ps, y.to(OUT.dtype.element_ty), mask=m)


@triton.jit
def _clade_bwd(
    DOUT, X, LAB, W, B, MEAN, RSTD, DX, DW, DB,
    C, HW, NUM_N, STAT_STRIDE, slope,
    REDUCE: tl.constexpr, HAS_ACT: tl.constexpr, BLOCK_P: tl.constexpr,
):
    pid_g = tl.program_id(0)
    c = tl.program_id(1)
    n0 = pid_g * NUM_N
    stat = pid_g * STAT_STRIDE + c
    mean = tl.load(MEAN + stat)
    rstd = tl.load(RSTD + stat)
    acc1 = tl.zeros((BLOCK_P,), dtype=tl.float32)  # sum dx_hat
    acc2 = tl.zeros((BLOCK_P,), dtype=tl.float32)  # sum dx_hat * x_hat
    for n in range(n0, n0 + NUM_N):
        off = (tl.cast(n, tl.int64) * C + c) * HW
        lb = LAB + tl.cast(n, tl.int64) * HW
        for p0 in range(0, HW, BLOCK_P):
            ps = p0 + tl.arange(0, BLOCK_P)
            m = ps < HW
            xh = (tl.load(X + off + ps, mask=m, other=0.0).to(tl.float32) - mean) * rstd
            lab = tl.load(lb + ps, mask=m, other=0)
            g = tl.load(W + lab * C + c, mask=m, other=0.0).to(tl.float32)
            dy = tl.load(DOUT + off + ps, mask=m, other=0.0).to(tl.float32)
            if HAS_ACT:
                b = tl.load(B + lab * C + c, mask=m, other=0.0).to(tl.float32)
                dy = tl.where(xh * g + b > 0, dy, dy * slope)
            tl.atomic_add(DW + lab * C + c, dy * xh, mask=m)
            tl.atomic_add(DB + lab * C + c, dy, mask=m)
            dxh = tl.where(m, dy * g, 0.0)
            if REDUCE:
                acc1 += dxh
                acc2 += dxh * xh
            else:
                tl.store(DX + off + ps, (dxh * rstd).to(DX.dtype.element_ty), mask=m)
    if REDUCE:
        cnt = NUM_N * HW * 1.0
        m1 = tl.sum(acc1, axis=0) / cnt
        m2 = tl.sum(acc2, axis=0) / cnt
        for n in range(n0, n0 + NUM_N):
            off = (tl.cast(n, tl.int64) * C + c) * HW
            lb = LAB + tl.cast(n, tl.int64) * HW
            for p0 in range(0, HW, BLOCK_P):
                ps = p0 + tl.arange(0, BLOCK_P)
                m = ps < HW
                xh = (tl.load(X + off + ps, mask=m, other=0.0).to(tl.float32) - mean) * rstd
                lab = tl.load(lb + ps, mask=m, other=0)
                g = tl.load(W + lab * C + c, mask=m, other=0.0).to(tl.float32)
                dy = tl.load(DOUT + off + ps, mask=m, other=0.0).to(tl.float32)
                if HAS_ACT:
                    b = tl.load(B + lab * C + c, mask=m, other=0.0).to(tl.float32)
                    dy = tl.where(xh * g + b > 0, dy, dy * slope)
                dx = (dy * g - m1 - xh * m2) * rstd
                tl.store(DX + off + ps, dx.to(DX.dtype.element_ty), mask=m)


MAX_BLOCK_P = 1024


def _grid(mode: str, n: int, c: int) -> tuple[tuple[int, int], int, int]:
    """((groups, C), NUM_N, STAT_STRIDE) of a statistics mode."""
    if mode == "batch":
        return (1, c), n, 0
    return (n, c), 1, (c if mode == "instance" else 0)


def clade_forward(x, labels, weight, bias, mean, rstd, mode: str, eps: float, slope: float):
    """x: (N, C, H, W); labels: (N, H, W) int; weight, bias: (K, C); mean/rstd: fp32 (C,)
    for "given". Returns out (x's dtype promoted with the tables'), mean, rstd (fp32)."""
    import torch

    n, c, h, w = x.shape
    hw = h * w
    x = x.contiguous()
    lab = labels.reshape(n, hw).to(torch.int32).contiguous()
    weight, bias = weight.contiguous(), bias.contiguous()
    out = torch.empty_like(x, dtype=torch.promote_types(x.dtype, weight.dtype))
    grid, num_n, stat_stride = _grid(mode, n, c)
    size = n * c if mode == "instance" else c
    if mode == "given":
        mean_o, rstd_o = mean.float().contiguous().clone(), rstd.float().contiguous().clone()
    else:
        mean_o = torch.empty(size, device=x.device, dtype=torch.float32)
        rstd_o = torch.empty_like(mean_o)
    block_p = min(triton.next_power_of_2(hw), MAX_BLOCK_P)
    _clade_fwd[grid](x, lab, weight, bias, out, mean_o, rstd_o, c, hw, num_n, stat_stride,
                     eps, slope, COMPUTE_STATS=mode != "given", HAS_ACT=slope != 1.0,
                     BLOCK_P=block_p)
    return out, mean_o, rstd_o


def clade_backward(dout, x, labels, weight, bias, mean, rstd, mode: str, slope: float):
    """Gradients (dx, dweight, dbias) of clade_forward's out."""
    import torch

    n, c, h, w = x.shape
    hw = h * w
    x, dout = x.contiguous(), dout.contiguous()
    lab = labels.reshape(n, hw).to(torch.int32).contiguous()
    weight, bias = weight.contiguous(), bias.contiguous()
    dx = torch.empty_like(x)
    dw = torch.zeros(weight.shape, device=x.device, dtype=torch.float32)
    db = torch.zeros_like(dw)
    grid, num_n, stat_stride = _grid(mode, n, c)
    block_p = min(triton.next_power_of_2(hw), MAX_BLOCK_P)
    _clade_bwd[grid](dout, x, lab, weight, bias, mean, rstd, dx, dw, db, c, hw, num_n,
                     stat_stride, slope, REDUCE=mode != "given", HAS_ACT=slope != 1.0,
                     BLOCK_P=block_p)
    return dx, dw.to(weight.dtype), db.to(bias.dtype)
