"""The pretrained weight files the metrics (and the VGG loss) need: where, status,
fetch, import, and the one explanation a process prints when one is absent.

File names follow torch hub's convention `<name>-<first 8+ hex of sha256>.pth`, and
every file sits where its library looks for it, so nothing here changes how the
libraries load them. `bench weights status` lists them; `bench weights fetch NAME`
downloads one from its official URL (or from $BENCH_WEIGHTS_MIRROR/<file name>);
`bench weights import FILE` takes a file downloaded elsewhere. Both check the sha256
(the full digest when known, else the prefix in the file name, as torch hub does) and
write into place atomically (temp file in the same folder, fsync, rename).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import atomic_copy, atomic_write
from bench.errors import BenchError
from bench.metrics.paths import hub_checkpoints_dir

# torch.hub.HASH_REGEX: the sha256 prefix before the extension.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")


def _lpips_dir() -> Path:
    import lpips

    return Path(lpips.__file__).resolve().parent / "weights" / "v0.1"


@dataclass(frozen=True)
class WeightFile:
    key: str
    file: str
    folder: Callable[[], Path]  # evaluated at call time: TORCH_HOME may change
    needed_by: str
    url: str
    sha256: str = ""  # full hex digest when known; else the prefix in the file name is checked

    @property
    def path(self) -> Path:
        return self.folder() / self.file

    def expected_hash(self) -> str:
        if self.sha256:
            return self.sha256
        m = _HASH_IN_NAME.search(self.file)
        return m.group(1) if m else ""


# torch-fidelity 0.4.0 (feature_extractor_inceptionv3.URL_INCEPTION_V3) downloads this
# name through torch.hub.load_state_dict_from_url, i.e. into hub's checkpoints folder.
INCEPTION = WeightFile(
    "inception", "weights-inception-2015-12-05-6726825d.pth", hub_checkpoints_dir, "fid, kid",
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth",
)
# lpips.pretrained_networks.alexnet -> torchvision alexnet(pretrained=True).
ALEXNET = WeightFile(
    "alexnet", "alexnet-owt-7be5be79.pth", hub_checkpoints_dir, "lpips, lpips_diversity",
    "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
)
# LPIPS' learned linear layers ship inside the pip package (lpips 0.1.4 digest); the
# package is built from this folder of its repository.
LPIPS_LIN = WeightFile(
    "lpips_alex_lin", "alex.pth", _lpips_dir, "lpips, lpips_diversity",
    "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth",
    sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
)


def _vgg19_file() -> str:
    """The perceptual loss's own constant (gaugan.losses), so the two never disagree."""
    try:
        from gaugan.losses import VGG19_FILE

        return VGG19_FILE
    except ImportError:  # the model library without its losses module
        return "vgg19-dcbb9e9d.pth"


# torchvision vgg19(weights=IMAGENET1K_V1): the perceptual loss (gaugan.losses).
VGG19 = WeightFile(
    "vgg19", _vgg19_file(), hub_checkpoints_dir, "VGG perceptual loss (training)",
    "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
)
KNOWN: dict[str, WeightFile] = {wf.key: wf for wf in (INCEPTION, ALEXNET, LPIPS_LIN, VGG19)}


class WeightsMissing(Exception):
    """A weight file a metric needs is absent or not the standard one: the metric is
    null with this reason (the run goes on)."""


def require(key: str) -> tuple[Path, str]:
    """(path, sha256) of a standard file that is present with the right checksum.

    Looked up in KNOWN at call time. Raises WeightsMissing naming the file and folder.
    """
    wf = KNOWN[key]
    if not wf.path.is_file():
        raise WeightsMissing(missing_reason(wf))
    digest = sha256_of(wf.path)
    if not digest.startswith(wf.expected_hash()):
        raise WeightsMissing(f"not the standard weights: {wf.path} has sha256 {digest}, "
                             f"expected {wf.expected_hash()}... (replace it: `bench weights "
                             f"fetch {wf.key}` or `bench weights import FILE`)")
    return wf.path, digest


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksum_ok(wf: WeightFile, path: Path | None = None) -> bool:
    digest = sha256_of(path or wf.path)
    return digest.startswith(wf.expected_hash())


