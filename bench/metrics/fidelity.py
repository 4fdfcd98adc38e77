"""FID / KID and their oracle-feature substitutes, all through torch-fidelity's own code.

Folder inputs: input1 = the generated PNGs, input2 = the real PNGs at the same size.
The real side's features and statistics are cached by torch-fidelity under
$BENCH_CACHE/fidelity, keyed by `real_cache_name` (data set, split, size, count) and
the feature extractor's registered name.

- fid / kid: torch-fidelity's "inception-v3-compat" with its standard weights. Only
  called once the weight file is known to be present; its path is passed explicitly
  (feature_extractor_weights_path), so torch-fidelity never tries to download.
- fd_oracle / kid_oracle: the same Frechet distance and KID code on the oracle
  segmenter's pooled bottleneck features, via a feature extractor registered in
  torch-fidelity's registry. Never reported as FID/KID.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_fidelity import calculate_metrics
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.metric_fid import (
    KEY_METRIC_FID,
    fid_features_to_statistics,
    fid_statistics_to_metric,
)
from torch_fidelity.metric_kid import (
    KEY_METRIC_KID_MEAN,
    KEY_METRIC_KID_STD,
    kid_features_to_metric,
)
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from bench.metrics.paths import cache_dir

INCEPTION_EXTRACTOR = "inception-v3-compat"
ORACLE_EXTRACTOR = "bench-oracle-unet"
INCEPTION_LAYER = "2048"  # torch-fidelity's default layer for fid and kid
ORACLE_LAYER = "pool"


class OracleFeatureExtractor(FeatureExtractorBase):
    """uint8 (N, 3, H, W) -> ((N, 8w) pooled oracle bottleneck,), for torch-fidelity."""

    # torch-fidelity passes every calculate_metrics argument to the constructor; the
    # catch-all **kwargs is that library's interface, not ours.
    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        from bench.metrics.oracle import load_oracle

        if feature_extractor_weights_path is None:
            raise ValueError("the oracle feature extractor needs feature_extractor_weights_path")
        self.net, _ = load_oracle(Path(feature_extractor_weights_path), torch.device("cpu"))

    @staticmethod
    def get_provided_features_list():
        return (ORACLE_LAYER,)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return ORACLE_LAYER

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 3, 64, 64, dtype=torch.uint8)

    def forward(self, x: torch.Tensor):
        x = x.float() / 127.5 - 1.0  # uint8 -> [-1, 1], as the oracle was trained
        return (self.net.features(x),)


if ORACLE_EXTRACTOR not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor(ORACLE_EXTRACTOR, OracleFeatureExtractor)


def frechet_distance(features_1: torch.Tensor, features_2: torch.Tensor) -> float:
    """(N, D), (M, D) features -> Frechet distance, torch-fidelity's statistics and formula."""
    s1 = fid_features_to_statistics(features_1.double())
    s2 = fid_features_to_statistics(features_2.double())
    return fid_statistics_to_metric(s1, s2, verbose=False)[KEY_METRIC_FID]


def kernel_distance(features_1: torch.Tensor, features_2: torch.Tensor, subset_size: int,
                    subsets: int = 100, seed: int = 2020) -> tuple[float, float]:
    """KID (mean, std over subsets), torch-fidelity's polynomial-kernel unbiased MMD^2."""
    out = kid_features_to_metric(features_1, features_2, kid_subset_size=subset_size,
                                 kid_subsets=subsets, rng_seed=seed, verbose=False)
    return out[KEY_METRIC_KID_MEAN], out[KEY_METRIC_KID_STD]


def folder_metrics(fake_dir: Path, real_dir: Path, extractor: str, layer: str, weights_path: Path,
                   real_cache_name: str, num_samples: int, kid_subset_size: int,
                   kid_subsets: int, cuda: bool, fid: bool, kid: bool) -> dict:
    """torch-fidelity on two PNG folders -> {"fd": float, "kid": float, "kid_std": float,
    "kid_subset_size": int} (only the asked ones)."""
    subset = min(kid_subset_size, num_samples)
    out = calculate_metrics(
        input1=str(fake_dir), input2=str(real_dir), input2_cache_name=real_cache_name,
        cache_root=str(cache_dir("fidelity")), cache=True,
        feature_extractor=extractor, feature_extractor_weights_path=str(weights_path),
        feature_layer_fid=layer, feature_layer_kid=layer,
        fid=fid, kid=kid, kid_subset_size=subset, kid_subsets=kid_subsets,
        cuda=cuda, batch_size=32, save_cpu_ram=True, verbose=False,
        samples_find_ext="png",
    )
    res = {}
    if fid:
        res["fd"] = float(out[KEY_METRIC_FID])
    if kid:
        res.update(kid=float(out[KEY_METRIC_KID_MEAN]), kid_std=float(out[KEY_METRIC_KID_STD]),
                   kid_subset_size=subset)
    return res
