"""The pretrained weight files the metrics (and the VGG loss) need: where, status, import.

File names follow torch hub's convention `<name>-<first 8+ hex of sha256>.pth`, and
every file sits where its library looks for it, so nothing here changes how the
libraries load them. `bench weights status` prints the table; `bench weights import
FILE` checks a file's sha256 and copies it into place (temp file + rename).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import atomic_copy
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
# LPIPS' learned linear layers ship inside the pip package (lpips 0.1.4 digest).
LPIPS_LIN = WeightFile(
    "lpips_alex_lin", "alex.pth", _lpips_dir, "lpips, lpips_diversity",
    "(inside the lpips package)",
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
                             f"expected {wf.expected_hash()}... (replace it: `bench weights import FILE`)")
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
            f"(get it from {wf.url}, then `bench weights import FILE`)")


def status_rows() -> list[dict]:
    rows = []
    for wf in KNOWN.values():
        present = wf.path.is_file()
        rows.append({
            "file": wf.file, "folder": str(wf.folder()), "present": present,
            "checksum_ok": checksum_ok(wf) if present else None, "needed_by": wf.needed_by,
        })
    return rows


def print_status() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Pretrained weight files")
    for col in ("file", "expected folder", "present", "checksum ok", "needed by"):
        table.add_column(col, overflow="fold")
    for r in status_rows():
        ok = {None: "-", True: "yes", False: "NO (wrong file)"}[r["checksum_ok"]]
        table.add_row(r["file"], r["folder"], "yes" if r["present"] else "no", ok, r["needed_by"])
    Console().print(table)


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
