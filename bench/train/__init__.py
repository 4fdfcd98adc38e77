"""Training: one trainer for every model family, resumable and deterministic, DDP-ready.

  trainer.py     train_run / train_from_config: the step loop (`bench train`)
  networks.py    G, D, E and optimizers per stage (pix2pixHD coarse-to-fine)
  objective.py   the losses of the G and D steps (gaugan.losses), VGG19 fallback
  effective.py   the effective objective a run records (each term: weight or off: why)
  order.py       deterministic, resumable, sharded data order with flips
  checkpoint.py  atomic checkpoints, load_checkpoint, load_generator (for evaluation)
  ddp.py         torchrun: process group, DDP wrapping, `python -m bench.train.ddp`
  outputs.py     scalars.jsonl / TensorBoard, sample grids, progress (bar or lines)
  rng.py, schedule.py, recipes.py, tiny.py   seeding, lr/stages, paper recipes, tiny configs
"""
