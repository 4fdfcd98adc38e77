"""dataset_info / build_dataset: official label layouts without files, config errors."""

import numpy as np
import pytest
from pydantic import ValidationError

from bench.data.config import DataConfig
from bench.data.facades import PALETTE
from bench.data.registry import SHARED_FACADES, build_dataset, data_root, dataset_info
from bench.errors import BenchError

# Official NVlabs/SPADE values: (label_nc, contain_dontcare_label, instance by default)
OFFICIAL = {"ade20k": (150, True, False), "cocostuff": (182, True, True),
            "cityscapes": (35, False, True), "facades": (12, False, False)}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_label_layouts_without_files(name):
    nc, dontcare, inst = OFFICIAL[name]
    info = dataset_info(DataConfig(dataset=name, root="/does/not/exist"))
    assert info.num_classes == nc and (info.dontcare_id is not None) == dontcare
    assert info.use_instance == inst
    assert info.semantic_nc == nc + dontcare + inst
    assert len(info.palette) == info.label_channels
    assert len(set(info.palette)) == info.label_channels  # distinct display colours
    assert len(info.class_names) in (0, nc)


def test_semantic_nc_reference_values():
    sem = lambda **kw: dataset_info(DataConfig(**kw)).semantic_nc
    assert sem(dataset="ade20k") == 151  # DESIGN.md reference count for GauGAN on ADE20K
    assert sem(dataset="cocostuff") == 184 and sem(dataset="cityscapes") == 36
    assert sem(dataset="cocostuff", use_instance=False) == 183
    assert sem(dataset="cityscapes", use_instance=False) == 35


def test_dontcare_ids():
    assert dataset_info(DataConfig(dataset="ade20k")).dontcare_id == 150
    assert dataset_info(DataConfig(dataset="cocostuff")).dontcare_id == 182
    assert dataset_info(DataConfig(dataset="cityscapes")).dontcare_id is None


def test_synthetic_and_folder():
    info = dataset_info(DataConfig())
    assert info.name == "synthetic" and info.num_classes >= 8 and info.dontcare_id is None
    assert len(info.class_names) == info.num_classes
    folder = dataset_info(DataConfig(dataset="folder", num_classes=7, contain_dontcare=True))
    assert folder.num_classes == 7 and folder.dontcare_id == 7 and folder.semantic_nc == 8
    with pytest.raises(BenchError, match="data.num_classes"):
        dataset_info(DataConfig(dataset="folder"))


def test_instance_where_there_is_none():
    with pytest.raises(BenchError, match="data.use_instance.*ade20k"):
        dataset_info(DataConfig(dataset="ade20k", use_instance=True))


def test_facades_palette_is_the_measured_table():
    """The shared README's measured centres (not jet(i/11), which put two classes on one
    entry); no two classes share an entry, and names follow the CMP order."""
    readme = [(0, 0, 222), (0, 48, 255), (0, 128, 255), (0, 208, 255), (32, 255, 224),
              (112, 255, 143), (191, 255, 64), (255, 240, 1), (255, 160, 0), (255, 80, 0),
              (253, 0, 0), (175, 0, 0)]
    np.testing.assert_array_equal(PALETTE, readme)
    assert len({tuple(c) for c in PALETTE}) == 12
    info = dataset_info(DataConfig(dataset="facades"))
    assert info.class_names[:3] == ("background", "facade", "window") and info.class_names[11] == "shop"
    assert info.palette == tuple(map(tuple, readme))


def test_bad_split_unknown_key_missing_root():
    with pytest.raises(BenchError, match="valid choices are train, val"):
        build_dataset(DataConfig(), "test")
    with pytest.raises(ValidationError):
        DataConfig(datasett="synthetic")
    with pytest.raises(ValidationError):
        DataConfig(dataset="imagenet")
    with pytest.raises(BenchError, match="data.root"):
        build_dataset(DataConfig(dataset="ade20k"), "train")
    with pytest.raises(BenchError, match="nowhere"):
        build_dataset(DataConfig(dataset="ade20k", root="/nowhere"), "train")


@pytest.mark.skipif(not SHARED_FACADES.is_dir(), reason="no shared facades copy")
def test_facades_default_root_is_the_shared_copy():
    assert data_root(DataConfig(dataset="facades")) == SHARED_FACADES
