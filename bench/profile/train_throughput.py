"""G+D training throughput of GauGAN, eager vs fused SPADE (standalone loop, for the GPU check).

    python -m bench.profile.train_throughput --device cuda --out reports/kernels/H100

The GPU profile: 256x256, the 'spade' generator (ngf 64, official default sync-batch
norm = batch norm on one process, spectral norm) and the 'spade_multiscale'
discriminator from the registry, 151 label channels (ADE20K), hinge loss + feature
matching (weight 10), TTUR Adam (G 1e-4, D 4e-4, betas (0, 0.9)), bf16 autocast,
channels_last. No VGG loss (its weights may be absent). One iteration = one G step
(G fwd+bwd, D on fake and real) + one D step (G fwd without grad, D fwd+bwd), as the
official trainer. Reports images/s (timed iterations after warm-up; the first
iterations, which build kernels, are reported apart) and peak memory per backend.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def hinge_d(pred_fake, pred_real) -> torch.Tensor:
    loss = 0.0
    for f, r in zip(pred_fake, pred_real):
        loss = loss + F.relu(1 - r[-1].float()).mean() + F.relu(1 + f[-1].float()).mean()
    return loss / len(pred_fake)


def hinge_g_and_fm(pred_fake, pred_real, fm_weight: float = 10.0) -> torch.Tensor:
    gan = sum(-f[-1].float().mean() for f in pred_fake) / len(pred_fake)
    fm = 0.0
    for f, r in zip(pred_fake, pred_real):
        for a, b in zip(f[:-1], r[:-1]):
            fm = fm + F.l1_loss(a.float(), b.detach().float()) * fm_weight / len(pred_fake)
    return gan + fm


def blocky_onehot(n: int, label_nc: int, size: int, device, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, label_nc, (n, 1, size // 16, size // 16), generator=g).float()
    labels = F.interpolate(coarse, size=(size, size), mode="nearest")[:, 0].long()
    return F.one_hot(labels, label_nc).permute(0, 3, 1, 2).float().to(device)


def build(backend: str, args, device):
    from gaugan.models import DISCRIMINATORS, GENERATORS
    from gaugan.registry import BuildContext

    ctx = BuildContext(semantic_nc=args.label_nc, image_size=(args.size, args.size))
    torch.manual_seed(0)
    G = GENERATORS.build("spade", ctx, ngf=args.ngf, backend=backend)
    D = DISCRIMINATORS.build("spade_multiscale", ctx)
    G, D = (m.to(device).to(memory_format=torch.channels_last).train() for m in (G, D))
    return G, D


def run_backend(backend: str, args, device) -> dict:
    G, D = build(backend, args, device)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    seg = blocky_onehot(args.batch, args.label_nc, args.size, device)
    real = torch.rand(args.batch, 3, args.size, args.size, device=device) * 2 - 1
    seg, real = (t.contiguous(memory_format=torch.channels_last) for t in (seg, real))
    amp = dict(device_type=device.type, dtype=torch.bfloat16, enabled=args.amp)

    def step():
        with torch.autocast(**amp):
            fake = G(seg)
            loss_g = hinge_g_and_fm(D(seg, fake), D(seg, real))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        with torch.no_grad(), torch.autocast(**amp):
            fake = G(seg)
        with torch.autocast(**amp):
            loss_d = hinge_d(D(seg, fake), D(seg, real))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        return loss_g.detach(), loss_d.detach()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(args.warmup):
        losses = step()
    sync()
    warmup_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(args.iters):
        losses = step()
    sync()
    seconds = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
    if args.profile:  # where the time goes: top kernels / ops of two more iterations
        with torch.profiler.profile() as prof:
            for _ in range(2):
                step()
            sync()
        key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        table = prof.key_averages().table(sort_by=key, row_limit=30, max_name_column_width=60)
        (args.out / f"train_profile_{backend}.txt").write_text(table)
    result = {"backend": backend, "images_per_s": args.batch * args.iters / seconds,
              "ms_per_iter": 1e3 * seconds / args.iters, "peak_mem_gib": peak,
              "warmup_s": warmup_s, "loss_g": float(losses[0]), "loss_d": float(losses[1])}
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--label-nc", type=int, default=151)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--backends", default="eager,triton", help="comma-separated SPADE backends")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast")
    p.add_argument("--quick", action="store_true", help="a tiny CPU-sized run (64x64, ngf 16, 1 iter)")
    p.add_argument("--profile", action="store_true", help="also write the top kernels per backend")
    p.add_argument("--out", type=Path, default=Path("runs/profile"),
                   help="output folder (default runs/profile, ignored by git)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.size, args.batch, args.ngf, args.label_nc, args.iters, args.warmup = 64, 1, 16, 12, 1, 1
        args.amp = args.amp and args.device.startswith("cuda")  # bf16 convs crawl on CPUs
    device = torch.device(args.device)
    rows = []
    for backend in args.backends.split(","):
        try:
            rows.append(run_backend(backend, args, device))
        except Exception as e:  # report and go on to the next backend
            rows.append({"backend": backend, "error": f"{type(e).__name__}: {e}"[:300]})
        print(json.dumps(rows[-1]), flush=True)
    base = next((r for r in rows if r["backend"] == "eager" and "error" not in r), None)
    for r in rows:
        if base and "error" not in r:
            r["speedup_vs_eager"] = r["images_per_s"] / base["images_per_s"]
    info = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
            "torch": torch.__version__, "config": {k: (str(v) if isinstance(v, Path) else v)
                                                     for k, v in vars(args).items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_throughput.json").write_text(json.dumps({"meta": info, "rows": rows}, indent=1))
    lines = ["| backend | images/s | ms/iter | peak GiB | x eager | warm-up s |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['backend']} | error: {r['error']} | | | | |")
        else:
            peak = f"{r['peak_mem_gib']:.2f}" if r["peak_mem_gib"] is not None else "-"
            lines.append(f"| {r['backend']} | {r['images_per_s']:.2f} | {r['ms_per_iter']:.1f} | {peak} | "
                         f"{r.get('speedup_vs_eager', float('nan')):.2f} | {r['warmup_s']:.1f} |")
    (args.out / "train_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
