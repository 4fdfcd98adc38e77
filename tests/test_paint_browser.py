"""The painter in a real browser: headless Chromium (Debian's chromium + chromium-driver)
driven by selenium against `bench paint`'s app served by uvicorn on 127.0.0.1.

The page opens on validation map 0. A stroke of one class changes every output panel
under the stroke and not far from it; Undo brings the map and the outputs back; bad
uploads through the page's label-upload input (not an image, a wrong size, ids out of
range, a 50 MB file) each show a message naming the problem and leave the map as it was,
and the server keeps serving (a good upload and its render work after them). Skipped,
with the reason, where Chromium, chromedriver or selenium is missing.

By default the server serves tiny untrained runs (tests/paint_runs.py). With
PAINT_RUN_DIR=an experiment output folder of `bench run` (e.g. runs/spade_vs_in-cpu-auto,
synthetic data) it serves that instead, paints a wide diagonal road before the screenshot,
and the screenshot at PAINT_SCREENSHOT (default: the test's tmp folder) is the README's:

    PAINT_RUN_DIR=runs/spade_vs_in-cpu-auto PAINT_SCREENSHOT=reports/paint/screenshot.png \
        pytest tests/test_paint_browser.py
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from paint_runs import SIZE, VARIANTS, make_paint_runs
from PIL import Image

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
pytest.importorskip("selenium", reason="selenium not installed (the [dev] extra)")
pytest.importorskip("uvicorn", reason="uvicorn not installed (the [paint] extra)")

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROAD = 9  # bench/data/synth_scene.py: CLASSES[9] == "road"
WAIT_S = 30
RUN_DIR = os.environ.get("PAINT_RUN_DIR") or None  # None: the tiny runs


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from bench.paint.serve import load_painter
    from bench.paint.server import create_app

    if RUN_DIR is not None:
        runs = Path(RUN_DIR)
        assert runs.is_dir(), f"PAINT_RUN_DIR={RUN_DIR}: no such folder"
    else:
        runs = make_paint_runs(tmp_path_factory.mktemp("paint"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(load_painter(runs, "cpu"), str(runs))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1360,900", "--force-device-scale-factor=1",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    except Exception as e:  # noqa: BLE001  (a broken install is a skip, with its reason)
        pytest.skip(f"headless Chromium does not start: {type(e).__name__}: {e}")
    yield driver
    driver.quit()


def wait_rendered(driver) -> None:
    """Until every panel shows the output of the current map and nothing is in flight."""
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("""
        const gen = document.body.dataset.gen, imgs = [...document.querySelectorAll('img.out')];
        return gen !== '0' && document.body.dataset.busy === '0' && imgs.length > 0 &&
               imgs.every(i => i.dataset.gen === gen && i.complete && i.naturalWidth > 0);"""))


def pixels(driver, css: str) -> list[np.ndarray]:
    """The images (canvas or img) matching css, at their own resolution, as (h, w, 3)."""
    urls = driver.execute_script("""
        return [...document.querySelectorAll(arguments[0])].map(el => {
            const c = document.createElement('canvas');
            c.width = el.naturalWidth || el.width; c.height = el.naturalHeight || el.height;
            c.getContext('2d').drawImage(el, 0, 0);
            return c.toDataURL('image/png');
        });""", css)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1])))
                       .convert("RGB")).astype(np.int16) for u in urls]


def get_json(driver, path: str) -> dict:
    return driver.execute_script("return fetch(arguments[0]).then(r => r.json())", path)


def near(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` (Chebyshev) of a True pixel of mask."""
    out = np.zeros_like(mask)
    for y, x in zip(*np.nonzero(mask), strict=True):
        out[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1] = True
    return out


def paint(driver, cls: int, size: int, points: list[tuple[float, float]]) -> None:
    """One brush stroke of class `cls`, `size` label pixels wide, through `points` (label
    pixel coordinates), then wait for every panel to show it."""
    driver.find_element(By.CSS_SELECTOR, f'#palette button[data-class="{cls}"]').click()
    driver.execute_script("const s = document.getElementById('size'); s.value = arguments[0];"
                          "s.dispatchEvent(new Event('input'));", str(size))
    canvas = driver.find_element(By.ID, "canvas")
    w, h = canvas.size["width"], canvas.size["height"]
    ids_w, ids_h = driver.execute_script("const c = document.getElementById('canvas');"
                                         "return [c.width, c.height];")
    at = lambda x, y: (round((x - ids_w / 2) * w / ids_w), round((y - ids_h / 2) * h / ids_h))
    chain = ActionChains(driver).move_to_element_with_offset(canvas, *at(*points[0]))
    chain.click_and_hold()
    for p in points[1:]:
        chain.move_to_element_with_offset(canvas, *at(*p))
    chain.release().perform()
    wait_rendered(driver)


def upload_labels(driver, path: Path) -> None:
    """Through the page's label-upload input; returns when the page has answered (the
    error box shows this file's message, or the map was replaced and re-rendered)."""
    driver.execute_script("document.getElementById('error-close').click()")  # any old one
    gen = driver.execute_script("return document.body.dataset.gen")
    driver.find_element(By.ID, "label-file").send_keys(str(path))
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("""
        const err = document.getElementById('error'), text = document.getElementById('error-text');
        return (!err.hidden && text.textContent.startsWith(arguments[0] + ':')) ||
               document.body.dataset.gen !== arguments[1];""", path.name, gen))


def screenshot(driver, path: Path) -> None:
    """The window, with the pointer moved off the canvas (no hover read-out in it)."""
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "run")).perform()
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.find_element(By.ID, "hover").text == "")
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    assert path.is_file() and path.stat().st_size > 0


def png(path: Path, img: Image.Image) -> Path:
    img.save(path, format="PNG")
    return path


