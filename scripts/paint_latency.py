"""Per-stroke latency of the painter, end to end through its real HTTP API.

    python scripts/paint_latency.py RUN_DIR [--strokes 40] [--device cpu]
    python scripts/paint_latency.py /tmp/lat --untrained ablations/spade_vs_in.yaml \
        --profile cpu --set data.image_size=128      # no training: the timing needs none

Starts `bench paint`'s app under uvicorn on a free 127.0.0.1 port, loads validation map
0 (or a blank map), then for each stroke paints a disc into the map and sends one render
request per panel at once, as the page does; a stroke's latency is the time until every
panel's PNG has arrived. Prints JSON: median and p90 in ms over the strokes (the first
few, warm-up, left out), the model's own time per panel, threads and load average (a
busy machine makes every number larger: compare only runs made side by side).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WARMUP = 3


def write_untrained(experiment: str, profile: str, out: Path, sets: list[str]) -> None:
    """Every (variant, seed) of an experiment as a run folder with untrained weights:
    latency depends on the architecture and size only."""
    from bench.build import build_networks
    from bench.config import resolve_path
    from bench.data.registry import dataset_info
    from bench.experiment.resolve import resolve_plan
    from bench.experiment.runner import write_snapshot
    from bench.experiment.schema import load_experiment
    from bench.train.checkpoint import save_weights_only

    exp = load_experiment(resolve_path(experiment, "ablations"))
    for pr in resolve_plan(exp, profile, out, sets=sets):
        save_weights_only(pr.cfg, build_networks(pr.cfg, dataset_info(pr.cfg.data)), pr.run_dir)
    write_snapshot(exp, profile, out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: Path, device: str | None):
    import uvicorn

    from bench.paint.serve import load_painter
    from bench.paint.server import create_app

    painter = load_painter(run_dir, device)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(painter, str(run_dir)), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("paint_latency: the server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def call(url: str, body: dict | None = None) -> tuple[bytes, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read(), dict(r.headers)


def measure(base: str, strokes: int, seed: int = 0) -> dict:
    info = json.loads(call(f"{base}/api/info")[0])
    h, w = info["size"]
    if info["val_count"]:
        ids = np.frombuffer(base64.b64decode(json.loads(call(f"{base}/api/val/0")[0])["labels"]),
                            dtype=np.uint8).reshape(h, w).copy()
    else:
        ids = np.zeros((h, w), dtype=np.uint8)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    variants = [v["name"] for v in info["variants"]]
    totals, model_ms = [], {v: [] for v in variants}
    with ThreadPoolExecutor(len(variants)) as pool:
        for k in range(strokes + WARMUP):
            cy, cx, r = rng.integers(0, h), rng.integers(0, w), max(2, h // 16)
            ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = rng.integers(0, len(info["classes"]))
            labels = base64.b64encode(ids.tobytes()).decode()
            t0 = time.perf_counter()
            futures = [pool.submit(call, f"{base}/api/render", {"labels": labels, "variant": v})
                       for v in variants]
            answers = [f.result() for f in futures]
            total = (time.perf_counter() - t0) * 1000
            if k >= WARMUP:
                totals.append(total)
                for v, (_, headers) in zip(variants, answers, strict=True):
                    model_ms[v].append(float(headers.get("x-render-ms") or headers["X-Render-Ms"]))
    return {
        "median_ms": round(statistics.median(totals), 1),
        "p90_ms": round(float(np.percentile(totals, 90)), 1),
        "max_ms": round(max(totals), 1),
        "model_median_ms": {v: round(statistics.median(t), 1) for v, t in model_ms.items()},
        "panels": len(variants), "strokes": strokes, "size": [h, w], "device": info["device"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--strokes", type=int, default=40)
    ap.add_argument("--device", default=None)
    ap.add_argument("--untrained", metavar="EXPERIMENT",
                    help="first write RUN_DIR from this experiment with untrained weights")
    ap.add_argument("--profile", default="cpu", help="the experiment's profile (--untrained)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (--untrained), e.g. data.image_size=128")
    args = ap.parse_args()

    import torch

    from bench.errors import BenchError

    try:
        if args.untrained:
            write_untrained(args.untrained, args.profile, args.run_dir, args.sets)
        server, thread, base = start_server(args.run_dir, args.device)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        result = measure(base, args.strokes)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    result.update({"run_dir": str(args.run_dir), "torch_threads": torch.get_num_threads(),
                   "loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
