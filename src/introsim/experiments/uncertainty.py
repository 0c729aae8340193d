"""Three kinds of uncertainty about one number, each with its name in plain words.

A run over a calibration's posterior ensemble gives, for an outcome (or for a
paired difference between two scenarios), an array of ``K`` members by ``R``
replicates: member ``k`` is one parameter set the calibration found plausible,
replicate ``r`` one draw of chance with the same seed in every member and
scenario (common random numbers). Three different questions are asked of it:

* **What we do not know about the mechanisms** (parameter uncertainty): how far
  the average outcome moves between plausible parameter sets. The interval holds
  the central 95 % of the members' averages. It does not shrink with more
  replicates; it is the honest headline. Each member's average carries Monte
  Carlo error of its own, which would widen the spread with noise: the averages
  are first shrunk toward their mean by the share of their spread that is noise
  (a two-way analysis of variance of members × replicates, whose
  member-by-replicate residual is the noise that does not cancel under common
  random numbers), so the interval estimates the spread the members would show
  with endless replicates.
* **Chance in one real cohort** (the spread a single municipality's cohort of
  this size would show, for the mechanisms as the calibration has them): the
  central 95 % of single runs around their own member's average, pooled over
  members. It does not shrink with more replicates either.
* **Simulation precision** (Monte Carlo error of the average): a t interval of
  the average over every run. With two or more members it is computed from the
  members' averages (members are a sample of the posterior, runs are nested in
  them), otherwise from the replicates. It shrinks as runs are added and says
  only how well the simulation pins down its own average.

Each comes back as a :class:`Spread` that carries its kind, its interval and a
label to print next to the number.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "KIND_NAMES",
    "Kind",
    "Spread",
    "TargetChance",
    "ThreeKinds",
    "chance_met",
    "cohort_spread",
    "denoised_member_means",
    "parameter_spread",
    "simulation_spread",
    "three_kinds",
]

CONFIDENCE = 0.95
"""Level of every interval here (the central 95 %)."""


class Kind(StrEnum):
    """The three kinds of uncertainty, in the order a report shows them."""

    PARAMETER = "parameter"
    COHORT = "cohort"
    SIMULATION = "simulation"


KIND_NAMES: dict[Kind, str] = {
    Kind.PARAMETER: "what we do not know about the mechanisms",
    Kind.COHORT: "chance in one real cohort",
    Kind.SIMULATION: "simulation precision",
}
"""Each kind's short name in plain words (column headers and legends)."""


@dataclass(frozen=True)
class Spread:
    """One kind of uncertainty about one number.

    Attributes:
        kind: Which kind.
        estimate: The number itself: the average over every finite run.
        low: Lower end of the 95 % interval (NaN where it cannot be computed).
        high: Upper end.
        members: Parameter sets (members) with at least one finite run.
        replicates: Finite runs in all.
        label: What the interval means, in plain words, to print next to it.
        note: Why the interval is missing or was clipped, else ``""``.
    """

    kind: Kind
    estimate: float
    low: float
    high: float
    members: int
    replicates: int
    label: str
    note: str = ""

    @property
    def name(self) -> str:
        """The kind's short name in plain words."""
        return KIND_NAMES[self.kind]

    def as_dict(self) -> dict[str, Any]:
        """The spread as plain data for JSON."""
        return {
            "kind": self.kind.value,
            "name": self.name,
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "members": self.members,
            "runs": self.replicates,
            "label": self.label,
            "note": self.note,
        }


