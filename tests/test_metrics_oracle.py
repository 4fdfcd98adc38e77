"""The oracle segmenter (cache by fingerprint, class balancing) and the pretrained adapter."""

from __future__ import annotations

import os

import pytest
import torch

from bench.config import validate_run_config
from bench.data.base import DatasetInfo
from bench.data.config import DataConfig
from bench.metrics import oracle
from bench.metrics.segmenters import build_segmenter
from bench.metrics.weights import WeightsMissing


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))


def run_cfg(tmp_path, **eval_):
    return validate_run_config({
        "data": {"dataset": "synthetic", "root": str(tmp_path / "data"), "image_size": 32,
                 "num_train": 8, "num_val": 4},
        "eval": {"oracle_steps": 2, "oracle_width": 4, "oracle_batch_size": 4, **eval_},
    }, "test")


def test_trained_once_then_shared(tmp_path, monkeypatch):
    from bench.data.registry import dataset_info

    cfg = run_cfg(tmp_path)
    info = dataset_info(cfg.data)
    net, path, meta = oracle.load_or_train_oracle(cfg.data, info, (32, 32), cfg.eval, torch.device("cpu"))
    assert path.is_file() and meta["fingerprint"] in path.name

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(oracle, "train_oracle", no_training)
    # another run: other seed, other batch size, other model -> same oracle
    other = validate_run_config({**cfg.to_dict(), "seed": 7, "model": {"generator": {"arch": "concat"}},
                                 "data": {**cfg.data.model_dump(), "batch_size": 3}}, "test")
    net2, path2, _ = oracle.load_or_train_oracle(other.data, info, (32, 32), other.eval, torch.device("cpu"))
    assert path2 == path
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))


def test_fingerprint_changes_with_what_defines_the_oracle():
    base = {"data_cfg": DataConfig(), "size": (64, 64), "seed": 0, "steps": 300, "width": 16,
            "batch_size": 16}
    fp = oracle.oracle_fingerprint(**base)
    for change in ({"size": (128, 128)}, {"seed": 1}, {"steps": 301}, {"width": 8},
                   {"data_cfg": DataConfig(dataset="facades")}, {"data_cfg": DataConfig(synth_seed=1)}):
        assert oracle.oracle_fingerprint(**{**base, **change}) != fp, change
    assert oracle.oracle_fingerprint(**{**base, "data_cfg": DataConfig(batch_size=2, num_workers=3)}) == fp
    # a key added later changes the fingerprint only when it leaves its default
    for key, default in oracle.EXTRAS.items():
        assert oracle.oracle_fingerprint(**base, **{key: default}) == fp, key
    for change in ({"class_power": 0.25}, {"dropout": 0.1},
                   {"weight_decay": 0.05}, {"final_steps": 100}, {"final_crop": 64},
                   {"strip": True}):
        assert oracle.oracle_fingerprint(**base, **change) != fp, change
    # every extra is an eval config key
    from bench.metrics.config import EvalConfig

    assert oracle.oracle_extras(EvalConfig()) == oracle.EXTRAS


def test_class_weights_inverse_sqrt_frequency():
    # class 0: 12 pixels, class 1: 3 pixels, class 2: absent, 255 ignored
    lab = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 255]])
    w = oracle.class_weights([{"label": lab}], num_classes=3, ignore_index=255)
    raw = torch.tensor([(12 / 15) ** -0.5, (3 / 15) ** -0.5])
    assert torch.allclose(w[:2], raw / raw.mean()) and w[2] == 0


@pytest.mark.parametrize("power", [0.0, 0.25, 1.0])
def test_class_weights_power(power):
    lab = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 255]])
    w = oracle.class_weights([{"label": lab}], num_classes=3, ignore_index=255, power=power)
    raw = torch.tensor([(12 / 15) ** -power, (3 / 15) ** -power])
    assert torch.allclose(w[:2], raw / raw.mean()) and w[2] == 0


def test_multi_scale_flip_tta_is_the_mean_of_the_resized_logits():
    from bench.metrics.segmenters import Segmenter

    torch.manual_seed(0)
    net = torch.nn.Conv2d(3, 4, 5, padding=2)  # position-dependent through the padding
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    F = torch.nn.functional

    def at(s):  # flip-averaged logits of x resized by s, resized back to 16x16
        xs = F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)
        lg = (net(xs) + net(xs.flip(-1)).flip(-1)) / 2
        return F.interpolate(lg, size=(16, 16), mode="bilinear", align_corners=False)

    want = ((at(0.75) + (net(x) + net(x.flip(-1)).flip(-1)) / 2 + at(1.25)) / 3).argmax(1)
    seg = Segmenter(net, "t", "minus1_1", 4, tta=True, scales=(0.75, 1.0, 1.25))
    with torch.no_grad():
        assert torch.equal(seg.predict(x), want.detach())
        single = Segmenter(net, "t", "minus1_1", 4, tta=False).predict(x)
    assert torch.equal(single, net(x).argmax(1))


