"""Statistics over replicates: t intervals, paired differences, Fieller's ratio, bands.

The unit of replication is one simulated run. Intervals describe simulation
noise for a scenario as written, not uncertainty about the model's parameters.

The trial statistics (Welch's two-sample test, the Wald ratio with a delta-method
interval, the one-way intra-cluster correlation, Wilson's interval for a share)
analyse simulated trials the way a real trial would be analysed; they work
element-wise on arrays so thousands of trials are analysed at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = [
    "CLIPPED",
    "CONFIDENCE",
    "FEW_PEOPLE",
    "FEW_REPLICATES",
    "MIN_PEOPLE",
    "MIN_REPLICATES",
    "UNPAIRED",
    "Interval",
    "bounded_interval",
    "fieller_ratio",
    "icc_oneway",
    "interval",
    "nan_quantiles",
    "share_interval",
    "t_band",
    "t_interval",
    "unpaired_interval",
    "wald_ratio",
    "welch_test",
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
MIN_PEOPLE = 30
"""Fewest participants per replicate a share must rest on to be read as a finding.

A share of n people moves in steps of 1/n, and one run's share has a binomial
spread of up to 0.5 / sqrt(n): 9 percentage points at 30 people, 35 at 2. Below
30 a difference between scenarios says more about which few people reached the
outcome by the horizon than about the policy (assumption: the common rule of
thumb for a normal approximation to a binomial share).
"""
FEW_PEOPLE = f"rests on fewer than {MIN_PEOPLE} participants per replicate: not a finding"
"""Note on a share (or its difference) that rests on fewer than :data:`MIN_PEOPLE` people."""
CLIPPED = "interval clipped to the possible range"
"""Note on an interval that reached past what the quantity can take."""
UNPAIRED = "unpaired: Welch's interval"
"""Note on a difference of scenarios whose runs cannot be paired by replicate."""


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
    # scipy.special's Student t functions are what stats.t.ppf and .sf compute, without
    # the distribution object's checks: the same numbers, a hundredth of the time (a
    # sensitivity study's points table takes tens of thousands of intervals).
    t = float(special.stdtrit(n - 1, 0.5 + confidence / 2))
    p = float(2 * special.stdtr(n - 1, -abs(mean) / se))
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


@dataclass(frozen=True)
class Interval:
    """A mean over replicates (or a paired difference) with its interval, in its unit.

    Attributes:
        n: Replicates with a finite value.
        estimate: Their mean.
        low: Lower end of the interval (NaN below two values).
        high: Upper end.
        p_value: Two-sided p-value of the t-test of mean zero.
        unit: The outcome's unit (``share``, ``NOK``, ...; empty if unknown).
        note: Empty, :data:`FEW_REPLICATES`, :data:`CLIPPED`, or both joined by ``"; "``.
    """

    n: int
    estimate: float
    low: float
    high: float
    p_value: float
    unit: str = ""
    note: str = ""


def interval(
    outcome: str,
    values: np.ndarray,
    *,
    paired: bool = False,
    unit: str | None = None,
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
) -> Interval:
    """The interval of an outcome's mean over replicates, kept within what it can take.

    A share's interval is clipped to [0, 1] (a paired difference of shares to
    [-1, 1]) and says so (see :func:`bounded_interval`); any other outcome gets
    the Student t interval. Every table and report takes its intervals from here.

    Args:
        outcome: The outcome's name; its unit is looked up in the model's outcomes.
        values: One value per replicate (for a paired difference, the differences).
        paired: The values are differences of two scenarios' values.
        unit: The unit, where the outcome is not one of the model's (e.g. a comparison's).
        bounds: The possible range, where it is not the unit's (a weighted sum of shares).
        confidence: Interval level.

    Returns:
        The interval, with its unit and note.
    """
    if unit is None:
        from introsim.model.outcomes import OUTCOME_INFO

        unit = OUTCOME_INFO[outcome].unit if outcome in OUTCOME_INFO else ""
    if bounds is None and unit == "share":
        bounds = (-1.0, 1.0) if paired else (0.0, 1.0)
    if bounds is not None:
        n, mean, lo, hi, p, note = bounded_interval(values, *bounds, confidence=confidence)
    else:
        n, mean, lo, hi, p = t_interval(values, confidence)
        note = FEW_REPLICATES if 0 < n < MIN_REPLICATES else ""
    return Interval(n, mean, lo, hi, p, unit, note)


def unpaired_interval(
    outcome: str,
    values: np.ndarray,
    reference: np.ndarray,
    *,
    unit: str | None = None,
    confidence: float = CONFIDENCE,
) -> Interval:
    """The difference of two independent means (``values`` minus ``reference``), Welch's way.

    For scenarios whose runs cannot be paired (different cohorts, horizons or
    labour markets: common random numbers do not hold), the difference of their
    means has the variance of two independent means. A difference of shares is
    clipped to [-1, 1] and says so, as :func:`interval` does.

    Args:
        outcome: The outcome's name (its unit is looked up as in :func:`interval`).
        values: One value per replicate of the scenario.
        reference: One value per replicate of the reference.
        unit: The unit, where the outcome is not one of the model's.
        confidence: Interval level.

    Returns:
        The interval (``n``: the fewer of the two counts of finite values).
    """
    if unit is None:
        from introsim.model.outcomes import OUTCOME_INFO

        unit = OUTCOME_INFO[outcome].unit if outcome in OUTCOME_INFO else ""
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n = int(min(a.size, b.size))
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan, unit, UNPAIRED)
    _, _, lo, hi, p = (
        float(x)
        for x in welch_test(
            a.mean(),
            a.var(ddof=1) if a.size > 1 else math.nan,
            a.size,
            b.mean(),
            b.var(ddof=1) if b.size > 1 else math.nan,
            b.size,
            confidence,
        )
    )
    diff = float(a.mean() - b.mean())
    notes = [UNPAIRED]
    if n < MIN_REPLICATES:
        notes.append(FEW_REPLICATES)
    if unit == "share" and (lo < -1 or hi > 1):
        lo, hi = max(lo, -1.0), min(hi, 1.0)
        notes.append(CLIPPED)
    return Interval(n, diff, lo, hi, p, unit, "; ".join(notes))


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
    lo, hi = nan_quantiles(x, (0.025, 0.975))
    return mean, mean - half, mean + half, lo, hi


def nan_quantiles(x: np.ndarray, qs: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Column-wise ``np.nanquantile(x, q, axis=0)`` for each q, the same values, faster.

    ``nanquantile`` loops over the columns in Python; a column without NaN gives the
    same value from ``np.quantile``, which does all such columns at once (a weekly
    band has NaN only in the weeks before anyone arrived). A column without a finite
    value gives NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    full = finite.all(axis=0)
    partial = finite.any(axis=0) & ~full
    out = []
    for q in qs:
        value = np.full(x.shape[1], np.nan)
        if full.any():
            value[full] = np.quantile(x[:, full], q, axis=0)
        if partial.any():
            value[partial] = np.nanquantile(x[:, partial], q, axis=0)
        out.append(value)
    return tuple(out)


def welch_test(
    mean_a: np.ndarray | float,
    var_a: np.ndarray | float,
    n_a: np.ndarray | float,
    mean_b: np.ndarray | float,
    var_b: np.ndarray | float,
    n_b: np.ndarray | float,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, ...]:
    """Difference of two independent means (a - b) with Welch's t test, element-wise.

    Args:
        mean_a: Mean of group a.
        var_a: Sample variance (ddof 1) of group a.
        n_a: Size of group a.
        mean_b: Mean of group b.
        var_b: Sample variance (ddof 1) of group b.
        n_b: Size of group b.
        confidence: Interval level.

    Returns:
        ``(diff, se, low, high, p)``: NaN where a group has fewer than two
        values; with zero spread in both groups the interval is the difference
        itself and p is 1 for a zero difference, 0 otherwise.
    """
    ma, va, na = (np.asarray(x, dtype=np.float64) for x in (mean_a, var_a, n_a))
    mb, vb, nb = (np.asarray(x, dtype=np.float64) for x in (mean_b, var_b, n_b))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (na >= 2) & (nb >= 2)
        qa, qb = va / na, vb / nb
        se = np.sqrt(qa + qb)
        df = (qa + qb) ** 2 / (qa**2 / (na - 1) + qb**2 / (nb - 1))
        diff = ma - mb
        half = stats.t.ppf(0.5 + confidence / 2, df) * se
        p = 2 * stats.t.sf(np.abs(diff) / se, df)
    flat = ok & (se == 0)
    half = np.where(flat, 0.0, half)
    p = np.where(flat, np.where(diff == 0, 1.0, 0.0), p)
    nan = np.full(np.broadcast(diff, se).shape, np.nan)
    out = (diff, se, diff - half, diff + half, p)
    return tuple(np.where(ok, x, nan) for x in out)


def wald_ratio(
    numerator: np.ndarray,
    var_numerator: np.ndarray,
    denominator: np.ndarray,
    var_denominator: np.ndarray,
    covariance: np.ndarray,
    confidence: float = CONFIDENCE,
    df: float | None = None,
) -> tuple[np.ndarray, ...]:
    """Ratio of two estimates with a delta-method interval, element-wise (the Wald IV estimate).

    With the intention-to-treat effects on the outcome (numerator) and on
    receiving the treatment (denominator), this is the complier average causal
    effect with allocation as the instrument.

    Args:
        numerator: Estimate of the numerator.
        var_numerator: Its variance.
        denominator: Estimate of the denominator.
        var_denominator: Its variance.
        covariance: Covariance of the two estimates.
        confidence: Interval level.
        df: Degrees of freedom of a t reference distribution (few clusters);
            None for the normal.

    Returns:
        ``(ratio, se, low, high, p)`` with the interval and the two-sided
        p-value of a zero ratio; NaN where the denominator is not positive.
    """
    a, va = np.asarray(numerator, np.float64), np.asarray(var_numerator, np.float64)
    b, vb = np.asarray(denominator, np.float64), np.asarray(var_denominator, np.float64)
    c = np.asarray(covariance, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = a / b
        var = (va + ratio**2 * vb - 2 * ratio * c) / b**2
        se = np.sqrt(np.maximum(var, 0.0))
        ref = stats.norm if df is None else stats.t(df)
        z = ref.ppf(0.5 + confidence / 2)
        p = np.where(se > 0, 2 * ref.sf(np.abs(ratio) / se), np.where(a == 0, 1.0, 0.0))
    ok = b > 0
    nan = np.full(ratio.shape, np.nan)
    out = (ratio, se, ratio - z * se, ratio + z * se, p)
    return tuple(np.where(ok, x, nan) for x in out)


def icc_oneway(values: np.ndarray, groups: np.ndarray) -> float:
    """Intra-cluster correlation from a one-way analysis of variance (unequal sizes allowed).

    Args:
        values: One value per individual (NaN left out).
        groups: The cluster of each individual.

    Returns:
        ``(MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0`` the adjusted mean
        cluster size; NaN with fewer than two clusters or no spread.
    """
    x = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups)
    ok = np.isfinite(x)
    x, g = x[ok], g[ok]
    _, code = np.unique(g, return_inverse=True)
    k, n = int(code.max()) + 1 if code.size else 0, x.size
    if k < 2 or n <= k:
        return math.nan
    sizes = np.bincount(code, minlength=k).astype(np.float64)
    means = np.bincount(code, weights=x, minlength=k) / sizes
    msb = float((sizes * (means - x.mean()) ** 2).sum()) / (k - 1)
    msw = float(((x - means[code]) ** 2).sum()) / (n - k)
    n0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    denom = msb + (n0 - 1) * msw
    return (msb - msw) / denom if denom > 0 else math.nan


def share_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A share with Wilson's score interval, element-wise (bounded to 0-1 even at 0 or n).

    Args:
        successes: Count of successes.
        trials: Count of trials.
        confidence: Interval level.

    Returns:
        ``(share, low, high)``; NaN where there are no trials.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = k / n
        centre = (share + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return share, np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
