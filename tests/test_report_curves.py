"""The band of the metric-along-training curves: the t interval over seeds, clipped to
the values the metric can take."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench.report.curves import band


def t_interval(values):
    x = np.asarray(values)
    return stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))


def test_band_is_the_t_interval_clipped_to_the_metric_range():
    values = [0.1, 0.5, 2.0]  # 3 seeds: the t interval reaches below 0
    lo, hi = t_interval(values)
    assert lo < 0
    mean, blo, bhi = band("fd_oracle", values)  # a distance: floor 0
    assert (mean, blo, bhi) == pytest.approx((np.mean(values), 0.0, hi))
    # KID's unbiased estimate can be negative: its band is not clipped
    assert band("kid_oracle", values) == pytest.approx((np.mean(values), lo, hi))
    scores = [0.9, 0.95, 0.99]  # mIoU: at most 1
    lo, hi = t_interval(scores)
    assert hi > 1 and band("miou", scores) == pytest.approx((np.mean(scores), lo, 1.0))


def test_one_seed_has_no_band():
    assert band("miou", [0.4]) == (0.4, 0.4, 0.4)
