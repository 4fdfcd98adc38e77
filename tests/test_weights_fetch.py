"""`bench weights fetch` against a server on 127.0.0.1 that the test starts.

The served files are small fakes; the test registers their sha256 in the registry
(monkeypatched), under a temporary TORCH_HOME, so nothing real is downloaded and no
library folder outside tmp_path is written.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import socket
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.metrics import weights

FILES = {"alexnet": b"fake alexnet weights " * 100, "inception": b"fake inception " * 50,
         "vgg19": b"fake vgg19 " * 70, "lpips_alex_lin": b"fake lpips linear layers"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Empty TORCH_HOME; every registry entry trusts its fake's sha256; the LPIPS linear
    layers' folder moved into tmp_path (never the installed package's)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.MIRROR_ENV, raising=False)
    lin_dir = tmp_path / "lpips" / "v0.1"
    for key, data in FILES.items():
        extra = {"folder": lambda: lin_dir} if key == "lpips_alex_lin" else {}
        monkeypatch.setitem(weights.KNOWN, key, dataclasses.replace(
            weights.KNOWN[key], sha256=hashlib.sha256(data).hexdigest(), **extra))
    return tmp_path / "torch" / "hub" / "checkpoints"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log on stderr
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 (free port) serving the fakes under their file names."""
    root = tmp_path / "served"
    root.mkdir()
    for key, data in FILES.items():
        (root / weights.KNOWN[key].file).write_bytes(data)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def fetch(*args, env=None):
    return CliRunner().invoke(app, ["weights", "fetch", *args], env=env)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_downloads_checks_and_places_then_skips(home, server):
    url, _, _ = server
    r = fetch("alexnet", "--mirror", url)
    assert r.exit_code == 0, r.output
    assert (home / "alexnet-owt-7be5be79.pth").read_bytes() == FILES["alexnet"]
    assert leftovers(home) == ["alexnet-owt-7be5be79.pth"]  # no temp file beside it
    assert f"{url}/alexnet-owt-7be5be79.pth" in r.output and "sha256 ok" in r.output
    assert weights.require("alexnet")[0] == home / "alexnet-owt-7be5be79.pth"

    again = fetch("alexnet", "--mirror", url)
    assert again.exit_code == 0 and "already present, skipped" in again.output
    assert "downloading" not in again.output


def test_fetch_all_through_the_env_var_and_file_names(home, server, tmp_path):
    url, _, _ = server
    r = fetch("--all", env={weights.MIRROR_ENV: url})
    assert r.exit_code == 0, r.output
    for key, data in FILES.items():
        assert weights.KNOWN[key].path.read_bytes() == data
    assert leftovers(tmp_path / "lpips" / "v0.1") == ["alex.pth"]
    by_file = fetch(weights.KNOWN["inception"].file, "--mirror", url)
    assert by_file.exit_code == 0 and "already present" in by_file.output


def test_fetch_replaces_a_wrong_file(home, server):
    url, _, _ = server
    home.mkdir(parents=True)
    (home / "vgg19-dcbb9e9d.pth").write_bytes(b"some other file")
    r = fetch("vgg19", "--mirror", url)
    assert r.exit_code == 0 and "wrong checksum; replacing" in r.output
    assert (home / "vgg19-dcbb9e9d.pth").read_bytes() == FILES["vgg19"]


def test_checksum_mismatch_exits_2_and_leaves_nothing(home, server, monkeypatch):
    url, root, _ = server
    (root / "alexnet-owt-7be5be79.pth").write_bytes(b"tampered")
    r = fetch("alexnet", "--mirror", url)
    assert r.exit_code == 2
    assert "checksum mismatch" in r.output and hashlib.sha256(b"tampered").hexdigest() in r.output
    assert not home.exists() and not (home.parent.parent).exists()  # folders it made: gone too

    home.mkdir(parents=True)  # an existing folder stays, empty
    assert fetch("alexnet", "--mirror", url).exit_code == 2
    assert leftovers(home) == []


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _assert_offline_message(r, url: str):
    assert r.exit_code == 2
    assert f"cannot download {url}" in r.output
    assert "bench weights import FILE" in r.output
    assert r.output.count("error:") == 1


def test_offline_connection_refused_names_url_and_import(home):
    url = f"http://127.0.0.1:{_closed_port()}"
    r = fetch("inception", "--mirror", url)
    _assert_offline_message(r, f"{url}/weights-inception-2015-12-05-6726825d.pth")
    assert not home.exists()


def test_offline_server_stopped(home, server):
    url, _, httpd = server
    httpd.shutdown()
    httpd.server_close()
    r = fetch("alexnet", "--mirror", url)
    _assert_offline_message(r, f"{url}/alexnet-owt-7be5be79.pth")


def test_offline_dns_failure(home, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    r = fetch("vgg19")  # the official URL; resolving its host fails
    _assert_offline_message(r, "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth")


def test_offline_timeout(home, monkeypatch):
    """A server that accepts the connection and never answers."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    monkeypatch.setattr(weights, "TIMEOUT_S", 0.5)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        r = fetch("alexnet", "--mirror", url)
    finally:
        silent.close()
    _assert_offline_message(r, f"{url}/alexnet-owt-7be5be79.pth")
    assert "timed out" in r.output
    assert not home.exists()


def test_http_error_names_url(home, server):
    url, root, _ = server
    (root / "vgg19-dcbb9e9d.pth").unlink()
    r = fetch("vgg19", "--mirror", url)
    assert r.exit_code == 2 and f"{url}/vgg19-dcbb9e9d.pth: HTTP 404" in r.output
    assert "bench weights import FILE" in r.output


def test_unknown_name_and_no_name_exit_2_listing_valid_names(home):
    r = fetch("resnet50")
    assert r.exit_code == 2 and "'resnet50'" in r.output
    assert "valid: inception, alexnet, lpips_alex_lin, vgg19" in r.output
    none = fetch()
    assert none.exit_code == 2 and "--all" in none.output


def test_help_documents_the_mirror():
    r = CliRunner().invoke(app, ["weights", "fetch", "--help"], env={"COLUMNS": "120"})
    assert r.exit_code == 0
    assert "--mirror" in r.output and weights.MIRROR_ENV in r.output
    assert "bench weights import" in r.output


def test_progress_bar_on_a_terminal(home, server, monkeypatch):
    """With a TTY stderr the download shows rich's progress bar; the file is the same."""
    class Tty(io.StringIO):
        def isatty(self):
            return True

    url, _, _ = server
    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    dest = weights.fetch_one(weights.KNOWN["inception"], mirror=url)
    assert dest.read_bytes() == FILES["inception"]
    assert "weights-inception-2015-12-05-6726825d.pth" in err.getvalue()  # the bar's label
