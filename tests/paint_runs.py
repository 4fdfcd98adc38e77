"""A tiny experiment output folder for the painter's tests, made in well under a second.

RUN_DIR/<variant>/seed<N>/{config.yaml, checkpoint.pt} as `bench run` leaves them, with
untrained tiny models (the painter only runs the generator): "spade" (label-map input,
one seed) and "vae" (style encoder, seeds 0 and 1), on 64x64 synthetic maps.

Batch norm's running statistics are set from one pass over the validation maps, as
training would leave them; untrained ones (mean 0, variance 1) let activations grow
without bound and every output pixel saturate. In eval mode batch norm is then a fixed
per-channel affine, so an output pixel depends on the labels near it only. A thin stroke
(rows 9-11, which the coarse levels' nearest-neighbour downsampling never samples) thus
changes the output within about 12 pixels of itself and nowhere else.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from bench.build import build_networks
from bench.config import validate_run_config
from bench.data.base import semantic_input
from bench.data.registry import build_dataset, dataset_info
from bench.train.checkpoint import save_weights_only

SIZE = 64
D = {"arch": "spade_multiscale", "num_D": 1, "n_layers": 2, "ndf": 4}
VARIANTS = {
    "spade": ({"generator": {"arch": "spade", "ngf": 4, "spade_hidden": 8, "norm": "batch"},
               "discriminator": D}, (0,)),
    "vae": ({"generator": {"arch": "spade", "ngf": 4, "spade_hidden": 8, "norm": "batch",
                           "use_vae": True, "z_dim": 8},
             "discriminator": D,
             "encoder": {"arch": "conv_vae", "ngf": 2, "z_dim": 8, "resize_to": 128}}, (0, 1)),
}


def calibrate_batch_norm(G: torch.nn.Module, cfg) -> None:
    """Running statistics of every batch norm = those of one batch of validation maps."""
    ds = build_dataset(cfg.data, "val")
    label = torch.stack([torch.from_numpy(ds.load(i)[1].astype(np.int64)) for i in range(len(ds))])
    for m in G.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the batches seen: here, one
    G.train()
    with torch.no_grad():
        G(semantic_input({"label": label}, ds.info))
    G.eval()


def make_paint_runs(root: Path) -> Path:
    out = root / "runs"
    for variant, (model, seeds) in VARIANTS.items():
        for seed in seeds:
            cfg = validate_run_config({
                "name": f"paint-{variant}-seed{seed}", "seed": seed, "device": "cpu",
                "data": {"dataset": "synthetic", "root": str(root / "data"), "image_size": SIZE,
                         "num_train": 2, "num_val": 3},
                "model": model,
            }, "paint test run")
            torch.manual_seed(seed)
            nets = build_networks(cfg, dataset_info(cfg.data))
            calibrate_batch_norm(nets.G, cfg)
            save_weights_only(cfg, nets, out / variant / f"seed{seed}", step=1)
    # the variant order the painter shows (bench run writes this snapshot)
    (out / "experiment.json").write_text(json.dumps(
        {"experiment": {"variants": [{"name": v} for v in VARIANTS]}}))
    return out
