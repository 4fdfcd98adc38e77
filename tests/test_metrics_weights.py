"""The real weight-loading path (files under a temporary TORCH_HOME, no network),
absent files giving null + reason, and `bench weights import` checking checksums."""

from __future__ import annotations

import dataclasses
import hashlib
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision
from PIL import Image
from typer.testing import CliRunner

from bench.errors import BenchError
from bench.metrics import fidelity, weights
from bench.metrics.generate import Generated
from bench.metrics.registry import EvalContext, inception_metrics, lpips_metrics

INCEPTION_NAME = "weights-inception-2015-12-05-6726825d.pth"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME, a private BENCH_CACHE, and no network at all."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    ckpt = tmp_path / "torch" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    return ckpt


def trust(monkeypatch, key: str, path: Path) -> str:
    """Declare a generated file's sha256 as the known one (the random file is not the
    standard one, so without this the gate would correctly refuse it)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(weights.KNOWN, key, dataclasses.replace(weights.KNOWN[key], sha256=digest))
    return digest


def tiny_context(tmp_path: Path, n: int = 5, size: int = 32, multimodal: bool = False) -> EvalContext:
    g = torch.Generator().manual_seed(0)
    fake = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    real = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    for name, imgs in (("fake", fake), ("real", real)):
        (tmp_path / name).mkdir(parents=True)
        for i, im in enumerate(imgs):
            Image.fromarray(im.permute(1, 2, 0).numpy()).save(tmp_path / name / f"{i:06d}.png")
    gen = Generated(fake, real, torch.zeros(n, size, size, dtype=torch.long), None)

    class Cfg:  # the only config fields these metric functions read
        class eval:
            kid_subset_size, kid_subsets, batch_size = 1000, 10, 8

    return EvalContext(cfg=Cfg, info=None, device=torch.device("cpu"), gen=gen,
                       fake_dir=tmp_path / "fake", real_dir=tmp_path / "real",
                       real_cache_name="test-real", multimodal=multimodal)


def random_inception_state_dict() -> dict:
    """torch-fidelity's own InceptionV3 module, random init, without loading anything."""
    from torch_fidelity import feature_extractor_inceptionv3 as fe

    torch.manual_seed(0)
    orig = fe.FeatureExtractorInceptionV3.load_state_dict
    fe.FeatureExtractorInceptionV3.load_state_dict = lambda self, sd: None
    try:
        real_loader = fe.load_state_dict_from_url
        fe.load_state_dict_from_url = lambda *a, **k: None
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    finally:
        fe.FeatureExtractorInceptionV3.load_state_dict = orig
        fe.load_state_dict_from_url = real_loader
    return net.state_dict()


def test_inception_weights_read_from_torch_home(torch_home, tmp_path, monkeypatch):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = torch_home / INCEPTION_NAME
    torch.save(random_inception_state_dict(), path)
    digest = trust(monkeypatch, "inception", path)
    # FID's 2048-d pool3 layer needs a 2048x2048 eigen-decomposition (a minute on 2 busy
    # cores); the loading path is the same with the 64-d layer, so the test uses that.
    monkeypatch.setattr(fidelity, "INCEPTION_LAYER", "64")
    ctx = tiny_context(tmp_path / "imgs", n=3)
    out = inception_metrics(ctx)
    assert out["fid"]["produced_by"] == f"{INCEPTION_NAME} sha256:{digest}"
    assert "layer 64" in out["fid"]["feature_extractor"]
    assert out["kid"]["value"] is not None and out["kid"]["details"]["kid_subset_size"] == 3

    # Independent reference: the same file loaded directly, features -> scipy FID.
    net = FeatureExtractorInceptionV3("x", ["64"], feature_extractor_weights_path=str(path))
    with torch.no_grad():
        f1 = net(ctx.gen.fake)[0].double().numpy()
        f2 = net(ctx.gen.real)[0].double().numpy()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with warnings.catch_warnings():  # 3 samples in 64-d: singular covariances, as expected
        warnings.simplefilter("ignore")
        ref = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert out["fid"]["value"] == pytest.approx(ref, rel=1e-2, abs=1e-3)


