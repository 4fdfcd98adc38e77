"""Confidence intervals and paired tests against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bench.report.plots import pareto_front
from bench.report.stats import mean_ci, paired


def test_mean_ci_by_hand():
    # values 1, 2, 3: mean 2, s = 1, t_{0.975, 2} = 4.302652729749464
    s = mean_ci([1.0, 2.0, 3.0])
    assert s.n == 3 and s.mean == 2.0
    assert s.half == pytest.approx(4.302652729749464 / math.sqrt(3), rel=1e-9)
    assert (s.lo, s.hi) == pytest.approx((2.0 - s.half, 2.0 + s.half))


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_mean_ci_matches_scipy_t_interval(n):
    x = np.random.default_rng(n).normal(0.4, 0.05, size=n)
    lo, hi = sps.t.interval(0.95, df=n - 1, loc=x.mean(), scale=sps.sem(x))
    s = mean_ci(x)
    assert (s.lo, s.hi) == pytest.approx((lo, hi), rel=1e-12)


def test_mean_ci_one_value_and_missing_values():
    s = mean_ci([0.7])
    assert s.n == 1 and s.mean == 0.7 and s.half is None and s.lo is None
    assert mean_ci([]) is None
    assert mean_ci([None, float("nan")]) is None
    assert mean_ci([1.0, None, 3.0]).n == 2


def test_paired_matches_scipy_ttest_rel():
    a = {0: 0.52, 1: 0.48, 2: 0.55, 3: 0.50}
    b = {0: 0.47, 1: 0.46, 2: 0.49, 3: 0.49}
    r = paired(a, b)
    xa, xb = np.array(list(a.values())), np.array(list(b.values()))
    assert r.n == 4
    assert r.p == pytest.approx(sps.ttest_rel(xa, xb).pvalue, rel=1e-12)
    assert r.diff.mean == pytest.approx((xa - xb).mean())
    lo, hi = sps.t.interval(0.95, df=3, loc=(xa - xb).mean(), scale=sps.sem(xa - xb))
    assert (r.diff.lo, r.diff.hi) == pytest.approx((lo, hi))


def test_paired_by_hand():
    # differences 1, 2, 3: mean 2, s 1, t = 2 / (1 / sqrt 3) = 3.4641, df 2 -> p = 0.07418
    r = paired({0: 2.0, 1: 4.0, 2: 6.0}, {0: 1.0, 1: 2.0, 2: 3.0})
    assert r.diff.mean == 2.0
    assert r.p == pytest.approx(2 * sps.t.sf(2 * math.sqrt(3), 2))
    assert r.p == pytest.approx(0.0741799, abs=1e-6)


def test_paired_pairs_by_seed_and_handles_one_seed():
    r = paired({0: 1.0, 1: 2.0, 5: 9.0}, {1: 1.5, 0: 0.5, 7: 3.0})  # seeds 0, 1 only
    assert r.n == 2 and r.diff.mean == pytest.approx(0.5)
    one = paired({0: 1.0}, {0: 0.25})
    assert one.n == 1 and one.diff.mean == 0.75 and one.diff.half is None and one.p is None
    assert paired({0: 1.0}, {1: 1.0}) is None
    same = paired({0: 1.0, 1: 2.0}, {0: 0.5, 1: 1.5})  # identical differences: t undefined
    assert same.p is None


def test_pareto_front():
    pts = [(1.0, 0.5), (2.0, 0.6), (3.0, 0.55), (0.5, 0.3)]  # (cost, quality)
    assert pareto_front(pts, higher_is_better=True) == [0, 1, 3]  # 3.0 is beaten by 2.0
    assert pareto_front(pts, higher_is_better=False) == [3]  # cheapest and lowest
