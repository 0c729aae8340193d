"""Statistics over replicates: t intervals, paired differences, Fieller's ratio, bands.

The unit of replication is one simulated run. Intervals describe simulation
noise for a scenario as written, not uncertainty about the model's parameters.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = [
    "CLIPPED",
    "CONFIDENCE",
    "FEW_REPLICATES",
    "MIN_REPLICATES",
    "bounded_interval",
    "fieller_ratio",
    "t_band",
    "t_interval",
]

CONFIDENCE = 0.95
"""Level of every interval."""

MIN_REPLICATES = 5
"""Fewest replicates for an interval worth reading.

Below five, the spread is itself estimated so loosely (its relative error is
about ``1 / sqrt(2 (n - 1))``, over 35 %) and the t quantile so large (4.3 at
three replicates against 2.8 at five) that the interval says little.
"""

FEW_REPLICATES = f"fewer than {MIN_REPLICATES} replicates: interval not meaningful"
"""Note on an interval from fewer than :data:`MIN_REPLICATES` values."""
CLIPPED = "interval clipped to the possible range"
"""Note on an interval that reached past what the quantity can take."""


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


def bounded_interval(
    values: np.ndarray, low: float, high: float, confidence: float = CONFIDENCE
) -> tuple[int, float, float, float, float, str]:
    """Student t interval for a mean that can only lie in ``[low, high]`` (e.g. a share).

    The t interval is symmetric, so for a share near 0 or 1, or from few and
    spread-out replicates, it reaches below 0 or above 1. It is clipped to the
    possible range, and the clipping is said, as is an interval from fewer than
    :data:`MIN_REPLICATES` values.

    Args:
        values: One value per replicate, each within ``[low, high]`` (for a paired
            difference of shares, ``[-1, 1]``).
        low: Smallest possible value.
        high: Largest possible value.
        confidence: Interval level.

    Returns:
        ``(n, mean, low, high, p, note)``: as :func:`t_interval`, the interval
        clipped to ``[low, high]``, and a note: empty, :data:`FEW_REPLICATES`,
        :data:`CLIPPED`, or both joined by ``"; "``.
    """
    n, mean, lo, hi, p = t_interval(values, confidence)
    notes = []
    if 0 < n < MIN_REPLICATES:
        notes.append(FEW_REPLICATES)
    if lo < low or hi > high:
        lo, hi = max(lo, low), min(hi, high)
        notes.append(CLIPPED)
    return n, mean, lo, hi, p, "; ".join(notes)


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
