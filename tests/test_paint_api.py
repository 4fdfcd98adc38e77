"""`bench paint`'s HTTP API on a tiny run folder: rendering, styles, uploads, bad input."""

from __future__ import annotations

import base64
import io
import re
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

pytest.importorskip("starlette", reason="the [paint] extra (starlette) is not installed")
with warnings.catch_warnings():  # newer starlette prefers httpx2 and says so on import
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

from paint_runs import SIZE, make_paint_runs

from bench.cli import app as cli
from bench.errors import BenchError
from bench.paint.serve import load_painter
from bench.paint.server import STATIC, create_app
from bench.train.checkpoint import load_checkpoint, save_checkpoint

N_CLASSES = 11  # the synthetic data set's


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_paint_runs(tmp_path_factory.mktemp("paint"))


@pytest.fixture(scope="module")
def client(runs):
    painter = load_painter(runs, "cpu")
    with TestClient(create_app(painter, str(runs))) as c:
        yield c


def b64(ids: np.ndarray) -> str:
    return base64.b64encode(ids.astype(np.uint8).tobytes()).decode()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def val_map(client) -> np.ndarray:
    r = client.get("/api/val/0")
    assert r.status_code == 200, r.text
    return np.frombuffer(base64.b64decode(r.json()["labels"]), np.uint8).reshape(SIZE, SIZE)