@dataclass(frozen=True)
class ThreeKinds:
    """The three kinds of uncertainty about one number, side by side."""

    parameter: Spread
    cohort: Spread
    simulation: Spread

    @property
    def estimate(self) -> float:
        """The number (the same in all three)."""
        return self.parameter.estimate

    def __iter__(self) -> Iterator[Spread]:
        # The three in the order a report shows them.
        return iter((self.parameter, self.cohort, self.simulation))

    def columns(self, prefix: str = "") -> dict[str, Any]:
        """Flat columns for a CSV row: ``{prefix}{kind}_low``, ``..._high``, ``..._label``.

        Args:
            prefix: Put before every column name (e.g. an outcome's name and ``_``).

        Returns:
            The estimate and, for each kind, its low and high ends and its label.
        """
        out: dict[str, Any] = {f"{prefix}estimate": self.estimate}
        for s in self:
            out[f"{prefix}{s.kind.value}_low"] = s.low
            out[f"{prefix}{s.kind.value}_high"] = s.high
            out[f"{prefix}{s.kind.value}_label"] = s.label
        return out

    def as_dict(self) -> dict[str, Any]:
        """The three as plain data for JSON, keyed by kind."""
        return {"estimate": self.estimate, **{s.kind.value: s.as_dict() for s in self}}


# --------------------------------------------------------------------------- helpers
def _matrix(values: np.ndarray) -> np.ndarray:
    """``values`` as a float (members, replicates) array; one dimension is one member."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2:
        raise ValueError(f"expected a members × replicates array, found shape {x.shape}")
    return x


def _member_means(x: np.ndarray) -> np.ndarray:
    """Each member's average over its finite runs; members without one are left out."""
    finite = np.isfinite(x)
    n = finite.sum(axis=1)
    sums = np.where(finite, x, 0.0).sum(axis=1)
    keep = n > 0
    return sums[keep] / n[keep]


def _grand_mean(x: np.ndarray) -> tuple[float, int, int]:
    """Average of every finite run (each member weighted by its runs), members, runs."""
    finite = np.isfinite(x)
    runs = int(finite.sum())
    members = int((finite.sum(axis=1) > 0).sum())
    return (float(x[finite].mean()) if runs else math.nan), members, runs