def missing_reason(wf: WeightFile) -> str:
    return (f"weights missing: {wf.file} not found in {wf.folder()} "
            f"(`bench weights fetch {wf.key}`; offline, download {wf.url} elsewhere, "
            "then `bench weights import FILE`)")


def status_rows() -> list[dict]:
    rows = []
    for wf in KNOWN.values():
        present = wf.path.is_file()
        rows.append({
            "key": wf.key, "file": wf.file, "folder": str(wf.folder()), "present": present,
            "checksum_ok": checksum_ok(wf) if present else None, "needed_by": wf.needed_by,
            "url": wf.url,
        })
    return rows


# ----------------------------------------------------------------- text that fits the terminal

_LABEL = 13  # "  needed by: " and its siblings


def output_width(stream=None) -> int | None:
    """$COLUMNS when set, else the terminal's width, else None (a pipe: no wrapping, so a
    URL stays whole for grep and copy)."""
    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    stream = stream or sys.stdout
    if hasattr(stream, "isatty") and stream.isatty():
        return shutil.get_terminal_size().columns
    return None


def _pieces(text: str, room: int) -> list[str]:
    """Split a path or URL after a '/' (hard-split a part longer than room)."""
    parts = re.findall(r"[^/]*/|[^/]+$", text) or [text]
    lines, cur = [], ""
    for part in parts:
        while len(part) > room:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(part[:room])
            part = part[room:]
        if len(cur) + len(part) > room:
            lines.append(cur)
            cur = part
        else:
            cur += part
    if cur:
        lines.append(cur)
    return lines


def _field(label: str, value: str, width: int | None) -> list[str]:
    """'  label:     value', the value wrapped to `width` with continuation lines aligned
    under it: words at spaces, paths and URLs after a '/'."""
    head = f"  {label + ':':<{_LABEL - 2}}"
    if width is None or len(head) + len(value) <= width:
        return [head + value]
    room = max(20, width - _LABEL)
    lines, cur = [], ""
    for word in value.split(" "):
        chunks = _pieces(word, room) if len(word) > room else [word]
        for chunk in chunks:
            if cur and len(cur) + 1 + len(chunk) > room:
                lines.append(cur)
                cur = chunk
            else:
                cur = f"{cur} {chunk}" if cur else chunk
            if chunk is not chunks[-1]:  # a split path continues on the next line
                lines.append(cur)
                cur = ""
    if cur:
        lines.append(cur)
    return [head + lines[0]] + [" " * _LABEL + ln for ln in lines[1:]]


def _wrap(text: str, width: int | None, indent: str = "") -> list[str]:
    if width is None or len(text) <= width:
        return [text]
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) or [text]


def status_lines(width: int | None) -> list[str]:
    """One block per file: name, state, needed by, folder, and the URL of a missing one."""
    lines = _wrap("Pretrained weight files (each in the folder its library reads):", width)
    missing = []
    for r in status_rows():
        if not r["present"]:
            state = "MISSING"
        elif r["checksum_ok"]:
            state = "present, checksum ok"
        else:
            state = "WRONG FILE (checksum differs: not the standard weights)"
        if state != "present, checksum ok":
            missing.append(r["key"])
        lines += [""] + _wrap(f"{r['key']}: {r['file']}", width, "    ")
        lines += _field("state", state, width)
        lines += _field("needed by", r["needed_by"], width)
        lines += _field("folder", r["folder"], width)
        if r["key"] in missing:
            lines += _field("url", r["url"], width)
    lines.append("")
    if missing:
        lines += _wrap(f"Get them: bench weights fetch {' '.join(missing)} (or --all). Offline: "
                       "download each url elsewhere, then `bench weights import FILE`.", width)
    else:
        lines += _wrap("All present.", width)
    return lines


def print_status() -> None:
    print("\n".join(status_lines(output_width())))


# ----------------------------------------------------------------- one explanation per process

_explained: set[str] = set()  # keys (or reasons) already explained in this process