def test_pretrained_torchscript_and_state_dict_adapters(tmp_path):
    import torchvision

    info = DatasetInfo(name="synthetic", num_classes=5)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    torch.manual_seed(0)
    tiny = torch.nn.Conv2d(3, 5, 3, padding=1)
    torch.jit.save(torch.jit.script(tiny), tmp_path / "seg.ts")
    cfg = run_cfg(tmp_path, segmenter="pretrained", segmenter_weights=str(tmp_path / "seg.ts"),
                  segmenter_input="minus1_1")
    seg, _ = build_segmenter(cfg, info, (32, 32), torch.device("cpu"))
    assert torch.equal(seg.predict(x), tiny(x).argmax(1))
    assert seg.produced_by.startswith("seg: seg.ts sha256:")

    net = torchvision.models.get_model("lraspp_mobilenet_v3_large", weights=None,
                                       weights_backbone=None, num_classes=5).eval()
    torch.save(net.state_dict(), tmp_path / "lraspp.pth")
    cfg = run_cfg(tmp_path, segmenter="pretrained", segmenter_weights=str(tmp_path / "lraspp.pth"),
                  segmenter_arch="lraspp_mobilenet_v3_large", segmenter_input="minus1_1")
    seg, _ = build_segmenter(cfg, info, (32, 32), torch.device("cpu"))
    with torch.no_grad():
        assert torch.equal(seg.predict(x), net(x)["out"].argmax(1))


def test_pretrained_file_absent_is_weights_missing(tmp_path):
    info = DatasetInfo(name="synthetic", num_classes=5)
    cfg = run_cfg(tmp_path, segmenter="pretrained", segmenter_weights=str(tmp_path / "drn.pth"))
    with pytest.raises(WeightsMissing, match=f"drn.pth not found in {tmp_path}"):
        build_segmenter(cfg, info, (32, 32), torch.device("cpu"))


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("BENCH_SLOW"), reason="minutes on 2 CPU cores; set BENCH_SLOW=1")
def test_oracle_reaches_0_8_miou_on_synthetic_64(tmp_path):
    """The CPU profile's oracle (300 steps, width 16, batch 16) on real synthetic photos."""
    from bench.data.registry import build_dataset
    from bench.metrics.segmentation import confusion_matrix, scores

    cfg = DataConfig(root=str(tmp_path / "data"), image_size=64, num_train=2000, num_val=200)
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    net = oracle.train_oracle(train, 11, None, 300, 16, 16, 0, torch.device("cpu"))
    batch = torch.utils.data.default_collate([val[i] for i in range(len(val))])
    with torch.no_grad():
        pred = net(batch["image"]).argmax(1)
    assert scores(confusion_matrix(pred, batch["label"], 11))["miou"] >= 0.8


class _ConstantTrainId(torch.nn.Module):
    """19 logits per pixel, trainId 0 (road) always winning: a stand-in for DRN-D-105."""

    def forward(self, x):
        out = torch.zeros_like(x[:, :1]).repeat(1, 19, 1, 1)  # (N, 19, H, W)
        out[:, 0] = 1.0
        return out


def test_a_registered_paper_segmenter_names_the_metric_and_scores_train_ids(tmp_path):
    """Cityscapes with a segmenter that predicts the 19 trainIds (segmenter_predicts
    'scored'): its outputs are not mapped again, and mIoU carries its name."""
    from bench.data.registry import dataset_info
    from bench.metrics.generate import Generated
    from bench.metrics.registry import EvalContext, segmentation_metrics

    torch.jit.save(torch.jit.script(_ConstantTrainId()), tmp_path / "drn.ts")
    cfg = validate_run_config({
        "data": {"dataset": "cityscapes", "root": str(tmp_path), "use_instance": False},
        "eval": {"segmenter": "pretrained", "segmenter_weights": str(tmp_path / "drn.ts"),
                 "segmenter_name": "DRN-D-105", "segmenter_predicts": "scored",
                 "segmenter_input": "minus1_1"}}, "test")
    info = dataset_info(cfg.data)
    label = torch.full((2, 8, 8), 7)  # labelId 7 = road = trainId 0 everywhere
    label[:, :, :2] = 0  # labelId 0 (unlabeled): void, not scored
    img = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    ctx = EvalContext(cfg=cfg, info=info, device=torch.device("cpu"),
                      gen=Generated(img, img, label, None), fake_dir=tmp_path, real_dir=tmp_path,
                      real_cache_name="x", multimodal=False)
    out = segmentation_metrics(ctx)
    assert out["miou"]["name"] == "mIoU (DRN-D-105)"
    assert out["miou"]["details"]["segmenter"] == "DRN-D-105"
    assert out["pixel_acc"]["value"] == 1.0 and out["miou"]["value"] == 1.0  # road only
    assert out["miou"]["produced_by"].startswith("DRN-D-105: drn.ts sha256:")
