"""The oracle U-Net (v3): shapes, augmentation, seeded determinism, test-time flips, cache."""

from __future__ import annotations

import pytest
import torch

from bench.config import validate_run_config
from bench.data.config import DataConfig
from bench.metrics import oracle
from bench.metrics.segmenters import Segmenter, build_segmenter


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))


def toy_set(n=6, size=32, classes=3):
    """Items like build_dataset's: image (3, H, W) in [-1, 1], label (H, W) long."""
    g = torch.Generator().manual_seed(1)
    return [{"image": torch.rand(3, size, size, generator=g) * 2 - 1,
             "label": torch.randint(0, classes, (size, size), generator=g)} for _ in range(n)]


def test_shapes_any_size_and_features():
    net = oracle.OracleUNet(num_classes=5, width=4).eval()
    for h, w in ((32, 32), (30, 44), (17, 64)):  # padded to a multiple of 16 inside
        assert net(torch.zeros(2, 3, h, w)).shape == (2, 5, h, w)
    assert net.features(torch.zeros(3, 3, 48, 32)).shape == (3, 8 * 4)


def test_strip_context_gives_each_pixel_its_row_and_column_means():
    """With identity taps and fuse weights, out = x + relu(rowmean + colmean), computed here
    by explicit loops over rows and columns (an independent reference)."""
    c, h, w = 3, 5, 7
    m = oracle.StripContext(c).eval()
    with torch.no_grad():
        for conv in (m.rows, m.cols):
            conv.weight.zero_()
            conv.weight[:, :, 1 if conv is m.rows else 0, 1 if conv is m.cols else 0] = torch.eye(c)
        fuse = m.fuse[0].weight
        fuse.zero_()
        fuse[:, c:, 0, 0] = torch.eye(c)  # take only the strip half of the concatenation
    x = torch.randn(2, c, h, w, generator=torch.Generator().manual_seed(0))
    ref = torch.empty_like(x)
    for n in range(2):
        for k in range(c):
            for i in range(h):
                for j in range(w):
                    s = sum(x[n, k, i, jj] for jj in range(w)) / w + sum(x[n, k, ii, j] for ii in range(h)) / h
                    ref[n, k, i, j] = x[n, k, i, j] + max(float(s), 0.0)
    bn = m.fuse[1]  # eval BatchNorm with fresh statistics: y = x / sqrt(1 + eps)
    assert torch.allclose(m(x), x + (ref - x) / (1 + bn.eps) ** 0.5, atol=1e-5)


def test_strip_option_adds_modules_and_round_trips(tmp_path):
    plain, strip = oracle.OracleUNet(3, 4), oracle.OracleUNet(3, 4, strip=True)
    # the default keeps the old state_dict, so cached oracles still load
    assert not any(k.startswith("strip") for k in plain.state_dict())
    assert sum(k.startswith("strip.") for k in strip.state_dict()) > 0
    assert strip(torch.zeros(1, 3, 20, 36)).shape == (1, 3, 20, 36)
    net = oracle.train_oracle(toy_set(4, 32), 3, None, steps=2, width=4, batch_size=2, seed=0,
                              device=torch.device("cpu"), log=lambda m: None, strip=True)
    path = tmp_path / "o.pt"
    torch.save({"state_dict": net.state_dict(), "meta": {"num_classes": 3, "width": 4,
                                                        "strip": True}}, path)
    back, _ = oracle.load_oracle(path, torch.device("cpu"))
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(back(x), net(x))


def test_coord_grid_is_pixel_centres_of_the_whole_frame():
    c = oracle.coord_grid(2, 4, 8)
    assert c.shape == (2, 2, 4, 8)
    assert torch.allclose(c[0, 0, :, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))  # y
    assert torch.allclose(c[1, 1, 0, :2], torch.tensor([-0.875, -0.625]))  # x
    # the default coordinates are exactly these
    net = oracle.OracleUNet(3, 4).eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(net(x), net(x, oracle.coord_grid(2, 16, 16)))


def test_augment_shapes_ranges_and_seed():
    items = toy_set(4, 32)
    image = torch.stack([it["image"] for it in items])
    label = torch.stack([it["label"] for it in items])
    out = [oracle.augment(image, label, (16, 24), torch.Generator().manual_seed(3)) for _ in range(2)]
    img, lab, coords = out[0]
    assert img.shape == (4, 3, 16, 24) and lab.shape == (4, 16, 24) and coords.shape == (4, 2, 16, 24)
    assert lab.dtype == torch.long and set(lab.unique().tolist()) <= {0, 1, 2}
    assert img.min() >= -1 and img.max() <= 1 and coords.abs().max() <= 1
    assert all(torch.equal(a, b) for a, b in zip(out[0], out[1]))  # same seed, same batch
    other = oracle.augment(image, label, (16, 24), torch.Generator().manual_seed(4))
    assert not torch.equal(other[0], img)


