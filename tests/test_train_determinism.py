"""Same config + seed -> bit-identical training; an interrupted run resumes exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bench.train.checkpoint import load_checkpoint
from bench.train.order import DataOrder
from bench.train.tiny import tiny_config
from bench.train.trainer import train_run


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


def assert_identical(a, b, where="state"):
    """Bitwise equality of nested dicts/lists of tensors and plain values."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), f"{where}: tensors differ"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), f"{where}: arrays differ"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


TRAINED_STATE = ("G", "D", "E", "opt_g", "opt_d", "scaler", "step", "stage")


def test_same_config_and_seed_give_bit_identical_weights(data_root, tmp_path):
    cfg = tiny_config("gaugan", data_root, steps=2)
    train_run(cfg, tmp_path / "a")
    train_run(cfg, tmp_path / "b")
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for key in TRAINED_STATE:
        assert_identical(a[key], b[key], key)
    # The comparison can fail: another seed gives other weights.
    train_run(tiny_config("gaugan", data_root, steps=1, sets={"seed": 1}), tmp_path / "c")
    c = load_checkpoint(tmp_path / "c")
    assert not torch.equal(a["G"]["conv_img.weight"], c["G"]["conv_img.weight"])


@pytest.mark.parametrize("steps", [6, pytest.param(20, marks=pytest.mark.slow)])
def test_straight_run_equals_half_plus_resume_plus_half(data_root, tmp_path, steps):
    # 6 = 3 + 3 by default (an epoch is 4 batches: the second half crosses an epoch;
    # 20 = 10 + 10 is marked slow). The VAE draws z
    # from the global RNG, flips come from the data order, batch norm keeps running
    # statistics and the lr decays from step 2: all of it must survive the resume.
    half = steps // 2
    cfg = tiny_config("gaugan_vae", data_root, steps=steps, sets={"train.decay_start": 2})
    straight = train_run(cfg, tmp_path / "straight")
    first = train_run(cfg, tmp_path / "resumed", until=half)
    assert first["steps"] == half
    assert load_checkpoint(tmp_path / "resumed")["step"] == half
    second = train_run(cfg, tmp_path / "resumed", resume=True)
    assert straight["steps"] == second["steps"] == steps and second["steps_this_run"] == half

    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    for key in TRAINED_STATE:
        assert_identical(a[key], b[key], key)
    assert_identical(a["rng"], b["rng"], "rng")
    # Logged losses are identical too, and the resumed log holds each step once.
    rows = [[json.loads(ln) for ln in (tmp_path / d / "scalars.jsonl").read_text().splitlines()]
            for d in ("straight", "resumed")]
    assert [r["step"] for r in rows[1]] == list(range(1, steps + 1))
    for r, s in zip(*rows):
        assert {k: v for k, v in r.items() if k != "images_per_s"} == \
               {k: v for k, v in s.items() if k != "images_per_s"}
    # linear decay from step 2 to 0 at the end: the last step (index steps-1) runs at 1/(steps-2)
    assert rows[0][-1]["lr_g"] == pytest.approx(1e-4 / (steps - 2))


def test_data_order_is_a_function_of_seed_and_step_and_shards_the_global_batch():
    single = DataOrder(num_examples=10, global_batch=4, seed=3)
    ranks = [DataOrder(10, 4, 3, rank=r, world_size=2) for r in range(2)]
    for k in range(7):  # crosses epochs (2 batches each, drop_last)
        whole = single.batch(k)
        assert len({i for i, _ in whole}) == 4
        shards = [o.batch(k) for o in ranks]
        assert sorted(shards[0] + shards[1]) == sorted(whole)
    epoch0 = {i for k in range(2) for i, _ in single.batch(k)}
    assert len(epoch0) == 8  # no example twice within an epoch
    resumed = iter(DataOrder(10, 4, 3, start_batch=5))
    assert next(resumed) == single.batch(5)
    assert DataOrder(10, 4, 4).batch(0) != single.batch(0) or DataOrder(10, 4, 4).batch(1) != single.batch(1)


def test_resume_takes_an_eval_change_but_refuses_a_training_change(data_root, tmp_path):
    """Training never reads the eval section, so `bench run` may re-score a half-trained run
    with a new segmenter setting: it resumes to the same weights. A training key still refuses."""
    from bench.errors import BenchError

    cfg = tiny_config("gaugan", data_root, steps=4)
    train_run(cfg, tmp_path / "straight")
    train_run(cfg, tmp_path / "resumed", until=2)
    new_eval = tiny_config("gaugan", data_root, steps=4, sets={"eval.oracle_steps": 7})
    train_run(new_eval, tmp_path / "resumed", resume=True)
    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    for key in TRAINED_STATE:
        assert_identical(a[key], b[key], key)
    train_run(cfg, tmp_path / "other", until=2)
    changed = tiny_config("gaugan", data_root, steps=4, sets={"train.lr_g": 3e-4})
    with pytest.raises(BenchError, match="train.lr_g"):
        train_run(changed, tmp_path / "other", resume=True)
