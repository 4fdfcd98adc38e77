"""The quality guard of the speed modes (bench.train.speed): a mode may change how fast the
model trains, never what it trains.

For each mode, from identical weights and inputs (bench.profile.train_modes.Runner: the
trainer's own G step + D step):
  losses     the G and D losses of the first N_STEPS steps track fp32 eager:
             |loss - loss_eager| <= LOSS_ATOL + LOSS_RTOL * |loss_eager| at every step
  gradients  one G step's gradients against fp64 eager: relative L2 error of all G
             gradients together, ||g - g64|| / ||g64||, <= GRAD_TOL[mode]

Why these bounds. fp32 eager is at ~1e-5 of fp64 (GRAD_TOL["eager"] 1e-4). bf16 keeps 8
bits of mantissa, and a GauGAN gradient reaching the first layer passes every norm's
mean-removing projection, which cancels most of it: measured 0.22-0.29 relative L2 for
amp and fast on these models (0.08 with fp16 autocast: it is rounding); a wrong objective
is far off: fp32 eager with the feature-matching weight halved is at 0.49-0.50, with it
dropped at 0.99. Losses: measured within 3.3% over 4 steps; a mode that trains another
objective is off by far more.

The compiled mode (fast) builds for minutes on 2 cores: marked slow.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

from bench.errors import BenchError
from bench.profile.train_modes import Runner
from bench.train import speed
from bench.train.tiny import tiny_config
from gaugan.kernels import backend as kb

CPU = torch.device("cpu")
N_STEPS = 4
LOSS_ATOL, LOSS_RTOL = 0.05, 0.05
GRAD_TOL = {"eager": 1e-4, "amp": 0.35, "auto": 0.35, "fast": 0.35}
# Tiny models big enough for bf16 to be well posed (a 1x1 bottom with batch norm over two
# values is ill-conditioned in any precision). No VGG: its weights may be absent.
CASES = {
    "gaugan": ("gaugan", {"data.image_size": 64, "data.batch_size": 4}),
    "pix2pix": ("pix2pix", {}),
    "pix2pixhd": ("pix2pixhd", {}),
}
SLOW_FAST = pytest.param("fast", marks=[
    pytest.mark.slow,
    pytest.mark.skipif(not kb.compile_runs_on("cpu"), reason="torch.compile cannot build here")])


def _cfg(case: str, root):
    family, sets = CASES[case]
    return tiny_config(family, root, sets={"train.losses.lambda_vgg": 0.0, **sets})


def _losses(cfg, mode: str) -> list[tuple[float, float]]:
    runner = Runner(cfg, mode, CPU)
    torch.manual_seed(1)  # the same noise (dropout, z) for every mode
    return [tuple(x.item() for x in runner.step()) for _ in range(N_STEPS)]


def _g_grads(cfg, mode: str, dtype=torch.float32) -> dict[str, torch.Tensor]:
    runner = Runner(cfg, mode, CPU)
    s, plan = runner.stage, runner.plan
    G, D = s.G, s.D
    cond, real = runner.inputs()
    if dtype is torch.float64:
        G, D = copy.deepcopy(G).double(), copy.deepcopy(D).double()
        cond, real = cond.double(), real.double()
    torch.manual_seed(1)
    D.requires_grad_(False)
    with plan.autocast():
        fake = G(cond)
        losses = runner.objective.generator(D, cond, fake, real)
    sum(losses.values()).backward()
    return {n: p.grad.detach().double() for n, p in G.named_parameters() if p.grad is not None}


def rel_l2(grads: dict, ref: dict) -> float:
    assert grads.keys() == ref.keys()
    g = torch.cat([grads[n].flatten() for n in ref])
    r = torch.cat([ref[n].flatten() for n in ref])
    return ((g - r).norm() / r.norm()).item()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("speed")  # tiny_config's data root (never read here)


@pytest.fixture(scope="module")
def eager_losses(root):
    return {case: _losses(_cfg(case, root), "eager") for case in CASES}


@pytest.mark.parametrize("mode", ["amp", "auto", SLOW_FAST])
@pytest.mark.parametrize("case", list(CASES))
def test_losses_of_the_first_steps_track_fp32_eager(case, mode, root, eager_losses):
    got, ref = _losses(_cfg(case, root), mode), eager_losses[case]
    for step, (a, b) in enumerate(zip(got, ref)):
        for name, x, y in zip(("G", "D"), a, b):
            assert abs(x - y) <= LOSS_ATOL + LOSS_RTOL * abs(y), \
                f"{case} {mode} step {step} {name} loss {x:.4f} vs eager {y:.4f}"


@pytest.mark.parametrize("mode", ["eager", "amp", "auto", SLOW_FAST])
@pytest.mark.parametrize("case", ["gaugan", "pix2pixhd"])
def test_one_g_step_gradients_agree_with_fp64_eager(case, mode, root):
    cfg = _cfg(case, root)
    err = rel_l2(_g_grads(cfg, mode), _g_grads(cfg, "eager", torch.float64))
    print(f"\n{case} {mode}: relative L2 gradient error vs fp64 eager {err:.3g}")
    assert err <= GRAD_TOL[mode], f"{case} {mode}: {err:.3g} > {GRAD_TOL[mode]}"


def test_modes_resolve_per_device_and_say_why_they_differ(monkeypatch):
    eager = speed.plan_speed("eager", CPU)
    assert (eager.mode, eager.amp_dtype, eager.channels_last, eager.compile) == (
        "eager", None, False, False)
    amp = speed.plan_speed("amp", CPU)
    assert amp.amp_dtype is torch.bfloat16 and not amp.compile and not amp.notes
    auto = speed.plan_speed("auto", CPU)
    assert auto.requested == "auto" and auto.mode in speed.MODES
    want = speed.AUTO["cpu"] if speed.native_bf16_cpu() else "eager"
    assert (auto.mode, auto.channels_last) == (want, False)
    assert speed.plan_speed("amp", CPU).channels_last is False  # amp alone stays contiguous
    assert speed.plan_speed("auto", CPU, channels_last=True).channels_last  # the override
    # lower-level overrides on top of the mode
    assert speed.plan_speed("eager", CPU, amp="bf16").amp_dtype is torch.bfloat16
    assert speed.plan_speed("eager", CPU, channels_last=True).channels_last
    fp16 = speed.plan_speed("amp", CPU, amp="fp16")
    assert fp16.amp_dtype is torch.bfloat16 and "ignored on CPU" in fp16.notes[0]
    monkeypatch.setattr(speed, "compile_runs_on", lambda dev: False)
    fast = speed.plan_speed("fast", CPU)
    assert not fast.compile and fast.channels_last and fast.amp_dtype is torch.bfloat16
    assert "torch.compile cannot build" in fast.notes[0]
    assert fast.record()["mode"] == "fast" and fast.record()["compile"] is False
    with pytest.raises(ValueError, match="valid: eager, amp, fast, auto"):
        speed.plan_speed("turbo", CPU)


def test_train_speed_is_a_checked_key(root):
    from bench.config import validate_run_config

    data = tiny_config("gaugan", root).to_dict()
    for bad in ({"speed": "turbo"}, {"sped": "amp"}):
        with pytest.raises(BenchError):
            validate_run_config({**data, "train": {**data["train"], **bad}}, "x.yaml")


def test_prepare_keeps_modules_and_state_dict_keys(root, monkeypatch):
    """fast compiles in place (nn.Module.compile): checkpoints load across modes."""
    cfg = _cfg("gaugan", root)
    keys = {k: list(getattr(Runner(cfg, "eager", CPU).stage, k).state_dict()) for k in "GD"}
    monkeypatch.setattr(speed, "compile_runs_on", lambda dev: True)
    from bench.data.registry import dataset_info
    from bench.train import ddp
    from bench.train.networks import build_stage

    plan = speed.plan_speed("fast", CPU)
    stage = build_stage(cfg, dataset_info(cfg.data), "single", CPU, ddp.Dist(), True)
    G = stage.G
    speed.prepare(stage, plan)
    speed.prepare(stage, plan)  # idempotent
    assert stage.G is G and getattr(G, "_compiled_call_impl", None) is not None
    assert len(G._forward_hooks) == 1 and len(G._forward_pre_hooks) == 1
    assert {k: list(getattr(stage, k).state_dict()) for k in "GD"} == keys
    assert all(g.get("fused") for opt in (stage.opt_g, stage.opt_d) for g in opt.param_groups)


@pytest.mark.parametrize("case", list(CASES))
def test_casting_the_condition_once_changes_no_number(case, root):
    """amp casts G's condition to bf16 once instead of in every layer that reads it: G's
    output is bit for bit what plain autocast gives (every reader is a conv, which casts
    it anyway, or an exact op)."""
    from bench.data.registry import dataset_info
    from bench.train import ddp
    from bench.train.networks import build_stage

    cfg = _cfg(case, root)
    torch.manual_seed(0)
    stage = build_stage(cfg, dataset_info(cfg.data), "single", CPU, ddp.Dist(), False)
    plain = copy.deepcopy(stage.G)
    speed.prepare(stage, speed.plan_speed("amp", CPU))
    cond, _ = Runner(cfg, "amp", CPU).inputs()
    assert cond.dtype is torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.manual_seed(1)  # the same dropout masks (pix2pix)
        want = plain(cond).float()
        torch.manual_seed(1)
        got = stage.G(cond)
    assert got.dtype is torch.float32 and torch.equal(got, want)


def test_a_run_records_its_speed_mode(root, tmp_path):
    from bench.report.load import run_info
    from bench.train.trainer import train_run

    cfg = tiny_config("gaugan", root / "data", steps=2, sets={"train.speed": "amp",
                                                               "train.losses.lambda_vgg": 0.0})
    stats = train_run(cfg, tmp_path / "run")
    recorded = json.loads((tmp_path / "run" / "train_stats.json").read_text())
    assert recorded["speed_mode"] == stats["speed_mode"] == "amp"
    assert recorded["speed"]["autocast"] == "bfloat16" and recorded["amp"] == "torch.bfloat16"
    assert run_info(tmp_path / "run")["speed_mode"] == "amp"


def test_profile_train_times_every_mode_and_fails_loudly(root, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bench.cli import app
    from bench.config import save_run_config
    from bench.profile import train_modes

    path = tmp_path / "tiny.yaml"
    save_run_config(_cfg("gaugan", root), path)
    out = tmp_path / "prof"
    args = ["profile", "train", str(path), "--device", "cpu", "--modes", "eager,amp",
            "--rounds", "2", "--iters", "1", "--warmup", "1", "--out", str(out), "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "train_modes.json").read_text())["rows"]
    assert [r["mode"] for r in rows] == ["eager", "amp"]
    assert rows[0]["x_eager"] == 1.0 and rows[1]["images_per_s"] > 0
    assert all(r["peak_mb"] is not None and r["speed"]["mode"] == r["mode"] for r in rows)

    def broken(self):
        if self.plan.mode == "amp":
            raise RuntimeError("boom")
        return original(self)

    original = train_modes.Runner.step
    monkeypatch.setattr(train_modes.Runner, "step", broken)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "boom" in res.output


@pytest.mark.parametrize("backend", ["eager", "compile"])
def test_whole_g_and_d_trace_as_one_graph_each(backend, root):
    """fast compiles G and D whole: no graph break (a break is a host round trip and a
    split graph), also with the fused SPADE path (its torch ops are traced in)."""
    cfg = tiny_config("gaugan", root, sets={"train.losses.lambda_vgg": 0.0, "data.image_size": 64,
                                            "data.batch_size": 4, "model.generator.backend": backend})
    r = Runner(cfg, "eager", CPU)
    cond, real = r.inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for net, args in ((r.stage.G, (cond,)), (r.stage.D, (cond, real))):
            explained = torch._dynamo.explain(net)(*args)
            assert explained.graph_break_count == 0, explained.break_reasons[:2]


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_eager_and_asked_amp_warns_without_native_bf16(monkeypatch, caplog, native):
    """Emulated bf16 (a CPU without AVX512-BF16/AMX) is slower than fp32: auto runs eager
    there, and amp asked by name runs as asked with a warning that says so."""
    from types import SimpleNamespace

    monkeypatch.setattr(speed, "native_bf16_cpu", lambda: native)
    auto = speed.plan_speed("auto", CPU)
    assert auto.mode == ("amp" if native else "eager")
    assert any("no native bf16" in n for n in auto.notes) is (not native)
    with caplog.at_level("WARNING", logger="bench.train"):
        plan = speed.plan_of(SimpleNamespace(speed="amp", amp="none", channels_last=False), CPU)
    assert plan.amp_dtype is torch.bfloat16
    assert ("emulated" in caplog.text) is (not native)