def test_augment_full_crop_keeps_labels_aligned(monkeypatch):
    """Zoom 1, no aspect jitter: the crop is the photo itself (or its mirror)."""
    monkeypatch.setattr(oracle, "ZOOM", (1.0, 1.0))
    monkeypatch.setattr(oracle, "ASPECT", (1.0, 1.0))
    items = toy_set(8, 16)
    image = torch.stack([it["image"] for it in items])
    label = torch.stack([it["label"] for it in items])
    _, lab, coords = oracle.augment(image, label, (16, 16), torch.Generator().manual_seed(0))
    for i in range(8):
        assert torch.equal(lab[i], label[i]) or torch.equal(lab[i], label[i].flip(-1))
    assert torch.allclose(coords, oracle.coord_grid(8, 16, 16), atol=1e-6)


def test_training_is_deterministic_for_a_seed():
    train = toy_set()

    def state(seed, crop=None):
        net = oracle.train_oracle(train, 3, None, 3, 4, 4, seed, torch.device("cpu"),
                                  log=lambda m: None, crop=crop)
        return net.state_dict()

    a, b, c = state(0), state(0), state(1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert oracle.train_oracle(train, 3, None, 2, 4, 4, 0, torch.device("cpu"), log=lambda m: None,
                               crop=16).training is False


def test_tta_is_the_mean_of_the_two_logits():
    torch.manual_seed(0)
    net = oracle.OracleUNet(4, 4).eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        want = (net(x) + net(x.flip(-1)).flip(-1)) / 2
        assert torch.allclose(oracle.predict_logits(net, x, tta=True), want)
        assert torch.equal(oracle.predict_logits(net, x, tta=False), net(x))
    seg = Segmenter(net, "test", "minus1_1", 4, tta=True)
    assert torch.equal(seg.predict(x), want.argmax(1))
    assert torch.equal(Segmenter(net, "test", "minus1_1", 4).predict(x), net(x).argmax(1))


def run_cfg(tmp_path, **eval_):
    return validate_run_config({
        "data": {"dataset": "synthetic", "root": str(tmp_path / "data"), "image_size": 32,
                 "num_train": 8, "num_val": 4},
        "eval": {"oracle_steps": 2, "oracle_width": 4, "oracle_batch_size": 4, **eval_},
    }, "test")


def test_cache_reused_and_crop_in_the_fingerprint(tmp_path, monkeypatch):
    from bench.data.registry import dataset_info

    cfg = run_cfg(tmp_path, oracle_crop=16)
    info = dataset_info(cfg.data)
    net, path, meta = oracle.load_or_train_oracle(cfg.data, info, (32, 32), cfg.eval, torch.device("cpu"))
    assert meta["crop"] == 16 and meta["version"] == oracle.ORACLE_VERSION

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(oracle, "train_oracle", no_training)
    # test-time flips are not part of what is trained: same file
    seg, seg_meta = build_segmenter(run_cfg(tmp_path, oracle_crop=16, oracle_tta=False), info,
                                    (32, 32), torch.device("cpu"))
    assert seg_meta["oracle_path"] == str(path) and seg.tta is False
    net2, _ = oracle.load_oracle(path, torch.device("cpu"))
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))
    assert build_segmenter(run_cfg(tmp_path, oracle_crop=16), info, (32, 32),
                           torch.device("cpu"))[0].tta is True
    base = {"data_cfg": DataConfig(), "size": (64, 64), "seed": 0, "steps": 3, "width": 4,
            "batch_size": 4}
    assert oracle.oracle_fingerprint(**base) != oracle.oracle_fingerprint(**base, crop=32)


def test_boundary_band_marks_pixels_near_another_class():
    label = torch.zeros(1, 6, 6, dtype=torch.long)
    label[0, :, 3:] = 2  # a vertical edge between columns 2 and 3
    band = oracle.boundary_band(label, 1)
    assert band[0, :, 2:4].all() and not band[0, :, :2].any() and not band[0, :, 4:].any()
    wide = oracle.boundary_band(label, 2)
    assert wide[0, :, 1:5].all() and not wide[0, :, 0].any() and not wide[0, :, 5].any()


def test_dropout_is_training_only_and_has_no_parameters():
    net = oracle.OracleUNet(3, 4, dropout=0.5)
    assert net.state_dict().keys() == oracle.OracleUNet(3, 4).state_dict().keys()
    x = torch.randn(2, 3, 32, 32)
    net.eval()
    assert torch.equal(net(x), net(x))  # deterministic in eval mode
    net.train()
    torch.manual_seed(0)
    a = net(x)
    torch.manual_seed(1)
    assert not torch.equal(a, net(x))