def test_inception_absent_gives_null_and_reason(torch_home, tmp_path):
    out = inception_metrics(tiny_context(tmp_path / "imgs"))
    for key in ("fid", "kid"):
        assert out[key]["value"] is None
        assert INCEPTION_NAME in out[key]["reason"] and str(torch_home) in out[key]["reason"]


def test_inception_with_wrong_checksum_is_not_published(torch_home, tmp_path):
    (torch_home / INCEPTION_NAME).write_bytes(b"not the standard weights")
    out = inception_metrics(tiny_context(tmp_path / "imgs"))
    assert out["fid"]["value"] is None and "not the standard weights" in out["fid"]["reason"]


def test_lpips_alexnet_read_from_torch_home(torch_home, tmp_path, monkeypatch):
    from bench.metrics.perceptual import build_lpips

    torch.manual_seed(1)
    sd = torchvision.models.alexnet().state_dict()
    path = torch_home / "alexnet-owt-7be5be79.pth"
    torch.save(sd, path)
    digest = trust(monkeypatch, "alexnet", path)
    net, produced_by = build_lpips("cpu")
    assert torch.equal(net.net.slice1[0].weight, sd["features.0.weight"])
    assert torch.equal(net.net.slice5._modules["10"].weight, sd["features.10.weight"])
    assert f"alexnet-owt-7be5be79.pth sha256:{digest}" in produced_by
    out = lpips_metrics(tiny_context(tmp_path / "imgs"))
    assert out["lpips"]["value"] > 0
    assert out["lpips_diversity"]["value"] is None and "not multimodal" in out["lpips_diversity"]["reason"]


def test_lpips_absent_gives_null_and_reason(torch_home, tmp_path):
    out = lpips_metrics(tiny_context(tmp_path / "imgs", multimodal=True))
    for key in ("lpips", "lpips_diversity"):
        assert out[key]["value"] is None
        assert "alexnet-owt-7be5be79.pth" in out[key]["reason"] and str(torch_home) in out[key]["reason"]


def test_import_checks_checksum_then_copies(torch_home, tmp_path, monkeypatch):
    src = tmp_path / "alexnet-owt-7be5be79.pth"
    src.write_bytes(b"some weights")
    with pytest.raises(BenchError, match="wrong checksum"):
        weights.import_weight(src)
    assert not (torch_home / src.name).exists()
    assert list(torch_home.iterdir()) == []  # no temp file left either

    trust(monkeypatch, "alexnet", src)
    dest = weights.import_weight(src)
    assert dest == torch_home / src.name and dest.read_bytes() == b"some weights"


def test_import_rejects_unknown_name_and_cli_exits_2(torch_home, tmp_path):
    from bench.cli import app

    odd = tmp_path / "resnet.pth"
    odd.write_bytes(b"x")
    with pytest.raises(BenchError, match="valid: weights-inception"):
        weights.import_weight(odd)
    bad = tmp_path / INCEPTION_NAME
    bad.write_bytes(b"wrong")
    result = CliRunner().invoke(app, ["weights", "import", str(bad)])
    assert result.exit_code == 2 and "wrong checksum" in result.output
    assert not (torch_home / INCEPTION_NAME).exists()


def test_status_lists_every_file_with_its_folder(torch_home):
    rows = {r["file"]: r for r in weights.status_rows()}
    assert rows[INCEPTION_NAME]["folder"] == str(torch_home) and not rows[INCEPTION_NAME]["present"]
    assert rows["vgg19-dcbb9e9d.pth"]["needed_by"].startswith("VGG")
    assert rows["alex.pth"]["present"] and rows["alex.pth"]["checksum_ok"]
