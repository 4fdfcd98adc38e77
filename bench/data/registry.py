"""Which data sets exist, what they contain, and how to build one.

dataset_info(cfg)         -> DatasetInfo, without touching any file for the named data sets
build_dataset(cfg, split) -> torch Dataset with `.info`, split in {"train", "val"}

Official values (NVlabs/SPADE data/*_dataset.py):
  ade20k     label_nc 150, contain_dontcare_label, no_instance -> 151 channels.
             File label 0 ("other") is the don't-care: ids shift down by one, 0 -> 150.
  cocostuff  label_nc 182, contain_dontcare_label, instance maps -> 184 channels.
             File label 255 ("unlabeled") -> 182.
  cityscapes label_nc 35 (labelIds 0..34), no don't-care, instance maps -> 36 channels.
  facades    12 CMP classes (the pix2pix rendering: measured palette entry i = class i).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from bench.data.base import DatasetInfo
from bench.data.config import DataConfig
from bench.errors import BenchError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SHARED_FACADES = REPO_ROOT.parent / "shared" / "datasets" / "facades"
SPLITS = ("train", "val")

# name -> (num_classes, dontcare_id, instance maps exist, official instance default)
_OFFICIAL = {
    "ade20k": (150, 150, False, False),
    "cocostuff": (182, 182, True, True),
    "cityscapes": (35, None, True, True),
    "facades": (12, None, False, False),
    "cmp": (12, None, False, False),
}


def dataset_info(cfg: DataConfig) -> DatasetInfo:
    """The label layout of cfg's data set (class count, don't-care id, instance channel)."""
    from bench.data import names, synthetic

    name = cfg.dataset
    if name == "synthetic":
        n, dontcare, has_inst, inst_default = len(synthetic.CLASSES), None, True, False
        class_names, palette = synthetic.CLASSES, synthetic.PALETTE
    elif name == "folder":
        if cfg.num_classes is None:
            raise BenchError("data.num_classes: required for dataset 'folder' "
                             "(label ids 0..num_classes-1)")
        n = cfg.num_classes
        dontcare = n if cfg.contain_dontcare else None
        has_inst, inst_default = True, False
        class_names, palette = (), ()
    else:
        n, dontcare, has_inst, inst_default = _OFFICIAL[name]
        class_names, palette = names.CLASS_NAMES.get(name, ()), ()
        if name in ("facades", "cmp"):  # shown (and fed to pix2pix) in the pix2pix colours
            from bench.data.facades import PALETTE

            palette = tuple(tuple(int(v) for v in c) for c in PALETTE)
    use_instance = inst_default if cfg.use_instance is None else cfg.use_instance
    if use_instance and not has_inst:
        raise BenchError(f"data.use_instance: dataset {name!r} has no instance maps "
                         "(set use_instance: false)")
    if not palette:
        palette = names.default_palette(n)
    if dontcare is not None:
        palette = tuple(palette) + ((0, 0, 0),)  # don't-care shown black
    return DatasetInfo(name=name, num_classes=n, class_names=tuple(class_names),
                       dontcare_id=dontcare, use_instance=use_instance, palette=tuple(palette))


def data_root(cfg: DataConfig) -> Path:
    """The folder of a real data set: cfg.root, else the shared facades copy."""
    if cfg.root is not None:
        return Path(cfg.root).expanduser()
    if cfg.dataset == "facades" and SHARED_FACADES.is_dir():
        return SHARED_FACADES
    raise BenchError(f"data.root: required for dataset {cfg.dataset!r} (the data folder)")


def build_dataset(cfg: DataConfig, split: str) -> Dataset:
    """A Dataset of contract items (bench.data.base) for one split; it carries `.info`."""
    if split not in SPLITS:
        raise BenchError(f"split {split!r}: valid choices are {', '.join(SPLITS)}")
    info = dataset_info(cfg)
    if cfg.dataset == "synthetic":
        from bench.data.synthetic import synthetic_pairs

        pairs = synthetic_pairs(cfg, split)
    else:
        from bench.data.layouts import find_pairs

        pairs = find_pairs(cfg.dataset, data_root(cfg), split, use_instance=info.use_instance)
    from bench.data.pairs import PairDataset

    return PairDataset(pairs, info, cfg, train=(split == "train"))