def _named_in(text: str) -> WeightFile | None:
    """The known weight file a reason names, if any."""
    for wf in KNOWN.values():
        if re.search(rf"(?<![\w.-]){re.escape(wf.file)}", text):
            return wf
    return None


def short_reason(reason: str) -> str:
    """What a per-run summary says for a null metric: short for weights (the explanation
    with file, folder and URL is printed once per process), the reason itself otherwise."""
    if reason.startswith("weights missing"):
        return "weights missing"
    if reason.startswith("not the standard weights"):
        return "not the standard weights"
    return reason


def is_weights_reason(reason: str | None) -> bool:
    return bool(reason) and short_reason(reason) != reason


def explanation(reason: str, consequence: str | None = None, width: int | None = None) -> list[str]:
    wf = _named_in(reason)
    wrong = reason.startswith("not the standard weights")
    if wf is None:  # a file the user configured (e.g. eval.segmenter_weights)
        lines = _wrap(reason, width, "    ")
        lines += _wrap(f"  meanwhile: {consequence or 'the metrics that need it are n/a'}; "
                       "the run goes on", width, "    ")
        return lines
    head = (f"not the standard weights: {wf.file} (needed by {wf.needed_by})" if wrong
            else f"weights missing: {wf.file} (needed by {wf.needed_by})")
    lines = _wrap(head, width, "    ")
    if wrong:
        lines += _field("found", reason.split(": ", 1)[-1].split(" (")[0], width)
    lines += _field("folder", str(wf.folder()), width)
    lines += _field("url", wf.url, width)
    lines += _field("fetch", f"bench weights fetch {wf.key}" + (" (replaces it)" if wrong else ""),
                    width)
    lines += _field("offline", "download the url elsewhere, then `bench weights import FILE`",
                    width)
    label = "not the standard weights" if wrong else "weights missing"
    lines += _field("meanwhile", consequence or f"{wf.needed_by} are reported as n/a ({label}); "
                    "the run goes on", width)
    return lines


def explain_missing_once(reason: str | BaseException, consequence: str | None = None) -> bool:
    """Print (stderr) what is missing, where it goes, where it comes from and how to get
    it, the first time this process meets that file; later calls for it print nothing.
    Returns whether it printed."""
    text = str(reason)
    wf = _named_in(text)
    key = wf.key if wf is not None else text
    if key in _explained:
        return False
    _explained.add(key)
    width = output_width(sys.stderr)
    print("\n".join(explanation(text, consequence, width)), file=sys.stderr, flush=True)
    return True


# ----------------------------------------------------------------- fetch

MIRROR_ENV = "BENCH_WEIGHTS_MIRROR"
TIMEOUT_S = 30.0  # per connect / read


def source_url(wf: WeightFile, mirror: str | None = None) -> str:
    """The official URL, or <mirror>/<file name> (argument, else $BENCH_WEIGHTS_MIRROR)."""
    base = mirror if mirror is not None else os.environ.get(MIRROR_ENV, "")
    return f"{base.rstrip('/')}/{wf.file}" if base else wf.url


def resolve_names(names: list[str]) -> list[WeightFile]:
    """Keys ('inception') or file names ('weights-inception-...pth') -> files; BenchError
    listing the valid names for an unknown one."""
    by_name = {**{wf.file: wf for wf in KNOWN.values()}, **KNOWN}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise BenchError(f"unknown weight file(s) {', '.join(map(repr, unknown))}; valid: "
                         f"{', '.join(KNOWN)} (or their file names, see `bench weights status`)")
    out: list[WeightFile] = []
    for n in names:
        if by_name[n] not in out:
            out.append(by_name[n])
    return out


class _Progress:
    """A rich progress bar on a terminal; otherwise one plain line when done."""

    def __init__(self, label: str, total: int | None):
        self.label, self.total, self.done, self.bar = label, total, 0, None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                TransferSpeedColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=False)
            self.bar.start()
            self.task = self.bar.add_task(label, total=total)

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, advance=n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _offline(url: str, why: object, wf: WeightFile) -> BenchError:
    return BenchError(f"cannot download {url} ({why}). Without network: download that URL on a "
                      f"machine that has one, then run `bench weights import FILE` here (it checks "
                      f"the sha256 and puts {wf.file} into {wf.folder()})")


