"""The facades loader on the real copy in ../shared/datasets/facades (skipped without it)."""

import numpy as np
import pytest
import torch

from bench.data.config import DataConfig
from bench.data.facades import read_facade
from bench.data.registry import SHARED_FACADES, build_dataset

pytestmark = pytest.mark.skipif(not SHARED_FACADES.is_dir(), reason="no shared facades copy")


def test_pair_counts_and_item_contract():
    cfg = DataConfig(dataset="facades", image_size=64)
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert (len(train), len(val)) == (400, 106)
    assert train.info.num_classes == 12 and train.info.semantic_nc == 12
    item = val[0]
    assert item["image"].shape == (3, 64, 64) and item["label"].shape == (64, 64)
    assert item["label"].dtype == torch.int64 and 0 <= item["label"].min() <= item["label"].max() < 12
    assert -1 <= item["image"].min() and item["image"].max() <= 1
    assert item["path"].endswith("test/1.jpg")


def test_twelve_classes_and_ambiguity_share():
    """All 12 palette entries occur; the ambiguous share is near the README's 'about a
    fifth' (the full figure per split is printed by `bench data check`)."""
    paths = sorted((SHARED_FACADES / "train").glob("*.jpg"))[::8]  # 50 files
    counts, ambiguous, total = np.zeros(12, np.int64), 0, 0
    for p in paths:
        photo, ids, amb = read_facade(p)
        assert photo.shape == (256, 256, 3) and ids.shape == (256, 256)
        counts += np.bincount(ids.ravel(), minlength=12)
        ambiguous, total = ambiguous + int(amb.sum()), total + amb.size
    assert (counts > 0).all(), counts
    share = ambiguous / total
    print(f"facades ambiguous share (50 train files): {share:.3f}")
    assert 0.1 < share < 0.35


# ../shared/datasets/facades/README.md: share of train pixels by nearest centre, per class.
README_TRAIN_SHARES = [23.6, 34.3, 12.8, 1.3, 2.9, 3.7, 4.6, 0.8, 1.8, 8.4, 0.8, 5.2]


def test_check_names_the_classes_and_matches_the_readme_shares(capsys):
    from bench.data.check import check_folder
    from bench.data.names import FACADES

    out = check_folder(SHARED_FACADES)
    printed = capsys.readouterr().out
    assert out["dataset"] == "facades" and out["num_classes"] == 12
    for i, name in enumerate(FACADES):
        assert f"{i}:{name}" in printed
    train, val = out["splits"]["train"], out["splits"]["val"]
    assert (train["pairs"], val["pairs"]) == (400, 106)
    assert sum(train["class_share"]) == pytest.approx(1.0)
    for i, expected in enumerate(README_TRAIN_SHARES):
        assert abs(100 * train["class_share"][i] - expected) <= 1.0, (FACADES[i], train["class_share"][i])
    # bench.data.facades' ambiguity (measured 17.7% train, 18.5% test) next to the README's
    # "about 22% more than 40 units from every centre" (measured 22.1%, 22.9%)
    print({s: (v["ambiguous_share"], v["far_share"]) for s, v in out["splits"].items()})
    assert 0.15 < train["ambiguous_share"] < 0.21 and 0.15 < val["ambiguous_share"] < 0.22
    assert 0.20 < train["far_share"] < 0.24 and 0.20 < val["far_share"] < 0.25
    assert "> 40 from palette" in printed
