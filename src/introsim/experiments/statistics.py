"""Statistics over replicates: t intervals, paired differences, Fieller's ratio, bands.

The unit of replication is one simulated run. Intervals describe simulation
noise for a scenario as written, not uncertainty about the model's parameters.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["CONFIDENCE", "fieller_ratio", "t_band", "t_interval"]

CONFIDENCE = 0.95
"""Level of every interval."""


def t_interval(
    values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[int, float, float, float, float]:
    """Student t interval for a mean, ignoring NaN.

    Args:
        values: One value per replicate (for a paired difference, the differences).
        confidence: Interval level.

    Returns:
        ``(n, mean, low, high, p)``: the number of finite values, their mean, the
        interval, and the two-sided p-value of the t-test of mean zero. The
        interval is NaN with fewer than two values; with zero spread it is the
        mean itself, and p is 1 for a zero mean, 0 otherwise.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan, math.nan
    se = float(x.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        return n, mean, mean, mean, 1.0 if mean == 0.0 else 0.0
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return n, mean, mean - t * se, mean + t * se, p


def fieller_ratio(
    numerator: np.ndarray, denominator: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[int, float, float, float]:
    """Ratio of two paired means with Fieller's interval, when the denominator is clearly > 0.

    Args:
        numerator: One value per replicate (e.g. difference in cost per participant).
        denominator: One value per replicate (e.g. difference in the share in work).
        confidence: Interval level.

    Returns:
        ``(n, ratio, low, high)`` over the replicates where both are finite.
        All three are NaN unless the denominator's mean is positive and its t
        interval excludes zero (the only case where Fieller's interval is a
        bounded interval).
    """
    a_all = np.asarray(numerator, dtype=np.float64)
    b_all = np.asarray(denominator, dtype=np.float64)
    ok = np.isfinite(a_all) & np.isfinite(b_all)
    a_r, b_r = a_all[ok], b_all[ok]
    n = int(a_r.size)
    if n < 2:
        return n, math.nan, math.nan, math.nan
    a, b = float(a_r.mean()), float(b_r.mean())
    cov = np.cov(np.vstack([a_r, b_r]), ddof=1) / n
    v11, v12, v22 = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    t2 = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) ** 2
    lead = b * b - t2 * v22
    if b <= 0.0 or lead <= 0.0:
        return n, math.nan, math.nan, math.nan
    half = a * b - t2 * v12
    disc = max(half * half - lead * (a * a - t2 * v11), 0.0)
    root = math.sqrt(disc)
    return n, a / b, (half - root) / lead, (half + root) / lead


def t_band(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, ...]:
    """Column-wise mean, t interval and 2.5/97.5 % quantiles of (replicates, weeks), NaN-aware."""
    finite = np.isfinite(x)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(x, axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(finite, x - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))
        t = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, t * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    lo = np.full(x.shape[1], np.nan)
    hi = np.full(x.shape[1], np.nan)
    has = n > 0
    if has.any():
        lo[has] = np.nanquantile(x[:, has], 0.025, axis=0)
        hi[has] = np.nanquantile(x[:, has], 0.975, axis=0)
    return mean, mean - half, mean + half, lo, hi
