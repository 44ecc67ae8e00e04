"""The statistics calibration needs, and nothing else.

Samples of a timing are skewed (an interrupt makes one sample slow, nothing
makes one fast), so every point estimate is a median with a distribution-free
confidence interval, and lines are fitted through medians.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Median:
    value: float
    low: float      # 95% confidence interval of the median
    high: float
    n: int

    def __str__(self) -> str:
        return f"median {self.value:.4g} (95% CI {self.low:.4g}-{self.high:.4g}, n={self.n})"


def median_ci(values, level: float = 0.95) -> Median:
    """The median and its order-statistic confidence interval.

    The number of samples below the true median is Binomial(n, 1/2), so the
    interval between the order statistics at its quantiles holds the median
    with probability >= level whatever the distribution.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        raise ValueError("median of no samples")
    lo_rank = int(stats.binom.ppf((1 - level) / 2, n, 0.5))
    hi_rank = int(stats.binom.isf((1 - level) / 2, n, 0.5))
    low = x[max(lo_rank - 1, 0)]
    high = x[min(hi_rank, n - 1)]
    return Median(float(np.median(x)), float(low), float(high), n)


@dataclass(frozen=True)
class LineFit:
    base: float
    slope: float
    # Largest |predicted / median - 1| over the points fitted.
    max_rel_residual: float
    points: int

    def __str__(self) -> str:
        return (f"{self.base:.4g} + {self.slope:.4g}/unit through {self.points} medians, "
                f"max |relative residual| {self.max_rel_residual:.1%}")


def relative_line(x, y) -> LineFit:
    """y = base + slope * x, least squares on relative residuals.

    The points span three decades of x (4 B to 4 KiB) and the model is
    judged by relative error, so each point is weighted by 1/y: a 4-byte
    call counts as much as a 4 KiB one.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2 or np.unique(x).size < 2:
        raise ValueError("a line needs two distinct x")
    a = np.column_stack([np.ones_like(x), x]) / y[:, None]
    (base, slope), *_ = np.linalg.lstsq(a, np.ones_like(y), rcond=None)
    rel = (base + slope * x) / y - 1
    return LineFit(float(base), float(slope), float(np.max(np.abs(rel))), int(x.size))


def robust_slope(x, y):
    """Theil-Sen slope, intercept and the slope's 95% interval."""
    res = stats.theilslopes(np.asarray(y, float), np.asarray(x, float), alpha=0.95)
    return float(res.slope), float(res.intercept), float(res.low_slope), float(res.high_slope)