def _remove_empty(folder: Path, stop: Path | None) -> None:
    """Remove the folders fetch created (stop: the first one it created), if left empty."""
    if stop is None:
        return
    d = folder
    while True:
        try:
            d.rmdir()
        except OSError:
            return
        if d == stop:
            return
        d = d.parent


def fetch_one(wf: WeightFile, mirror: str | None = None) -> Path:
    """Download wf into its folder: stream to a temp file there while hashing, compare the
    sha256, then fsync + rename. On a mismatch or a network failure nothing is left."""
    expected = wf.expected_hash()
    if not expected:
        raise BenchError(f"{wf.file}: no known checksum, refusing to fetch it unchecked")
    dest, url = wf.path, source_url(wf, mirror)
    if dest.is_file():
        if checksum_ok(wf):
            print(f"{wf.key}: already present, skipped ({dest})")
            return dest
        print(f"{wf.key}: {dest} has the wrong checksum; replacing it")
    req = urllib.request.Request(url, headers={"User-Agent": "bench-weights-fetch"})
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        raise BenchError(f"cannot download {url}: HTTP {e.code} {e.reason}. Download the file "
                         f"elsewhere, then `bench weights import FILE`") from None
    except urllib.error.URLError as e:
        raise _offline(url, e.reason, wf) from None
    except OSError as e:  # a timeout, a reset connection
        raise _offline(url, e, wf) from None

    # the outermost folder this fetch will create, removed again if the fetch fails
    created = next((p for p in reversed([dest.parent, *dest.parent.parents]) if not p.exists()),
                   None)
    total = int(resp.headers.get("Content-Length") or 0) or None
    print(f"{wf.key}: downloading {url}" + (f" ({_mb(total)})" if total else ""), flush=True)
    h = hashlib.sha256()
    progress = _Progress(wf.file, total)

    def write(f) -> None:
        try:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                f.write(chunk)
                h.update(chunk)
                progress.advance(len(chunk))
        except OSError as e:
            raise _offline(url, f"interrupted after {_mb(progress.done)}: {e}", wf) from None
        finally:
            progress.close()
        digest = h.hexdigest()
        if not digest.startswith(expected):
            raise BenchError(f"{url}: checksum mismatch (sha256 {digest}, expected {expected}"
                             f"{'' if len(expected) == 64 else '...'}); nothing written")

    try:
        with resp:
            atomic_write(dest, write)
    except BaseException as e:
        _remove_empty(dest.parent, created)
        if isinstance(e, OSError):  # the folder: permissions, a full disk
            raise BenchError(f"cannot write {dest}: {e}") from None
        raise
    print(f"{wf.key}: sha256 ok, {_mb(progress.done)} -> {dest}")
    return dest


def fetch_weights(names: list[str], all_: bool = False, mirror: str | None = None) -> list[Path]:
    """`bench weights fetch`: each named file (or every one), in order; the first failure stops."""
    if all_ and names:
        raise BenchError("give weight names or --all, not both")
    if not all_ and not names:
        raise BenchError(f"name the files to fetch (valid: {', '.join(KNOWN)}) or use --all")
    files = list(KNOWN.values()) if all_ else resolve_names(names)
    return [fetch_one(wf, mirror) for wf in files]


def import_weight(file: str | os.PathLike) -> Path:
    """Check `file`'s sha256 against its known name, then copy it into place atomically."""
    src = Path(file)
    if not src.is_file():
        raise BenchError(f"{src}: file not found")
    by_name = {wf.file: wf for wf in KNOWN.values()}
    wf = by_name.get(src.name)
    if wf is None:
        raise BenchError(f"{src}: unknown weight file name {src.name!r}; valid: {', '.join(by_name)}")
    digest = sha256_of(src)
    if not digest.startswith(wf.expected_hash()):
        raise BenchError(f"{src}: wrong checksum (sha256 {digest}, expected {wf.expected_hash()}...); "
                         "nothing copied")
    dest = wf.path
    atomic_copy(src, dest)
    print(f"imported {src.name} -> {dest}")
    return dest
