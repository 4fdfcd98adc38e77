"""Confidence intervals over seeds: Student-t, two-sided.

mean_ci:  mean of n values, half-width t_{0.975, n-1} * s / sqrt(n) (s: sample std, ddof 1).
paired:   per-seed differences d_i = a_i - b_i, the mean_ci of d, and the p-value of the
          paired t-test (scipy.stats.ttest_rel). One seed (or identical differences):
          no interval, no p-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    half: float | None  # CI half-width; None with n < 2

    @property
    def lo(self) -> float | None:
        return None if self.half is None else self.mean - self.half

    @property
    def hi(self) -> float | None:
        return None if self.half is None else self.mean + self.half


@dataclass(frozen=True)
class Paired:
    n: int
    diff: Summary
    p: float | None  # None: n < 2, or all differences equal (t undefined)


def mean_ci(values, confidence: float = 0.95) -> Summary | None:
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if x.size == 0:
        return None
    if x.size < 2:
        return Summary(1, float(x[0]), None)
    t = stats.t.ppf(0.5 + confidence / 2, df=x.size - 1)
    half = float(t * x.std(ddof=1) / math.sqrt(x.size))
    return Summary(int(x.size), float(x.mean()), half)


def paired(a: dict[int, float], b: dict[int, float], confidence: float = 0.95) -> Paired | None:
    """a, b: seed -> value. Only seeds present (and numeric) in both are paired."""
    seeds = sorted(s for s in a.keys() & b.keys()
                   if a[s] is not None and b[s] is not None
                   and not math.isnan(a[s]) and not math.isnan(b[s]))
    if not seeds:
        return None
    xa = np.array([a[s] for s in seeds], dtype=float)
    xb = np.array([b[s] for s in seeds], dtype=float)
    diff = mean_ci(xa - xb, confidence)
    p = None
    if len(seeds) >= 2 and np.ptp(xa - xb) > 0:
        p = float(stats.ttest_rel(xa, xb).pvalue)
    return Paired(len(seeds), diff, p)
