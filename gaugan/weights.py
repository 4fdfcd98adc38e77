"""Where pretrained weight files live, and the error when one is absent.

Files are looked up where their library caches them (torch hub: $TORCH_HOME/hub/
checkpoints, see torch.hub.get_dir()). Nothing here downloads; a missing file is an
error that names the file and the folder, never a silent fallback to random weights.
"""

from __future__ import annotations

from pathlib import Path

import torch


class WeightsMissingError(FileNotFoundError):
    """A pretrained weight file is not where its library looks for it."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = Path(path), what
        super().__init__(
            f"{what}: weight file {self.path.name} not found in {self.path.parent} "
            f"(expected {self.path}); copy the file there (no download is attempted)"
        )

    def __str__(self) -> str:  # OSError would format (errno, strerror)
        return self.args[0]


def hub_checkpoint_path(filename: str) -> Path:
    """Path torch.hub uses for a downloaded checkpoint: <hub dir>/checkpoints/<filename>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def require_hub_checkpoint(filename: str, what: str) -> Path:
    """The checkpoint's path if the file exists, else WeightsMissingError."""
    path = hub_checkpoint_path(filename)
    if not path.is_file():
        raise WeightsMissingError(path, what)
    return path