def test_paint_a_stroke_undo_and_bad_uploads(server, browser, tmp_path):
    d = browser
    d.get(server)
    wait_rendered(d)
    info = get_json(d, "/api/info")
    classes = info["classes"]
    h, w = info["size"]
    assert classes[ROAD]["name"] == "road", classes  # a class of this data set (synthetic)
    n_panels = len(info["variants"])
    assert n_panels >= 1
    if RUN_DIR is None:
        assert n_panels == len(VARIANTS) and (h, w) == (SIZE, SIZE)
    assert len(d.find_elements(By.CSS_SELECTOR, "figure.panel")) == n_panels

    # the page opens on validation map 0: what the screenshot starts from
    assert info["val_count"] > 0, info["val_note"]
    val0 = np.frombuffer(base64.b64decode(get_json(d, "/api/val/0")["labels"]), np.uint8)
    colours = np.array([c["color"] for c in classes], dtype=np.int16)
    labels0 = pixels(d, "#canvas")[0]
    assert np.array_equal(labels0, colours[val0.reshape(h, w)])
    outputs0 = pixels(d, "img.out")

    # a thin road stroke, label rows 9-11, columns 10-30 (paint_runs: why this stays local)
    paint(d, ROAD, 3, [(10.5, 10.5)] + [(x + 0.5, 10.5) for x in range(12, 31, 2)])
    labels1 = pixels(d, "#canvas")[0]
    stroke = np.any(labels1 != labels0, axis=-1)
    assert stroke.sum() > 30, "the stroke did not paint"
    assert (labels1[stroke] == classes[ROAD]["color"]).all()
    rows = np.nonzero(stroke.any(axis=1))[0]
    assert rows.min() >= 8 and rows.max() <= 12, rows
    outputs1 = pixels(d, "img.out")
    diffs = [np.abs(after - before).mean(-1) for before, after in
             zip(outputs0, outputs1, strict=True)]
    if RUN_DIR is None:
        for diff in diffs:
            assert diff[stroke].mean() > 1.0, "the output did not change under the stroke"
            # the tiny runs' outputs depend on nearby labels only (paint_runs' docstring)
            assert diff[~near(stroke, 16)].mean() < 0.1 * diff[stroke].mean(), \
                "the output changed far away"
    else:
        # Trained runs: the panel of a generator that sees the map at full resolution
        # (SPADE) changes under the stroke, and most near it: its receptive field spans
        # the whole 64x64 map, so "unchanged far away" need not hold. A generator fed
        # the map at its input only (Concat/IN: nearest-downsampled to 2x2 at 64x64)
        # can ignore a thin stroke entirely, which is what the SPADE paper is about, so
        # not every panel has to change.
        changed = [diff for diff in diffs if diff[stroke].mean() > 1.0]
        assert changed, "no output changed under the stroke"
        for diff in changed:
            assert diff[near(stroke, 8)].mean() > diff[~near(stroke, 24)].mean(), \
                "the output changed as much far from the stroke as near it"

    shot = Path(os.environ.get("PAINT_SCREENSHOT") or tmp_path / "paint.png")
    if RUN_DIR is None:
        screenshot(d, shot)

    d.find_element(By.ID, "undo").click()
    wait_rendered(d)
    assert np.array_equal(pixels(d, "#canvas")[0], labels0)
    for before, again in zip(outputs0, pixels(d, "img.out"), strict=True):
        assert np.abs(again - before).max() <= 1  # the same map renders the same image

    if RUN_DIR is not None:  # a second, wide road across the grass (where the synthetic
        # data set's roads run) of validation map 0: a clearer picture than the thin stroke
        paint(d, ROAD, 5, [(w * (0.92 - 0.3 * f), h * (0.97 - 0.36 * f))
                           for f in np.linspace(0, 1, 10)])
        screenshot(d, shot)
        d.find_element(By.ID, "undo").click()
        wait_rendered(d)
        assert np.array_equal(pixels(d, "#canvas")[0], labels0)

    # bad uploads: each a message on the page naming the problem, the map left as it was
    text = tmp_path / "notes.txt"
    text.write_text("not a label map")
    big = tmp_path / "huge.png"  # 50 MB, sparse: a PNG signature, then zeros
    with big.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(50 * 2**20)
    bad = [
        (text, ["not an image"]),
        (png(tmp_path / "small.png", Image.new("RGB", (w // 2, h + 8))),
         [f"is {w // 2}x{h + 8}", f"paints {w}x{h}"]),
        (png(tmp_path / "ids.png", Image.new("L", (w, h), 200)),
         [f"label ids must be 0..{len(classes) - 1}", "found id 200"]),
        (big, ["upload of 50.0 MB", f"the limit is {info['max_upload_bytes'] // 2**20} MB"]),
    ]
    gen = d.execute_script("return document.body.dataset.gen")
    for path, expect in bad:
        upload_labels(d, path)
        assert d.find_element(By.ID, "error").is_displayed(), path.name
        message = d.find_element(By.ID, "error-text").text
        for words in expect:
            assert words in message, (path.name, message)
        assert d.execute_script("return document.body.dataset.gen") == gen, path.name
        assert np.array_equal(pixels(d, "#canvas")[0], labels0), path.name

    # the server keeps serving: a good upload (the stroked map, as colours) and its render
    upload_labels(d, png(tmp_path / "stroked.png", Image.fromarray(labels1.astype(np.uint8))))
    wait_rendered(d)
    assert not d.find_element(By.ID, "error").is_displayed()
    assert np.array_equal(pixels(d, "#canvas")[0], labels1)
    for before, again in zip(outputs1, pixels(d, "img.out"), strict=True):
        assert np.abs(again - before).max() <= 1