def render(client, ids, variant="spade", **extra) -> np.ndarray:
    r = client.post("/api/render", json={"labels": b64(ids), "variant": variant, **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert float(r.headers["x-render-ms"]) >= 0
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (SIZE, SIZE) and img.mode == "RGB"
    return np.asarray(img).astype(np.int16)


def error(r, status: int, pattern: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    msg = r.json()["error"]
    assert re.search(pattern, msg), msg


def test_info_describes_the_canvas_and_every_variant(client):
    info = client.get("/api/info").json()
    assert info["size"] == [SIZE, SIZE] and info["dataset"] == "synthetic"
    assert [c["name"] for c in info["classes"]][:3] == ["sky", "cloud", "mountain"]
    assert len(info["classes"]) == N_CLASSES and all(len(c["color"]) == 3 for c in info["classes"])
    variants = {v["name"]: v for v in info["variants"]}
    assert list(variants) == ["spade", "vae"]  # experiment.json's order
    assert variants["spade"]["seeds"] == [0] and not variants["spade"]["style"]
    assert variants["vae"]["seeds"] == [0, 1] and variants["vae"]["style"]
    assert variants["vae"]["encoder"] and info["val_count"] == 3 and info["val_photos"]


def test_render_is_deterministic_per_variant_and_seed(client):
    ids = val_map(client)
    a = render(client, ids)
    assert np.array_equal(a, render(client, ids))
    assert np.array_equal(render(client, ids, "vae"), render(client, ids, "vae", seed=0))
    assert not np.array_equal(render(client, ids, "vae", seed=0), render(client, ids, "vae", seed=1))
    painted = ids.copy()
    painted[9:12, 9:31] = 9  # a thin road stroke (see paint_runs for why it stays local)
    diff = np.abs(a - render(client, painted)).mean(-1)
    assert diff[9:12, 9:31].mean() > 1.0
    assert diff[30:].max() == 0 and diff[:, 50:].max() == 0  # changed there, not far away


def test_styles_seed_photo_and_walk(client):
    ids = val_map(client)
    s = {"a": {"kind": "seed", "seed": 3}}
    three = render(client, ids, "vae", style=s)
    assert np.array_equal(three, render(client, ids, "vae", style=s))
    assert not np.array_equal(three, render(client, ids, "vae", style={"a": {"seed": 4}}))
    walk = {"a": {"seed": 3}, "b": {"seed": 4}}
    assert np.array_equal(render(client, ids, "vae", style={**walk, "t": 0.0}), three)
    assert np.array_equal(render(client, ids, "vae", style={**walk, "t": 1.0}),
                          render(client, ids, "vae", style={"a": {"seed": 4}}))
    mid = render(client, ids, "vae", style={**walk, "t": 0.5})
    assert not np.array_equal(mid, three)

    photo = client.post("/api/photo/val/0").json()["photo"]
    r = client.post("/api/photo", content=png(Image.new("RGB", (100, 80), (200, 40, 40))))
    assert r.status_code == 200, r.text  # any size: resized to the model's
    red = r.json()["photo"]
    from_val = render(client, ids, "vae", style={"a": {"kind": "photo", "photo": photo}})
    from_red = render(client, ids, "vae", style={"a": {"kind": "photo", "photo": red}})
    assert not np.array_equal(from_val, from_red)
    render(client, ids, "spade", style={"a": {"kind": "photo", "photo": photo}})  # no z: ignored
    r = client.post("/api/render", json={"labels": b64(ids), "variant": "vae",
                                         "style": {"a": {"kind": "photo", "photo": "nope"}}})
    error(r, 404, "unknown")


def test_label_images_as_ids_or_colours(client):
    ids = val_map(client)
    r = client.post("/api/labels/png", json={"labels": b64(ids)})
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).mode == "P"

    def decoded(data: bytes) -> np.ndarray:
        r = client.post("/api/labels/decode", content=data)
        assert r.status_code == 200, r.text
        return np.frombuffer(base64.b64decode(r.json()["labels"]), np.uint8).reshape(SIZE, SIZE)

    assert np.array_equal(decoded(r.content), ids)  # our own download, uploaded back
    assert np.array_equal(decoded(png(Image.fromarray(ids, mode="L"))), ids)  # gray ids
    palette = np.array([c["color"] for c in client.get("/api/info").json()["classes"]])
    noisy = palette[ids] + np.random.default_rng(0).integers(-8, 9, (SIZE, SIZE, 3))
    colours = Image.fromarray(noisy.clip(0, 255).astype(np.uint8))
    assert np.array_equal(decoded(png(colours)), ids)  # snapped to the palette


def test_bad_uploads_get_a_4xx_json_error(client):
    error(client.post("/api/labels/decode", content=b"this is not an image"), 415, "not an image")
    error(client.post("/api/labels/decode", content=png(Image.new("L", (SIZE, 32)))), 422,
          f"64x32; this model paints {SIZE}x{SIZE}")
    error(client.post("/api/labels/decode", content=png(Image.new("L", (SIZE, SIZE), 200))), 422,
          r"ids must be 0\.\.10; found id 200")
    big = b"\x89PNG" + bytes(50 * 2**20)
    error(client.post("/api/labels/decode", content=big), 413, "50.0 MB: the limit is 8 MB")
    error(client.post("/api/photo", content=big), 413, "limit")
    noise = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    error(client.post("/api/labels/decode", content=png(Image.fromarray(noise))), 422,
          "looks like a photo")
    error(client.post("/api/labels/decode", content=png(Image.new("L", (SIZE, SIZE)))[:60]), 422,
          "cannot be decoded")
    error(client.post("/api/photo", content=b"GIF89a nonsense"), 415, "not an image")
    error(client.post("/api/labels/decode", content=b""), 422, "empty")


def test_bad_render_requests_get_a_4xx_json_error(client):
    ids = np.zeros((SIZE, SIZE), np.uint8)
    post = lambda body: client.post("/api/render", json=body)
    error(client.post("/api/render", content=b"{not json"), 400, "not JSON")
    error(post({"variant": "spade"}), 422, "labels")
    error(post({"labels": b64(ids[:10]), "variant": "spade"}), 422, "640 pixels")
    error(post({"labels": "***", "variant": "spade"}), 422, "not base64")
    error(post({"labels": b64(ids + 11), "variant": "spade"}), 422, r"0\.\.10; found id 11")
    error(post({"labels": b64(ids), "variant": "nope"}), 404, "valid: spade, vae")
    error(post({"labels": b64(ids), "variant": "vae", "seed": 7}), 404, "valid: 0, 1")
    error(post({"labels": b64(ids), "variant": "vae", "style": {"t": 2}}), 422, "style.t")
    error(post({"labels": b64(ids), "variant": "vae", "colour": 1}), 422, "colour")
    error(client.get("/api/val/3"), 404, r"valid 0\.\.2")
    error(client.get("/api/val/x"), 404, "validation map x")
    render(client, ids)  # and the server still answers


def test_an_unexpected_failure_is_a_500_json_and_the_server_goes_on(runs, monkeypatch):
    painter = load_painter(runs, "cpu")
    with TestClient(create_app(painter, str(runs))) as c:
        ids = b64(np.zeros((SIZE, SIZE), np.uint8))
        real = painter.render
        monkeypatch.setattr(painter, "render", lambda *a: 1 / 0)
        error(c.post("/api/render", json={"labels": ids, "variant": "spade"}), 500,
              "ZeroDivisionError")
        monkeypatch.setattr(painter, "render", real)
        assert c.post("/api/render", json={"labels": ids, "variant": "spade"}).status_code == 200


def test_the_page_needs_no_network(client):
    html = client.get("/")
    assert html.status_code == 200 and "<canvas" in html.text
    for name in ("index.html", "painter.js", "painter.css"):
        text = (STATIC / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), name  # no CDN
        assert client.get(f"/static/{name}").status_code == 200


def test_one_run_folder_and_runs_of_different_maps(runs, tmp_path):
    painter = load_painter(runs / "vae" / "seed1", "cpu")
    assert {v: sorted(s) for v, s in painter.seeds.items()} == {"vae": [1]}
    mixed = tmp_path / "mixed"
    shutil.copytree(runs / "spade", mixed / "spade")
    state = load_checkpoint(runs / "spade" / "seed0")
    state["config"]["data"]["image_size"] = 32  # the same weights at another size
    (mixed / "half" / "seed0").mkdir(parents=True)
    save_checkpoint(state, mixed / "half" / "seed0" / "checkpoint.pt")
    with pytest.raises(BenchError, match="one data set"):
        load_painter(mixed, "cpu")


def test_cli_bad_run_dir_exits_2_with_one_message(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["paint", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "folder not found" in r.output, r.output
    (tmp_path / "empty" / "a").mkdir(parents=True)
    r = runner.invoke(cli, ["paint", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "no checkpoint.pt" in r.output, r.output
    assert "Traceback" not in r.output


def test_a_broken_seed_picked_later_is_a_409_not_a_crash(runs, tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    (copy / "vae" / "seed1" / "checkpoint.pt").write_bytes(b"truncated")
    with TestClient(create_app(load_painter(copy, "cpu"), str(copy))) as c:
        ids = b64(np.zeros((SIZE, SIZE), np.uint8))
        error(c.post("/api/render", json={"labels": ids, "variant": "vae", "seed": 1}), 409,
              "corrupt or unreadable checkpoint")
        assert c.post("/api/render", json={"labels": ids, "variant": "vae"}).status_code == 200