def test_progressive_crops_switch_for_the_last_steps(monkeypatch):
    """crop for the first steps - final_steps, then final_crop (None: the whole image)."""
    seen = []
    real_augment = oracle.augment

    def spy(image, label, out_size, gen):
        seen.append(tuple(out_size))
        return real_augment(image, label, out_size, gen)

    monkeypatch.setattr(oracle, "augment", spy)
    train = toy_set(size=32)
    cpu = torch.device("cpu")
    oracle.train_oracle(train, 3, None, 5, 4, 4, 0, cpu, log=lambda m: None, crop=16,
                        final_steps=2)
    assert seen == [(16, 16)] * 3 + [(32, 32)] * 2
    seen.clear()
    oracle.train_oracle(train, 3, None, 4, 4, 4, 0, cpu, log=lambda m: None, crop=16,
                        final_steps=1, final_crop=24)
    assert seen == [(16, 16)] * 3 + [(24, 24)]
    seen.clear()
    oracle.train_oracle(train, 3, None, 3, 4, 4, 0, cpu, log=lambda m: None, crop=16)
    assert seen == [(16, 16)] * 3  # final_steps 0: unchanged


@pytest.mark.parametrize("native", [True, False])
def test_oracle_bf16_only_where_bf16_is_native(tmp_path, monkeypatch, capsys, native):
    """eval.oracle_bf16 asks for bf16 autocast; on a CPU without AVX512-BF16/AMX bf16 is
    emulated (about 10x slower than fp32 there), so the oracle trains in fp32 under the
    fp32 fingerprint, and says so once."""
    from bench.data.registry import dataset_info

    monkeypatch.setattr(oracle, "bf16_is_fast", lambda dev: native)
    oracle._say_once.cache_clear()
    seen = {}
    real = oracle.train_oracle

    def spy(*args, **kwargs):
        seen["bf16"] = kwargs["bf16"]
        return real(*args, **kwargs)

    monkeypatch.setattr(oracle, "train_oracle", spy)
    cfg = run_cfg(tmp_path, oracle_bf16=True)
    info = dataset_info(cfg.data)
    _, path, meta = oracle.load_or_train_oracle(cfg.data, info, (32, 32), cfg.eval,
                                                torch.device("cpu"))
    assert seen["bf16"] is native and meta["bf16"] is native
    fp32_path = oracle.oracle_path(cfg.data, (32, 32), cfg.eval.seed, 2, 4, 4)
    assert (path == fp32_path) is (not native)
    # a second oracle in the same process: the note is not repeated
    oracle.load_or_train_oracle(cfg.data, info, (32, 32), cfg.eval, torch.device("cpu"))
    assert capsys.readouterr().err.count("no native bf16") == (0 if native else 1)


def test_ensemble_is_the_mean_of_the_single_oracles_of_consecutive_seeds(tmp_path, monkeypatch):
    from bench.data.registry import dataset_info

    cfg = run_cfg(tmp_path, seed=3, oracle_members=2, oracle_tta=False)
    info = dataset_info(cfg.data)
    cpu = torch.device("cpu")
    ens, path, meta = oracle.load_or_train_oracle(cfg.data, info, (32, 32), cfg.eval, cpu)
    # each member is the cache file of the single oracle with that seed (shared with it)
    singles = [oracle.load_or_train_oracle(cfg.data, info, (32, 32),
                                           run_cfg(tmp_path, seed=s).eval, cpu) for s in (3, 4)]
    assert path == singles[0][1] and meta["member_paths"] == [str(p) for _, p, _ in singles]
    assert meta["members"] == [m["fingerprint"] for _, _, m in singles]
    assert meta["fingerprint"] == singles[0][2]["fingerprint"]  # what fd_oracle is named by
    assert meta["train_seconds"] == pytest.approx(sum(m["train_seconds"] for *_, m in singles))
    assert singles[0][2]["fingerprint"] != singles[1][2]["fingerprint"]

    x = torch.rand(2, 3, 32, 32) * 2 - 1
    a, b = (net(x) for net, _, _ in singles)
    assert not torch.allclose(a, b)  # two different nets: the mean is not either one
    with torch.no_grad():
        torch.testing.assert_close(ens(x), (a + b) / 2)
        torch.testing.assert_close(ens.features(x), singles[0][0].features(x))

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(oracle, "train_oracle", no_training)
    seg, _ = build_segmenter(cfg, info, (32, 32), cpu)
    assert seg.produced_by == f"trained oracle ensemble of 2 {'+'.join(meta['members'])}"
    with torch.no_grad():
        assert torch.equal(seg.predict(x), ((a + b) / 2).argmax(1))