def denoised_member_means(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Members' averages with their own Monte Carlo error shrunk out, and the factor used.

    For a complete members × replicates array, a two-way analysis of variance
    without replication: the members' mean square ``MS_k`` estimates
    ``R σ²_members + σ²_noise`` and the member-by-replicate residual ``MS_e``
    estimates ``σ²_noise`` (the part of chance that differs between members under
    common random numbers). The averages are pulled toward their mean by
    ``c = sqrt(max(0, 1 - MS_e / MS_k))``, so their spread estimates ``σ²_members``
    (the method-of-moments estimate of a one-level random-effects model). With
    missing runs, one replicate or one member, the averages are returned as they are
    (``c = 1``).

    Args:
        x: Members × replicates.

    Returns:
        The averages (of members with a finite run) and ``c``.
    """
    means = _member_means(x)
    k, r = x.shape
    if k < 2 or r < 2 or not np.isfinite(x).all():
        return means, 1.0
    grand = float(x.mean())
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    resid = x - rows[:, np.newaxis] - cols[np.newaxis, :] + grand
    ms_e = float((resid**2).sum()) / ((k - 1) * (r - 1))
    ms_k = r * float(((rows - grand) ** 2).sum()) / (k - 1)
    if ms_k <= 0.0:
        return means, 1.0
    c = math.sqrt(max(0.0, 1.0 - ms_e / ms_k))
    return grand + c * (rows - grand), c


def _clip(low: float, high: float, bounds: tuple[float, float] | None) -> tuple[float, float, str]:
    if bounds is None or not (low < bounds[0] or high > bounds[1]):
        return low, high, ""
    return max(low, bounds[0]), min(high, bounds[1]), "interval clipped to the possible range"


def _quantiles(x: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(x, [tail, 1.0 - tail])
    return float(lo), float(hi)


def _percent(confidence: float) -> str:
    return f"{100 * confidence:g} %"


# --------------------------------------------------------------------------- the three kinds
def parameter_spread(
    values: np.ndarray,
    *,
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
) -> Spread:
    """What we do not know about the mechanisms: the spread of the members' averages.

    Args:
        values: Members × replicates (NaN for a run without the number).
        bounds: The number's possible range (``(0, 1)`` for a share), or None.
        confidence: Share of members the interval holds.

    Returns:
        The central ``confidence`` of the members' averages (interpolated
        quantiles). NaN with fewer than two members: one parameter set says
        nothing about how the mechanisms might differ.
    """
    x = _matrix(values)
    estimate, members, runs = _grand_mean(x)
    means, shrink = denoised_member_means(x)
    if members < 2:
        label = (
            f"{KIND_NAMES[Kind.PARAMETER]}: not shown, the runs use one parameter set "
            "(run over a calibration's posterior ensemble to see it)"
        )
        return Spread(Kind.PARAMETER, estimate, math.nan, math.nan, members, runs, label, label)
    low, high, note = _clip(*_quantiles(means, confidence), bounds)
    label = (
        f"{KIND_NAMES[Kind.PARAMETER]}: {_percent(confidence)} of the {members} "
        "plausible parameter sets give an average in this range"
    )
    if shrink < 0.95:
        # Say so where the runs' own noise was a noticeable part of the members' spread.
        taken = (
            "the members' averages differ no more than their own Monte Carlo error: the runs "
            "cannot tell the parameter sets apart"
            if shrink == 0.0
            else f"the members' averages were pulled {1 - shrink:.0%} toward their mean to take "
            "out their own Monte Carlo error"
        )
        note = f"{note}; {taken}" if note else taken
    return Spread(Kind.PARAMETER, estimate, low, high, members, runs, label, note)


def cohort_spread(
    values: np.ndarray,
    cohort_size: int | None = None,
    *,
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
) -> Spread:
    """Chance in one real cohort: where a single run lands around its member's average.

    Each run's deviation from its own member's average is pooled over members,
    so the spread is chance alone, for the mechanisms as the calibration has
    them; the interval is the overall average plus the deviations' central
    quantiles. Deviations from an average of ``n`` runs are scaled by
    ``sqrt(n / (n - 1))`` (the average includes the run itself), so the range
    does not narrow when each member has few replicates.

    Args:
        values: Members × replicates, each run one cohort of ``cohort_size``.
        cohort_size: The size of one run's cohort, named in the label.
        bounds: The number's possible range, or None.
        confidence: Share of single cohorts the interval holds.

    Returns:
        The interval; NaN where no member has two finite runs.
    """
    x = _matrix(values)
    estimate, members, runs = _grand_mean(x)
    finite = np.isfinite(x)
    n = finite.sum(axis=1)
    sums = np.where(finite, x, 0.0).sum(axis=1)
    centre = np.where(n > 0, sums / np.maximum(n, 1), 0.0)
    usable = n >= 2
    # A run's deviation from its own member's average understates its deviation from the
    # member's true average by the factor sqrt((n - 1) / n) in spread (the average moved
    # toward it); scaled back, so few replicates per member do not narrow the range.
    scale = np.sqrt(n / np.maximum(n - 1, 1))
    deviations = ((x - centre[:, np.newaxis]) * scale[:, np.newaxis])[
        finite & usable[:, np.newaxis]
    ]
    size = f"{cohort_size} participants" if cohort_size else "this size"
    label = (
        f"{KIND_NAMES[Kind.COHORT]} of {size}: a single cohort's result falls in this "
        f"range {_percent(confidence)} of the time"
    )
    if deviations.size < 2:
        return Spread(
            Kind.COHORT, estimate, math.nan, math.nan, members, runs, label, "too few runs"
        )
    dlo, dhi = _quantiles(deviations, confidence)
    low, high, note = _clip(estimate + dlo, estimate + dhi, bounds)
    return Spread(Kind.COHORT, estimate, low, high, members, runs, label, note)


def simulation_spread(
    values: np.ndarray,
    *,
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
) -> Spread:
    """Simulation precision: a t interval of the average over every run.

    With two or more members the members' averages are the units (runs are
    nested in members, which are a sample of the posterior); with one member,
    its replicates are.

    Args:
        values: Members × replicates.
        bounds: The number's possible range, or None.
        confidence: Interval level.

    Returns:
        The interval; NaN with fewer than two units.
    """
    x = _matrix(values)
    estimate, members, runs = _grand_mean(x)
    units = _member_means(x) if members >= 2 else x[np.isfinite(x)]
    label = (
        f"{KIND_NAMES[Kind.SIMULATION]}: how closely {runs} runs pin down the simulated "
        "average (it narrows with more runs and says nothing about the world)"
    )
    if units.size < 2:
        return Spread(
            Kind.SIMULATION, estimate, math.nan, math.nan, members, runs, label, "too few runs"
        )
    se = float(units.std(ddof=1)) / math.sqrt(units.size)
    # The grand mean weights members by their runs; with balanced runs it is the units' mean.
    t = float(stats.t.ppf(0.5 + confidence / 2, units.size - 1))
    low, high, note = _clip(estimate - t * se, estimate + t * se, bounds)
    return Spread(Kind.SIMULATION, estimate, low, high, members, runs, label, note)


def three_kinds(
    values: np.ndarray,
    cohort_size: int | None = None,
    *,
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
) -> ThreeKinds:
    """The three kinds of uncertainty about one outcome or paired difference.

    Args:
        values: Members × replicates of the outcome (or of the paired difference,
            computed run by run under common random numbers); a one-dimensional
            array is one member's replicates.
        cohort_size: Participants in one run's cohort (for the cohort label).
        bounds: The possible range: ``(0, 1)`` for a share, ``(-1, 1)`` for a
            difference of shares, None for an unbounded number.
        confidence: Interval level.

    Returns:
        Parameter, cohort and simulation spreads, each with its plain-words label.
    """
    return ThreeKinds(
        parameter_spread(values, bounds=bounds, confidence=confidence),
        cohort_spread(values, cohort_size, bounds=bounds, confidence=confidence),
        simulation_spread(values, bounds=bounds, confidence=confidence),
    )


# --------------------------------------------------------------------------- a target met
@dataclass(frozen=True)
class TargetChance:
    """How likely a threshold (a municipal target) is met, in the two senses that matter.

    Attributes:
        threshold: The target value.
        by_mechanisms: Share of plausible parameter sets whose average meets it:
            how likely the programme meets it on average, given what we do not know.
        one_cohort: Share of single runs (every member and replicate) that meet it:
            how likely one real cohort of this size meets it, chance included.
        members: Members with at least one finite run.
        runs: Finite runs.
        label: Both, in plain words.
    """

    threshold: float
    by_mechanisms: float
    one_cohort: float
    members: int
    runs: int
    label: str


def chance_met(
    values: np.ndarray,
    threshold: float,
    cohort_size: int | None = None,
    *,
    above: bool = True,
) -> TargetChance:
    """How likely ``threshold`` is reached, across members and across single cohorts.

    Args:
        values: Members × replicates of the outcome (a one-dimensional array is one member).
        threshold: The target; met when the value is at least it (``above``) or at most it.
        cohort_size: Participants in one run's cohort (for the label).
        above: Whether higher is better.

    Returns:
        The share of members whose average meets it and the share of single runs that do.
    """
    x = _matrix(values)
    means = _member_means(x)
    runs = x[np.isfinite(x)]

    def met(v: np.ndarray) -> float:
        if not v.size:
            return math.nan
        return float(np.mean(v >= threshold if above else v <= threshold))

    by_mech, one = met(means), met(runs)
    size = f"{cohort_size} participants" if cohort_size else "this size"
    if means.size >= 2:
        head = (
            f"{_percent_of(by_mech)} of the {means.size} plausible parameter sets meet it "
            "on average"
        )
    else:
        head = f"the average {'meets' if by_mech == 1.0 else 'misses'} it (one parameter set only)"
    label = f"{head}; one real cohort of {size} meets it {_percent_of(one)} of the time"
    return TargetChance(threshold, by_mech, one, int(means.size), int(runs.size), label)


def _percent_of(share: float) -> str:
    return "no share" if math.isnan(share) else f"{100 * share:.0f} %"
